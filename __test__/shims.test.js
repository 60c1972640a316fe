'use strict'
// Legacy contract §9: a project switches by replacing `safe-file-operations.js` and
// `validation-helpers.js` with the two-line shims of examples/shims/. Its own scripts keep
// requiring './safe-file-operations' and using the legacy names; the shimmed files still
// run as CLIs. Here on a temp project whose node_modules/session-resilience is this package.
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { test, ROOT, eachBackend } = require('./helpers')

const SHIMS = path.join(ROOT, 'examples', 'shims')
const USER_SCRIPT = path.join(__dirname, 'fixtures', 'legacy-user', 'tracker-report.js')
const TRACKER = path.join(ROOT, 'examples', 'agenthive', 'packages', 'system-api', 'phase-tracker.json')

function legacyProject(dir) {
  const project = path.join(dir, 'project')
  fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true })
  fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'session-resilience'), 'junction')
  for (const shim of ['safe-file-operations.js', 'validation-helpers.js']) fs.copyFileSync(path.join(SHIMS, shim), path.join(project, shim))
  fs.copyFileSync(USER_SCRIPT, path.join(project, 'tracker-report.js'))
  fs.mkdirSync(path.join(project, 'packages', 'system-api'), { recursive: true })
  fs.copyFileSync(TRACKER, path.join(project, 'packages', 'system-api', 'phase-tracker.json'))
  return project
}

test('the shims are exactly two lines: require the module, run its CLI when run as a command', () => {
  for (const name of ['safe-file-operations', 'validation-helpers']) {
    assert.strictEqual(
      fs.readFileSync(path.join(SHIMS, `${name}.js`), 'utf8'),
      `module.exports = require('session-resilience/${name}')\nif (require.main === module) module.exports.main()\n`,
    )
  }
})

test("a user's unchanged legacy script and the shimmed CLIs work on top of the shims", async (t) => {
  const reports = {}
  await eachBackend(t, async ({ backend, dir }) => {
    const project = legacyProject(dir)
    const lockDir = path.join(dir, 'locks')
    const backupDir = path.join(dir, 'file-backups')
    const run = (args) =>
      spawnSync(process.execPath, args, {
        cwd: project,
        encoding: 'utf8',
        timeout: 60000,
        env: { ...process.env, SESSION_RESILIENCE_BACKEND: backend, SESSION_RESILIENCE_LOCK_DIR: lockDir, SESSION_RESILIENCE_BACKUP_DIR: backupDir },
      })

    const r = run(['tracker-report.js'])
    assert.strictEqual(r.status, 0, r.stderr)
    const report = JSON.parse(fs.readFileSync(path.join(project, 'report.json'), 'utf8'))
    assert.strictEqual(report.lockPath, path.join(lockDir, 'tracker-report.lock'))
    assert.strictEqual(report.lockInfo.locked, true)
    assert.strictEqual(report.lockInfo.stale, false)
    assert.match(report.locksCli, /^🔒 Lock Directory: /)
    assert.match(report.locksCli, /  tracker-report: ACTIVE \(PID: \d+, Age: \d+ms\)/)
    assert.deepStrictEqual(report.validation, {
      valid: false,
      errors: ['Phase phase1 missing property: title'],
      keys: ['data', 'errors', 'repaired', 'valid', 'warnings'],
    })
    assert.strictEqual(report.written, true)
    assert.strictEqual(report.totalSessions, 2)
    assert.strictEqual(path.dirname(report.backupPath), backupDir)
    assert.match(path.basename(report.backupPath), /^phase-tracker\.json\.report\..+\.bak$/)
    assert.strictEqual(report.checksum.valid, true)
    assert.match(report.checksum.checksum, /^[0-9a-f]{64}$/)
    assert.deepStrictEqual(report.repair, { success: true, sessionId: 'agenthive-phase2-2025-01' })
    assert.strictEqual(report.released, true)
    assert.deepStrictEqual(report.afterRelease, { locked: false })

    // the shimmed files as commands, as the legacy checklist runs them
    const locks = run(['safe-file-operations.js', 'locks'])
    assert.strictEqual(locks.status, 0, locks.stderr)
    assert.strictEqual(locks.stdout, `🔒 Lock Directory: ${lockDir}\nNo active locks\n`)
    const validate = run(['validation-helpers.js', 'validate', 'packages/system-api/phase-tracker.json'])
    assert.match(validate.stdout, /^📊 Validation Results for packages\/system-api\/phase-tracker\.json:\n  Valid: ❌\n  Errors: 1\n/)
    const help = run(['safe-file-operations.js', 'help'])
    assert.strictEqual(help.status, 0)
    assert.match(help.stdout, /Usage:\n  node safe-file-operations\.js backup <file> \[label\]/)

    for (const k of ['lockPath', 'locksCli', 'backupPath']) delete report[k]
    for (const k of ['pid', 'timestamp', 'age']) delete report.lockInfo[k]
    reports[backend] = report
  })
  assert.deepStrictEqual(reports.native, reports.js)
})
