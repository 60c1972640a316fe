'use strict'
// Private scratch folders in the temp dir for SQLite's work (core/src/fsx/scratch.rs is the
// native twin and uses the same names). SQLite opens files by name and resolves every link
// in a path itself (its journal too), so it never works inside the project or `backups/`,
// where a folder swapped for a link would redirect it: it works on copies here, and the bytes
// move in and out through held folders.
//
// The name carries the owner, `sr-db-<pid>-<start time s>-<random>`, so that a folder left by
// a killed process is told from one in use: `sweepScratch()` and `sweepScratchInBackups()`
// (run by create and cleanup, for both backends) remove those whose owner is dead.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { liveness, ownStartTimeS } = require('./process')

const PREFIX = 'sr-db-'
/** Ours: the prefix, the owner's pid and start time, mkdtemp's 6 random characters (or tempfile's). */
const NAME = /^sr-db-(\d+)-(\d+)-[A-Za-z0-9_]{6,}$/
/** Start times read twice may differ by rounding (as lock records allow). */
const START_SLACK_S = 2

/** A new 0700 scratch folder (mkdtemp: an unpredictable name, created exclusively). */
function newScratch() {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-${ownStartTimeS()}-`))
}

/** Is the owner `pid` started at `startS` gone (no such process, or the pid now another's)? */
function ownerDead(pid, startS) {
  if (pid === process.pid) return false
  const seen = liveness(pid)
  if (!seen.alive) return true
  return seen.startTimeS != null && startS !== 0 && Math.abs(seen.startTimeS - startS) > START_SLACK_S
}

/** Is `name` a scratch folder's name whose owner is dead? */
function leftByTheDead(name) {
  const m = NAME.exec(name)
  return m !== null && ownerDead(Number(m[1]), Number(m[2]))
}

/**
 * Remove the scratch folders in the temp dir whose owner is dead: only real directories named
 * like ours and owned by this user (lstat: a link of that name is left alone, never followed;
 * the sticky temp dir keeps others from renaming our entries meanwhile). Their content is
 * removed without following links. Returns the names removed.
 */
function sweepScratch(dir = os.tmpdir()) {
  const removed = []
  let names
  try {
    names = fs.readdirSync(dir)
  } catch {
    return removed
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : null
  for (const name of names) {
    if (!NAME.test(name)) continue
    const full = path.join(dir, name)
    let st
    try {
      st = fs.lstatSync(full)
    } catch {
      continue
    }
    if (!st.isDirectory() || (uid !== null && st.uid !== uid)) continue
    if (!leftByTheDead(name)) continue
    try {
      fs.rmSync(full, { recursive: true })
      removed.push(name)
    } catch {
      // another sweeper got there first (then it is not counted here), or it is not ours to remove: left
    }
  }
  return removed
}

/**
 * The same in the project's `backups/` (where a native restore on Linux does its database
 * work: core/src/backup/restore.rs), through the backend's contained calls: listed and
 * removed below the root without following any link. Returns the names removed.
 */
function sweepScratchInBackups(binding, root) {
  const removed = []
  let entries
  try {
    entries = binding.containedList(root, 'backups')
  } catch {
    return removed
  }
  for (const { name, type } of entries) {
    if (type !== 'directory' || !leftByTheDead(name)) continue
    try {
      binding.containedRemove(root, `backups/${name}`)
      removed.push(name)
    } catch {
      // another sweeper got there first: left
    }
  }
  return removed
}

module.exports = { newScratch, sweepScratch, sweepScratchInBackups, ownerDead, PREFIX }
