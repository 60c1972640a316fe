'use strict'
// The generated corpus of trackers for the validation parity tests and benchmarks:
// missing keys, wrong types, falsy values, object-instead-of-array components, nulls at every
// level, huge arrays, deep nesting, non-object roots. Deterministic (no randomness), so a
// failure names its case.
const fs = require('node:fs')
const path = require('node:path')

const REAL_TRACKER = path.join(__dirname, 'fixtures', 'phase-tracker.json')
const realTracker = () => JSON.parse(fs.readFileSync(REAL_TRACKER, 'utf8'))

/** Every path to an object/array value inside `v` (for "null at every level"). */
function paths(v, at = []) {
  if (v === null || typeof v !== 'object') return []
  const own = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v)
  return own.flatMap((k) => [[...at, k], ...paths(v[k], [...at, k])])
}

function setAt(root, p, value) {
  let at = root
  for (const k of p.slice(0, -1)) at = at[k]
  at[p[p.length - 1]] = value
  return root
}

function deep(depth) {
  let v = { leaf: true }
  for (let i = 0; i < depth; i++) v = i % 2 ? { nested: v } : [v]
  return v
}

function corpus() {
  const cases = {
    'real tracker': realTracker(),
    'empty object': {},
    'non-object root null': null,
    'non-object root array': [realTracker()],
    'non-object root number': 42,
    'non-object root string': 'tracker',
    'non-object root boolean': false,
    'falsy values are values': {
      sessionInfo: { sessionId: '', currentPhase: 0, currentWeek: 0, lastUpdate: '' },
      baselineStatus: { phase1Complete: false, testsPassingBaseline: '', agentsLoaded: 0 },
      phases: { p: { status: '', title: '', weeks: { w: { title: '', status: '', components: [] } } } },
    },
    'wrong types': {
      sessionInfo: { sessionId: 7, currentPhase: '2', currentWeek: [], lastUpdate: {} },
      baselineStatus: { phase1Complete: 'yes', testsPassingBaseline: 9, agentsLoaded: '88' },
      phases: { p: { status: 1, title: 2, weeks: { w: { title: 3, status: 4, components: [{ name: 1, status: 'done', files: 'a', dependencies: {}, testFiles: 0 }] } } } },
    },
    'wrong-typed sections': { sessionInfo: 'x', baselineStatus: [1], phases: [{ status: 'planned' }] },
    'weeks not an object': { ...realTracker(), phases: { p: { status: 's', title: 't', weeks: 'w' } } },
    'components object instead of array': {
      ...realTracker(),
      phases: { p: { status: 's', title: 't', weeks: { w: { title: 't', status: 's', components: { a: { name: 'A', status: 'planned' }, b: { status: 'x' }, c: 5 } } } } },
    },
    'components an object of sound components': {
      // sound otherwise: the conversion is the one repair
      sessionInfo: { sessionId: 's', currentPhase: 1, currentWeek: 1, lastUpdate: '2026-01-01' },
      baselineStatus: { phase1Complete: false, testsPassingBaseline: '0/0', agentsLoaded: 0 },
      phases: { p: { status: 's', title: 't', weeks: { w: { title: 't', status: 's', components: { a: { name: 'A', status: 'planned' }, b: { name: 'B', status: 'completed' } } } } } },
    },
    'components a string': { ...realTracker(), phases: { p: { status: 's', title: 't', weeks: { w: { title: 't', status: 's', components: 'none' } } } } },
    'components with non-objects': { ...realTracker(), phases: { p: { status: 's', title: 't', weeks: { w: { title: 't', status: 's', components: [null, 1, 'c', [], { name: 'ok', status: 'completed' }] } } } } },
    'phases and weeks that are not objects': { ...realTracker(), phases: { a: null, b: 1, c: [], d: { status: 's', title: 't', weeks: { w1: null, w2: 'x', w3: [] } } } },
    'huge arrays': (() => {
      const t = realTracker()
      const components = Array.from({ length: 3000 }, (_, i) => ({
        name: i % 7 ? `C${i}` : undefined,
        status: ['planned', 'in_progress', 'completed', 'bogus'][i % 4],
        files: Array.from({ length: 5 }, (_, j) => `packages/p${i}/f${j}.js`),
        dependencies: i % 11 ? [] : 'none',
      }))
      t.phases.phase2.weeks.week1.components = components
      return t
    })(),
    'deep nesting': { ...realTracker(), extra: deep(100), phases: { p: { status: 's', title: 't', weeks: { w: { title: 't', status: 's', components: [{ name: 'n', status: 'planned', qualityGates: deep(80) }] } } } } },
  }
  const base = realTracker()
  for (const p of paths(base)) {
    if (p.length > 6) continue
    cases[`null at ${p.join('.')}`] = setAt(realTracker(), p, null)
  }
  for (const key of ['sessionInfo', 'baselineStatus', 'phases']) {
    const t = realTracker()
    delete t[key]
    cases[`missing ${key}`] = t
  }
  for (const key of ['sessionId', 'currentPhase', 'currentWeek', 'lastUpdate']) {
    const t = realTracker()
    delete t.sessionInfo[key]
    cases[`missing sessionInfo.${key}`] = t
  }
  return cases
}

/** A tracker of about `bytes` bytes as JSON: the real one with many generated weeks. */
function bigTracker(bytes) {
  const t = realTracker()
  const week = t.phases.phase2.weeks.week1
  const size = JSON.stringify(week, null, 2).length + 8 * 20 // as written by the CLI (2-space indent, nested)
  const weeks = {}
  for (let i = 0; i * size < bytes; i++) weeks[`week${i + 1}`] = JSON.parse(JSON.stringify(week))
  t.phases.phase2.weeks = weeks
  return t
}

/** Timestamps and time-derived ids masked, for comparing results made at different ms. */
function masked(value) {
  return JSON.parse(JSON.stringify(value), (_, v) =>
    typeof v === 'string' && (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{3})?Z)?$/.test(v) || /^(agenthive|backup)-\d{10,}$/.test(v)) ? '<time>' : v,
  )
}

module.exports = { corpus, realTracker, bigTracker, masked, REAL_TRACKER }
