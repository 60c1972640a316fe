'use strict'
// End to end: the real CLIs (session-manager, phase-gate-validator, resilient-wrapper and
// the modules they stand on) on a fresh copy of the example workspace, for both backends.
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')
const { test, ROOT, tempDir, eachBackend, runBin, spawnChild, SYNC_CHILD } = require('./helpers')
const { createWorkspace } = require('../scripts/example-workspace')

const TRACKER_REL = path.join('packages', 'system-api', 'phase-tracker.json')
const COMPONENTS = ['SmartMemoryIndex', 'MemorySearch', 'MemoryImportExport']

/** A fresh example workspace (git repository and SQLite database made) and its own lock/backup dirs. */
function workspace(backend) {
  const dir = tempDir(`sr-ws-${backend}-`)
  const root = path.join(dir, 'agenthive')
  createWorkspace(root)
  const env = {
    SESSION_RESILIENCE_LOCK_DIR: path.join(dir, 'locks'),
    SESSION_RESILIENCE_BACKUP_DIR: path.join(dir, 'file-backups'),
    SESSION_RESILIENCE_ROOT: '',
    VERBOSE: '',
  }
  const trackerPath = path.join(root, TRACKER_REL)
  return {
    root,
    env,
    trackerPath,
    tracker: () => JSON.parse(fs.readFileSync(trackerPath, 'utf8')),
    bytes: () => fs.readFileSync(trackerPath),
    /** Run a CLI from the workspace root (root discovery, as the legacy checklist does). */
    cli: (name, args, options = {}) => runBin(name, args, { backend, cwd: options.cwd || root, env: { ...env, ...options.env } }),
  }
}

function week1(tracker) {
  return tracker.phases.phase2.weeks.week1
}

function statusOf(tracker, name) {
  return week1(tracker).components.find((c) => c.name === name).status
}

function ok(r, what) {
  assert.strictEqual(r.status, 0, `${what} exited ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  return r
}

/** Start a CLI without waiting: resolves `{ code, signal, stdout, stderr }` when it ends. */
function start(name, args, { backend, cwd, env, t }) {
  const child = spawnChild(process.execPath, [path.join(ROOT, 'bin', `${name}.js`), ...args], {
    t,
    cwd,
    env: { ...process.env, SESSION_RESILIENCE_BACKEND: backend, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = { stdout: '', stderr: '' }
  child.stdout.on('data', (d) => (out.stdout += d))
  child.stderr.on('data', (d) => (out.stderr += d))
  child.done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, ...out })))
  return child
}

async function until(what, check, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('the legacy checklist on the example workspace: status, test, component, validate, checkpoint, locks, validate, list, resilient status', async (t) => {
  const statuses = {}
  await eachBackend(t, async ({ backend }) => {
    const ws = workspace(backend)
    const pristine = ws.bytes()

    // status: the legacy lines, the week progress, the lock and last-backup lines; nothing written
    const status = ok(ws.cli('session-manager', ['status']), 'status').stdout
    for (const line of [
      '📊 CURRENT STATUS',
      'Phase: 2 (Intelligent Memory & Collaboration)',
      'Week: 1 (Smart Memory System (Full Stack))',
      'Status: in_progress',
      '  🔄 SmartMemoryIndex',
      '  ⏳ MemoryImportExport',
      '  week1 0/3 completed  Smart Memory System (Full Stack)',
      '  week2 0/3 completed  Multi-Agent Collaboration',
      '🧪 Baseline: 9/9',
      '🔒 Session lock (session-manager): AVAILABLE',
      '💾 Last backup: phase2-start-2025-09-08T15-14-28-688Z (2025-09-08T15:14:30.597Z)',
    ]) {
      assert.ok(status.includes(line), `status lacks "${line}":\n${status}`)
    }
    assert.deepStrictEqual(ws.bytes(), pristine, 'status wrote the tracker')
    // from a folder inside the workspace, the root is its nearest ancestor holding the tracker
    const nested = ok(ws.cli('session-manager', ['status'], { cwd: path.join(ws.root, 'packages', 'web', 'src') }), 'status from a subfolder')
    assert.strictEqual(nested.stdout, status)
    const json = JSON.parse(ok(ws.cli('session-manager', ['status', '--json']), 'status --json').stdout)
    statuses[backend] = json
    assert.strictEqual(json.ok, true)
    assert.deepStrictEqual(json.status.weeks.map((w) => [w.key, w.completed, w.total]), [['week1', 0, 3], ['week2', 0, 3]])

    // test: the workspace's npm test passes (the mesh test does not exist there)
    const testRun = ok(ws.cli('session-manager', ['test']), 'test')
    assert.match(testRun.stdout, /✅ NPM tests passing \(2 tests\)/)

    // component <existing>: in progress, and nothing else of the tracker changed
    const before = ws.tracker()
    ok(ws.cli('session-manager', ['component', 'MemoryImportExport']), 'component MemoryImportExport')
    const after = ws.tracker()
    assert.strictEqual(statusOf(after, 'MemoryImportExport'), 'in_progress')
    assert.notStrictEqual(after.sessionInfo.lastUpdate, before.sessionInfo.lastUpdate)
    week1(before).components[2].status = 'in_progress'
    before.sessionInfo.lastUpdate = after.sessionInfo.lastUpdate
    assert.deepStrictEqual(after, before)

    // unknown component / week / phase: exit 1, what exists, the tracker unchanged byte for byte
    const unchanged = ws.bytes()
    const missing = ws.cli('session-manager', ['component', 'NonExistentComponent'])
    assert.strictEqual(missing.status, 1)
    assert.match(missing.stderr, /❌ Component NonExistentComponent not found in current week/)
    assert.match(missing.stderr, /Available components \(phase 2, week 1\):\n  - SmartMemoryIndex \(in_progress\)\n  - MemorySearch \(in_progress\)\n  - MemoryImportExport \(in_progress\)/)
    const invalid = ws.cli('session-manager', ['validate', 'component', 'InvalidComponent'])
    assert.strictEqual(invalid.status, 1)
    assert.match(invalid.stderr, /❌ Component InvalidComponent not found in current week/)
    const noWeek = ws.cli('session-manager', ['validate', 'week', '2', '7'])
    assert.strictEqual(noWeek.status, 1)
    assert.match(noWeek.stderr, /Week 7 not found in phase 2 \(weeks: week1, week2\)/)
    const noPhase = ws.cli('phase-gate-validator', ['phase', '9'])
    assert.strictEqual(noPhase.status, 1)
    assert.match(noPhase.stderr, /Phase 9 not found in tracker \(phases: phase1, phase2, phase3, phase4\)/)
    assert.deepStrictEqual(ws.bytes(), unchanged, 'a failed lookup wrote the tracker')

    // validate component <existing>: the 8 gates, 7 pass on the example (no integration test file)
    const gates = JSON.parse(ok(ws.cli('session-manager', ['validate', 'component', 'SmartMemoryIndex', '--json']), 'validate').stdout)
    assert.deepStrictEqual(
      Object.entries(gates.gates).filter(([, v]) => !v).map(([k]) => k),
      ['integrationTests'],
    )
    assert.strictEqual(gates.passRate, 87.5)
    const validated = week1(ws.tracker()).components[0]
    assert.strictEqual(validated.status, 'completed')
    assert.strictEqual(validated.qualityGates.noRegression, true)
    assert.strictEqual(validated.qualityGates.testsWritten, false, 'gates not evaluated here were dropped')

    // validate week: 5 gates, recorded in the week (legacy kept only the status)
    const week = JSON.parse(ws.cli('phase-gate-validator', ['week', '2', '1', '--json']).stdout)
    assert.deepStrictEqual(week.gates, {
      allComponentsComplete: false,
      weekTestsSuite: true,
      performanceBenchmark: false,
      userAcceptanceTesting: false,
      documentationUpdate: true,
    })
    assert.strictEqual(week1(ws.tracker()).qualityGates.weekTestsSuite, true)
    assert.strictEqual(week1(ws.tracker()).status, 'in_progress')

    // checkpoint: validates the in-progress component, full backup, checkpoint file
    const cp = ok(ws.cli('session-manager', ['checkpoint', 'e2e']), 'checkpoint')
    assert.match(cp.stdout, /🔍 Validating current component: MemorySearch/)
    assert.match(cp.stdout, /✅ Checkpoint created successfully/)
    const cpFile = path.join(ws.root, 'checkpoints', `e2e-${new Date().toISOString().slice(0, 10)}.json`)
    const checkpoint = JSON.parse(fs.readFileSync(cpFile, 'utf8'))
    assert.deepStrictEqual([checkpoint.name, checkpoint.phase, checkpoint.week], ['e2e', 2, 1])
    assert.strictEqual(checkpoint.tracker.sessionInfo.sessionId, 'agenthive-phase2-2025-01')
    const point = ws.tracker().backupStrategy.restorePoints[0]
    assert.match(point.id, /^e2e-/)
    // the example workspace takes its checkpoints as snapshots (scripts/example-workspace.js)
    assert.strictEqual(point.method, 'snapshot')
    assert.ok(fs.existsSync(path.join(ws.root, 'backups', 'store', 'snapshots', `${point.id}.json`)))
    assert.strictEqual(statusOf(ws.tracker(), 'MemorySearch'), 'in_progress', 'MemorySearch passes 1 gate of 8')

    // the other modules' commands of the checklist, from the same root
    const locks = ok(ws.cli('safe-file-operations', ['locks']), 'locks').stdout
    assert.ok(locks.includes(`🔒 Lock Directory: ${ws.env.SESSION_RESILIENCE_LOCK_DIR}`), locks)
    assert.match(locks, /No active locks/)
    // the fixture's phase1 has no title: the real data fails validation, and says why
    const validate = ws.cli('validation-helpers', ['validate', TRACKER_REL])
    assert.strictEqual(validate.status, 1)
    assert.match(validate.stdout, /📊 Validation Results for packages[/\\]system-api[/\\]phase-tracker\.json:/)
    assert.match(validate.stdout, /Phase phase1 missing property: title/)
    const list = ok(ws.cli('backup-system', ['list']), 'backup-system list').stdout
    assert.match(list, /📦 AVAILABLE BACKUPS/)
    assert.ok(list.includes(point.id), list)
    // the resilient checkpoint verifies the restore point it made (legacy never found it)
    const rcp = ok(ws.cli('resilient-wrapper', ['checkpoint', 'verified']), 'resilient-wrapper checkpoint')
    assert.match(rcp.stdout, /✅ Resilient checkpoint operation completed/)
    const logs = ok(ws.cli('resilient-wrapper', ['logs']), 'resilient-wrapper logs').stdout
    assert.match(logs, /\n\[[^\]]+\] \[INFO\] Checkpoint verified created and verified successfully\n/)
    const resilient = ok(ws.cli('resilient-wrapper', ['status']), 'resilient-wrapper status').stdout
    assert.match(resilient, /🔒 Lock Status: AVAILABLE/)
    assert.match(resilient, /📊 CURRENT STATUS/)
    assert.match(resilient, /📝 Log File: .*session\.log/)
  })
  // both backends saw the same workspace the same way
  for (const s of Object.values(statuses)) delete s.status.lastUpdate
  assert.deepStrictEqual(statuses.native, statuses.js)
})

test('a missing tracker names its path and the command that creates one; a damaged one is repaired or refused, its bytes kept', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ws = workspace(backend)
    const empty = path.join(dir, 'empty')
    fs.mkdirSync(empty)
    const missing = ws.cli('session-manager', ['status', '--root', empty])
    assert.strictEqual(missing.status, 1)
    assert.ok(missing.stderr.includes(`Phase tracker not found: ${path.join(empty, TRACKER_REL)}`), missing.stderr)
    assert.match(missing.stderr, /validation-helpers create-default/)
    assert.deepStrictEqual(fs.readdirSync(empty), [], 'nothing was created')

    // hand-edited with a trailing comma: repaired on read, the damaged bytes kept aside
    const whole = ws.bytes()
    const dir_ = path.dirname(ws.trackerPath)
    const corrupt = () => fs.readdirSync(dir_).filter((f) => f.startsWith('phase-tracker.json.corrupt-'))
    const comma = Buffer.from(whole.toString('utf8').replace('"totalSessions": 1', '"totalSessions": 1,'))
    fs.writeFileSync(ws.trackerPath, comma)
    const repaired = ok(ws.cli('session-manager', ['status']), 'status on a tracker with a trailing comma')
    assert.match(repaired.stdout, /Phase: 2 \(Intelligent Memory & Collaboration\)/)
    assert.ok(corrupt().length >= 1)
    assert.ok(corrupt().every((f) => fs.readFileSync(path.join(dir_, f)).equals(comma)))
    assert.strictEqual(ws.tracker().sessionInfo.totalSessions, 1, 'the repaired tracker was saved')
    const kept = corrupt().length
    ok(ws.cli('session-manager', ['status']), 'status again')
    assert.strictEqual(corrupt().length, kept, 'a read of the repaired tracker kept yet another copy')

    // a crash mid-write left half a tracker and there is no backup: refused, not replaced
    for (const f of corrupt()) fs.rmSync(path.join(dir_, f))
    const half = whole.subarray(0, Math.floor(whole.length / 2))
    fs.writeFileSync(ws.trackerPath, half)
    const refused = ws.cli('session-manager', ['component', 'MemorySearch'])
    assert.strictEqual(refused.status, 1)
    assert.match(refused.stderr, /does not parse/)
    assert.deepStrictEqual(fs.readFileSync(ws.trackerPath), half, 'the damaged tracker was overwritten')
    assert.ok(corrupt().length >= 1 && corrupt().every((f) => fs.readFileSync(path.join(dir_, f)).equals(half)))
  })
})

test('bad input: unknown command and option print the help (exit 2), non-numeric week, bad checkpoint name', async (t) => {
  await eachBackend(t, async ({ backend }) => {
    const ws = workspace(backend)
    const pristine = ws.bytes()
    for (const [name, args] of [
      ['session-manager', ['frobnicate']],
      ['session-manager', ['status', '--verbose']],
      ['phase-gate-validator', ['week', 'two', '1']],
      ['resilient-wrapper', ['nothing']],
    ]) {
      const r = ws.cli(name, args)
      assert.strictEqual(r.status, 2, `${name} ${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /Usage: /)
    }
    // a dependency of the tracker not completed yet is reported before completing
    const complete = ws.cli('resilient-wrapper', ['complete', 'MemorySearch'])
    assert.strictEqual(complete.status, 1, complete.stderr)
    assert.match(complete.stderr, /Dependency not satisfied: SmartMemoryIndex/)
    assert.doesNotMatch(complete.stderr, /AI Provider Service|Database/)
    fs.writeFileSync(ws.trackerPath, pristine) // undo the gate results it recorded

    // a red test suite is a failure (legacy turned it into "unknown" and passed on the tracker check)
    const testFile = path.join(ws.root, 'packages', 'system-api', 'tests', 'memory', 'SmartMemoryIndex.test.js')
    fs.appendFileSync(testFile, "\ntest('broken on purpose', () => assert.strictEqual(1, 2))\n")
    const red = ws.cli('session-manager', ['test'])
    assert.strictEqual(red.status, 1)
    assert.match(red.stdout, /❌ NPM tests failed \(exit 1\)/)
    assert.doesNotMatch(red.stdout, /Basic system check/)

    const help = ok(ws.cli('phase-gate-validator', ['help']), 'help')
    assert.match(help.stdout, /component <name>/)
    const badName = ws.cli('phase-gate-validator', ['checkpoint', '../escape'])
    assert.strictEqual(badName.status, 1)
    assert.match(badName.stderr, /Invalid checkpoint name/)
    assert.ok(!fs.existsSync(path.join(ws.root, 'checkpoints')))
    assert.deepStrictEqual(ws.bytes(), pristine)
  })
})

test('eight concurrent `component X` runs and four `status` runs keep every update', async (t) => {
  await eachBackend(t, async ({ backend, t: st }) => {
    const ws = workspace(backend)
    const tracker = ws.tracker()
    const names = Array.from({ length: 8 }, (_, i) => `Stress${i}`)
    week1(tracker).components.push(...names.map((name) => ({ name, status: 'planned', files: [], dependencies: [], testFiles: [] })))
    fs.writeFileSync(ws.trackerPath, JSON.stringify(tracker, null, 2))

    const runs = [
      ...names.map((name) => start('session-manager', ['component', name], { backend, cwd: ws.root, env: ws.env, t: st })),
      ...Array.from({ length: 4 }, () => start('session-manager', ['status'], { backend, cwd: ws.root, env: ws.env, t: st })),
    ]
    const results = await Promise.all(runs.map((c) => c.done))
    results.forEach((r, i) => assert.strictEqual(r.code, 0, `run ${i}: ${r.stderr}`))

    const final = ws.tracker() // parses: never a torn write
    for (const name of names) assert.strictEqual(statusOf(final, name), 'in_progress', `${name} lost its update`)
    assert.deepStrictEqual(week1(final).components.slice(0, 3).map((c) => c.name), COMPONENTS)
    // still exactly the one defect of the real data (phase1 has no title), nothing new
    const check = ws.cli('validation-helpers', ['validate', TRACKER_REL])
    assert.match(check.stdout, /Errors: 1\n/)
    assert.match(check.stdout, /Phase phase1 missing property: title/)
  })
})

test('SIGINT to `resilient-wrapper start` holding the session lock releases it and stops its test run', async (t) => {
  const { SafeFileOperations } = require('../lib/safe-file-operations')
  await eachBackend(t, async ({ backend, t: st }) => {
    const ws = workspace(backend)
    // a baseline test that runs until it is stopped, so the session is caught holding its lock
    const pidFile = path.join(ws.root, 'mesh.pid')
    const mesh = path.join(ws.root, 'packages', 'system-api', 'src', 'mesh')
    fs.mkdirSync(mesh, { recursive: true })
    fs.writeFileSync(
      path.join(mesh, 'test-mesh-integration.js'),
      `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 120000)\n`,
    )
    const locks = new SafeFileOperations({ backend, lockDir: ws.env.SESSION_RESILIENCE_LOCK_DIR })
    const session = start('resilient-wrapper', ['start'], { backend, cwd: ws.root, env: ws.env, t: st })
    let ended = null
    session.done.then((r) => (ended = r))
    const meshPid = Number(
      await until('the baseline test to start', () => {
        if (ended) throw new Error(`resilient-wrapper start ended first (exit ${ended.code}): ${ended.stderr}`)
        return fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8')
      }),
    )
    st.after(() => {
      try {
        process.kill(meshPid, 'SIGKILL') // the session's own child, should the session fail to stop it
      } catch {}
    })
    const held = locks.getLockInfo('session-manager')
    assert.strictEqual(held.locked, true)
    assert.strictEqual(held.pid, session.pid)

    session.kill('SIGINT')
    const result = await session.done
    assert.strictEqual(result.code, 130, result.stderr)
    assert.deepStrictEqual(locks.getLockInfo('session-manager'), { locked: false })
    await until('the baseline test to be stopped', () => {
      try {
        process.kill(meshPid, 0)
        return false
      } catch (err) {
        return err.code === 'ESRCH'
      }
    }, 10000)
    const log = fs.readFileSync(path.join(ws.root, 'backups', 'session.log'), 'utf8')
    assert.match(log, /\[INFO\] Lock acquired successfully\n/)
    assert.match(log, /Session manager shutdown gracefully\n$/)
  })
})

test('npm start creates the example workspace once (git repository, SQLite database) and shows its status', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const dest = path.join(dir, 'workspace')
    const env = { ...process.env, SESSION_RESILIENCE_BACKEND: backend, SESSION_RESILIENCE_EXAMPLE_DIR: dest, SESSION_RESILIENCE_LOCK_DIR: path.join(dir, 'locks') }
    const run = () => require('node:child_process').spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'start.js')], { cwd: ROOT, env, encoding: 'utf8', ...SYNC_CHILD })
    const first = ok(run(), 'npm start')
    assert.match(first.stderr, /📦 Created the example workspace/)
    assert.match(first.stdout, /📊 CURRENT STATUS/)
    const db = fs.readFileSync(path.join(dest, 'packages', 'system-api', 'database.sqlite'))
    assert.strictEqual(db.subarray(0, 16).toString('latin1'), 'SQLite format 3\0')
    const git = require('node:child_process').spawnSync('git', ['-C', dest, 'log', '--format=%s'], { encoding: 'utf8' })
    if (!git.error) assert.strictEqual(git.stdout.trim(), 'Example workspace')
    const second = ok(run(), 'npm start again')
    assert.doesNotMatch(second.stderr, /Created/)
    assert.strictEqual(second.stdout, first.stdout)
  })
})

test('the workspace SQLite file is a database sqlite3 accepts', { skip: !require('./helpers').hasCommand('sqlite3') && 'no sqlite3 CLI' }, () => {
  const dir = tempDir()
  const root = createWorkspace(path.join(dir, 'ws')).root
  const r = require('node:child_process').spawnSync('sqlite3', [path.join(root, 'packages', 'system-api', 'database.sqlite'), 'PRAGMA integrity_check; SELECT count(*) FROM sessions;'], { encoding: 'utf8' })
  assert.strictEqual(r.stdout, 'ok\n2\n')
})

test('the example workspace of npm start is ignored by our git (its nested .git is never committed)', { skip: !fs.existsSync(path.join(ROOT, '.git')) && 'not a git checkout' }, () => {
  const paths = ['examples/workspace/.git/HEAD', 'examples/workspace/packages/system-api/database.sqlite', 'examples/workspace/backups/session.log']
  const r = require('node:child_process').spawnSync('git', ['-C', ROOT, 'check-ignore', ...paths], { encoding: 'utf8' })
  assert.strictEqual(r.status, 0, r.stderr)
  assert.deepStrictEqual(r.stdout.trim().split('\n'), paths, 'every path is ignored')
  const template = require('node:child_process').spawnSync('git', ['-C', ROOT, 'check-ignore', 'examples/agenthive/package.json'], { encoding: 'utf8' })
  assert.strictEqual(template.status, 1, 'the template itself is committed')
})
