'use strict'
// Where the project is: one rule for every class and CLI (legacy hard-coded an absolute path).
//   1. the `root` (or legacy-style `rootDir`) option;
//   2. $SESSION_RESILIENCE_ROOT;
//   3. the nearest ancestor of the cwd holding packages/system-api/phase-tracker.json;
//   4. the cwd.

const fs = require('node:fs')
const path = require('node:path')

const { codedError } = require('./js/errors')

const ROOT_ENV = require('./js/defaults.json').env.root
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

/**
 * Is `root`, what findRoot(options) returned, a project? It is when it was named (the option,
 * $SESSION_RESILIENCE_ROOT) or holds the tracker; otherwise findRoot fell back to the cwd,
 * where nothing that writes may run (from the home folder, a backup would archive it all).
 */
function isProjectRoot(root, options = {}) {
  if (options.root || options.rootDir || process.env[ROOT_ENV]) return true
  return fs.existsSync(path.join(root, TRACKER_REL))
}

/** The ENOROOT error: where the project was looked for, and how to name it. */
function noRootError(options = {}) {
  const cwd = path.resolve(options.cwd || process.cwd())
  return codedError(
    'ENOROOT',
    `No project found: no ${TRACKER_REL} in ${cwd} or any folder above it, no --root option, no $${ROOT_ENV}; run from inside the project or pass --root <dir>`,
  )
}

/** The tracker file of a root. */
function trackerPathOf(root) {
  return path.join(root, TRACKER_REL)
}

module.exports = { findRoot, trackerPathOf, nearestTrackerRoot, isProjectRoot, noRootError, ROOT_ENV, TRACKER_REL }
