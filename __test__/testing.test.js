'use strict'
// session-resilience/testing, used as a project's own suite would: the same body on the
// native and js backends and on the original legacy modules (kept as `<name>.legacy.js`, as
// `migrate` keeps them), each on a fresh copy of the real project, compared with diff().
const { test } = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')
const { tempDir } = require('./helpers')
const legacy = require('./legacy')
const { forEachBackend, diff, mask, captureOutput } = require('../lib/testing')

/** The real project as a template, and its legacy files renamed as `migrate` keeps them. */
function fixtures() {
  const dir = tempDir('sr-testing-')
  const project = legacy.legacyProject(path.join(dir, 'template'), { legacy: false })
  const kept = path.join(dir, 'legacy')
  for (const rel of legacy.LEGACY_FILES) {
    const to = path.join(kept, rel.replace(/\.js$/, '.legacy.js'))
    fs.mkdirSync(path.dirname(to), { recursive: true })
    fs.copyFileSync(path.join(legacy.LEGACY_DIR, rel), to)
  }
  return { project, kept }
}

test('forEachBackend: native, js and legacy each get a fresh project, lock and backup folder; diff masks ids, times and paths', { timeout: 120000 }, async (t) => {
  if (!legacy.available()) return t.skip('legacy fixtures not present')
  const { project, kept } = fixtures()
  const seen = []
  const results = await forEachBackend(
    async ({ backend, project: copy, lockDir, load }) => {
      seen.push(copy)
      assert.ok(fs.existsSync(path.join(copy, 'packages', 'system-api', 'phase-tracker.json')), 'a copy of the project')
      const files = load('safe-file-operations')
      const target = path.join(copy, 'notes.json')
      const written = files.atomicWrite(target, JSON.stringify({ n: 1, off: false }))
      const read = files.safeJsonRead(target, null)
      const lockPath = files.acquireLock('testing-helper', 2000)
      const info = files.getLockInfo('testing-helper')
      files.releaseLock('testing-helper')
      const helpers = load('validation-helpers')
      const tracker = JSON.parse(fs.readFileSync(path.join(copy, 'packages', 'system-api', 'phase-tracker.json'), 'utf8'))
      const validation = helpers.validateTrackerSchema(tracker, false)
      const PhaseGateValidator = load('phase-gate-validator')
      const { output } = await captureOutput(() => new PhaseGateValidator().getStatus())
      return {
        backend,
        written,
        read,
        lockInDir: path.dirname(lockPath) === lockDir,
        locked: info.locked,
        errors: validation.errors,
        status: output.split('\n').slice(0, 9).join('\n'), // the lines legacy printed
      }
    },
    { project, legacy: kept, t },
  )
  assert.deepStrictEqual(Object.keys(results), ['native', 'js', 'legacy'])
  assert.strictEqual(new Set(seen).size, 3, 'one fresh project each')
  for (const dir of seen) assert.ok(!fs.existsSync(dir), 'temp folders removed')
  assert.ok(!fs.existsSync(path.join(project, 'notes.json')), 'the template is untouched')
  const strip = ({ backend, ...rest }) => rest
  assert.deepStrictEqual(diff(strip(results.native), strip(results.js)), [])
  assert.deepStrictEqual(diff(strip(results.native), strip(results.legacy)), [])
  assert.strictEqual(results.legacy.lockInDir, true, 'the legacy lock folder was pointed at the fresh one')
  assert.match(results.native.status, /^📊 CURRENT STATUS/)
})

test('diff: masks ids, times and paths; reports what differs', () => {
  const a = { id: 'manual-2026-01-01T00-00-00-000Z', at: '2026-01-01T00:00:00.000Z', file: '/tmp/x/a.json', pid: 12, n: 1, list: ['/a/b', 'same'] }
  const b = { id: 'manual-2027-02-02T01-01-01-001Z', at: '2027-02-02T01:01:01.001Z', file: '/var/y/b.json', pid: 99, n: 1, list: ['/c/d', 'same'] }
  assert.deepStrictEqual(diff(a, b), [])
  assert.deepStrictEqual(diff({ ...a, n: 1 }, { ...b, n: 2 }), ['n: 1 != 2'])
  assert.deepStrictEqual(diff('✅ Full backup created: manual-2026-01-01T00-00-00-000Z\nsame', 'same\n✅ Full backup complete: x'), [
    '- ✅ Full backup created: manual-<time>',
    '+ ✅ Full backup complete: x',
  ])
  assert.deepStrictEqual(mask({ sessionId: 'agenthive-1795703140303', lastUpdate: 'x' }), { sessionId: '<masked>', lastUpdate: '<masked>' })
  assert.strictEqual(mask('saved in /tmp/a b'), 'saved in <path> b')
})
