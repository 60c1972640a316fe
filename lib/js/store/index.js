'use strict'
// The JS backend of the snapshot store: the same names, arguments, results and errors as the
// native exports (src/store.rs, src/tasks/store.rs), on the format of docs/store-format.md.
// One file per module of core/src/store/: chunker (+ gear), format (mod, chunk, snapshot,
// tree), write, restore, verify, gc.

const { cancelToken } = require('../backup/cancel')
const { checkPath } = require('../errors')
const { Store } = require('./format')
const { createSnapshot } = require('./write')
const { restoreSnapshot } = require('./restore')
const { verifyStore } = require('./verify')
const { collectGarbage } = require('./gc')
const { diffSnapshots } = require('./diff')
const log = require('./log')
const defaults = require('../defaults.json')

const snapshotOf = (r) => ({
  id: r.id,
  time: r.time,
  label: r.label,
  parent: r.parent ?? null,
  files: r.files,
  dirs: r.dirs,
  symlinks: r.symlinks,
  bytes: r.bytes,
  newChunks: r.newChunks,
  newBytes: r.newBytes,
})

function storeListSnapshots(store) {
  checkPath('store', store)
  let s
  try {
    s = Store.open(store, false)
  } catch (err) {
    if (err.code === 'ENOENT') return []
    throw err
  }
  return s.records().map(snapshotOf)
}

async function storeCreateSnapshot(root, store, id, options, onProgress) {
  checkPath('root', root)
  checkPath('store', store)
  const cancel = cancelToken()
  await null
  const o = options || {}
  const spec = {
    label: o.label || '',
    excludes: Array.isArray(o.excludes) ? o.excludes : defaults.backupExcludes,
    substitutes: Array.isArray(o.substitutes) ? o.substitutes : [],
    databases: Array.isArray(o.databases) ? o.databases : [],
    parent: o.parent || null,
  }
  const r = await createSnapshot(root, store, id, spec, cancel, typeof onProgress === 'function' ? onProgress : null)
  return { snapshot: snapshotOf(r.record), filesRead: r.filesRead, filesReused: r.filesReused, skipped: r.skipped }
}

async function storeRestoreSnapshot(store, id, target, only) {
  checkPath('store', store)
  checkPath('target', target)
  const cancel = cancelToken()
  await null
  return restoreSnapshot(store, id, target, Array.isArray(only) ? only : [], cancel)
}

async function storeVerify(store, ids, options) {
  checkPath('store', store)
  const cancel = cancelToken()
  await null
  const r = await verifyStore(store, Array.isArray(ids) ? ids : null, cancel, { deep: Boolean(options && options.deep) })
  return {
    ok: r.ok,
    snapshots: r.snapshots,
    chunks: r.chunks,
    bytes: r.bytes,
    chunksHashed: r.chunksHashed,
    packs: r.packs,
    packsMismatched: r.packsMismatched,
    badChunks: r.badChunks,
    // by id, as the core's BTreeMap (ids are ASCII: code-unit order is byte order)
    broken: Object.keys(r.broken)
      .sort()
      .map((sid) => ({ id: sid, reason: r.broken[sid] })),
  }
}

async function storeGc(store) {
  checkPath('store', store)
  await null
  return collectGarbage(store)
}

/** Remove snapshot `id`'s record (its chunks go at the next `storeGc`); false when absent. */
function storeRemoveSnapshot(store, id) {
  checkPath('store', store)
  return Store.open(store, false).removeRecord(id)
}

/** What changed from snapshot `from` to `to`, or to the work tree `options.root` (core/src/store/diff.rs). */
async function storeDiff(store, from, to, options) {
  checkPath('store', store)
  await null
  const o = options || {}
  // (a null root never comes here: the exports' argument checks drop null options fields)
  if (o.root !== undefined) checkPath('root', o.root)
  const excludes = Array.isArray(o.excludes) ? o.excludes : defaults.backupExcludes
  return diffSnapshots(store, from, to ?? null, { root: o.root || null, excludes, databases: Array.isArray(o.databases) ? o.databases : [] })
}

/** Every snapshot with its logical, new and shared bytes (core/src/store/log.rs). */
async function storeLog(store) {
  checkPath('store', store)
  await null
  return log.storeLog(store)
}

module.exports = { storeDiff, storeLog, storeListSnapshots, storeCreateSnapshot, storeRestoreSnapshot, storeVerify, storeGc, storeRemoveSnapshot }
