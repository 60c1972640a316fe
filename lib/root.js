'use strict'
// Where the project is: one rule for every class and CLI (legacy hard-coded an absolute path,
// which made its scripts work from any folder of that one machine).
//   1. the `root` (or legacy-style `rootDir`) option, which `--root <dir>` and `main({ root })` set
//      (or `useRoot(dir)` for the whole process: session-resilience/testing);
//   2. the location of the script the user ran, or of the shim that required us: its folder's
//      nearest ancestor holding packages/system-api/phase-tracker.json (a shim user runs
//      `node <project>/session-manager.js` from anywhere, as with legacy);
//   3. $SESSION_RESILIENCE_ROOT;
//   4. the nearest ancestor of the cwd holding the tracker;
//   5. the cwd.

const fs = require('node:fs')
const path = require('node:path')

const { codedError } = require('./js/errors')

const ROOT_ENV = require('./js/defaults.json').env.root
const TRACKER_REL = path.join('packages', 'system-api', 'phase-tracker.json')
const PACKAGE_DIR = path.resolve(__dirname, '..')
const LIB_DIR = __dirname

let processRoot = null

/** Set (or clear, with null) the root of every class and CLI of this process (`main({ root })`, tests). */
function useRoot(dir) {
  processRoot = dir ? path.resolve(dir) : null
}

function nearestTrackerRoot(start) {
  let dir = path.resolve(start)
  for (;;) {
    if (fs.existsSync(path.join(dir, TRACKER_REL))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

const inside = (file, dir) => {
  const rel = path.relative(dir, file)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

/** A user's file: not part of this package (our bin/ and tests are not a project's scripts). */
const isUserFile = (file) => typeof file === 'string' && path.isAbsolute(file) && !inside(file, PACKAGE_DIR)

/**
 * The files that locate the caller: the main script, then every loaded module outside this
 * package that required one of our lib/ modules (the shims), in load order.
 */
function callerFiles() {
  const files = []
  const main = require.main && require.main.filename
  if (isUserFile(main)) files.push(main)
  for (const mod of Object.values(require.cache)) {
    if (!mod || !isUserFile(mod.filename) || files.includes(mod.filename)) continue
    if ((mod.children || []).some((child) => child && inside(child.filename, LIB_DIR))) files.push(mod.filename)
  }
  return files
}

/** The project found from the caller's own location (step 2), or null. */
function locationRoot() {
  for (const file of callerFiles()) {
    const found = nearestTrackerRoot(path.dirname(file))
    if (found) return found
  }
  return null
}

/** The project root for `options` (absolute). */
function findRoot(options = {}) {
  const given = options.root || options.rootDir || processRoot
  if (given) return path.resolve(given)
  const located = locationRoot()
  if (located) return located
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
  if (options.root || options.rootDir || processRoot || process.env[ROOT_ENV]) return true
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

/**
 * How the user invokes our CLI `name`, for the hints we print: the package bin `name`, unless
 * the user ran a script of their own (a shim): then `node <path>` of the shim file for `name`
 * (beside that script, or in the project where legacy kept it; relative to the cwd when below
 * it), or `node <name>.js` as legacy printed.
 */
function commandName(name, root) {
  const main = require.main && require.main.filename
  if (!isUserFile(main)) return name
  const file = `${name}.js`
  const places = [path.dirname(main), ...(root ? [root, path.join(root, 'packages', 'system-api')] : [])]
  const found = places.map((dir) => path.join(dir, file)).find((candidate) => fs.existsSync(candidate))
  if (!found) return `node ${file}`
  const rel = path.relative(process.cwd(), found)
  return `node ${rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : found}`
}

module.exports = { findRoot, useRoot, locationRoot, trackerPathOf, nearestTrackerRoot, isProjectRoot, noRootError, commandName, ROOT_ENV, TRACKER_REL }
