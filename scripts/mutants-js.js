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
// literal flipped), and for each one writes the mutated file, runs the test files that cover
// that module (the TESTS table below) and restores the file. Like cargo-mutants it works in a
// copy of the tree (node_modules linked, target/ and .git left out): the source tree is never
// modified, and other runs can use it meanwhile. A mutant is caught when a test fails (the
// run stops at the first failure), a timeout when the tests run past 3 x their unmutated time
// (killed, counted as caught), missed when they pass.
//
//   node scripts/mutants-js.js [lib/js files...]     (default: every file of lib/js)

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
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

/** The test files that exercise each module of lib/js (first match wins). */
const TESTS = [
  [/^lib\/js\/lock\//, ['__test__/locks.test.js']],
  [/^lib\/js\/(process|time)\.js$/, ['__test__/locks.test.js']],
  [/^lib\/js\/(validate|parse|repair)\.js$/, ['__test__/validation-helpers.test.js']],
  [/^lib\/js\/backup\//, ['__test__/backup-system.test.js']],
  [/^lib\/js\/errors\.js$/, ['__test__/errors.test.js', '__test__/safe-file-operations.test.js']],
  [/^lib\/js\//, ['__test__/safe-file-operations.test.js']],
]

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

function runTests(tests, timeoutMs) {
  return new Promise((resolve) => {
    const started = Date.now()
    // its own process group, so that a timeout or the first failure kills the test files'
    // processes too
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...tests], {
      cwd: ROOT,
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

const testsFor = (rel) => TESTS.find(([re]) => re.test(rel))[1]

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
  const baselines = new Map()
  let restore = null
  const onSignal = () => {
    if (restore) restore()
    try {
      if (running) process.kill(-running, 'SIGKILL')
    } catch {}
    process.exit(130)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  for (const rel of chosen) {
    const tests = testsFor(rel)
    const key = tests.join(' ')
    if (!baselines.has(key)) {
      const base = await runTests(tests, 30 * 60 * 1000)
      if (base.status !== 'missed') throw new Error(`the unmutated tests fail: ${key}`)
      baselines.set(key, base.ms)
    }
    const file = path.join(ROOT, rel)
    const original = fs.readFileSync(file, 'utf8')
    restore = () => fs.writeFileSync(file, original)
    const mutants = mutantsOf(original).filter((m) => !EXCLUDED.some(([re]) => re.test(`${rel}:${m.line}:${m.col}: ${m.description}`)))
    console.error(`${rel}: ${mutants.length} mutants, tests ${key} (${Math.round(baselines.get(key) / 1000)} s each)`)
    try {
      for (const m of mutants) {
        fs.writeFileSync(file, original.slice(0, m.start) + m.replacement + original.slice(m.end))
        const r = await runTests(tests, Math.max(60_000, 3 * baselines.get(key)))
        const name = `${rel}:${m.line}:${m.col}: ${m.description}`
        outcomes[name] = r.status
        console.error(`  ${r.status.padEnd(7)} ${name}`)
      }
    } finally {
      restore()
      restore = null
    }
  }
  const result = {
    kind: 'js',
    started: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 1000),
    command: `npm run mutants -- js ${files.join(' ')}`.trim(),
    files: chosen,
    outcomes,
  }
  process.stdout.write(JSON.stringify(result))
}

module.exports = { mutantsOf }
if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
}
