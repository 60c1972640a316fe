'use strict'
// The quality gates of a component, a week and a phase, and the 80 % rule. Every path is
// relative to the workspace root (the legacy code mixed the cwd and one machine's absolute
// paths), and a file list entry may carry a note: "packages/x/server.js (API endpoints)".

const fs = require('node:fs')
const path = require('node:path')

const PASS_RATE = 80
const MAX_READ = 4 * 1024 * 1024

/** `{ passed, total, passRate, ok }` of a gate table; `ok` is the legacy 80 % rule. */
function verdict(results) {
  const total = Object.keys(results).length
  const passed = Object.values(results).filter(Boolean).length
  const passRate = total ? (passed / total) * 100 : 0
  return { passed, total, passRate, ok: passRate >= PASS_RATE }
}

/** The entry's path without its note, resolved inside `root` (null when it leaves root). */
function resolveEntry(root, entry) {
  if (typeof entry !== 'string') return null
  const rel = entry.replace(/\s+\(.*\)\s*$/, '').trim()
  if (!rel) return null
  const abs = path.resolve(root, rel)
  const inside = path.relative(root, abs)
  if (inside.startsWith('..') || path.isAbsolute(inside)) return null
  return { rel: rel.split(path.sep).join('/'), abs }
}

/** The text of a regular file no larger than 4 MiB, or null. */
function readText(abs) {
  try {
    const st = fs.statSync(abs)
    if (!st.isFile() || st.size > MAX_READ) return null
    return fs.readFileSync(abs, 'utf8')
  } catch {
    return null
  }
}

function entries(root, list) {
  return (Array.isArray(list) ? list : []).map((e) => resolveEntry(root, e)).filter(Boolean)
}

/** True when some entry matches `pick(rel)` and its text satisfies `check(text)`. */
function anyFile(list, pick, check) {
  return list.some((e) => {
    if (!pick(e.rel)) return false
    const text = readText(e.abs)
    return text !== null && check(text)
  })
}

/** SmartMemoryIndex -> smart-memory-index (the REST path the legacy check looked for). */
function kebab(name) {
  return String(name)
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase()
}

const isTest = (rel) => /(^|\/)(tests?|__tests?__)\/|\.(test|spec)\.[jt]sx?$/.test(rel)

/**
 * The 8 component gates (legacy names and order). `regression` is the result of the
 * regression run (true passes `noRegression`).
 */
function componentGates(root, component, regression) {
  const files = entries(root, component.files)
  const tests = entries(root, component.testFiles)
  const serverFiles = [...files.filter((e) => /(^|\/)server\.[cm]?[jt]s$/.test(e.rel)), resolveEntry(root, 'packages/system-api/server.js')]
  const schemaFiles = [
    ...files.filter((e) => /\.(graphql|gql)$|schema\/type-defs\.[jt]s$/.test(e.rel)),
    resolveEntry(root, 'packages/user-api/src/schema/type-defs.ts'),
  ]
  return {
    backendImplementation: anyFile(
      files,
      (rel) => /\.[cm]?[jt]s$/.test(rel) && rel.includes('src/') && !isTest(rel),
      (text) => text.length > 100 && text.includes('class '),
    ),
    apiEndpoints: anyFile(serverFiles, () => true, (text) => text.includes(`/api/${kebab(component.name)}`)),
    graphqlSchema: anyFile(schemaFiles, () => true, (text) => /\b(type|input|interface)\s+[A-Z]\w*/.test(text)),
    frontendComponent: anyFile(
      files,
      (rel) => /\.[jt]sx$/.test(rel) && rel.includes('components/'),
      (text) => text.length > 200 && text.includes('export '),
    ),
    cliCommands: anyFile(
      files,
      (rel) => rel.includes('cli/') && rel.includes('commands/'),
      (text) => text.length > 100 && text.includes('command'),
    ),
    unitTests: anyFile(tests, (rel) => !/integration/i.test(rel), (text) => text.includes('describe') && text.includes('test')),
    integrationTests: anyFile(tests, (rel) => /integration/i.test(rel), (text) => /\b(describe|test|it)\s*\(/.test(text)),
    noRegression: regression === true,
  }
}

/** The 5 week gates. `suite` is the test-suite result, `perf` the benchmark result. */
function weekGates(root, phaseNum, week, { suite, perf }) {
  const components = Array.isArray(week.components) ? week.components : []
  const readme = readText(path.join(root, 'README.md')) || ''
  const recorded = (week.qualityGates && typeof week.qualityGates === 'object' && week.qualityGates) || {}
  return {
    allComponentsComplete: components.every((c) => c && c.status === 'completed'),
    weekTestsSuite: suite === true,
    performanceBenchmark: perf === true,
    // a person signs this off in the tracker; no script can decide it
    userAcceptanceTesting: recorded.userAcceptanceTesting === true,
    documentationUpdate:
      readme.includes(`Phase ${phaseNum}`) || (typeof week.title === 'string' && week.title !== '' && readme.includes(week.title)),
  }
}

/** The 6 phase gates. */
function phaseGates(phase, { integration, security, backup }) {
  const weeks = phase.weeks && typeof phase.weeks === 'object' ? Object.values(phase.weeks) : []
  const recorded = (phase.qualityGates && typeof phase.qualityGates === 'object' && phase.qualityGates) || {}
  return {
    allWeeksComplete: weeks.every((w) => w && w.status === 'completed'),
    fullPhaseIntegration: integration === true,
    // signed off in the tracker by whoever ran them on the other platforms / under load
    crossPlatformTesting: recorded.crossPlatformTesting === true,
    loadTesting: recorded.loadTesting === true,
    securityValidation: security === true,
    backupVerification: backup === true,
  }
}

module.exports = { PASS_RATE, verdict, componentGates, weekGates, phaseGates, resolveEntry, readText, kebab }
