'use strict'
// The original legacy modules (../shared/fixtures/agenthive-legacy/, test data: run, never
// copied into the package) set up in a temp project, as that folder's README says: the
// hard-coded project path and the lock/backup folders replaced by the temp project's own.
const fs = require('node:fs')
const path = require('node:path')

/** `shared/fixtures` beside the checkout (or beside one of its parents: a git worktree). */
function findShared() {
  for (let dir = path.resolve(__dirname, '..'); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'fixtures')
    if (fs.existsSync(path.join(candidate, 'agenthive-legacy'))) return candidate
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..', 'shared', 'fixtures')
  }
}
const SHARED = findShared()
const LEGACY_DIR = process.env.SESSION_RESILIENCE_LEGACY_FIXTURES || path.join(SHARED, 'agenthive-legacy')
const PROJECT_FIXTURE = process.env.SESSION_RESILIENCE_PROJECT_FIXTURE || path.join(SHARED, 'agenthive')

/** The seven legacy files, relative to the project root. */
const LEGACY_FILES = [
  'safe-file-operations.js',
  'validation-helpers.js',
  'process-cleanup.js',
  'backup-system.js',
  'session-manager.js',
  'resilient-wrapper.js',
  path.join('packages', 'system-api', 'phase-gate-validator.js'),
]

const available = () => fs.existsSync(path.join(LEGACY_DIR, 'safe-file-operations.js')) && fs.existsSync(PROJECT_FIXTURE)

function copyTree(from, to) {
  fs.cpSync(from, to, { recursive: true })
  // the fixtures are read-only; the copies must be writable
  const walk = (p) => {
    const st = fs.statSync(p)
    fs.chmodSync(p, st.isDirectory() ? 0o755 : 0o644)
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e))
  }
  walk(to)
}

/**
 * Copy the real project (tracker, backups) to `project`, and, unless `legacy === false`, the
 * original modules with their hard-coded paths pointed at `project`, `lockDir` and `backupDir`.
 */
function legacyProject(project, { lockDir, backupDir, legacy = true } = {}) {
  fs.mkdirSync(project, { recursive: true })
  copyTree(PROJECT_FIXTURE, project)
  if (!legacy) return project
  for (const rel of LEGACY_FILES) {
    const text = fs
      .readFileSync(path.join(LEGACY_DIR, rel), 'utf8')
      .split('/home/diegocc/AgentHive').join(project)
      .split("'/tmp/agenthive-locks'").join(JSON.stringify(lockDir || path.join(project, '.locks')))
      .split("'/tmp/agenthive-backups'").join(JSON.stringify(backupDir || path.join(project, '.file-backups')))
    fs.mkdirSync(path.dirname(path.join(project, rel)), { recursive: true })
    fs.writeFileSync(path.join(project, rel), text)
  }
  return project
}

module.exports = { LEGACY_DIR, PROJECT_FIXTURE, LEGACY_FILES, available, legacyProject }
