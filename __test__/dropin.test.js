'use strict'
// Issue 13: the drop-in for real. A project whose seven legacy files are two-line shims runs
// its CLIs from any folder (the project is found from the shim's own location, as legacy
// found it from its hard-coded path), every subpath has main(), and every public method of
// the original legacy classes (../shared/fixtures/agenthive-legacy/) exists on ours.
const { test } = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, BACKENDS, tempDir } = require('./helpers')
const legacy = require('./legacy')

const SUBPATHS = Object.keys(require('../package.json').exports).filter((k) => k.startsWith('./') && k !== './package.json')

/** The shim of `rel` (a legacy file's path in the project), as the README shows it. */
const shimText = (rel) => `module.exports = require('session-resilience/${path.basename(rel, '.js')}')\nif (require.main === module) module.exports.main()\n`

/** The real project, its seven legacy files replaced by shims, this package in node_modules. */
function shimmedProject(dir) {
  const project = legacy.legacyProject(path.join(dir, 'project'), { legacy: false })
  fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true })
  fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'session-resilience'), 'junction')
  for (const rel of legacy.LEGACY_FILES) {
    fs.mkdirSync(path.dirname(path.join(project, rel)), { recursive: true })
    fs.writeFileSync(path.join(project, rel), shimText(rel))
  }
  return project
}

function runner(dir, backend, cwd) {
  const env = { ...process.env, SESSION_RESILIENCE_BACKEND: backend, SESSION_RESILIENCE_LOCK_DIR: path.join(dir, 'locks'), SESSION_RESILIENCE_BACKUP_DIR: path.join(dir, 'fb') }
  delete env.SESSION_RESILIENCE_ROOT
  return (args, options = {}) => spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120000, env: { ...env, ...(options.env || {}) } })
}

test('the shims work from any folder: the project is found from the shim itself', { timeout: 300000 }, async (t) => {
  if (!legacy.available()) return t.skip('legacy fixtures not present')
  for (const backend of BACKENDS) {
    await t.test(backend, () => {
      const dir = tempDir(`sr-anyfolder-${backend}-`)
      const project = shimmedProject(dir)
      const elsewhere = fs.mkdirSync(path.join(dir, 'elsewhere'), { recursive: true }) || path.join(dir, 'elsewhere')
      const run = runner(dir, backend, elsewhere)
      const sm = path.join(project, 'session-manager.js')

      const status = run([sm, 'status'])
      assert.strictEqual(status.status, 0, status.stderr)
      assert.match(status.stdout, /^Phase: 2 /m)
      const gates = run([path.join(project, 'packages', 'system-api', 'phase-gate-validator.js'), 'status'])
      assert.strictEqual(gates.status, 0, gates.stderr)

      const list = run([path.join(project, 'backup-system.js'), 'list'])
      assert.strictEqual(list.status, 0, list.stderr)
      assert.doesNotMatch(list.stdout, /No backups found/)
      assert.match(list.stdout, /phase2-start-2025-09-08T15-14-28-688Z/)

      const create = run([path.join(project, 'backup-system.js'), 'create', 'anywhere'])
      assert.strictEqual(create.status, 0, create.stderr)
      assert.ok(fs.readdirSync(path.join(project, 'backups', 'full')).some((f) => f.startsWith('anywhere-')), 'backed up the project')
      assert.ok(!fs.existsSync(path.join(elsewhere, 'backups')), 'nothing written in the current folder')

      // --root beats the location; SESSION_RESILIENCE_ROOT comes after it
      const other = shimmedProject(path.join(dir, 'second'))
      const tracker = path.join(other, 'packages', 'system-api', 'phase-tracker.json')
      const t2 = JSON.parse(fs.readFileSync(tracker, 'utf8'))
      t2.phases.phase2.title = 'The Second Project'
      fs.writeFileSync(tracker, JSON.stringify(t2, null, 2))
      assert.match(run([sm, 'status', '--root', other]).stdout, /^Phase: 2 \(The Second Project\)/m)
      assert.match(run([sm, 'status'], { env: { SESSION_RESILIENCE_ROOT: other } }).stdout, /^Phase: 2 \(Intelligent/m)

      // hints name the command the user ran
      const guide = run([sm, 'guide'], {})
      assert.match(guide.stdout, new RegExp(`Run: node ${sm.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} component `))
      const inProject = runner(dir, backend, project)
      const g2 = inProject(['session-manager.js', 'guide'])
      assert.match(g2.stdout, /^- node backup-system\.js list {17}# List backups$/m)
      assert.match(g2.stdout, /^- node packages\/system-api\/phase-gate-validator\.js status/m, 'where that shim is (legacy named a file that is not there)')
      assert.match(inProject([path.join(ROOT, 'bin', 'session-manager.js'), 'guide']).stdout, /^- session-manager status/m)
    })
  }
})

test('every subpath has main(); process-cleanup run as a command exits 0 as legacy did', { timeout: 120000 }, (t) => {
  for (const sub of SUBPATHS) {
    const mod = require(path.join(ROOT, require('../package.json').exports[sub].default || require('../package.json').exports[sub]))
    assert.strictEqual(typeof mod.main, 'function', `${sub} has main()`)
  }
  if (!legacy.available()) return t.skip('project fixture not present')
  const dir = tempDir('sr-pc-')
  const project = shimmedProject(dir)
  for (const backend of BACKENDS) {
    const run = runner(dir, backend, dir)
    const r = run([path.join(project, 'process-cleanup.js')])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.strictEqual(r.stdout + r.stderr, '')
    const help = run([path.join(project, 'process-cleanup.js'), 'help'])
    assert.strictEqual(help.status, 0)
    assert.match(help.stdout, /onExit\(fn\)/)
    assert.strictEqual(run([path.join(project, 'process-cleanup.js'), 'bogus']).status, 2)
  }
})

/** Method names of a class's prototype chain (without Object's). */
function methodNames(C) {
  const names = new Set()
  for (let p = C.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) if (n !== 'constructor' && typeof Object.getOwnPropertyDescriptor(p, n).value === 'function') names.add(n)
  }
  return [...names]
}

/** The legacy module's exports and classes, read in a child (loading them installs handlers). */
function legacySurface(dir) {
  const project = legacy.legacyProject(path.join(dir, 'legacy'))
  const script = `
    const path = require('path'); const out = {}
    for (const rel of ${JSON.stringify(legacy.LEGACY_FILES)}) {
      const exp = require(path.join(${JSON.stringify(project)}, rel))
      const classes = typeof exp === 'function' ? { [exp.name]: exp } : Object.fromEntries(Object.entries(exp).filter(([k, v]) => typeof v === 'function' && /^[A-Z]/.test(k)))
      out[path.basename(rel, '.js')] = { exports: typeof exp === 'function' ? [] : Object.keys(exp), classes: Object.fromEntries(Object.entries(classes).map(([k, C]) => [k, (${methodNames.toString()})(C)])) }
    }
    process.stdout.write(JSON.stringify(out)); process.exit(0)`
  const r = spawnSync(process.execPath, ['-e', script], { cwd: project, encoding: 'utf8', timeout: 60000 })
  assert.strictEqual(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

test('every public name of the original legacy modules exists on ours, on both backends', { timeout: 120000 }, (t) => {
  if (!legacy.available()) return t.skip('legacy fixtures not present')
  const surface = legacySurface(tempDir('sr-names-'))
  assert.ok(Object.keys(surface).length === 7)
  const missing = []
  for (const [name, { exports, classes }] of Object.entries(surface)) {
    const ours = require(path.join(ROOT, 'lib', `${name}.js`))
    for (const e of exports) if (!(e in ours)) missing.push(`${name}: export ${e}`)
    for (const [cls, methods] of Object.entries(classes)) {
      const Ours = typeof ours === 'function' ? ours : ours[cls]
      if (typeof Ours !== 'function' || Ours.name !== cls) {
        missing.push(`${name}: class ${cls}`)
        continue
      }
      const have = methodNames(Ours)
      for (const m of methods) if (!have.includes(m)) missing.push(`${name}: ${cls}#${m}`)
    }
  }
  assert.deepStrictEqual(missing, [])
  // and they work on both backends (the classes take the backend as an option)
  const { SafeFileOperations } = require('../lib/safe-file-operations')
  const { ValidationHelpers } = require('../lib/validation-helpers')
  const seen = {}
  for (const backend of BACKENDS) {
    const dir = tempDir(`sr-legacy-methods-${backend}-`)
    const files = new SafeFileOperations({ backend, lockDir: path.join(dir, 'l', 'locks'), backupDir: path.join(dir, 'b', 'backups') })
    files.ensureLockDirectories()
    assert.ok(fs.statSync(files.lockDir).isDirectory() && fs.statSync(files.backupDir).isDirectory())
    if (process.platform !== 'win32') assert.strictEqual(fs.statSync(files.lockDir).mode & 0o777, 0o700)
    const planned = files.createBackupPath('/x/phase-tracker.json')
    assert.match(path.basename(planned), /^phase-tracker\.json\.\d{13}\.bak$/)
    assert.strictEqual(path.dirname(planned), files.backupDir)
    assert.ok(!fs.existsSync(planned), 'only a path')

    const h = new ValidationHelpers({ backend })
    const phases = { phase2: { title: 'P', weeks: { week1: { title: 'W', status: 'planned', components: { a: { name: 'A', status: 'bogus' } } } } }, phase3: 5 }
    const r = h.validatePhasesStructure(phases)
    assert.strictEqual(r.repaired, true)
    assert.ok(Array.isArray(phases.phase2.weeks.week1.components), 'repaired in place')
    assert.strictEqual(phases.phase2.weeks.week1.components[0].status, 'planned')
    const weeksOnly = { week1: { title: 'W', status: 'planned', components: [] } }
    assert.deepStrictEqual(h.validateWeeksStructure(weeksOnly, 'phase2', false).errors, [])
    assert.deepStrictEqual(h.validateWeeksStructure(7, 'phase2').errors, ['Phase phase2 weeks must be an object'])
    const arr = h.validateComponentsArray({ x: { name: 'B' } }, 'phase2.week1')
    assert.deepStrictEqual(arr.data, [{ name: 'B', status: 'planned' }])
    // legacy turned the defaults 0 and false into null, and `false` into a repaired value
    assert.strictEqual(h.getDefaultValue('agentsLoaded'), 0)
    assert.strictEqual(h.getDefaultValue('nope'), null)
    const kept = { done: false, count: 0 }
    assert.deepStrictEqual(h.validateObject(kept, { required: ['done', 'count'], types: { done: 'boolean' } }, 'x').errors, [])
    assert.deepStrictEqual(kept, { done: false, count: 0 })
    assert.strictEqual(h.validatePropertyType([], 'object'), false)
    assert.deepStrictEqual(JSON.parse(h.fixCommonJsonIssues("{a: 'it\\'s', // note\n url: 'http://x/y', off: false,}")), { a: "it's", url: 'http://x/y', off: false })
    assert.strictEqual(h.fixCommonJsonIssues('{"a": '), '{"a": ')
    assert.deepStrictEqual(Object.keys(h.schemas).sort(), ['backup', 'component', 'phase', 'tracker', 'week'])
    seen[backend] = { r, arr: arr.errors, component: h.createDefaultComponent(), week: h.createDefaultWeek() }
  }
  assert.deepStrictEqual(seen.native, seen.js)
})

// ---- the same bad call, the same error on both backends ----------------------------------

const WRONG = [undefined, null, 42, { a: 1 }, [], () => 1, '', 'x\0y', true, Symbol('s'), 10n, Number.NaN]
const show = (v) => (typeof v === 'symbol' ? 'Symbol' : typeof v === 'bigint' ? `${v}n` : typeof v === 'function' ? 'fn' : JSON.stringify(v))

test('every export of safe-file-operations and validation-helpers: a wrong argument throws the same code and message on both backends', { timeout: 120000 }, async () => {
  const dir = tempDir('sr-args-')
  const file = path.join(dir, 'f.json')
  fs.writeFileSync(file, '{}')
  const { SafeFileOperations } = require('../lib/safe-file-operations')
  const { ValidationHelpers } = require('../lib/validation-helpers')
  // [method, (wrong) => argument lists]: each position in turn gets each wrong value
  const TABLE = [
    ['atomicWrite', (v) => [[v, 'x'], [file, v], [file, 'x', v]]],
    ['atomicWriteAsync', (v) => [[v, 'x'], [file, v], [file, 'x', v]]],
    ['safeJsonRead', (v) => [[v], [file, null, v]]],
    ['backupFile', (v) => [[v], [file, v]]],
    ['verifyChecksum', (v) => [[v], [file, v]]],
    ['verifyChecksumAsync', (v) => [[v], [file, v]]],
    ['cleanupOldBackups', (v) => [[v]]],
    ['acquireLock', (v) => [[v], ['args-probe', v], ['args-probe', 10, v]]],
    ['acquireLockAsync', (v) => [[v], ['args-probe', v]]],
    ['releaseLock', (v) => [[v]]],
    ['getLockInfo', (v) => [[v], ['args-probe', v]]],
    ['listLocks', (v) => [[v]]],
    ['withLock', (v) => [[v, () => 1], ['args-probe', v], ['args-probe', () => 1, v]]],
    ['createBackupPath', (v) => [[v]]],
    ['validateTrackerSchema', (v) => [[v], [{}, v]]],
    ['validateComponent', (v) => [[v], [{}, v], [{}, 'c', v]]],
    ['validateBackup', (v) => [[v], [{}, v]]],
    ['repairTracker', (v) => [[v]]],
  ]
  const target = (backend) => {
    const files = new SafeFileOperations({ backend, lockDir: path.join(dir, `locks-${backend}`), backupDir: path.join(dir, `bak-${backend}`) })
    const helpers = new ValidationHelpers({ backend, backupDir: path.join(dir, `bak-${backend}`) })
    return (name) => (name in files ? files[name].bind(files) : helpers[name].bind(helpers))
  }
  const targets = Object.fromEntries(BACKENDS.map((b) => [b, target(b)]))
  const outcome = async (fn) => {
    try {
      const r = await fn()
      return { ok: typeof r }
    } catch (err) {
      return { code: err.code, message: err.code === 'EBADLOCKID' || err.code === 'EBADLABEL' ? '' : err.message }
    }
  }
  const drift = []
  let checked = 0
  for (const [name, lists] of TABLE) {
    for (const v of WRONG) {
      for (let i = 0; i < lists(v).length; i++) {
        const got = {}
        for (const backend of BACKENDS) {
          const args = lists(v)[i] // fresh objects per backend: repairs mutate them
          got[backend] = await captured(() => outcome(() => targets[backend](name)(...args)))
          try {
            targets[backend]('releaseLock')('args-probe')
          } catch {}
        }
        checked++
        if (JSON.stringify(got.native) !== JSON.stringify(got.js)) drift.push(`${name} #${i} ${show(v)}: native ${JSON.stringify(got.native)} js ${JSON.stringify(got.js)}`)
        if (got.js.code === 'ERR_INVALID_ARG_TYPE' && typeof lists(v)[i][0] === 'string' && lists(v)[i][0] === file) {
          assert.ok(got.js.message.includes(file), `${name}: the message names the path: ${got.js.message}`)
        }
      }
    }
  }
  assert.ok(checked > 300)
  assert.deepStrictEqual(drift, [])
  // the legacy form of the message, with the path
  assert.throws(() => new SafeFileOperations().atomicWrite(file, { a: 1 }), {
    code: 'ERR_INVALID_ARG_TYPE',
    message: `Atomic write failed for ${file}: The "content" argument must be of type string or Uint8Array, got an object`,
  })
})

/** Run `fn` with the console silenced (the legacy helpers print). */
async function captured(fn) {
  const saved = { log: console.log, warn: console.warn, error: console.error }
  console.log = console.warn = console.error = () => {}
  try {
    return await fn()
  } finally {
    Object.assign(console, saved)
  }
}

// ---- a command changes only what it names ------------------------------------------------

test('complete X and checkpoint change only what they name (the in-progress component is looked at, not saved)', { timeout: 300000 }, async (t) => {
  const { createWorkspace } = require('../scripts/example-workspace')
  for (const backend of BACKENDS) {
    await t.test(backend, () => {
      const dir = tempDir(`sr-names-only-${backend}-`)
      const root = path.join(dir, 'agenthive')
      createWorkspace(root)
      const trackerPath = path.join(root, 'packages', 'system-api', 'phase-tracker.json')
      const read = () => JSON.parse(fs.readFileSync(trackerPath, 'utf8'))
      const run = runner(dir, backend, root)
      const bin = (name) => path.join(ROOT, 'bin', `${name}.js`)
      /** The tracker without what any backup or command stamps. */
      const essence = (tracker) => {
        const copy = structuredClone(tracker)
        delete copy.backupStrategy
        delete copy.sessionInfo.lastUpdate
        return copy
      }
      const before = read()
      const components = () => read().phases.phase2.weeks.week1.components
      assert.strictEqual(components()[1].status, 'in_progress', 'MemorySearch starts in progress')

      const done = run([bin('session-manager'), 'complete', 'SmartMemoryIndex', '--json'])
      assert.strictEqual(done.status, 0, done.stderr)
      const report = JSON.parse(done.stdout)
      assert.match(report.label, /SmartMemoryIndex/, 'the result is about the component named')
      assert.match(done.stderr, /Validating current component: MemorySearch/, 'the checkpoint looked at the one in progress')
      const after = read()
      const expected = essence(before)
      const named = expected.phases.phase2.weeks.week1.components[0]
      named.status = 'completed'
      named.qualityGates = after.phases.phase2.weeks.week1.components[0].qualityGates
      assert.deepStrictEqual(essence(after), expected, 'only SmartMemoryIndex changed')

      const mid = essence(read())
      const cp = run([bin('session-manager'), 'checkpoint', 'mid-week'])
      assert.strictEqual(cp.status, 0, cp.stderr)
      assert.deepStrictEqual(essence(read()), mid, 'a checkpoint changes no component')
    })
  }
})

test('the legacy BackupSystem part methods: legacy return values, the same layout, sound on both backends', { timeout: 300000 }, async (t) => {
  const { createWorkspace } = require('../scripts/example-workspace')
  const BackupSystem = require('../lib/backup-system')
  for (const backend of BACKENDS) {
    await t.test(backend, async () => {
      const dir = tempDir(`sr-bs-parts-${backend}-`)
      const root = path.join(dir, 'agenthive')
      createWorkspace(root)
      const bs = new BackupSystem({ root, backend, lockDir: path.join(dir, 'locks') })
      bs.ensureDirectories()
      assert.ok(fs.statSync(path.join(root, 'backups', 'code')).isDirectory() && fs.statSync(path.join(root, 'checkpoints')).isDirectory())
      assert.strictEqual(await bs.checkUncommittedChanges(), false)
      const id = 'parts-2026-01-01T00-00-00-000Z'
      const lines = []
      const saved = console.log
      console.log = (...a) => lines.push(a.join(' '))
      let git, db, config, state, archive
      try {
        git = await bs.createGitBackup(id)
        db = await bs.createDatabaseBackup(id)
        config = await bs.createConfigBackup(id)
        state = await bs.createStateBackup(id)
        archive = await bs.createFullArchive(id)
      } finally {
        console.log = saved
      }
      assert.strictEqual(git, path.join(root, 'backups', 'code', id))
      assert.ok(fs.existsSync(path.join(git, 'repo.bundle')) && fs.existsSync(path.join(git, 'git-info.json')))
      assert.ok(fs.existsSync(path.join(db, 'db-info.json')) && fs.existsSync(path.join(config, 'config-info.json')))
      assert.ok(fs.existsSync(path.join(state, 'system-info.json')))
      assert.strictEqual(archive, path.join(root, 'backups', 'full', `${id}.tar.gz`))
      assert.deepStrictEqual(
        lines.map((l) => l.replace(root, '<root>').replace(/\(\d+\.\d\dMB\)/, '(<n>MB)').replace(/: \d+ /, ': <n> ')),
        [
          `  ✅ Git backup: <root>/backups/code/${id}`,
          '  ✅ Database backup: <n> databases backed up',
          '  ✅ Config backup: <n> files backed up',
          `  ✅ System state backup: <root>/backups/state/${id}`,
          `  ✅ Full archive: <root>/backups/full/${id}.tar.gz (<n>MB)`,
        ],
      )
      await assert.rejects(bs.createGitBackup('../../escape'), { code: 'EBADLABEL' })
      assert.ok(!fs.existsSync(path.join(dir, 'escape')))

      bs.updateBackupTracker(id, { git, database: db, config, state, archive })
      const point = (await captured(() => bs.listBackups())).find((p) => p.id === id)
      assert.ok(point, 'recorded')
      assert.strictEqual(point.archive, archive)
      bs.tracker.sessionInfo.totalSessions = 41
      bs.saveTracker()
      const onDisk = JSON.parse(fs.readFileSync(bs.trackerPath, 'utf8'))
      assert.strictEqual(onDisk.sessionInfo.totalSessions, 41)
      assert.ok(onDisk.backupStrategy.restorePoints.some((p) => p.id === id))

      // restoreGit: a dirty tree is refused unless forced; then HEAD is the recorded commit
      const readme = path.join(root, 'README.md')
      fs.appendFileSync(readme, '\nlocal change\n')
      assert.strictEqual(await bs.checkUncommittedChanges(), true)
      await assert.rejects(bs.restoreGit(point), { code: 'EDIRTY' })
      assert.match(fs.readFileSync(readme, 'utf8'), /local change/, 'nothing reset')
      await captured(() => bs.restoreGit(id, { force: true }))
      assert.doesNotMatch(fs.readFileSync(readme, 'utf8'), /local change/)
      await captured(() => bs.restoreDatabase(point))
      await assert.rejects(bs.restoreDatabase('no-such-id'), { code: 'ENOENT' })
    })
  }
})

test('BackupSystem: a wrong argument throws the same code and message on both backends', { timeout: 120000 }, async (t) => {
  if (!legacy.available()) return t.skip('project fixture not present')
  const BackupSystem = require('../lib/backup-system')
  const TABLE = [
    ['createFullBackup', (v) => (v === undefined ? [] : [[v]])], // undefined is the default label
    ['verifyBackup', (v) => [[v]]],
    ['findPoint', (v) => [[v]]],
    ['validateBackupIntegrity', (v) => [[v]]],
    ['restoreFromBackup', (v) => [[v]]],
    ['cleanup', (v) => (v === undefined ? [] : [[v]])],
    ['createGitBackup', (v) => [[v]]],
    ['createDatabaseBackup', (v) => [[v]]],
    ['createFullArchive', (v) => [[v]]],
    ['updateBackupTracker', (v) => [[v]]],
    ['restoreGit', (v) => [[v]]],
    ['restoreDatabase', (v) => [[v]]],
  ]
  const systems = Object.fromEntries(
    BACKENDS.map((backend) => {
      const dir = tempDir(`sr-bs-args-${backend}-`)
      const root = legacy.legacyProject(path.join(dir, 'project'), { legacy: false })
      return [backend, { root, bs: new BackupSystem({ root, backend, quiet: true, lockDir: path.join(dir, 'locks') }) }]
    }),
  )
  const drift = []
  let checked = 0
  for (const [name, lists] of TABLE) {
    for (const v of WRONG) {
      for (const args of lists(v)) {
        const got = {}
        for (const backend of BACKENDS) {
          const { root, bs } = systems[backend]
          try {
            await captured(() => bs[name](...args))
            got[backend] = 'ok'
          } catch (err) {
            got[backend] = `${err.code}: ${String(err.message).split(root).join('<root>')}`
          }
        }
        checked++
        if (got.native !== got.js) drift.push(`${name}(${show(v)}): native ${got.native} | js ${got.js}`)
        assert.ok(got.js === 'ok' || /^[A-Z_]+: /.test(got.js), `${name}(${show(v)}) throws with a code: ${got.js}`)
      }
    }
  }
  assert.ok(checked > 100)
  assert.deepStrictEqual(drift, [])
})
