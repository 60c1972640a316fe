'use strict'
// The locks this process holds through the JS backend (core/src/lock/registry.rs), so that
// they can all be released together: at `exit` and by `safeExit`.

const { parseRecord } = require('./record')
const { removeLockFile } = require('./unlink')
const { readSeen } = require('./takeover')

const held = new Map() // lock path -> { token, identifier }
let exitHooked = false

// Lock path -> tokens of our acquisitions released whose file stayed (a failed read or
// unlink at release). Such a file names our pid, which is alive, so without this our own
// next acquire would wait for itself until its timeout. A token names one acquisition,
// which has ended: a file still carrying it has no holder, and the next acquire takes it
// over like a dead holder's (through the takeover protocol). Only this backend's tokens are
// here: the native backend's live lock in this same process is never judged dead by it.
const left = new Map()

/** Note that our acquisition `token` of `lockPath` was released but its file may stay. */
function leave(lockPath, token) {
  if (!left.has(lockPath)) left.set(lockPath, new Set())
  left.get(lockPath).add(token)
}

const wasLeft = (lockPath, token) => left.has(lockPath) && left.get(lockPath).has(token)

/**
 * The file carrying `token` is gone (taken over): forget the note. True when it was our own
 * leftover, which then has no dead holder to report ("process N not found").
 */
function cleared(lockPath, token) {
  // (an emptied set stays: one per lock path that ever had a failed release)
  const tokens = left.get(lockPath)
  return tokens !== undefined && tokens.delete(token)
}

function register(lockPath, entry) {
  held.set(lockPath, entry)
  if (!exitHooked) {
    exitHooked = true
    process.on('exit', releaseAllLocks)
  }
}

/** Stop holding `lockPath`: its entry, if we held it. */
function forget(lockPath) {
  const entry = held.get(lockPath)
  held.delete(lockPath)
  return entry
}

/** Remove the lock file if it still holds our acquisition's token. */
function removeIfOurs(lockPath, token) {
  try {
    const r = parseRecord(readSeen(lockPath).bytes)
    if (!r || r.token !== token) return false
    removeLockFile(lockPath)
    return true
  } catch {
    return false
  }
}

/** Release every lock this process holds through this backend; returns how many. */
function releaseAllLocks() {
  let n = 0
  for (const [lockPath, entry] of held) {
    held.delete(lockPath)
    if (removeIfOurs(lockPath, entry.token)) n++
    else leave(lockPath, entry.token)
  }
  return n
}

const heldLocks = () => [...held.keys()].sort()

module.exports = { register, forget, leave, wasLeft, cleared, releaseAllLocks, heldLocks }
