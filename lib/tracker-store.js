'use strict'
// The one helper for every write of the phase tracker: read-modify-write under the lock
// `tracker-<short hash of its path>`, saved with atomicWrite, so two processes updating it
// at once (two backups, a backup and a session) both keep their change. Legacy wrote it
// with a plain writeFileSync and no lock, and the later writer erased the other's update.
//
// A damaged tracker is read through the validation module's tolerant `repairTracker` (its
// bytes kept aside first); one it cannot repair is refused (ECORRUPT) rather than overwritten.

const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')

const { SafeFileOperations } = require('./safe-file-operations')
const { repairTracker } = require('./validation-helpers')
const { codedError } = require('./js/errors')
const { openRegular, readBounded } = require('./js/contained')

const LOCK_TIMEOUT_MS = 30000
/** A tracker is a few hundred KiB at most; past this it is not one (EFBIG). */
const MAX_TRACKER_BYTES = 64 * 1024 * 1024

/** The lock identifier of a tracker: one per file, whatever the spelling of its path. */
function trackerLockId(trackerPath) {
  let resolved = path.resolve(trackerPath)
  try {
    resolved = fs.realpathSync.native(resolved)
  } catch {
    // not created yet: the plain absolute path
  }
  return `tracker-${crypto.createHash('sha256').update(resolved).digest('hex').slice(0, 12)}`
}

/**
 * The tracker's content (null when the file does not exist). A damaged tracker goes through
 * the tolerant `repairTracker`, which keeps the damaged bytes aside as `<name>.corrupt-<stamp>`
 * before anything else; one that cannot be repaired is refused (ECORRUPT), never overwritten.
 */
function readTracker(trackerPath) {
  let text
  let fd
  try {
    // a regular file only (lstat, O_NONBLOCK | O_NOFOLLOW, fstat): a FIFO planted as the
    // tracker would block the read forever, a link to /dev/zero never ends
    fd = openRegular(trackerPath, fs.constants.O_RDONLY)
  } catch (err) {
    if (err.code === 'ENOENT') return null
    if (err.code === 'EPATHESCAPE') throw codedError('EINVAL', `Refusing tracker ${trackerPath}: it is a symbolic link`)
    throw err
  }
  try {
    text = readBounded(fd, trackerPath, MAX_TRACKER_BYTES).toString('utf8')
  } finally {
    fs.closeSync(fd)
  }
  try {
    return JSON.parse(text)
  } catch (parseErr) {
    const repaired = repairTracker(trackerPath)
    if (repaired && repaired.success) return repaired.tracker
    throw codedError('ECORRUPT', `Tracker ${trackerPath} does not parse (${parseErr.message}) and could not be repaired; its bytes are kept beside it as .corrupt-<stamp>`)
  }
}

/**
 * Apply `change(tracker)` to the tracker file under its lock and save it atomically.
 * `change` mutates the object it gets (or returns a replacement); `updateTracker` returns
 * the saved tracker. A missing tracker starts from `options.create()` when given, else
 * the update is refused with ENOENT.
 */
function updateTracker(trackerPath, change, options = {}) {
  const ops = options.ops || new SafeFileOperations({ backend: options.backend, lockDir: options.lockDir })
  const apply = () => {
    let tracker = readTracker(trackerPath)
    if (tracker === null) {
      if (typeof options.create !== 'function') {
        throw codedError('ENOENT', `Tracker ${trackerPath} does not exist`)
      }
      tracker = options.create()
    }
    const replaced = change(tracker)
    if (replaced !== undefined) tracker = replaced
    ops.atomicWrite(trackerPath, `${JSON.stringify(tracker, null, 2)}\n`)
    return tracker
  }
  return ops.withLock(trackerLockId(trackerPath), apply, { timeout: options.timeout || LOCK_TIMEOUT_MS })
}

module.exports = { updateTracker, readTracker, trackerLockId }
