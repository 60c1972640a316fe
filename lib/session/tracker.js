'use strict'
// Where the session classes meet the workspace: the root (lib/root.js) and the tracker
// (lib/tracker-store.js, the one helper for every tracker write). Loading adds the message a
// user needs when there is no tracker at all.

const fs = require('node:fs')
const { findRoot, trackerPathOf, TRACKER_REL } = require('../root')
const store = require('../tracker-store')
const { codedError } = require('../js/errors')

function resolveRoot(option) {
  return findRoot({ root: option })
}

/** ENOTRACKER naming the path and the command that creates one. */
function missingTracker(trackerPath) {
  return codedError(
    'ENOTRACKER',
    `Phase tracker not found: ${trackerPath}\n` +
      `   Create one with: npx validation-helpers create-default ${trackerPath}\n` +
      `   (or run from a workspace that has packages/system-api/phase-tracker.json, or pass --root <dir>)`,
  )
}

/** The tracker object; a damaged file is repaired on read with its bytes kept aside. */
function loadTracker(trackerPath) {
  const tracker = store.readTracker(trackerPath)
  if (tracker === null) throw missingTracker(trackerPath)
  return tracker
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
