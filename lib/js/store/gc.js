'use strict'
// The twin of core/src/store/gc.rs: remove the chunks no snapshot record references. Every
// record is read first (a damaged record, list or pack index stops the collection, nothing
// removed). Then a pack with no live chunk goes (index, then pack); a pack whose dead chunks
// are at least a quarter of its bytes is rewritten: its live chunks copied into new packs,
// flushed (durable, indexed) before its index goes, then the pack; dead loose chunks
// (versions 1-2) are unlinked; a temp whose writer is gone, and an unindexed pack older than
// the grace, are removed. A kill at any moment leaves every live chunk reachable through a complete index.
// Callers hold the store's lock (lib/backup/snapshot.js).

const fs = require('node:fs')
const path = require('node:path')

const { codedError } = require('../errors')
const contained = require('../contained')
const { Store } = require('./format')
const { stem, locOf } = require('./pack')
const { sweepDeadTemps } = require('../temps')

/** A pack is rewritten once its dead chunks are this share of its bytes. */
const REPACK_SHARE = 1 / 4
/** Seconds an unindexed pack is left alone (its writer may still run; its name does not say who). */
const GRACE = 3600

const stopped = (err) => codedError(err.code || 'EIO', `Garbage collection stopped, nothing removed: ${err.message}`)

function collectGarbage(storeDir) {
  const store = Store.open(storeDir, false)
  const live = new Set()
  const ids = store.ids()
  for (const id of ids) {
    const record = store.record(id)
    try {
      store.references(record, (c) => live.add(c))
    } catch (err) {
      throw stopped(err)
    }
  }
  const chunks = store.chunks
  const index = chunks.load()
  if (index.damaged.length > 0) throw stopped(codedError('ECORRUPT', index.damaged[0][1]))
  const stats = { snapshots: ids.length, chunks: index.map.size, removed: 0, removedBytes: 0 }
  collectPacks(store, index, live, stats)
  for (const id of index.loose) {
    const here = locOf(index, id) === null
    if (live.has(id) && here) continue
    const size = chunks.size(id)
    if (chunks.removeLoose(id)) {
      if (here) stats.removed += 1
      stats.removedBytes += size
    }
  }
  removeOrphans(store, stats)
  return stats
}

/** Is entry `e` of pack `name` the place of its chunk? */
function placeOf(index, name, e) {
  const loc = locOf(index, e.id)
  return loc !== null && loc !== undefined && loc.pack === name && loc.offset === e.offset
}

/** Remove the packs with no live chunk, repack those mostly dead. */
function collectPacks(store, index, live, stats) {
  const chunks = store.chunks
  const kept = (name, e) => live.has(e.id) && placeOf(index, name, e)
  const doomed = index.packs.filter((pack) => {
    let keptBytes = 0
    let deadBytes = 0
    for (const e of pack.entries) {
      if (kept(pack.name, e)) keptBytes += e.len
      else deadBytes += e.len
    }
    // no live chunk (an index listing none too: it holds nothing a reader can find), or dead
    // chunks at least REPACK_SHARE of its bytes
    return keptBytes === 0 || deadBytes >= (keptBytes + deadBytes) * REPACK_SHARE
  })
  // a live chunk another pack that stays also lists is reachable through it: not copied (a
  // copy would be a second one, dead at the next collection)
  const gone = new Set(doomed.map((p) => p.name))
  const elsewhere = new Set()
  for (const p of index.packs) if (!gone.has(p.name)) for (const e of p.entries) elsewhere.add(e.id)
  for (const pack of doomed) for (const e of pack.entries) if (kept(pack.name, e) && !elsewhere.has(e.id)) chunks.put(e.id, chunks.getRaw(e.id))
  // the copies durable and indexed before any index that lists the originals goes
  try {
    chunks.flush()
  } finally {
    chunks.abandon()
  }
  for (const pack of doomed) {
    for (const e of pack.entries) {
      if (placeOf(index, pack.name, e) && !live.has(e.id)) stats.removed += 1
      if (!kept(pack.name, e)) stats.removedBytes += e.len
    }
    contained.containedRemove(store.dir, `packs/${pack.name}.idx`)
    contained.containedRemove(store.dir, `packs/${pack.name}.pack`)
  }
}

/** Remove the temps of packs/ whose writer is gone, and packs without an index once older than GRACE. */
function removeOrphans(store, stats) {
  let listing
  try {
    listing = contained.containedList(store.dir, 'packs')
  } catch (err) {
    if (err.code === 'ENOENT') return
    throw err
  }
  sweepDeadTemps(path.join(store.dir, 'packs'))
  const names = new Set(listing.map((e) => e.name))
  const now = Date.now() / 1000
  for (const e of listing) {
    const s = stem(e.name, '.pack')
    if (s === null || names.has(`${s}.idx`) || e.type !== 'file') continue
    const st = fs.lstatSync(path.join(store.dir, 'packs', e.name), { throwIfNoEntry: false })
    if (st && now - st.mtimeMs / 1000 >= GRACE && contained.containedRemove(store.dir, `packs/${e.name}`)) stats.removedBytes += st.size
  }
}

module.exports = { collectGarbage, GRACE }
