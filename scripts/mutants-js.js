#!/usr/bin/env node
'use strict'
// Mutation testing of the pure-JS backend (lib/js), run by scripts/mutants.js; prints its
// outcomes as JSON on stdout.
//
// Why not Stryker: its node:test support goes through its command runner, which reruns the
// whole command per mutant exactly as this does, but it brings some 200 packages (babel and
// its plugins, typed-inject, ...). This runner does the part we use in one file with one small
// parser (acorn, no dependencies of its own): it parses each file, makes the classic mutants
// (comparison, equality, logical and arithmetic operators swapped, `!` removed, a boolean
// literal flipped), and for each one writes the mutated file, runs the tests and restores the
// file. Like cargo-mutants it works in a copy of the tree (node_modules linked, target/ and
// .git left out): the source tree is never modified, and other runs can use it meanwhile.
//
// Which tests run for a mutant: first every test file runs once, unmutated, with V8's coverage
// on (NODE_V8_COVERAGE, inherited by the processes it spawns); a mutant is then tested only by
// the test files whose run executed its position (the innermost covered block or function
// around it ran), the fastest file first. A mutant no test file executes is not run at all:
// "no coverage", counted as missed. (A child killed by a signal writes no coverage: code that
// only such a child runs shows as not covered, so the count errs towards missed.) The coverage
// of each test file is kept in target/mutants-js/ for as long as that file, the code under
// test (lib/, bin/, index.js, the addon) and the test helpers are unchanged.
//
// A mutant is caught when a test fails (the run stops at the first failure: its TAP line), a
// timeout when the tests run past 3 x their unmutated time (killed, counted as caught), missed
// when they pass.
//
// Stopped by SIGINT or SIGTERM, it still prints what it got to (the command says where it
// stopped), which scripts/mutants.js stores like a whole run.
//
//   node scripts/mutants-js.js [lib/js files...]     (default: every file of lib/js)

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { spawn } = require('node:child_process')
const acorn = require('acorn')

const SOURCE = path.resolve(__dirname, '..')
// equivalent mutants left out, each with its reason (the Stryker-config equivalent)
const EXCLUDED = require('../mutants/js-exclude')
let ROOT = SOURCE // the copy, once made

/** Copy the tree to a scratch folder (without target/ and .git; node_modules linked). */
function copyTree() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-mutants-js-'))
  const skip = new Set(['target', '.git', 'node_modules'])
  for (const name of fs.readdirSync(SOURCE)) {
    if (skip.has(name)) continue
    fs.cpSync(path.join(SOURCE, name), path.join(dir, name), { recursive: true, verbatimSymlinks: true })
  }
  fs.symlinkSync(path.join(SOURCE, 'node_modules'), path.join(dir, 'node_modules'))
  return dir
}

const SWAPS = { '===': '!==', '!==': '===', '==': '!=', '!=': '==', '<': '<=', '<=': '<', '>': '>=', '>=': '>', '&&': '||', '||': '&&', '-': '+', '*': '/', '/': '*' }

const isText = (n) => (n.type === 'Literal' && typeof n.value === 'string') || n.type === 'TemplateLiteral'

/** Every mutant of `source`: { line, col, description, start, end, replacement }. */
function mutantsOf(source) {
  const ast = acorn.parse(source, { ecmaVersion: 'latest', sourceType: 'script', locations: true, allowHashBang: true })
  const found = []
  const add = (start, end, replacement, description) => {
    const { line, column } = acorn.getLineInfo(source, start)
    found.push({ line, col: column + 1, description, start, end, replacement })
  }
  const visit = (node) => {
    if (!node || typeof node.type !== 'string') return
    if (node.type === 'BinaryExpression' || node.type === 'LogicalExpression') {
      let to = SWAPS[node.operator]
      // `+` on text is concatenation: `-` there is a type error every test would trip over
      if (node.operator === '+' && !isText(node.left) && !isText(node.right)) to = '-'
      if (to) {
        const gap = source.slice(node.left.end, node.right.start)
        const at = node.left.end + gap.indexOf(node.operator)
        add(at, at + node.operator.length, to, `replace ${node.operator} with ${to}`)
      }
    } else if (node.type === 'UnaryExpression' && node.operator === '!') {
      add(node.start, node.start + 1, '', 'delete !')
    } else if (node.type === 'Literal' && typeof node.value === 'boolean') {
      add(node.start, node.end, String(!node.value), `replace ${node.value} with ${!node.value}`)
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === 'loc') continue
      if (Array.isArray(value)) value.forEach(visit)
      else if (value && typeof value.type === 'string') visit(value)
    }
  }
  visit(ast)
  return found
}

/** A failed test in node's TAP output (a `# TODO` test that fails is not a failure). */
const FAILED = /^\s*not ok \d+(?!.*# TODO)/m

/**
 * Run `node --test` on `tests`; 'caught' | 'missed' | 'timeout', and the time it took. The
 * run stops at the first failed test (its TAP line): one failure decides, and a mutant is
 * then judged in the time its first failing test takes, not the whole files'.
 */
let running = null // the test run's process group, killed too if this runner is stopped

function runTests(tests, timeoutMs, env = process.env) {
  return new Promise((resolve) => {
    const started = Date.now()
    // its own process group, so that a timeout or the first failure kills the test files'
    // processes too
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...tests], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    })
    running = child.pid
    let status = null
    const stop = (why) => {
      if (status) return
      status = why
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }
    let tail = ''
    child.stdout.on('data', (data) => {
      const text = tail + data
      const lines = text.split('\n')
      tail = lines.pop()
      if (FAILED.test(lines.join('\n'))) stop('caught')
    })
    const timer = setTimeout(() => stop('timeout'), timeoutMs)
    child.on('exit', (code) => {
      running = null
      clearTimeout(timer)
      resolve({ status: status || (code === 0 ? 'missed' : 'caught'), ms: Date.now() - started })
    })
  })
}

// ---- which test files execute which mutant ----------------------------------------------

const CACHE = path.join(SOURCE, 'target', 'mutants-js')

/** Every test file of the suite. */
const testFiles = () =>
  fs
    .readdirSync(path.join(SOURCE, '__test__'))
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => `__test__/${f}`)

/**
 * What a test file's coverage depends on besides the file itself: everything it can load or
 * spawn (lib/, bin/, the generated index.js and the addon, the other files of __test__ that
 * are not test files) and the Node version.
 */
function sharedKey() {
  const hash = crypto.createHash('sha256').update(process.version)
  const walk = (rel) => {
    const abs = path.join(SOURCE, rel)
    if (!fs.existsSync(abs)) return
    const st = fs.statSync(abs)
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(abs).sort()) if (!(rel === '__test__' && name.endsWith('.test.js'))) walk(`${rel}/${name}`)
    } else hash.update(rel).update(rel.endsWith('.node') ? `${st.size}:${st.mtimeMs}` : fs.readFileSync(abs))
  }
  for (const rel of ['lib', 'bin', '__test__', 'index.js', 'package.json', ...fs.readdirSync(SOURCE).filter((f) => f.endsWith('.node'))]) walk(rel)
  return hash.digest('hex')
}

/**
 * What of a script did not run in one process, from its V8 coverage: the ranges (blocks,
 * functions) whose count is 0, as [start, end] pairs. Code inside a range that never ran
 * cannot run either, so an offset of a loaded script ran unless one of these holds it.
 */
const notRun = (functions) => functions.flatMap((fn) => fn.ranges.filter((r) => r.count === 0).map((r) => [r.startOffset, r.endOffset]))

/**
 * Run `test` once unmutated with coverage on; for each of `files` ({ rel, mutants }), the
 * indexes of the mutants it executed. Cached per test file in target/mutants-js/.
 */
async function coverageOf(test, files, shared) {
  const key = crypto
    .createHash('sha256')
    .update(shared)
    .update(fs.readFileSync(path.join(SOURCE, test)))
    .digest('hex')
    .slice(0, 24)
  const cached = path.join(CACHE, `${path.basename(test, '.js')}-${key}.json`)
  let entry = fs.existsSync(cached) ? JSON.parse(fs.readFileSync(cached, 'utf8')) : null
  if (!entry) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-mutants-cov-'))
    try {
      const r = await runTests([test], 30 * 60 * 1000, { ...process.env, NODE_V8_COVERAGE: dir })
      // per file of lib/js, what did not run in each process that loaded it (the same
      // picture from many processes kept once)
      const scripts = {}
      const base = pathToFileURL(path.join(ROOT, 'lib', 'js')).href
      for (const f of fs.readdirSync(dir)) {
        for (const script of JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).result) {
          if (!script.url.startsWith(`${base}/`)) continue
          const rel = path.relative(ROOT, new URL(script.url).pathname)
          const seen = (scripts[rel] ||= new Map())
          const gaps = notRun(script.functions)
          seen.set(JSON.stringify(gaps), gaps)
        }
      }
      for (const rel of Object.keys(scripts)) scripts[rel] = [...scripts[rel].values()]
      entry = { test, ms: r.ms, passed: r.status === 'missed', scripts }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
    fs.mkdirSync(CACHE, { recursive: true })
    fs.writeFileSync(cached, JSON.stringify(entry))
  }
  const covered = {}
  for (const { rel, mutants } of files) {
    const processes = entry.scripts[rel] || []
    const ran = (offset) => processes.some((gaps) => !gaps.some(([start, end]) => start <= offset && offset < end))
    covered[rel] = new Set(mutants.flatMap((m, i) => (ran(m.start) ? [i] : [])))
  }
  return { ms: entry.ms, passed: entry.passed, covered }
}

function listFiles() {
  const walk = (dir) =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = `${dir}/${e.name}`
      return e.isDirectory() ? walk(rel) : rel.endsWith('.js') ? [rel] : []
    })
  return walk('lib/js')
}

async function main() {
  const files = process.argv.slice(2).map((f) => path.relative(SOURCE, path.resolve(f)))
  const chosen = files.length ? files : listFiles()
  ROOT = copyTree()
  process.on('exit', () => fs.rmSync(ROOT, { recursive: true, force: true }))
  const started = new Date()
  const outcomes = {}
  let restore = null
  const result = (stopped) => ({
    kind: 'js',
    started: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 1000),
    command: `npm run mutants -- js ${files.join(' ')}${stopped ? ` (stopped by hand after ${Object.keys(outcomes).length} mutants)` : ''}`.trim(),
    files: stopped ? [...new Set(Object.keys(outcomes).map((n) => n.split(':')[0]))] : chosen,
    outcomes,
  })
  // stopped (a run does not always fit in a sitting): what it got to is still a result
  const onSignal = () => {
    if (restore) restore()
    try {
      if (running) process.kill(-running, 'SIGKILL')
    } catch {}
    process.stdout.write(JSON.stringify(result(true)), () => process.exit(0))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const targets = chosen.map((rel) => {
    const original = fs.readFileSync(path.join(ROOT, rel), 'utf8')
    const mutants = mutantsOf(original).filter((m) => !EXCLUDED.some(([re]) => re.test(`${rel}:${m.line}:${m.col}: ${m.description}`)))
    return { rel, original, mutants }
  })
  // which test files execute each mutant (each test file once, unmutated, with coverage)
  const shared = sharedKey()
  const runs = []
  for (const test of testFiles()) {
    const cov = await coverageOf(test, targets, shared)
    const hits = Object.values(cov.covered).reduce((n, set) => n + set.size, 0)
    console.error(`coverage: ${test} ${Math.round(cov.ms / 1000)} s, ${cov.passed ? `executes ${hits} mutants` : 'FAILS unmutated: not used'}`)
    if (cov.passed && hits) runs.push({ test, ...cov })
  }
  runs.sort((a, b) => a.ms - b.ms)
  for (const { rel, original, mutants } of targets) {
    const file = path.join(ROOT, rel)
    restore = () => fs.writeFileSync(file, original)
    console.error(`${rel}: ${mutants.length} mutants`)
    try {
      for (const [i, m] of mutants.entries()) {
        const name = `${rel}:${m.line}:${m.col}: ${m.description}`
        const by = runs.filter((r) => r.covered[rel].has(i))
        let status = 'no coverage'
        if (by.length) {
          fs.writeFileSync(file, original.slice(0, m.start) + m.replacement + original.slice(m.end))
          const budget = by.reduce((ms, r) => ms + r.ms, 0)
          status = (await runTests(by.map((r) => r.test), Math.max(60_000, 3 * budget))).status
          restore()
        }
        outcomes[name] = status
        console.error(`  ${status.padEnd(11)} ${name}${by.length ? ` (${by.map((r) => path.basename(r.test, '.test.js')).join(', ')})` : ''}`)
      }
    } finally {
      restore()
      restore = null
    }
  }
  process.stdout.write(JSON.stringify(result(false)))
}

module.exports = { mutantsOf }
if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
}
