'use strict'
// Removing a dead holder's lock file, serialized between breakers (core/src/lock/takeover.rs):
// a breaker takes the marker `.<id>.lock.takeover.<gen>` (exclusive create), re-reads the lock
// file and removes it only if it is still the very file it judged dead.

const fs = require('node:fs')
const path = require('node:path')

const { codedError } = require('../errors')
const { openRegular } = require('../contained')
const { DEAD, judge } = require('./liveness')
const { GARBLED_GRACE_MS } = require('./options')
const { newToken, ourRecord, recordText, parseRecord } = require('./record')
const { removeLockFile, removeQuietly } = require('./unlink')

const MAX_GENERATIONS = 64

const markerPath = (dir, id, gen) => path.join(dir, `.${id}.lock.takeover.${gen}`)

/** How much of a lock file is read: a record's worth and a byte more (a longer file is no record). */
const { MAX_RECORD_BYTES } = require('./record')

/**
 * Open a lock file or marker (core/src/lock/file.rs): a regular file only (lstat first, so a
 * FIFO is never opened; O_NOFOLLOW | O_NONBLOCK; fstat), else `EBADLOCK` at once.
 */
function openLockFile(file) {
  try {
    return openRegular(file, fs.constants.O_RDONLY)
  } catch (err) {
    if (err.code !== 'EINVAL' && err.code !== 'EPATHESCAPE') throw err.cause || err
    const why = err.code === 'EINVAL' ? err.message.replace(/^.*: not a regular file/, 'not a regular file') : 'not a regular file (a symbolic link)'
    throw refusal(file, why)
  }
}

/** Read a lock file (at most a record's worth) with the identity (device, inode) of what was read. */
function readSeen(file) {
  const fd = openLockFile(file)
  try {
    const st = fs.fstatSync(fd)
    const buf = Buffer.allocUnsafe(MAX_RECORD_BYTES + 1)
    let n = 0
    for (let got; n < buf.length && (got = fs.readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += got
    return { identity: `${st.dev}:${st.ino}`, size: st.size, bytes: Buffer.from(buf.subarray(0, n)), mtimeMs: st.mtimeMs }
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Is `file` no longer the file read as `seen` (gone, replaced, or resized)? Its size, not the
 * bytes read: a file longer than a record is read in part, and is not changed for that.
 */
function changed(file, seen) {
  const st = fs.statSync(file, { throwIfNoEntry: false })
  return !st || `${st.dev}:${st.ino}` !== seen.identity || st.size !== seen.size
}

const sameSeen = (a, b) => a.identity === b.identity && a.bytes.equals(b.bytes)

function markerIsDead(file, staleMs) {
  let seen
  try {
    seen = readSeen(file)
  } catch (err) {
    if (err.code === 'ENOENT') return false
    throw err
  }
  const r = parseRecord(seen.bytes)
  if (r) return judge(r, staleMs) === DEAD
  return Date.now() - seen.mtimeMs > GARBLED_GRACE_MS
}

/** Take the takeover marker for `id`: its path, or null when a live breaker is at work. */
function takeMarker(dir, id, staleMs) {
  for (let gen = 0; gen < MAX_GENERATIONS; gen++) {
    const file = markerPath(dir, id, gen)
    let fd
    try {
      fd = fs.openSync(file, 'wx', 0o600)
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
      if (!markerIsDead(file, staleMs)) return null
      continue
    }
    try {
      fs.writeSync(fd, recordText(ourRecord(id, newToken(), null)))
    } catch (err) {
      // an empty marker would stall other breakers for the grace period: leave nothing
      fs.closeSync(fd)
      fd = null
      removeQuietly(file)
      throw err
    } finally {
      if (fd !== null) fs.closeSync(fd)
    }
    return file
  }
  throw new Error(`${MAX_GENERATIONS} dead takeover markers for ${id} in ${dir}`)
}

/** Remove the lock file if it is still exactly `seen`: 'broken', 'changed' or 'busy'. */
function breakDead(dir, id, lockPath, seen, staleMs) {
  const marker = takeMarker(dir, id, staleMs)
  if (!marker) return 'busy'
  try {
    let now
    try {
      now = readSeen(lockPath)
    } catch (err) {
      if (err.code === 'ENOENT') return 'changed'
      throw err
    }
    if (!sameSeen(now, seen)) return 'changed'
    try {
      removeLockFile(lockPath)
    } catch (err) {
      if (err.code === 'ENOENT') return 'changed'
      throw err
    }
    return 'broken'
  } finally {
    removeQuietly(marker)
  }
}

/** `EBADLOCK` `<context>: refusing the lock file: <why>` (core/src/lock/file.rs `error`), `why` kept. */
function refusal(context, why) {
  return Object.assign(codedError('EBADLOCK', `${context}: refusing the lock file: ${why}`), { why })
}

module.exports = { readSeen, changed, breakDead, refusal }
