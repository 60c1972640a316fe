'use strict'
// Where the session classes meet the workspace: the root (lib/root.js) and the tracker
// (lib/tracker-store.js, the one helper for every tracker write). Loading adds the message a
// user needs when there is no tracker at all.

const fs = require('node:fs')
const path = require('node:path')
const { findRoot, trackerPathOf, commandName, TRACKER_REL } = require('../root')
const store = require('../tracker-store')
const { codedError } = require('../js/errors')

function resolveRoot(option) {
  return findRoot({ root: option })
}

/** ENOTRACKER naming the path and the command that creates one. */
function missingTracker(trackerPath) {
  const command = commandName('validation-helpers', path.resolve(trackerPath, '..', '..', '..'))
  return codedError(
    'ENOTRACKER',
    `Phase tracker not found: ${trackerPath}\n` +
      `   Create one with: ${command.startsWith('node ') ? command : `npx ${command}`} create-default ${trackerPath}\n` +
      `   (or run from a workspace that has packages/system-api/phase-tracker.json, or pass --root <dir>)`,
  )
}

/**
 * The tracker object. A file that does not parse is repaired once, under the tracker lock:
 * its bytes kept aside, the repaired tracker saved (so the next read does not keep yet
 * another copy), or ECORRUPT when it cannot be repaired (the file is left as it is).
 */
function loadTracker(trackerPath) {
  let text
  try {
    text = fs.readFileSync(trackerPath, 'utf8')
  } catch (err) {
    if (err.code === 'ENOENT') throw missingTracker(trackerPath)
    throw err
  }
  try {
    return JSON.parse(text)
  } catch {
    return store.updateTracker(trackerPath, () => undefined)
  }
}

/**
 * Read-modify-write under the tracker lock: `mutate(tracker)` changes the fresh copy (or
 * throws, and nothing is written). Resolves the tracker as written.
 */
function updateTracker(trackerPath, mutate, options = {}) {
  if (!fs.existsSync(trackerPath)) throw missingTracker(trackerPath)
  return store.updateTracker(trackerPath, mutate, options)
}

module.exports = { resolveRoot, trackerPathOf, loadTracker, updateTracker, missingTracker, TRACKER_REL }
