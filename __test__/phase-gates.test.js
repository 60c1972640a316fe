'use strict'
// The parts under the session CLIs: the gates and the 80 % rule, the security checks, the
// session log, the lookups' messages, and the module graph (no circular requires).
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')
const { test, ROOT, tempDir, eachBackend, runBin, isRoot, captureConsole } = require('./helpers')
const gates = require('../lib/session/gates')
const { securityValidation } = require('../lib/session/security')
const { SessionLog, logFileFor } = require('../lib/session/session-log')
const { findComponent, findWeek, currentWeek } = require('../lib/session/locate')
const { createWorkspace } = require('../scripts/example-workspace')

const TEMPLATE = path.join(ROOT, 'examples', 'agenthive')
const tracker = () => JSON.parse(fs.readFileSync(path.join(TEMPLATE, 'packages', 'system-api', 'phase-tracker.json'), 'utf8'))
const POSIX = process.platform !== 'win32'

test('the 80 % rule: 4 of 5 passes, 6 of 8 does not, no gates never passes', () => {
  const table = (pass, total) => Object.fromEntries(Array.from({ length: total }, (_, i) => [`g${i}`, i < pass]))
  assert.deepStrictEqual(gates.verdict(table(4, 5)), { passed: 4, total: 5, passRate: 80, ok: true })
  assert.deepStrictEqual(gates.verdict(table(6, 8)), { passed: 6, total: 8, passRate: 75, ok: false })
  assert.strictEqual(gates.verdict(table(7, 8)).ok, true)
  assert.strictEqual(gates.verdict({}).ok, false)
})

test('component gates read the files of the component, notes stripped, never outside the root', () => {
  const component = findComponent(tracker(), 'SmartMemoryIndex').component
  assert.deepStrictEqual(gates.componentGates(TEMPLATE, component, true), {
    backendImplementation: true,
    apiEndpoints: true, // "packages/system-api/server.js (API endpoints)" -> /api/smart-memory-index
    graphqlSchema: true,
    frontendComponent: true,
    cliCommands: true,
    unitTests: true,
    integrationTests: false,
    noRegression: true,
  })
  assert.strictEqual(gates.componentGates(TEMPLATE, component, null).noRegression, false)
  const outside = { name: 'X', files: ['../../../../etc/passwd', '/etc/passwd (system)'], testFiles: ['../agenthive/packages/system-api/tests/memory/SmartMemoryIndex.test.js'] }
  const sub = path.join(TEMPLATE, 'packages')
  assert.ok(Object.values(gates.componentGates(sub, outside, false)).every((v) => v === false))
  assert.strictEqual(gates.kebab('SmartMemoryIndex'), 'smart-memory-index')
  assert.strictEqual(gates.kebab('APIGateway'), 'api-gateway')
})

test('week and phase gates: recorded sign-offs count, the rest is computed', () => {
  const t = tracker()
  const week = t.phases.phase2.weeks.week1
  const w = gates.weekGates(TEMPLATE, 2, week, { suite: true, perf: null })
  assert.deepStrictEqual(w, { allComponentsComplete: false, weekTestsSuite: true, performanceBenchmark: false, userAcceptanceTesting: false, documentationUpdate: true })
  week.qualityGates = { userAcceptanceTesting: true }
  assert.strictEqual(gates.weekGates(TEMPLATE, 2, week, {}).userAcceptanceTesting, true)
  const phase = { weeks: { week1: { status: 'completed' } }, qualityGates: { crossPlatformTesting: true, loadTesting: false } }
  assert.deepStrictEqual(gates.phaseGates(phase, { integration: true, security: true, backup: false }), {
    allWeeksComplete: true,
    fullPhaseIntegration: true,
    crossPlatformTesting: true,
    loadTesting: false,
    securityValidation: true,
    backupVerification: false,
  })
})

test('status: the legacy lines, then each week as a bar on a TTY and as counts elsewhere', () => {
  const { statusOf, printStatus } = require('../lib/session/status-view')
  const t = tracker()
  t.phases.phase2.weeks.week1.components[0].status = 'completed'
  const status = statusOf(t, { lockIdentifier: 'session-manager', lock: { locked: true, pid: 42, age: 61000, stale: false } })
  const print = (tty) => captureConsole(() => printStatus(status, { tty })).lines.join('\n')
  const tty = print(true)
  assert.match(tty, /  week1 \[███████░░░░░░░░░░░░░\] 1\/3  Smart Memory System \(Full Stack\)/)
  assert.match(tty, /  week2 \[░{20}\] 0\/3  Multi-Agent Collaboration/)
  assert.match(tty, /🔒 Session lock \(session-manager\): LOCKED by PID 42, 61s old/)
  assert.match(print(false), /  week1 1\/3 completed  Smart Memory System/)
  t.backupStrategy.restorePoints = []
  assert.strictEqual(statusOf(t, { lockIdentifier: 'x', lock: { locked: false } }).lastBackup, null)
})

test('lookups name what exists', () => {
  const t = tracker()
  assert.throws(() => findWeek(t, 2, 3), { code: 'ENOWEEK', message: 'Week 3 not found in phase 2 (weeks: week1, week2)' })
  assert.throws(() => findWeek(t, 5, 1), { code: 'ENOPHASE', message: 'Phase 5 not found in tracker (phases: phase1, phase2, phase3, phase4)' })
  assert.throws(() => findWeek(t, 3, 1), { code: 'ENOWEEK', message: 'Week 1 not found in phase 3 (weeks: none)' })
  t.sessionInfo.currentPhase = 4
  assert.throws(() => currentWeek(t), { code: 'ENOWEEK', message: 'Current week not set for phase 4 (weeks: none)' })
  t.sessionInfo.currentPhase = 2
  try {
    findComponent(t, 'Nope')
    assert.fail('found a component that does not exist')
  } catch (err) {
    assert.strictEqual(err.code, 'ENOCOMPONENT')
    assert.strictEqual(err.message, 'Component Nope not found in current week')
    assert.deepStrictEqual(err.available.map((c) => c.name), ['SmartMemoryIndex', 'MemorySearch', 'MemoryImportExport'])
  }
})

test('securityValidation: lock dir and backups private, backups ignored by git, no secrets in the state snapshot', () => {
  const root = tempDir()
  const lockDir = path.join(root, 'locks')
  const names = (r) => r.checks.filter((c) => !c.passed).map((c) => c.name)
  // nothing made yet: only the missing .gitignore entry fails
  assert.deepStrictEqual(names(securityValidation(root, { lockDir })), ['backups ignored by git'])
  fs.writeFileSync(path.join(root, '.gitignore'), 'node_modules/\n/backups/\n')
  assert.strictEqual(securityValidation(root, { lockDir }).passed, true)

  fs.mkdirSync(lockDir, { mode: 0o700 })
  fs.mkdirSync(path.join(root, 'backups', 'state', 'a'), { recursive: true })
  if (POSIX) {
    fs.chmodSync(lockDir, 0o700)
    fs.chmodSync(path.join(root, 'backups'), 0o755)
    assert.deepStrictEqual(names(securityValidation(root, { lockDir })), ['backups folder private'])
    fs.chmodSync(path.join(root, 'backups'), 0o700)
    fs.chmodSync(lockDir, 0o777)
    assert.deepStrictEqual(names(securityValidation(root, { lockDir })), ['lock directory private'])
    fs.chmodSync(lockDir, 0o700)
    const link = path.join(root, 'locks-link')
    fs.symlinkSync(lockDir, link)
    assert.match(securityValidation(root, { lockDir: link }).checks[0].detail, /symbolic link/)
  }
  const snapshot = path.join(root, 'backups', 'state', 'a', 'system-info.json')
  fs.writeFileSync(snapshot, JSON.stringify({ env: { NODE_ENV: 'production', PATH: '/usr/bin' }, platform: 'linux' }))
  assert.strictEqual(securityValidation(root, { lockDir }).passed, true)
  fs.writeFileSync(snapshot, JSON.stringify({ env: { GITHUB_TOKEN: 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB' } }))
  const leaked = securityValidation(root, { lockDir })
  assert.deepStrictEqual(names(leaked), ['no secrets in the state snapshot'])
  assert.match(leaked.checks[3].detail, /GitHub token, secret-named value/)
  // backups/.gitignore with `*` (what BackupSystem writes) is as good as a root entry
  fs.writeFileSync(path.join(root, '.gitignore'), '')
  fs.writeFileSync(path.join(root, 'backups', '.gitignore'), '*\n')
  assert.ok(securityValidation(root, { lockDir }).checks[2].passed)
})

test('the session log: real newlines, owner-only, rotated past its limit', () => {
  const root = tempDir()
  const file = logFileFor(root)
  assert.strictEqual(file, path.join(root, 'backups', 'session.log'))
  assert.strictEqual(fs.readFileSync(path.join(root, 'backups', '.gitignore'), 'utf8'), '*\n')
  const log = new SessionLog(file, { rotateBytes: 400 })
  log.log('first line')
  log.log('two\nlines', 'WARN')
  const text = fs.readFileSync(file, 'utf8')
  assert.match(text, /^\[\d{4}-\d\d-\d\dT[^\]]+\] \[INFO\] first line\n\[[^\]]+\] \[WARN\] two\n {4}lines\n$/)
  if (POSIX) assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600)
  for (let i = 0; i < 10; i++) log.log(`entry ${i}`)
  assert.ok(fs.existsSync(`${file}.old`))
  assert.ok(fs.statSync(file).size <= 400)
  assert.deepStrictEqual(log.tail(1), [fs.readFileSync(file, 'utf8').trim().split('\n').pop()])
  assert.match(log.tail(1)[0], /entry 9$/)

  // a root whose backups/ cannot be a folder: the user's private 0700 log folder (the cache
  // folder, here a temp one), named after the project; never a shared temp-folder name
  const odd = path.join(tempDir(), 'my project')
  fs.mkdirSync(odd)
  fs.writeFileSync(path.join(odd, 'backups'), 'not a folder')
  const cache = tempDir()
  const saved = process.env.XDG_CACHE_HOME
  process.env.XDG_CACHE_HOME = cache
  try {
    assert.match(path.basename(logFileFor(odd)), /^session-resilience-my_project-[0-9a-f]{8}\.log$/)
    assert.strictEqual(path.dirname(logFileFor(odd)), path.join(cache, 'session-resilience'))
    if (POSIX) assert.strictEqual(fs.statSync(path.join(cache, 'session-resilience')).mode & 0o777, 0o700)
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME
    else process.env.XDG_CACHE_HOME = saved
  }
})

test('validate phase: six gates, securityValidation runs its checks, the phase gates are recorded', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const root = createWorkspace(path.join(dir, 'ws')).root
    const env = { SESSION_RESILIENCE_LOCK_DIR: path.join(dir, 'locks'), SESSION_RESILIENCE_ROOT: root }
    const r = runBin('phase-gate-validator', ['phase', '2', '--json'], { backend, env, cwd: dir })
    assert.strictEqual(r.status, 1, r.stderr)
    const result = JSON.parse(r.stdout)
    assert.deepStrictEqual(Object.keys(result.gates), ['allWeeksComplete', 'fullPhaseIntegration', 'crossPlatformTesting', 'loadTesting', 'securityValidation', 'backupVerification'])
    assert.deepStrictEqual(result.security.map((c) => [c.name, c.passed]), [
      ['lock directory private', true],
      ['backups folder private', true],
      ['backups ignored by git', true], // the example's .gitignore lists backups/
      ['no secrets in the state snapshot', true],
    ])
    assert.strictEqual(result.gates.securityValidation, true)
    assert.strictEqual(result.gates.backupVerification, false, "the fixture's restore point is on another machine")
    const phase = JSON.parse(fs.readFileSync(path.join(root, 'packages', 'system-api', 'phase-tracker.json'), 'utf8')).phases.phase2
    assert.strictEqual(phase.status, 'in_progress')
    assert.strictEqual(phase.qualityGates.securityValidation, true)
    assert.strictEqual(phase.qualityGates.memorySystemWorking, false, 'recorded gates of the project are kept')
  })
})

test('no circular requires among the modules of lib/', () => {
  const lib = path.join(ROOT, 'lib')
  const edges = new Map()
  const visit = (file) => {
    if (edges.has(file)) return
    const deps = []
    edges.set(file, deps)
    const source = fs.readFileSync(file, 'utf8')
    for (const m of source.matchAll(/require\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)) {
      let dep = path.resolve(path.dirname(file), m[1])
      if (!dep.startsWith(lib)) continue // index.js (the addon loader) is outside lib/ and requires nothing of ours
      if (fs.existsSync(`${dep}.js`)) dep = `${dep}.js`
      else if (fs.existsSync(path.join(dep, 'index.js'))) dep = path.join(dep, 'index.js')
      else if (!fs.existsSync(dep) || !dep.endsWith('.js')) continue // a .json file
      deps.push(dep)
      visit(dep)
    }
  }
  for (const name of ['phase-gate-validator', 'session-manager', 'resilient-wrapper']) visit(path.join(lib, `${name}.js`))
  const state = new Map()
  const cycle = (file, trail) => {
    if (state.get(file) === 'done') return null
    if (state.get(file) === 'open') return [...trail.slice(trail.indexOf(file)), file]
    state.set(file, 'open')
    for (const dep of edges.get(file) || []) {
      const found = cycle(dep, [...trail, file])
      if (found) return found
    }
    state.set(file, 'done')
    return null
  }
  for (const file of edges.keys()) {
    const found = cycle(file, [])
    assert.strictEqual(found, null, found && `cycle: ${found.map((f) => path.relative(ROOT, f)).join(' -> ')}`)
  }
  assert.ok(edges.size > 10, 'the walk found the module graph')
})

test('the lock dir check needs a real user to fail on ownership', { skip: !isRoot && 'runs only as root' }, () => {
  // as root every directory passes the uid check only if root owns it: a directory chowned away fails
  const root = tempDir()
  const lockDir = path.join(root, 'locks')
  fs.mkdirSync(lockDir, { mode: 0o700 })
  fs.chownSync(lockDir, 65534, 65534)
  assert.match(securityValidation(root, { lockDir }).checks[0].detail, /owned by uid 65534/)
})
