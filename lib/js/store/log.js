'use strict'
// The twin of core/src/store/log.rs: every snapshot, oldest first, with its logical size
// (its files' bytes), and the distinct chunks it references split into new ones (referenced
// by no earlier snapshot) and shared ones, sized as their files on disk (each stat'ed once).

const { Store } = require('./format')

function storeLog(storeDir) {
  let store
  try {
    store = Store.open(storeDir, false)
  } catch (err) {
    if (err.code === 'ENOENT') return []
    throw err
  }
  const earlier = new Map() // chunk id -> size on disk, for every chunk an earlier snapshot referenced
  return store.records().map((record) => {
    const line = {
      id: record.id,
      time: record.time,
      label: record.label,
      files: record.files,
      logical: record.bytes,
      chunks: 0,
      newChunks: 0,
      newBytes: 0,
      sharedBytes: 0,
      missingChunks: 0,
    }
    const mine = new Set()
    const count = (id) => {
      if (mine.has(id)) return
      mine.add(id)
      line.chunks += 1
      if (earlier.has(id)) {
        line.sharedBytes += earlier.get(id)
        return
      }
      const size = store.chunkSize(id)
      if (size === 0) line.missingChunks += 1
      line.newChunks += 1
      line.newBytes += size
      earlier.set(id, size)
    }
    try {
      store.references(record, count)
    } catch (err) {
      line.error = err.message // absent when the tree was read in full, as in the native result
    }
    return line
  })
}

module.exports = { storeLog }
