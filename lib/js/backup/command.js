'use strict'
// Running git, tar and sqlite3 (the twin of core/src/backup/git.rs's `run`): always with
// argument lists (never a shell); a missing command is ENOCOMMAND, a failure its errno.

const { spawn, spawnSync } = require('node:child_process')

const { codedError, osError } = require('../errors')
const { cancelToken, running } = require('./cancel')

const COMMAND_TIMEOUT_MS = 30 * 60 * 1000 // a stuck command fails instead of hanging the caller
const NEEDED_FOR = { git: 'the code backup', tar: 'the archive', sqlite3: 'database copies on the js backend' }

function missingCommand(cmd) {
  return codedError('ENOCOMMAND', `The ${cmd} command is not installed or not on PATH (needed for ${NEEDED_FOR[cmd]})`)
}

// What a failing command says, as the errno it means: the OS's own words (strerror, from
// tar, gzip, git) and SQLite's. A command that fails for one of these reasons fails with that
// code, as the native backend does, not with ECOMMAND.
const ERRNO_TEXT = [
  [/No space left on device|database or disk is full/, 'ENOSPC'],
  [/Disk quota exceeded/, 'EDQUOT'],
  [/Read-only file system|attempt to write a readonly database/, 'EROFS'],
  [/Permission denied/, 'EACCES'],
  [/Input\/output error|disk I\/O error/, 'EIO'],
  [/File too large/, 'EFBIG'],
  [/Is a directory/, 'EISDIR'],
  [/database disk image is malformed|file is not a database/, 'ECORRUPT'],
]

/** The coded error of a command that ran and failed. */
function commandFailed(cmd, args, how, stderr) {
  const text = String(stderr).trim()
  const errno = ERRNO_TEXT.find(([re]) => re.test(text))
  if (!errno) return codedError('ECOMMAND', `${cmd} ${args.join(' ')} failed (${how}): ${text}`)
  return codedError(errno[1], `${cmd} ${args.join(' ')} failed (${how}): ${errno[1]}: ${text}`)
}

/** Run `cmd args` in `cwd`; stdout, or a coded error (ENOCOMMAND, ECOMMAND, or the errno it reports). */
function runCommand(cmd, args, cwd) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: COMMAND_TIMEOUT_MS,
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  })
  if (r.error) {
    if (r.error.code === 'ENOENT') throw missingCommand(cmd)
    throw osError(`Cannot run ${cmd}`, r.error)
  }
  if (r.status !== 0) {
    throw commandFailed(cmd, args, r.signal ? `signal: ${r.signal}` : `exit status: ${r.status}`, r.stderr)
  }
  return r.stdout
}

/**
 * The same, off the event loop: `{ stdout, stderr }` (stdout only when `keepStdout`). A
 * command killed by `backupCancel()` fails with ECANCELED.
 */
function runCommandAsync(cmd, args, cwd, { tolerated = () => false, keepStdout = false } = {}) {
  const token = cancelToken()
  return new Promise((resolve, reject) => {
    token.check(`${cmd} ${args[0]}`)
    // a process group of its own (detached), for backupCancel() to kill with its children;
    // a Ctrl+C at the terminal then reaches us only, and we stop it
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'], detached: process.platform !== 'win32' })
    running.add(child)
    let stderr = ''
    const stdout = []
    child.stderr.on('data', (d) => {
      if (stderr.length < 65536) stderr += d
    })
    if (keepStdout) child.stdout.on('data', (d) => stdout.push(d))
    child.on('error', (err) => reject(err.code === 'ENOENT' ? missingCommand(cmd) : osError(`Cannot run ${cmd}`, err)))
    child.on('close', (status, signal) => {
      running.delete(child)
      if (token.cancelled()) return reject(codedError('ECANCELED', `${cmd} ${args[0]}: cancelled`))
      if (status === 0 || (status !== null && tolerated(status, stderr))) {
        return resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr })
      }
      reject(commandFailed(cmd, args, signal ? `signal: ${signal}` : `exit status: ${status}`, stderr))
    })
  })
}

module.exports = { runCommand, runCommandAsync, missingCommand }
