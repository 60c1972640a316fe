'use strict'
// The temp files written beside a target and renamed over it (contained writes, store
// restores), named as core/src/fsx/beneath.rs names them: `.<name>.sr-<pid>-<ms>-<attempt>.tmp`.
// The name carries the writer and the moment, so the temp a killed process left is told from
// one being written: `sweepDeadTemps` removes those whose writer is gone.

const fs = require('node:fs')
const path = require('node:path')

const { liveness } = require('./process')

const TEMP = /^\.(.+)\.sr-(\d+)-(\d+)-(\d+)\.tmp$/

/** The temp name for `name`, this process, now. */
function tempName(name, attempt = 0) {
  return `.${name}.sr-${process.pid}-${Date.now()}-${attempt}.tmp`
}

/** `{ pid, madeS }` of a temp named by `tempName`, or null for any other name. */
function tempWriter(name) {
  const m = TEMP.exec(name)
  if (m === null) return null
  const pid = Number(m[2])
  return pid <= 0xffffffff ? { pid, madeS: Math.floor(Number(m[3]) / 1000) } : null
}

/** Gone: no such process, or the pid now runs a process started after the temp was made. */
function writerGone({ pid, madeS }) {
  if (pid === process.pid) return false
  const seen = liveness(pid)
  return !seen.alive || (seen.startTimeS != null && seen.startTimeS > madeS + 1)
}

/**
 * Remove the temps in folder `dir` whose writer is gone: regular files only (lstat: a link
 * or folder of that name is left, never followed). Best effort; returns how many went.
 */
function sweepDeadTemps(dir) {
  let names
  try {
    names = fs.readdirSync(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    const writer = tempWriter(name)
    if (writer === null || !writerGone(writer)) continue
    const full = path.join(dir, name)
    try {
      if (!fs.lstatSync(full).isFile()) continue
      fs.unlinkSync(full)
      removed += 1
    } catch {
      // gone meanwhile, or not ours to remove: left
    }
  }
  return removed
}

module.exports = { tempName, tempWriter, sweepDeadTemps }
