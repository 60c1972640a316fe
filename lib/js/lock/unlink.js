'use strict'
// Removing a lock file so that its name is free at once (core/src/lock/unlink.rs): on
// Windows a file another handle has open (a native waiter keeps one) is only "delete
// pending" and keeps its name, so it is renamed to a hidden unique name first, then deleted.

const fs = require('node:fs')
const path = require('node:path')

let removedSeq = 0
function removeLockFile(lockPath) {
  if (process.platform !== 'win32') return fs.unlinkSync(lockPath)
  const aside = path.join(path.dirname(lockPath), `.${path.basename(lockPath)}.removed-${process.pid}-${removedSeq++}`)
  try {
    fs.renameSync(lockPath, aside)
  } catch (err) {
    if (err.code === 'ENOENT') throw err
    return fs.unlinkSync(lockPath) // opened somewhere without delete sharing
  }
  try {
    fs.unlinkSync(aside)
  } catch {}
}

/** Remove a file of ours (a marker, a failed create), ignoring any error. */
function removeQuietly(file) {
  try {
    fs.unlinkSync(file)
  } catch {}
}

module.exports = { removeLockFile, removeQuietly }
