#!/usr/bin/env node
'use strict'
// The example workspace: a copy of `examples/agenthive/` (the phase tracker of a real project
// and a few component files) plus a SQLite database, `examples/example-database.sqlite`, and
// a git repository (one commit) made on first use. `npm start` makes it in
// `examples/workspace/`; the end-to-end tests make one per test in a temp directory.
// The database was made once with the sqlite3 CLI and committed (8 KiB):
//   sqlite3 examples/example-database.sqlite "PRAGMA page_size=4096;
//     CREATE TABLE sessions (id INTEGER PRIMARY KEY, started TEXT NOT NULL, note TEXT);
//     INSERT INTO sessions (started, note) VALUES
//       ('2025-01-07', 'Phase 2 kick-off: Intelligent Memory & Collaboration'),
//       ('2025-09-14', 'SmartMemoryIndex: index and search'); VACUUM;"
//
//   node scripts/example-workspace.js [dir]   create it (default examples/workspace)

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const REPO = path.resolve(__dirname, '..')
const TEMPLATE = path.join(REPO, 'examples', 'agenthive')
const DATABASE = path.join(REPO, 'examples', 'example-database.sqlite')
const DEFAULT_DEST = path.join(REPO, 'examples', 'workspace')
const TRACKER_REL = path.join('packages', 'system-api', 'phase-tracker.json')
const DATABASE_REL = path.join('packages', 'system-api', 'database.sqlite')

/** git with an argument list and a timeout, never the caller's repository. */
function git(cwd, args) {
  const env = { ...process.env }
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY']) delete env[k]
  const identity = ['-c', 'user.name=session-resilience example', '-c', 'user.email=example@session-resilience.invalid']
  return spawnSync('git', [...identity, '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 30000,
    windowsHide: true,
  })
}

function createDatabase(dest) {
  const file = path.join(dest, DATABASE_REL)
  fs.copyFileSync(DATABASE, file, fs.constants.COPYFILE_EXCL)
  return file
}

function createRepository(dest) {
  for (const args of [['init', '-q'], ['add', '-A'], ['commit', '-q', '-m', 'Example workspace']]) {
    const r = git(dest, args)
    if (r.error || r.status !== 0) {
      return { ok: false, reason: r.error ? r.error.message : `git ${args[0]}: ${(r.stderr || '').trim()}` }
    }
  }
  return { ok: true }
}

/** The example takes its checkpoints as snapshots, as a new tracker does (docs/store-format.md). */
function useSnapshots(trackerPath) {
  const tracker = JSON.parse(fs.readFileSync(trackerPath, 'utf8'))
  const types = (tracker.backupStrategy.backupTypes ||= {})
  types.fullSystem = { ...types.fullSystem, location: '/backups/store/', method: 'snapshot' }
  fs.writeFileSync(trackerPath, `${JSON.stringify(tracker, null, 2)}\n`)
}

/**
 * Create the workspace in `dest` unless it already holds a tracker.
 * @returns {{ root: string, created: boolean, database?: string, git?: { ok: boolean, reason?: string } }}
 */
function createWorkspace(dest = DEFAULT_DEST, { template = TEMPLATE } = {}) {
  const root = path.resolve(dest)
  if (fs.existsSync(path.join(root, TRACKER_REL))) return { root, created: false }
  fs.mkdirSync(root, { recursive: true })
  fs.cpSync(template, root, { recursive: true, errorOnExist: true, force: false })
  useSnapshots(path.join(root, TRACKER_REL))
  const database = createDatabase(root)
  return { root, created: true, database, git: createRepository(root) }
}

if (require.main === module) {
  const result = createWorkspace(process.argv[2] || DEFAULT_DEST)
  if (!result.created) console.log(`Example workspace already exists: ${result.root}`)
  else {
    console.log(`📦 Created the example workspace: ${result.root}`)
    console.log(`   SQLite database: ${result.database}`)
    console.log(result.git.ok ? '   git repository: one commit' : `   ⚠️  no git repository (${result.git.reason})`)
  }
}

module.exports = { createWorkspace, TEMPLATE, DEFAULT_DEST, DATABASE_REL }
