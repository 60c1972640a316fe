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
// on (NODE_V8_COVERAGE, inherited by the processes it spawns and written by each worker thread
// when it ends) and scripts/mutants-js-hook.js preloaded, which slices the coverage per
// top-level test, a test's worker threads with it; a mutant is then tested only by the
// tests whose slice executed its position (the innermost covered block or function around it
// ran), each test file's selection run with `--test-name-pattern`, the fastest selection first.
// Code that ran outside any test (loading a file, `before` hooks) counts as run by every test of
// that file, which then runs whole; so does code outside every function of lib/js (a module
// constant), run once when a test first requires its file, whose value every later test uses,
// and code whose value a function stores in a module variable (a memoized answer, such as
// contained.js's viaProc()): the first test that asks computes it, every later one reuses it,
// so per-test coverage would credit it to that first test alone. A mutant no test executes is
// not run at all: "no coverage",
// counted as missed. (A child killed by a signal writes no coverage: code that only such a
// child runs shows as not covered, so the count errs towards missed.) The coverage of each test
// file is kept in target/mutants-js/ for as long as that file, the code under test (lib/, bin/,
// index.js, the addon) and the test helpers are unchanged.
//
// A mutant is caught when a test fails (the run stops at the first failure: its TAP line), a
// timeout when the tests run past 3 x their unmutated time (at least 60 s; killed, counted as
// caught), missed when they pass. A selection that is less than a whole file could fail for
// want of an earlier test of its file: the first time a selection catches a mutant, it is run
// unmutated too (once per selection); if it fails unmutated, its file runs whole instead.
//
// Stopped by SIGINT or SIGTERM, it still prints what it got to (the command says where it
// stopped), which scripts/mutants.js stores like a whole run.
//
//   node scripts/mutants-js.js [--re REGEX]... [--whole-files] [--jobs N] [lib/js files...]
//     (default: every file of lib/js; --re: only the mutants whose name matches, a partial run
//     as cargo-mutants' --re; --whole-files: every covering test file runs whole, the selection
//     of before per-test coverage, kept to measure against; --jobs N: N mutants tested at once,
//     each in a tree and temp folder of its own; the outcome rule is the same)

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { spawn, spawnSync } = require('node:child_process')
const acorn = require('acorn')

const SOURCE = path.resolve(__dirname, '..')
// equivalent mutants left out, each with its reason (the Stryker-config equivalent)
const EXCLUDED = require('../mutants/js-exclude')
let ROOT = SOURCE // the copy, once made

/**
 * Remove a scratch folder, unmounting first what tests mounted below it: a test stopped at its
 * first failure (or killed at its timeout) never reaches the `t.after` that unmounts its
 * tmpfs (the full-disk tests), and rmdir of a mount point is EBUSY, which here, in an exit
 * handler, lost the outcomes of the whole run. A folder that still cannot go is reported.
 */
function removeTree(dir) {
  if (process.platform === 'linux') {
    // /proc/self/mounts escapes a space, tab, newline and backslash in octal
    const fromOctal = (p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8)))
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((line) => fromOctal(line.split(' ')[1] || ''))
    for (const point of mounts.filter((m) => m.startsWith(`${dir}/`)).sort().reverse()) {
      spawnSync('umount', ['-l', point])
    }
  }
  try {
    fs.rmSync(dir, { recursive: true, force: true })
  } catch (err) {
    console.error(`mutants-js: could not remove ${dir}: ${err.message}`)
  }
}

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
  // `probe`: where the mutated expression starts, the offset coverage is asked about (V8 gives
  // the right operand of `||`/`&&` a block of its own, which starts at the operator: the
  // operator runs when the left operand does, even where the right one never does)
  // `atLoad`: outside every function, so run once, when the file is first required (see
  // coverageOf: its effect lasts for every later test of that process); or inside the value
  // assigned to a module variable (`memo = ...` in a function: a memoized answer), whose effect
  // lasts the same way
  let depth = 0
  let intoModuleState = 0
  const moduleVariables = new Set(
    ast.body.filter((n) => n.type === 'VariableDeclaration' && n.kind !== 'const').flatMap((n) => n.declarations.map((d) => d.id.name)),
  )
  const add = (node, start, end, replacement, description) => {
    const { line, column } = acorn.getLineInfo(source, start)
    found.push({ line, col: column + 1, description, start, end, replacement, probe: node.start, atLoad: depth === 0 || intoModuleState > 0 })
  }
  const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression'])
  const visit = (node) => {
    if (!node || typeof node.type !== 'string') return
    const inner = FUNCTIONS.has(node.type)
    if (inner) depth++
    const memo = node.type === 'AssignmentExpression' && node.left.type === 'Identifier' && moduleVariables.has(node.left.name)
    if (memo) intoModuleState++
    if (node.type === 'BinaryExpression' || node.type === 'LogicalExpression') {
      let to = SWAPS[node.operator]
      // `+` on text is concatenation: `-` there is a type error every test would trip over
      if (node.operator === '+' && !isText(node.left) && !isText(node.right)) to = '-'
      if (to) {
        const gap = source.slice(node.left.end, node.right.start)
        const at = node.left.end + gap.indexOf(node.operator)
        add(node, at, at + node.operator.length, to, `replace ${node.operator} with ${to}`)
      }
    } else if (node.type === 'UnaryExpression' && node.operator === '!') {
      add(node, node.start, node.start + 1, '', 'delete !')
    } else if (node.type === 'Literal' && typeof node.value === 'boolean') {
      add(node, node.start, node.end, String(!node.value), `replace ${node.value} with ${!node.value}`)
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === 'loc') continue
      if (Array.isArray(value)) value.forEach(visit)
      else if (value && typeof value.type === 'string') visit(value)
    }
    if (inner) depth--
    if (memo) intoModuleState--
  }
  visit(ast)
  return found
}

/** A failed test in node's TAP output (a `# TODO` test that fails is not a failure). */
const FAILED = /^\s*not ok \d+(?!.*# TODO)/m

/**
 * Run `node --test` on `tests` (only the tests named by `patterns`, if any); 'caught' |
 * 'missed' | 'timeout', and the time it took. The run stops at the first failed test (its TAP
 * line): one failure decides, and a mutant is then judged in the time its first failing test
 * takes, not the whole selection's.
 */
const running = new Set() // the test runs' process groups, killed too if this runner is stopped

function runTests(tests, { timeoutMs, patterns = [], env = process.env, preload = [], cwd = ROOT }) {
  return new Promise((resolve) => {
    const started = Date.now()
    const args = [...preload.flatMap((p) => ['--require', p]), '--test', '--test-concurrency=1', '--test-reporter=tap']
    args.push(...patterns.map((p) => `--test-name-pattern=${p}`), ...tests)
    // its own process group, so that a timeout or the first failure kills the test files'
    // processes too
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'ignore'], detached: true })
    running.add(child.pid)
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
      running.delete(child.pid)
      clearTimeout(timer)
      resolve({ status: status || (code === 0 ? 'missed' : 'caught'), ms: Date.now() - started })
    })
  })
}

/** A test's name as a `--test-name-pattern` that matches that name only. */
const exactly = (name) => `^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`

// ---- which test files execute which mutant ----------------------------------------------

const CACHE = path.join(SOURCE, 'target', 'mutants-js')

/** Every test file of the suite. */
const testFiles = () =>
  fs
    .readdirSync(path.join(ROOT, '__test__'))
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => `__test__/${f}`)

/**
 * What a test file's coverage depends on besides the file itself: everything it can load or
 * spawn (lib/, bin/, the generated index.js and the addon, the other files of __test__ that
 * are not test files) and the Node version. Read from the copy under test, not the source
 * tree, which may change while a run goes.
 */
function sharedKey() {
  const hash = crypto.createHash('sha256').update(process.version)
  const walk = (rel) => {
    const abs = path.join(ROOT, rel)
    if (!fs.existsSync(abs)) return
    const st = fs.statSync(abs)
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(abs).sort()) if (!(rel === '__test__' && name.endsWith('.test.js'))) walk(`${rel}/${name}`)
    } else if (rel.endsWith('.node')) {
      // the addon by its size and time (the copy's time is the copying's)
      const built = fs.statSync(path.join(SOURCE, rel))
      hash.update(rel).update(`${built.size}:${built.mtimeMs}`)
    } else hash.update(rel).update(fs.readFileSync(abs))
  }
  for (const rel of ['lib', 'bin', '__test__', 'index.js', 'package.json', ...fs.readdirSync(ROOT).filter((f) => f.endsWith('.node'))]) walk(rel)
  return hash.digest('hex')
}

/**
 * What of a script ran in one coverage slice, from its V8 coverage: every range (functions and
 * the blocks inside them) as [start, end, ran]. The innermost range around an offset says
 * whether it ran; an offset in no range did not (a slice taken after v8.takeCoverage() reset
 * the counters lists only the functions that ran since, not the script's own top level).
 */
const rangesOf = (functions) => functions.flatMap((fn) => fn.ranges.map((r) => [r.startOffset, r.endOffset, r.count > 0 ? 1 : 0]))

/** Whether `offset` ran in one of the slices (each the ranges of one script). */
function ran(slices, offset) {
  return (slices || []).some((ranges) => {
    let inner = null
    for (const r of ranges) if (r[0] <= offset && offset < r[1] && (!inner || r[1] - r[0] <= inner[1] - inner[0])) inner = r
    return inner !== null && inner[2] === 1
  })
}

const HOOK = path.join(__dirname, 'mutants-js-hook.js')
// in the cache key: a cached entry of another shape is not read (2: worker threads' coverage
// kept beside the test's own; 1 kept only one file of a slice, most often not the workers')
const COVERAGE_FORMAT = 'per-test-2'

/** Per file of lib/js, what did not run in one coverage slice (`result` of a V8 coverage file). */
function scriptsOf(result, into) {
  const base = pathToFileURL(path.join(ROOT, 'lib', 'js')).href
  for (const script of result) {
    if (!script.url.startsWith(`${base}/`)) continue
    const rel = path.relative(ROOT, new URL(script.url).pathname)
    const ranges = rangesOf(script.functions)
    // the same picture from many processes kept once
    ;(into[rel] ||= new Map()).set(JSON.stringify(ranges), ranges)
  }
  return into
}

const listed = (scripts) => Object.fromEntries(Object.entries(scripts).map(([rel, seen]) => [rel, [...seen.values()]]))

/**
 * Sort the slices of one coverage run (see scripts/mutants-js-hook.js) into `tests` (per
 * top-level test: name, duration, scripts) and `common` (what ran outside any test, in the
 * test file's process or in a process whose exit falls outside every test's window).
 */
function slicesOf(dir) {
  const names = fs.readdirSync(dir)
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))
  const own = new Set(names.filter((f) => /^(test|gap)-/.test(f)).map((f) => f.split('-')[1]))
  const tests = names
    .filter((f) => f.startsWith('test-'))
    .map((f) => {
      const slice = read(f)
      return { name: slice.test, start: slice.start, end: slice.end, scripts: scriptsOf(slice.result, {}) }
    })
  const common = {}
  for (const f of names) {
    if (f.startsWith('test-')) continue
    const [, pid, stamp] = f.split(/[-.]/)
    // a child killed while V8 wrote its coverage (a kill test's SIGKILL) leaves the file cut
    // short: what it ran is unknown, taken as not run (the count errs towards missed, as above)
    let result
    try {
      result = read(f).result
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err
      continue
    }
    // a child's coverage is written when it exits: the test running then spawned it
    const during = !f.startsWith('gap-') && !own.has(pid) && tests.find((t) => t.start <= +stamp && +stamp <= t.end)
    scriptsOf(result, during ? during.scripts : common)
  }
  return {
    tests: tests.map((t) => ({ name: t.name, ms: t.end - t.start, scripts: listed(t.scripts) })),
    common: listed(common),
  }
}

/**
 * Run `test` once unmutated with coverage on, sliced per test (cached per test file in
 * target/mutants-js/); for each of `files` ({ rel, mutants }), the mutants it executes:
 * index -> the names of the tests that execute it, or null when every test of the file does.
 */
async function coverageOf(test, files, shared) {
  const key = crypto
    .createHash('sha256')
    .update(COVERAGE_FORMAT)
    .update(shared)
    .update(fs.readFileSync(path.join(ROOT, test)))
    .digest('hex')
    .slice(0, 24)
  const cached = path.join(CACHE, `${path.basename(test, '.js')}-${key}.json`)
  let entry = fs.existsSync(cached) ? JSON.parse(fs.readFileSync(cached, 'utf8')) : null
  if (!entry) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-mutants-cov-'))
    try {
      const env = { ...process.env, NODE_V8_COVERAGE: dir, SR_MUTANTS_LIB: `${pathToFileURL(path.join(ROOT, 'lib', 'js')).href}/` }
      const r = await runTests([test], { timeoutMs: 30 * 60 * 1000, env, preload: [HOOK] })
      entry = { test, ms: r.ms, passed: r.status === 'missed', ...slicesOf(dir) }
    } finally {
      removeTree(dir)
    }
    fs.mkdirSync(CACHE, { recursive: true })
    fs.writeFileSync(cached, JSON.stringify(entry))
  }
  const covered = {}
  for (const { rel, mutants } of files) {
    covered[rel] = new Map()
    for (const [i, m] of mutants.entries()) {
      if (ran(entry.common[rel], m.probe)) covered[rel].set(i, null)
      else {
        const by = entry.tests.filter((t) => ran(t.scripts[rel], m.probe)).map((t) => t.name)
        // code run at load (a module constant) runs in the test that first requires the
        // file, and its value then serves every later test of that process: the file runs whole
        if (by.length) covered[rel].set(i, m.atLoad ? null : [...new Set(by)])
      }
    }
  }
  // the time of the file's own part (loading, hooks), which any selection of its tests takes
  const overhead = Math.max(0, entry.ms - entry.tests.reduce((ms, t) => ms + t.ms, 0))
  const msOf = (names) => (names ? overhead + entry.tests.filter((t) => names.includes(t.name)).reduce((ms, t) => ms + t.ms, 0) : entry.ms)
  return { ms: entry.ms, passed: entry.passed, tests: entry.tests.length, covered, msOf }
}

function listFiles() {
  const walk = (dir) =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = `${dir}/${e.name}`
      return e.isDirectory() ? walk(rel) : rel.endsWith('.js') ? [rel] : []
    })
  return walk('lib/js')
}

/** The command line: `--re REGEX` (repeatable), `--whole-files`, `--jobs N`, then lib/js files. */
function parseArgs(argv) {
  const options = { re: [], wholeFiles: false, jobs: 1, files: [] }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--re') options.re.push(argv[++i])
    else if (argv[i] === '--whole-files') options.wholeFiles = true
    else if (argv[i] === '--jobs') options.jobs = Number(argv[++i])
    else options.files.push(path.relative(SOURCE, path.resolve(argv[i])))
  }
  if (!Number.isInteger(options.jobs) || options.jobs < 1) throw new Error('--jobs takes a whole number of at least 1')
  return options
}

/**
 * Run the selections that execute a mutant (the mutated file written in the worker's tree),
 * fastest first, until one catches it; a selection of part of a file that catches it is checked
 * once unmutated (`passes` caches it), and its file runs whole instead if it fails unmutated.
 * The outcome and the test file that decided it.
 */
async function judge(units, worker, passes) {
  const run = (test, timeoutMs, patterns) => runTests([test], { timeoutMs, patterns, cwd: worker.root, env: worker.env })
  for (const unit of units) {
    const timeoutMs = (ms) => Math.max(60_000, 3 * ms)
    let status = (await run(unit.test, timeoutMs(unit.ms), unit.patterns)).status
    if (status !== 'missed' && unit.patterns.length) {
      const key = `${unit.test}\0${unit.patterns.join('\0')}`
      if (!passes.has(key)) {
        worker.restore()
        passes.set(key, (await run(unit.test, timeoutMs(unit.ms), unit.patterns)).status === 'missed')
        worker.mutate()
        if (!passes.get(key)) console.error(`  (${unit.test} ${unit.patterns.join(' ')} fails unmutated: that file runs whole)`)
      }
      if (!passes.get(key)) status = (await run(unit.test, timeoutMs(unit.whole))).status
    }
    if (status !== 'missed') return { status, by: unit.test }
  }
  return { status: 'missed' }
}

/**
 * The trees mutants are tested in: the first is ROOT (where coverage ran); with --jobs N, N-1
 * more copies, each with a temp folder of its own (TMPDIR), so that two mutants tested at once
 * never share a file, nor the default lock and backup folders the code puts in the temp dir.
 * Why more than one: much of a test's time is spent waiting (on processes it starts and kills,
 * on lock polls, on fsync), not computing, so a second tree keeps an idle core busy.
 */
function workersOf(jobs) {
  return Array.from({ length: jobs }, (_, k) => {
    const root = k === 0 ? ROOT : copyTree()
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `sr-mutants-w${k}-`))
    if (k > 0) process.on('exit', () => removeTree(root))
    process.on('exit', () => removeTree(tmp))
    return { root, env: { ...process.env, TMPDIR: tmp }, restore: () => {}, mutate: () => {} }
  })
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const { files } = options
  ROOT = copyTree()
  process.on('exit', () => removeTree(ROOT))
  const chosen = files.length ? files : listFiles()
  const started = new Date()
  const outcomes = {}
  const flags = [...options.re.flatMap((re) => ['--re', re]), ...(options.wholeFiles ? ['--whole-files'] : [])]
  let targets = [] // { rel, original, mutants } per file
  const result = (stopped) => ({
    kind: 'js',
    started: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 1000),
    command: `npm run mutants -- js ${[...flags, ...(options.jobs > 1 ? ['--jobs', options.jobs] : []), ...files].join(' ')}${stopped ? ` (stopped by hand after ${Object.keys(outcomes).length} mutants)` : ''}`.trim(),
    files: stopped ? [...new Set(Object.keys(outcomes).map((n) => n.split(':')[0]))] : chosen,
    // how many mutants each file has (not excluded, matching --re): a stopped run ran fewer
    planned: Object.fromEntries(targets.map((t) => [t.rel, t.mutants.length])),
    outcomes,
  })
  // stopped (a run does not always fit in a sitting): what it got to is still a result (the
  // trees are copies, removed on exit: nothing to restore)
  const onSignal = () => {
    for (const pid of running)
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {}
    process.stdout.write(JSON.stringify(result(true)), () => process.exit(0))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const nameOf = (rel, m) => `${rel}:${m.line}:${m.col}: ${m.description}`
  targets = chosen.map((rel) => {
    const original = fs.readFileSync(path.join(ROOT, rel), 'utf8')
    const mutants = mutantsOf(original)
      .filter((m) => !EXCLUDED.some(([re]) => re.test(nameOf(rel, m))))
      .filter((m) => !options.re.length || options.re.some((re) => new RegExp(re).test(nameOf(rel, m))))
    return { rel, original, mutants }
  })
  // which tests execute each mutant (each test file once, unmutated, with coverage per test)
  const shared = sharedKey()
  const runs = []
  for (const test of testFiles()) {
    const cov = await coverageOf(test, targets, shared)
    const hits = Object.values(cov.covered).reduce((n, map) => n + map.size, 0)
    console.error(`coverage: ${test} ${Math.round(cov.ms / 1000)} s, ${cov.tests} tests, ${cov.passed ? `executes ${hits} mutants` : 'FAILS unmutated: not used'}`)
    if (cov.passed && hits) runs.push({ test, ...cov })
  }
  const workers = workersOf(options.jobs)
  const passes = new Map()
  for (const { rel, original, mutants } of targets) {
    console.error(`${rel}: ${mutants.length} mutants`)
    // Which test file catches a mutant first is only a matter of time, never of outcome: the
    // files that caught this file's mutants so far go first (by time per kill; the many small
    // selections that never catch one cost more in starting processes than they take), and the mutants
    // some test file executes outside its tests (code run at load: a constant, a top-level
    // flag), which then runs whole, come last, when that order has been learnt.
    const kills = new Map()
    const unitsOf = (i) =>
      runs
        .filter((r) => r.covered[rel].has(i))
        .map((r) => {
          const names = options.wholeFiles ? null : r.covered[rel].get(i)
          return { test: r.test, ms: r.msOf(names), whole: r.ms, patterns: names ? names.map(exactly) : [], names }
        })
    const order = mutants.map((m, i) => ({ m, i, late: unitsOf(i).some((u) => u.names === null) }))
    order.sort((a, b) => a.late - b.late || a.i - b.i)
    // one mutant at a time per worker, each in its own tree
    const test = async (worker, { m, i }) => {
      const name = nameOf(rel, m)
      const file = path.join(worker.root, rel)
      worker.restore = () => fs.writeFileSync(file, original)
      worker.mutate = () => fs.writeFileSync(file, original.slice(0, m.start) + m.replacement + original.slice(m.end))
      const killed = (u) => kills.get(u.test) || 0
      const cost = (u) => [killed(u) ? 0 : 1, u.ms / (1 + killed(u))]
      const units = unitsOf(i).sort((a, b) => cost(a)[0] - cost(b)[0] || cost(a)[1] - cost(b)[1])
      let status = 'no coverage'
      if (units.length) {
        worker.mutate()
        const t0 = Date.now()
        try {
          const outcome = await judge(units, worker, passes)
          status = outcome.status
          if (outcome.by) kills.set(outcome.by, (kills.get(outcome.by) || 0) + 1)
        } finally {
          worker.restore()
        }
        const by = units.map((u) => `${path.basename(u.test, '.test.js')}${u.names ? `[${u.names.length}]` : ''}`)
        console.error(`  ${status.padEnd(11)} ${name} (${Math.round((Date.now() - t0) / 100) / 10} s; ${by.join(', ')})`)
      } else console.error(`  ${status.padEnd(11)} ${name}`)
      outcomes[name] = status
    }
    let next = 0
    await Promise.all(
      workers.map(async (worker) => {
        while (next < order.length) await test(worker, order[next++])
      }),
    )
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
