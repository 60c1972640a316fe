'use strict'
// Child processes for the regression checks: always an argument list (no shell string, so
// paths with spaces and Windows both work), Node's own timeout (no `timeout` binary), and
// asynchronous, so a Ctrl+C reaches our handlers while a test runs. A child still running
// when this process exits is killed with it.

const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')

const running = new Set()
let exitHookInstalled = false

function killRunning() {
  for (const child of running) {
    try {
      child.kill('SIGTERM')
    } catch {
      // already gone
    }
  }
}

/**
 * Run `command args` in `cwd`; resolves `{ status, signal, stdout, stderr, timedOut, error }`
 * (never rejects). Output is kept up to `maxOutput` characters per stream.
 */
function run(command, args, { cwd, timeoutMs = 60000, env = process.env, maxOutput = 1 << 20 } = {}) {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.on('exit', killRunning)
  }
  return new Promise((resolve) => {
    let child
    try {
      child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
    } catch (error) {
      resolve({ status: null, signal: null, stdout: '', stderr: '', timedOut: false, error })
      return
    }
    running.add(child)
    const out = { stdout: '', stderr: '' }
    for (const stream of ['stdout', 'stderr']) {
      child[stream].setEncoding('utf8')
      child[stream].on('data', (chunk) => {
        if (out[stream].length < maxOutput) out[stream] += chunk
      })
    }
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    let spawnError = null
    child.on('error', (err) => {
      spawnError = err
    })
    child.on('close', (status, signal) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({ status, signal, ...out, timedOut, error: spawnError })
    })
  })
}

/** Run a JavaScript file with this Node. */
function runNodeScript(file, options = {}) {
  return run(process.execPath, [file, ...(options.args || [])], { cwd: path.dirname(file), ...options })
}

/** npm's CLI script in an install whose bin folder is `dir` (POSIX or Windows layout), or null. */
function npmCliIn(dir) {
  const candidates = [
    path.join(dir, 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    path.join(dir, '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ]
  try {
    // `npm` on PATH is usually a link to the CLI script (version managers keep npm apart)
    const real = fs.realpathSync(path.join(dir, 'npm'))
    if (/npm-cli\.js$/.test(real)) candidates.unshift(real)
  } catch {
    // no `npm` in this folder
  }
  return candidates.find((p) => fs.existsSync(p)) || null
}

/**
 * The npm CLI script to run with this Node, or null: the one running us, the one beside
 * this Node, else the first on PATH. The script, not `npm` itself: npm.cmd cannot be
 * spawned without a shell.
 */
function npmCliPath() {
  const fromEnv = process.env.npm_execpath
  if (fromEnv && /npm-cli\.js$/.test(fromEnv) && fs.existsSync(fromEnv)) return fromEnv
  const dirs = [path.dirname(process.execPath), ...(process.env.PATH || '').split(path.delimiter).filter(Boolean)]
  for (const dir of dirs) {
    const cli = npmCliIn(dir)
    if (cli) return cli
  }
  return null
}

/** The `scripts.test` of `<root>/package.json`, or null. */
function npmTestScript(root) {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
    const script = pkg && pkg.scripts && pkg.scripts.test
    return typeof script === 'string' && !/no test specified/.test(script) ? script : null
  } catch {
    return null
  }
}

/** `npm test --silent` in `root`; null when there is no test script or no npm. */
async function runNpmTest(root, { timeoutMs = 60000 } = {}) {
  if (!npmTestScript(root)) return null
  const cli = npmCliPath()
  if (!cli) return null
  // The child's npm must not think it runs inside ours (npm_*), and a `node --test` in it
  // must report as TAP, not to a parent test runner (NODE_TEST_CONTEXT).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE_TEST_CONTEXT'))
  return run(process.execPath, [cli, 'test', '--silent'], { cwd: root, timeoutMs, env })
}

module.exports = { run, runNodeScript, runNpmTest, npmCliPath, npmTestScript }
