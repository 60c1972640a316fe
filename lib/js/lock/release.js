'use strict'
// Releasing a lock (core/src/lock/release.rs): only its owner removes it. `{ released }`:
// true when removed or absent; otherwise `ownerPid` (another process owns it) or `error`.

const { osError } = require('../errors')
const { checkIdentifier } = require('./id')
const { lockDirOf, lockPathOf } = require('./options')
const { parseRecord, isOwn } = require('./record')
const { forget, leave } = require('./registry')
const { readSeen } = require('./takeover')
const { removeLockFile } = require('./unlink')

function releaseLock(identifier, options) {
  checkIdentifier(identifier)
  const lockPath = lockPathOf(lockDirOf(options), identifier)
  const entry = forget(lockPath)
  const outcome = removeOurs(lockPath)
  // the file may still carry our token: our next acquire must not wait for us
  if (entry && !outcome.released) leave(lockPath, entry.token)
  return outcome
}

function removeOurs(lockPath) {
  let bytes
  try {
    bytes = readSeen(lockPath).bytes
  } catch (err) {
    if (err.code === 'ENOENT') return { released: true }
    if (err.code === 'EBADLOCK') throw err
    return { released: false, error: osError(lockPath, err).message }
  }
  const r = parseRecord(bytes)
  if (!r) return { released: false, error: 'lock file is not a valid lock record' }
  if (!isOwn(r)) return { released: false, ownerPid: r.pid }
  try {
    removeLockFile(lockPath)
  } catch (err) {
    if (err.code !== 'ENOENT') return { released: false, error: osError(lockPath, err).message }
  }
  return { released: true }
}

module.exports = { releaseLock }
