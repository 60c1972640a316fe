'use strict'
// The JS backend's locks: the same protocol, files and results as the Rust core, in pure
// Node, one file per module of core/src/lock/ (read its module docs for the why of each
// step): id, record, liveness, acquire, takeover, release, registry, unlink, info, and
// options (what mod.rs defines). oslock.rs has no twin: Node's fs has no OS-level file
// lock, so a JS holder is judged by pid + process start time only, and a JS waiter judges
// native holders the same way. Waiting sleeps: Atomics.wait in the sync API, timers in the
// async one.

const { acquireLock, acquireLockAsync } = require('./acquire')
const { releaseLock } = require('./release')
const { getLockInfo, listLocks } = require('./info')
const { releaseAllLocks, heldLocks } = require('./registry')
const { checkIdentifier } = require('./id')
const { parseRecord } = require('./record')
const { LOCK_DIR_ENV } = require('./options')

module.exports = {
  acquireLock,
  acquireLockAsync,
  releaseLock,
  getLockInfo,
  listLocks,
  releaseAllLocks,
  heldLocks,
  // shared with tests and process-cleanup
  checkIdentifier,
  parseRecord,
  LOCK_DIR_ENV,
}
