'use strict'
// The locks this process holds through the JS backend (core/src/lock/registry.rs), so that
// they can all be released together: at `exit` and by `safeExit`.

const { parseRecord } = require('./record')
const { removeLockFile } = require('./unlink')
const { readSeen } = require('./takeover')

const held = new Map() // lock path -> { token, identifier }
let exitHooked = false

function register(lockPath, entry) {
  held.set(lockPath, entry)
  if (!exitHooked) {
    exitHooked = true
    process.on('exit', releaseAllLocks)
  }
}

function forget(lockPath) {
  held.delete(lockPath)
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
  }
  return n
}

const heldLocks = () => [...held.keys()].sort()

module.exports = { register, forget, releaseAllLocks, heldLocks }
