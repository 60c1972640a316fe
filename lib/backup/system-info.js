'use strict'
// What a backup learns from outside programs: git (text or a coded error), whether a command
// exists, and the state snapshot (the user's own processes, listening ports, the shown
// environment variables) with every credential-looking value masked or left out.

const os = require('node:os')
const { spawnSync, execFile } = require('node:child_process')
const { codedError } = require('../js/errors')
const { redactArgs } = require('./redact')

const SECRET_NAME = /secret|token|passw|pwd|key|credential|auth|private|cookie|session|signature|salt/i
const SHOWN_ENV = ['NODE_ENV', 'USER', 'LOGNAME', 'HOME', 'SHELL', 'LANG', 'TERM', 'PATH', 'PWD', 'npm_lifecycle_event']

/** git with an argument list in `cwd`: stdout, or null when git fails or is missing. */
function gitText(cwd, args) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  return r.status === 0 ? r.stdout : null
}

/**
 * A command's stdout, off the event loop (a backup's steps: Ctrl+C must not wait for them),
 * or null when it fails or is missing; `signal` kills it, which then rejects (ECANCELED).
 */
function outputOf(cmd, args, options, signal) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options, signal }, (err, stdout) => {
      if (err && err.name === 'AbortError') reject(codedError('ECANCELED', `${cmd} ${args[0]}: cancelled`))
      else resolve(err ? null : stdout)
    })
  })
}

/** `gitText`, off the event loop and killed by `signal`. */
const gitTextAsync = (cwd, args, signal) => outputOf('git', args, { cwd }, signal)

function gitOrThrow(cwd, args) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.error) throw codedError(r.error.code === 'ENOENT' ? 'ENOCOMMAND' : 'EIO', `Cannot run git: ${r.error.message}`)
  if (r.status !== 0) throw codedError('ECOMMAND', `git ${args.join(' ')} failed: ${String(r.stderr).trim()}`)
  return r.stdout
}

function hasCommand(cmd) {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' })
  return !r.error && r.status === 0
}

/** A value that looks like a credential: long random-looking text, or a URL with a password. */
function looksSecret(value) {
  const v = String(value)
  if (/:\/\/[^/\s:@]+:[^/\s@]+@/.test(v)) return true
  return /^[A-Za-z0-9+/_=.-]{24,}$/.test(v) && /\d/.test(v) && /[A-Za-z]/.test(v) && !v.includes('/')
}

/** The user's own processes (`ps -u <uid>`), arguments with credentials masked. */
async function ownProcesses(signal) {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return []
  const stdout = await outputOf('ps', ['-u', String(process.getuid()), '-o', 'pid=,ppid=,etime=,args='], {}, signal)
  if (stdout === null) return []
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [pid, ppid, elapsed, ...cmd] = line.trim().split(/\s+/)
      return { pid: Number(pid), ppid: Number(ppid), elapsed, command: redactArgs(cmd.join(' ')) }
    })
}

async function listeningPorts(signal) {
  const stdout = await outputOf('ss', ['-ltnH'], {}, signal)
  if (stdout === null) return []
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[3])
    .filter(Boolean)
}

/**
 * The legacy `system-info.json` fields, without other users' processes or secret-looking
 * values; `signal` stops `ps` and `ss`.
 */
async function systemInfo(signal = undefined) {
  const environment = {}
  for (const name of SHOWN_ENV) {
    const value = process.env[name]
    if (value !== undefined && !SECRET_NAME.test(name) && !looksSecret(value)) environment[name] = value
  }
  return {
    timestamp: new Date().toISOString(),
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
    cwd: process.cwd(),
    hostname: os.hostname(),
    environment,
    processes: await ownProcesses(signal),
    ports: await listeningPorts(signal),
  }
}

module.exports = { gitText, gitTextAsync, gitOrThrow, hasCommand, systemInfo }
