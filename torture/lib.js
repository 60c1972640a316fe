'use strict'
// Shared by the torture sections: temp dirs, child processes, strace, tables.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const BACKENDS = ['native', 'js']

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sr-torture-${prefix}-`))
}

function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n')
}

/**
 * Spawn `node -e script ...args`, SIGKILL it `delayMs` after it prints its first line.
 * Resolves `{ code, signal, stderr, afterReadyMs }` (ms from that line to the exit).
 */
function killAfterReady(script, args, env, delayMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    let ready = null
    let timer = null
    child.stderr.on('data', (d) => (stderr += d))
    child.stdout.once('data', () => {
      ready = Date.now()
      timer = setTimeout(() => child.kill('SIGKILL'), delayMs)
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stderr, afterReadyMs: ready === null ? null : Date.now() - ready })
    })
  })
}

/** A node script as a string that requires a module of this package by its path. */
function requireLib(name) {
  return `require(${JSON.stringify(path.join(ROOT, 'lib', name))})`
}

function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options })
}

function listing(dir) {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []
}

module.exports = { ROOT, BACKENDS, tempDir, table, killAfterReady, requireLib, run, listing }
