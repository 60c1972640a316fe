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

/** The npm CLI script to run with this Node, or null: npm.cmd cannot be spawned without a shell. */
function npmCliPath() {
  const candidates = []
  const fromEnv = process.env.npm_execpath
  if (fromEnv && /npm-cli\.js$/.test(fromEnv)) candidates.push(fromEnv)
  const nodeDir = path.dirname(process.execPath)
  candidates.push(
    path.join(nodeDir, 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    path.join(nodeDir, '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  )
  return candidates.find((p) => fs.existsSync(p)) || null
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
