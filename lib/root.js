'use strict'
// Where the project is: one rule for every class and CLI (legacy hard-coded an absolute path).
//   1. the `root` (or legacy-style `rootDir`) option;
//   2. $SESSION_RESILIENCE_ROOT;
//   3. the nearest ancestor of the cwd holding packages/system-api/phase-tracker.json;
//   4. the cwd.

const fs = require('node:fs')
const path = require('node:path')

const ROOT_ENV = 'SESSION_RESILIENCE_ROOT'
const TRACKER_REL = path.join('packages', 'system-api', 'phase-tracker.json')

function nearestTrackerRoot(start) {
  let dir = path.resolve(start)
  for (;;) {
    if (fs.existsSync(path.join(dir, TRACKER_REL))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

/** The project root for `options` (absolute). */
function findRoot(options = {}) {
  const given = options.root || options.rootDir
  if (given) return path.resolve(given)
  if (process.env[ROOT_ENV]) return path.resolve(process.env[ROOT_ENV])
  const cwd = options.cwd || process.cwd()
  return nearestTrackerRoot(cwd) || path.resolve(cwd)
}

/** The tracker file of a root. */
function trackerPathOf(root) {
  return path.join(root, TRACKER_REL)
}

module.exports = { findRoot, trackerPathOf, nearestTrackerRoot, ROOT_ENV, TRACKER_REL }
