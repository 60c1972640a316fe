'use strict'
// The twin of core/src/store/verify.rs: read and re-hash every chunk any snapshot references
// once, however many snapshots share it; report each bad chunk (missing or damaged) with the
// snapshots it breaks, and every snapshot that cannot be restored whole.

const { codedError } = require('../errors')
const { Store, checkChunkId } = require('./format')

function verifyStore(storeDir, only, cancel) {
  const store = Store.open(storeDir, false)
  const ids = Array.isArray(only) ? only : store.ids()
  const report = { snapshots: 0, chunks: 0, bytes: 0, badChunks: [], broken: {} }
  const checked = new Map() // id -> null (good) or reason
  const users = new Map()
  const check = (id, snapshot) => {
    if (!checked.has(id)) {
      try {
        report.bytes += store.get(id).length
        report.chunks += 1
        checked.set(id, null)
      } catch (err) {
        checked.set(id, err.code === 'ENOENT' ? 'missing' : err.message)
      }
    }
    if (checked.get(id) === null) return true
    const list = users.get(id) || []
    if (list[list.length - 1] !== snapshot) list.push(snapshot)
    users.set(id, list)
    return false
  }
  for (const id of ids) {
    cancel.check('Verify')
    report.snapshots += 1
    let firstBad = null
    try {
      const record = store.record(id)
      // tree and list chunks (format version 2) are judged as the tree reader fetches them
      const fetch = (c) => {
        if (!check(c, id)) throw codedError('ECORRUPT', `a chunk of its tree (${c}) is bad`)
        return store.get(c)
      }
      for (const e of store.tree(record, fetch)) {
        for (const c of e.chunks || []) if (!check(checkChunkId(c), id) && firstBad === null) firstBad = `${e.path}: chunk ${c} is bad`
      }
    } catch (err) {
      firstBad = firstBad || err.message
    }
    if (firstBad !== null) report.broken[id] = firstBad
  }
  for (const [id, reason] of checked) if (reason !== null) report.badChunks.push({ id, reason, snapshots: users.get(id) || [] })
  report.badChunks.sort((a, b) => (a.id < b.id ? -1 : 1))
  report.ok = report.badChunks.length === 0 && Object.keys(report.broken).length === 0
  return report
}

module.exports = { verifyStore }
