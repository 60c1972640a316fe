'use strict'
// Shared by every suite: both backends, fresh temp directories, and child processes.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const BACKENDS = ['native', 'js']

let suiteRoot = null

/** A fresh directory under the OS temp dir; all of them are removed when the process exits. */
function tempDir(prefix = 'sr-test-') {
  if (!suiteRoot) {
    suiteRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-suite-'))
    process.on('exit', () => fs.rmSync(suiteRoot, { recursive: true, force: true }))
  }
  return fs.mkdtempSync(path.join(suiteRoot, prefix))
}

/**
 * Register `fn(backend)` once per backend, as subtests of `t` (node:test).
 * Each backend's run gets its own temp directory through `ctx.dir`.
 */
async function eachBackend(t, fn) {
  for (const backend of BACKENDS) {
    await t.test(backend, async (st) => fn({ backend, dir: tempDir(`sr-${backend}-`), t: st }))
  }
}

/** Run `fn(backend, dir)` on both backends and return both results, for parity asserts. */
function onBoth(fn) {
  return Object.fromEntries(BACKENDS.map((b) => [b, fn(b, tempDir(`sr-${b}-`))]))
}

/** Capture console.log/warn/error lines while running `fn`. */
function captureConsole(fn) {
  const lines = []
  const saved = {}
  for (const level of ['log', 'warn', 'error']) {
    saved[level] = console[level]
    console[level] = (...args) => lines.push(`${level}: ${args.join(' ')}`)
  }
  try {
    return { result: fn(), lines }
  } finally {
    Object.assign(console, saved)
  }
}

/** Spawn a CLI of bin/ synchronously. */
function runBin(name, args, { backend, env = {}, cwd = ROOT, input } = {}) {
  return spawnSync(process.execPath, [path.join(ROOT, 'bin', `${name}.js`), ...args], {
    cwd,
    input,
    encoding: 'utf8',
    env: { ...process.env, ...(backend ? { SESSION_RESILIENCE_BACKEND: backend } : {}), ...env },
  })
}

/** Start a node child running `script` (a string) with the given backend. */
function spawnNode(script, { backend, env = {}, args = [] } = {}) {
  return spawn(process.execPath, ['-e', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...(backend ? { SESSION_RESILIENCE_BACKEND: backend } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Resolve with the first stdout line of `child` matching `re`; reject if it exits first. */
function waitForLine(child, re) {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.stdout.on('data', (d) => {
      out += d
      const m = out.split('\n').find((l) => re.test(l))
      if (m) resolve(m)
    })
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before "${re}": ${out} ${err}`)))
  })
}

function hasCommand(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0

module.exports = { waitForLine, ROOT, BACKENDS, tempDir, eachBackend, onBoth, captureConsole, runBin, spawnNode, hasCommand, isRoot }
