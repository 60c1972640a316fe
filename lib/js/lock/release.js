'use strict'
// Releasing a lock (core/src/lock/release.rs): only its owner removes it. Legacy results:
// true when removed or absent; false, with its message, otherwise.

const { osError } = require('../errors')
const { checkIdentifier } = require('./id')
const { lockDirOf, lockPathOf } = require('./options')
const { parseRecord, isOwn } = require('./record')
const { forget } = require('./registry')
const { readSeen } = require('./takeover')
const { removeLockFile } = require('./unlink')

function releaseLock(identifier, options) {
  checkIdentifier(identifier)
  const lockPath = lockPathOf(lockDirOf(options), identifier)
  forget(lockPath)
  let bytes
  try {
    bytes = readSeen(lockPath).bytes
  } catch (err) {
    if (err.code === 'ENOENT') return true
    if (err.code === 'EBADLOCK') throw err
    console.error(`Failed to release lock for ${identifier}: ${osError(lockPath, err).message}`)
    return false
  }
  const r = parseRecord(bytes)
  if (!r) {
    console.error(`Failed to release lock for ${identifier}: lock file is not a valid lock record`)
    return false
  }
  if (!isOwn(r)) {
    console.warn(`Attempted to release lock owned by PID ${r.pid}`)
    return false
  }
  try {
    removeLockFile(lockPath)
  } catch (err) {
    if (err.code !== 'ENOENT') {
      console.error(`Failed to release lock for ${identifier}: ${osError(lockPath, err).message}`)
      return false
    }
  }
  return true
}

module.exports = { releaseLock }
