'use strict'
// The twin of core/src/store/gc.rs: remove the chunks no snapshot record references. Every
// record is read first (a damaged one stops the collection, nothing removed), then only the
// chunks outside the referenced set are removed: a kill at any moment never removes a chunk a
// surviving record needs. Callers hold the store's lock (lib/backup/snapshot.js).

const { codedError } = require('../errors')
const { Store } = require('./format')

function collectGarbage(storeDir) {
  const store = Store.open(storeDir, false)
  const live = new Set()
  const ids = store.ids()
  for (const id of ids) {
    const record = store.record(id)
    try {
      store.references(record, (c) => live.add(c))
    } catch (err) {
      throw codedError(err.code || 'EIO', `Garbage collection stopped, nothing removed: ${err.message}`)
    }
  }
  const stats = { snapshots: ids.length, chunks: 0, removed: 0, removedBytes: 0 }
  for (const id of store.listChunks()) {
    stats.chunks += 1
    if (live.has(id)) continue
    const size = store.chunkSize(id)
    if (store.removeChunk(id)) {
      stats.removed += 1
      stats.removedBytes += size
    }
  }
  return stats
}

module.exports = { collectGarbage }
