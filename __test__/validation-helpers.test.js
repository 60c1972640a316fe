'use strict'
// validation-helpers (legacy §2): the schema, in-place repair, repairTracker and the CLI, on
// both backends, with parity over a generated corpus.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { ValidationHelpers } = require('../lib/validation-helpers')
const { test, eachBackend, onBoth, captureConsole, runBin } = require('./helpers')
const { corpus, realTracker, masked, REAL_TRACKER } = require('./validation-corpus')

const helpers = (backend, dir) => new ValidationHelpers({ backend, backupDir: path.join(dir, 'backups') })
const quiet = (fn) => captureConsole(fn).result

test('the corpus gives identical results and identical in-place repairs on both backends', () => {
  for (const [name, tracker] of Object.entries(corpus())) {
    for (const autoRepair of [true, false]) {
      const results = onBoth((backend, dir) => {
        const input = structuredClone(tracker)
        const r = helpers(backend, dir).validateTrackerSchema(input, autoRepair)
        assert.equal(r.valid, r.errors.length === 0, `${name}: valid iff no errors`)
        if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
          assert.equal(r.data, input, `${name}: data is the caller's object`)
        }
        // repaired says whether anything was repaired: exactly when a repair was reported
        if (autoRepair) assert.equal(r.repaired, r.warnings.length > 0, `${name}: repaired iff a repair is reported`)
        if (!autoRepair) {
          assert.equal(r.repaired, false, name)
          assert.deepEqual(r.warnings.filter((w) => /Auto-repaired|Converted|Created/.test(w)), [], name)
          assert.deepEqual(input, structuredClone(tracker), `${name}: validate-only never mutates`)
        }
        return masked({ result: r, input })
      })
      assert.deepEqual(results.native, results.js, `${name} (autoRepair ${autoRepair})`)
    }
  }
})

test('values JSON cannot hold are judged alike on both backends, and repaired in place', () => {
  const make = () => ({
    sessionInfo: { sessionId: () => 'x', currentPhase: NaN, currentWeek: Infinity, lastUpdate: new Date(0) },
    baselineStatus: Object.assign(Object.create(null), { phase1Complete: undefined, testsPassingBaseline: Symbol('s'), agentsLoaded: 10n }),
    // biome-ignore lint/suspicious/noSparseArray: a hole is one of the values under test
    phases: { f: () => {}, d: { status: 's', title: 't', weeks: { w: { title: 't', status: 's', components: [undefined, , { name: 'n', status: 'planned', files: new Set() }] } } } },
  })
  const results = onBoth((backend, dir) => {
    const input = make()
    const r = helpers(backend, dir).validateTrackerSchema(input)
    assert.equal(r.data, input)
    assert.equal(typeof input.phases.f, 'object')
    return { errors: r.errors, warnings: r.warnings, phases: masked(input.phases), info: Object.keys(input.sessionInfo) }
  })
  assert.deepEqual(results.native, results.js)
  assert.ok(results.js.errors.includes('sessionInfo.sessionId is required'))
  assert.ok(results.js.errors.includes('sessionInfo.lastUpdate has invalid type'))
})

test('the real tracker: one legacy error, falsy values kept, repair then clean', async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const h = helpers(backend, dir)
    const tracker = realTracker()
    const r = h.validateTrackerSchema(tracker, false)
    assert.deepEqual(r.errors, ['Phase phase1 missing property: title'])
    assert.equal(r.valid, false)
    const fixed = h.validateTrackerSchema(tracker)
    assert.deepEqual(fixed.warnings, ['Auto-repaired phase phase1.title'])
    assert.equal(tracker.phases.phase1.title, 'Default Phase')
    assert.notEqual(tracker.sessionInfo.lastUpdate, '2025-09-14T16:12:06.892Z')
    assert.equal(h.validateTrackerSchema(tracker, false).valid, true)

    const falsy = { sessionInfo: { sessionId: 's', currentPhase: 0, currentWeek: 0, lastUpdate: 'x' }, baselineStatus: { phase1Complete: false, testsPassingBaseline: '0/0', agentsLoaded: 0 }, phases: {} }
    const kept = h.validateTrackerSchema(falsy)
    assert.equal(kept.valid, true)
    assert.equal(falsy.baselineStatus.phase1Complete, false)
    assert.equal(falsy.baselineStatus.agentsLoaded, 0)
    const missing = { sessionInfo: {}, baselineStatus: {}, phases: {} }
    h.validateTrackerSchema(missing)
    assert.equal(missing.baselineStatus.agentsLoaded, 0)
    assert.equal(missing.baselineStatus.testsPassingBaseline, '0/0')
  })
})

test('components: object-to-array conversion is kept, legacy messages and contexts', async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const h = helpers(backend, dir)
    const tracker = realTracker()
    tracker.phases.phase2.weeks.week1.components = { a: { name: 'A', status: 'planned' }, b: { name: 'B' } }
    const r = h.validateTrackerSchema(tracker)
    assert.ok(Array.isArray(tracker.phases.phase2.weeks.week1.components))
    assert.ok(r.warnings.includes('Converted phase2.week1 components from object to array'))
    assert.ok(r.errors.includes('phase2.week1 components must be an array'))
    assert.ok(r.errors.includes('phase2.week1.components[1] missing required property: status'))
    assert.equal(tracker.phases.phase2.weeks.week1.components[1].status, 'planned')

    const c = h.validateComponent({ name: 'X', status: 'done', files: 'f' })
    assert.deepEqual(c.errors, ['component.status has invalid type', 'component.files has invalid type'])
    assert.equal(c.valid, false)
    assert.deepEqual(c.data, { name: 'X', status: 'planned', files: [] })
    const d = h.validateComponent(null, 'phase2.week1.components[0]')
    assert.deepEqual(d.warnings, ['Created default component for phase2.week1.components[0]'])
    assert.equal(d.data.name, 'DefaultComponent')

    const b = { id: 'b1', timestamp: 't', phase: 0, week: '1' }
    const rb = h.validateBackup(b, false)
    assert.deepEqual(rb, { valid: false, errors: ['Backup.week has invalid type'], warnings: [], repaired: false, data: b })
    assert.equal(b.week, '1')
    assert.equal(h.validateBackup(b).data.week, 1)
    assert.deepEqual(h.validateBackup('x').errors, ['Backup is not a valid object'])
    const def = h.createDefaultTracker()
    assert.match(def.sessionInfo.sessionId, /^agenthive-\d+$/)
    assert.equal(def.phases.phase2.weeks.week1.title, 'Default Week')
  })
})

const DAMAGING = `{
  // edited by hand
  "sessionInfo": {"sessionId": "agenthive-phase2", "currentPhase": 2, "currentWeek": 1, "lastUpdate": "2025-09-14T16:12:06.892Z"},
  "baselineStatus": {"phase1Complete": false, "testsPassingBaseline": "9/9", "agentsLoaded": 0, "aiIntegration": "http://localhost:1234/v1"},
  "phases": {
    "phase2": {"status": "in_progress", "title": 'it\\'s done', note: "it's done", "glob": "packages/**/*.test.js", "weeks": {}},
  },
}
`

test('repairTracker keeps every value of a damaging tracker and its original bytes', async (t) => {
  const results = {}
  await eachBackend(t, ({ backend, dir }) => {
    const file = path.join(dir, 'phase-tracker.json')
    fs.writeFileSync(file, DAMAGING)
    const r = quiet(() => helpers(backend, dir).repairTracker(file))
    assert.equal(r.success, true)
    assert.equal(r.repaired, true)
    const p = r.tracker.phases.phase2
    assert.equal(r.tracker.baselineStatus.aiIntegration, 'http://localhost:1234/v1')
    assert.equal(r.tracker.baselineStatus.phase1Complete, false)
    assert.equal(r.tracker.baselineStatus.agentsLoaded, 0)
    assert.equal(p.title, "it's done")
    assert.equal(p.note, "it's done")
    assert.equal(p.glob, 'packages/**/*.test.js')
    assert.equal(fs.readFileSync(file, 'utf8'), DAMAGING, 'repairTracker writes nothing')
    const kept = fs.readdirSync(dir).filter((n) => n.startsWith('phase-tracker.json.corrupt-'))
    assert.equal(kept.length, 1)
    assert.equal(fs.readFileSync(path.join(dir, kept[0]), 'utf8'), DAMAGING)
    results[backend] = masked({ ...r, warnings: r.warnings.map((w) => w.replace(dir, '<dir>')) })
  })
  assert.deepEqual(results.native, results.js)
})

test('a truncated tracker comes back from the newest parsable backup; else a failure that loses nothing', async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const root = path.join(dir, 'project')
    const file = path.join(root, 'packages', 'system-api', 'phase-tracker.json')
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const h = helpers(backend, dir)
    fs.writeFileSync(file, JSON.stringify({ ...realTracker(), marker: 'backup' }))
    assert.ok(h.files.backupFile(file, 'auto'))
    const truncated = fs.readFileSync(REAL_TRACKER, 'utf8').slice(0, 3000)
    fs.writeFileSync(file, truncated)
    const r = quiet(() => h.repairTracker(file))
    assert.equal(r.success, true)
    assert.equal(r.tracker.marker, 'backup')
    assert.match(r.warnings[0], /^Recovered .* from backup .*phase-tracker\.json\.auto\./)

    // The tracker copy of a newer backup set wins over the older backupFile copy.
    const set = path.join(root, 'backups', 'config', 'phase2-start-2099-01-01T00-00-00-000Z')
    fs.mkdirSync(set, { recursive: true })
    fs.writeFileSync(path.join(set, 'packages_system-api_phase-tracker.json'), JSON.stringify({ ...realTracker(), marker: 'set' }))
    assert.equal(quiet(() => h.repairTracker(file)).tracker.marker, 'set')
    // A set named by its stamp alone (24 characters) is timed by that stamp too, not by its
    // folder's time: it wins although its folder looks older than everything else.
    const bare = path.join(root, 'backups', 'config', '2099-06-01T00-00-00-000Z')
    fs.mkdirSync(bare)
    fs.writeFileSync(path.join(bare, 'packages_system-api_phase-tracker.json'), JSON.stringify({ ...realTracker(), marker: 'bare' }))
    fs.utimesSync(bare, new Date(2000, 0, 1), new Date(2000, 0, 1))
    assert.equal(quiet(() => h.repairTracker(file)).tracker.marker, 'bare')

    // No backup at all: failure, the default tracker in the legacy shape, the bytes kept.
    const lonely = path.join(dir, 'lonely.json')
    fs.writeFileSync(lonely, '{"sessionInfo": {')
    const f = quiet(() => h.repairTracker(lonely))
    assert.equal(f.success, false)
    assert.match(f.error, /^Could not parse .*lonely\.json and no backup of it parses/)
    assert.equal(f.tracker.phases.phase2.title, 'Default Phase')
    assert.equal(fs.readFileSync(lonely, 'utf8'), '{"sessionInfo": {')
    const cli = runBin('validation-helpers', ['repair', lonely], { backend, env: { SESSION_RESILIENCE_BACKUP_DIR: path.join(dir, 'backups') } })
    assert.equal(cli.status, 1)
    assert.match(cli.stderr, /Repair failed/)
    assert.equal(fs.readFileSync(lonely, 'utf8'), '{"sessionInfo": {')
  })
})

test('CLI: validate, repair, create-default, help, --json and exit codes', async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const env = { SESSION_RESILIENCE_BACKUP_DIR: path.join(dir, 'backups') }
    const file = path.join(dir, 'phase-tracker.json')
    fs.copyFileSync(REAL_TRACKER, file)
    let r = runBin('validation-helpers', ['validate', file], { backend, env })
    assert.equal(r.status, 1)
    assert.match(r.stdout, /📊 Validation Results for .*phase-tracker.json:\n  Valid: ❌\n  Errors: 1\n  Warnings: 0/)
    assert.match(r.stdout, /  - Phase phase1 missing property: title/)

    fs.writeFileSync(file, DAMAGING)
    r = runBin('validation-helpers', ['repair', file], { backend, env })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /✅ Repair completed\n💾 Repaired tracker saved/)
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'))
    assert.equal(saved.phases.phase2.glob, 'packages/**/*.test.js')
    assert.equal(saved.baselineStatus.aiIntegration, 'http://localhost:1234/v1')
    const backups = fs.readdirSync(env.SESSION_RESILIENCE_BACKUP_DIR)
    assert.equal(backups.length, 1)
    assert.equal(fs.readFileSync(path.join(env.SESSION_RESILIENCE_BACKUP_DIR, backups[0]), 'utf8'), DAMAGING)

    r = runBin('validation-helpers', ['validate', file, '--json'], { backend, env })
    assert.equal(r.status, 0)
    assert.deepEqual(JSON.parse(r.stdout), { file, valid: true, errors: [], warnings: [] })

    const fresh = path.join(dir, 'new.json')
    r = runBin('validation-helpers', ['create-default', fresh], { backend, env })
    assert.equal(r.status, 0)
    assert.equal(r.stdout.trim(), `✅ Created default tracker: ${fresh}`)
    assert.equal(JSON.parse(fs.readFileSync(fresh, 'utf8')).baselineStatus.agentsLoaded, 88)
    // a new tracker takes its full backups as snapshots
    assert.equal(JSON.parse(fs.readFileSync(fresh, 'utf8')).backupStrategy.backupTypes.fullSystem.method, 'snapshot')

    r = runBin('validation-helpers', ['repair', file, '--json'], { backend, env })
    assert.equal(r.status, 0)
    assert.equal(JSON.parse(r.stdout).repaired, false)

    assert.match(runBin('validation-helpers', ['help'], { backend }).stdout, /Validation Helpers CLI/)
    assert.equal(runBin('validation-helpers', ['bogus'], { backend }).status, 2)
    assert.equal(runBin('validation-helpers', ['validate'], { backend }).status, 2)
    assert.equal(runBin('validation-helpers', ['validate', path.join(dir, 'none.json')], { backend }).status, 1)
    const loose = path.join(dir, 'loose.json')
    fs.writeFileSync(loose, "{a: 1, // c\n}")
    r = runBin('validation-helpers', ['validate', loose, '--json'], { backend })
    assert.equal(r.status, 1)
    assert.deepEqual(JSON.parse(r.stdout), { file: loose, valid: false, error: `${loose} is not strict JSON`, code: 'ECORRUPT' })
    fs.writeFileSync(loose, '{"a": ')
    r = runBin('validation-helpers', ['validate', loose], { backend })
    assert.equal(r.status, 1)
    assert.match(r.stderr, /❌ Failed to validate .*loose.json: Cannot parse .*loose.json: /)
  })
})

test('tolerant parsing: the same texts parse to the same trackers on both backends', () => {
  const texts = [
    "{sessionInfo: {sessionId: 'a\"b', currentPhase: 2, currentWeek: 1, lastUpdate: 'x'}, baselineStatus: {}, phases: {},}",
    '{"a": "/* not a comment */", "b": "// nor this", /* but this */ "c": [1, 2, 3,], }',
    "{'__proto__': {'x': 1}, dollar$key: 1, dash-key: 2, 'ünï': 'çödé'}",
    '{"n": [0, -0, 1.5, 1e21, 12345678901234567890, 5e-324]} // tail',
    '{"a": 1,, }',
    "{'a': 0x10}",
    '{"a": NaN}',
    '{"s": "\\u00e9\\n\\t\\\\"}',
    '\uFEFF{"bom": true}',
    '{"unterminated": "abc',
    '[1, 2] ',
    '{"dup": 1, "dup": 2, "x": 3}',
  ]
  const results = onBoth((backend, dir) =>
    texts.map((text, i) => {
      const file = path.join(dir, `t${i}.json`)
      fs.writeFileSync(file, text)
      const r = quiet(() => helpers(backend, dir).repairTracker(file))
      return masked(r.success ? { tracker: r.tracker, warnings: r.warnings.length } : { failed: true })
    }),
  )
  assert.deepEqual(results.native, results.js)
  // biome-ignore lint/suspicious/noProto: the test is that an own "__proto__" key stays a plain key
  assert.equal(results.js[2].tracker.__proto__.x, 1)
})

test('CLI repair writes byte-identical files on both backends (JS number format and key order)', () => {
  const text = "{sessionInfo: {sessionId: 's', currentPhase: 2.0, currentWeek: 1e21, lastUpdate: 'x'}, // c\n baselineStatus: {phase1Complete: false, testsPassingBaseline: '9/9', agentsLoaded: 12345678901234567891, f: 1e-7, g: 0.000001, h: -0.0, i: 5e-324},\n phases: {b: {status: 's', title: 't'}, '10': {status: 's', title: 't'}, '2': {status: 's', title: 'é\\u0001\\n'}, '01': {status: 's', title: 't'}},}"
  const written = onBoth((backend, dir) => {
    const file = path.join(dir, 'phase-tracker.json')
    fs.writeFileSync(file, text)
    const r = runBin('validation-helpers', ['repair', file, '--json'], { backend, env: { SESSION_RESILIENCE_BACKUP_DIR: path.join(dir, 'backups') } })
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.saved, true)
    assert.equal(fs.readFileSync(out.backupPath, 'utf8'), text)
    return fs.readFileSync(file, 'utf8').replace(/"lastUpdate": "[^"]*"/, '"lastUpdate": "<time>"')
  })
  assert.equal(written.native, written.js)
  assert.ok(written.js.includes('"currentWeek": 1e+21'))
})

test('file level: the corpus as strict-JSON files gives identical results on both backends (validateTrackerFile is native and builds no JS object)', () => {
  const results = onBoth((backend, dir) => {
    const h = helpers(backend, dir)
    return Object.entries(corpus()).map(([name, tracker], i) => {
      const file = path.join(dir, `c${i}.json`)
      const text = `${JSON.stringify(tracker, null, 2)}\n`
      fs.writeFileSync(file, text)
      const checked = h.validateTrackerFile(file)
      const repaired = quiet(() => h.repairTracker(file))
      assert.equal(fs.readFileSync(file, 'utf8'), text, `${name}: repairTracker writes nothing`)
      const cli = quiet(() => h.repairTrackerFile(file))
      assert.equal(cli.saved, cli.repaired, `${name}: written when repaired, only then`)
      let written = fs.readFileSync(file, 'utf8')
      assert.equal(cli.saved ? written !== text : written === text, true, name)
      written = written.replace(/\d{4}-\d\d-\d\d(T[\d:.]+Z)?|agenthive-\d+/g, '<time>')
      const result = JSON.stringify({ name, checked, repaired, cli: { ...cli, backupPath: cli.backupPath !== null }, written })
      return masked(JSON.parse(result.split(dir).join('<dir>').replace(/corrupt-[\dTZ-]+/g, 'corrupt-<time>')))
    })
  })
  for (let i = 0; i < results.js.length; i++) assert.deepEqual(results.native[i], results.js[i], results.js[i].name)
})

test('tolerant parsing at its edges: comments (block, line, unterminated, `/*/`), every kind of white space, names with non-ASCII letters, duplicate keys; the same trackers on both backends', () => {
  const spaces = ['\t', '\n', '\r', '\v', '\f', '\u00a0', '\u2003', '\u3000']
  const texts = [
    '{/* a */"a":1/**/,/*/ "x": 0 */"b":2}',
    '// lead\r{"a": 1}',
    '{"a": 1} // tail without a line end',
    '{"a": 1} /* unterminated',
    '{"a": 1, /* x */ /* y */ "b": [2 /* z */]}',
    "{aé1: 1, 'ü': 2}",
    '{a€: 1}',
    '{a—b: 1}',
    '/* c */{"dup": 1, "dup": 2}',
    '{"a": 1 /x */}',
    // behind a comment, so that JSON.parse (which knows tab, line feed and carriage return)
    // leaves them to the tolerant parser
    ...spaces.map((s) => `/**/{${s}"a"${s}:${s}1${s},${s}"b":${s}[${s}2${s}]${s}}`),
  ]
  const results = onBoth((backend, dir) =>
    texts.map((text, i) => {
      const file = path.join(dir, `t${i}.json`)
      fs.writeFileSync(file, text)
      const r = quiet(() => helpers(backend, dir).repairTracker(file))
      return masked(r.success ? { tracker: r.tracker } : { failed: true })
    }),
  )
  assert.deepEqual(results.js, results.native)
  // the repair adds the sections a text lacks
  for (const r of results.native.filter((r) => !r.failed)) assert.deepEqual(Object.keys(r.tracker).filter((k) => /^(sessionInfo|baselineStatus|phases)$/.test(k)).length, 3)
  // what the text held
  const own = ({ sessionInfo, baselineStatus, phases, ...rest }) => JSON.stringify(rest)
  const trackers = results.native.map((r) => (r.failed ? 'failed' : own(r.tracker)))
  assert.deepEqual(trackers.slice(0, 10), ['{"a":1,"b":2}', '{"a":1}', '{"a":1}', 'failed', '{"a":1,"b":[2]}', '{"aé1":1,"ü":2}', 'failed', 'failed', '{"dup":2}', 'failed'])
  assert.deepEqual(trackers.slice(10), spaces.map(() => '{"a":1,"b":[2]}'))
})

test('the tolerant parser alone: literals at the very end, near-literals, nesting up to its limit, and a SyntaxError for every text it refuses', () => {
  const { parseTolerant, MAX_DEPTH } = require('../lib/js/parse')
  assert.equal(parseTolerant('/* c */true'), true)
  assert.equal(parseTolerant('/* c */null'), null)
  assert.equal(parseTolerant('/* c */42'), 42)
  // its keys are ordinary properties, as JSON.parse makes them
  assert.deepEqual(Object.getOwnPropertyDescriptor(parseTolerant('/**/{"a": 1}'), 'a'), Object.getOwnPropertyDescriptor(JSON.parse('{"a": 1}'), 'a'))
  assert.deepEqual(parseTolerant('[false, /**/ 1]'), [false, 1])
  const nested = (n) => `/**/${'['.repeat(n)}${']'.repeat(n)}`
  assert.equal(JSON.stringify(parseTolerant(nested(MAX_DEPTH))), nested(MAX_DEPTH).slice(4))
  for (const text of ['[fals ,1]', '[tru, 1]', '[truex]', '{a', '{a: 1', '[1', '[x]', '{"a": @}', nested(MAX_DEPTH + 1), '/* x', "{'a\\q': 1}"]) {
    assert.throws(() => parseTolerant(text), SyntaxError, text.slice(0, 20))
  }
  assert.throws(() => parseTolerant('[1,'), /^SyntaxError: Unexpected end of input at position 3$/)
  assert.throws(() => parseTolerant('[1, ?]'), /^SyntaxError: Unexpected token at position 4$/)
})

test('repairTrackerFile reports what it repaired and saves only then; a missing tracker is repaired into the default; an unrecoverable one saves nothing (both backends: the repair walk is JS on both)', async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const h = helpers(backend, dir)
    const file = path.join(dir, 't.json')
    fs.writeFileSync(file, JSON.stringify({ sessionInfo: { sessionId: 's', currentPhase: 1, currentWeek: 1, lastUpdate: 'x' }, phases: {} }))
    const r = quiet(() => h.repairTrackerFile(file))
    const missing = ['phase1Complete', 'testsPassingBaseline', 'agentsLoaded']
    assert.deepEqual(
      { success: r.success, repaired: r.repaired, saved: r.saved, errors: r.errors, warnings: r.warnings, remaining: r.remainingErrors },
      {
        success: true,
        repaired: true,
        saved: true,
        errors: ['Missing required property: baselineStatus', ...missing.map((p) => `baselineStatus.${p} is required`)],
        warnings: ['Auto-repaired missing property: baselineStatus', ...missing.map((p) => `Auto-repaired baselineStatus.${p}`)],
        remaining: [],
      },
    )
    assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).baselineStatus), missing)

    const damaged = path.join(dir, 'u.json')
    fs.writeFileSync(damaged, '{"a": ')
    const u = quiet(() => h.repairTrackerFile(damaged))
    assert.deepEqual({ success: u.success, repaired: u.repaired, saved: u.saved, errors: u.errors, warnings: u.warnings }, { success: false, repaired: false, saved: false, errors: [], warnings: [] })
    assert.match(u.error, /^Could not parse .*u\.json and no backup of it parses/)
    assert.equal(fs.readFileSync(damaged, 'utf8'), '{"a": ')

    const none = quiet(() => h.repairTracker(path.join(dir, 'none.json')))
    assert.deepEqual({ success: none.success, repaired: none.repaired, keys: Object.keys(none.tracker) }, { success: true, repaired: true, keys: ['sessionInfo', 'baselineStatus', 'phases', 'backupStrategy'] })
    assert.equal(fs.existsSync(path.join(dir, 'none.json')), false)
  })
})
