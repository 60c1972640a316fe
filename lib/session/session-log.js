'use strict'
// The resilient wrapper's log. Legacy: `/tmp/agenthive-session.log` for every project and
// user, lines ended by a literal "\n" (one endless line), appended through whatever was at
// that shared name. Here: one file per workspace, `<root>/backups/session.log` (the backups
// folder made owner-only), or, when that folder cannot be used (a read-only checkout, a
// `backups` that is a file or a symlink), `<name>-<hash of root>.log` in a private 0700
// folder of the user's (`$XDG_CACHE_HOME` or `~/.cache`, `%LOCALAPPDATA%` on Windows, else
// `<os tmp>/session-resilience-<uid>`, refused when someone else owns it). Real newlines;
// owner-only; rotated to `<file>.old` past 1 MiB. Every append goes through the backend's
// contained access (`O_NOFOLLOW | O_APPEND`, regular files only): a `session.log` that is a
// symlink, a FIFO or a device gets nothing.

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { resolveBackend } = require('../backend')

const ROTATE_BYTES = 1024 * 1024
const TAIL_BYTES = 4 * ROTATE_BYTES

const bindingOf = (backend) => resolveBackend(backend).binding

/** The user's private log folder (0700, theirs), or null when none can be had. */
function privateLogDir(binding) {
  const cache =
    process.platform === 'win32'
      ? process.env.LOCALAPPDATA
      : process.env.XDG_CACHE_HOME || (os.homedir() ? path.join(os.homedir(), '.cache') : '')
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user'
  const candidates = [cache && [cache, 'session-resilience'], [os.tmpdir(), `session-resilience-${uid}`]]
  for (const candidate of candidates.filter(Boolean)) {
    const [parent, name] = candidate
    try {
      fs.mkdirSync(parent, { recursive: true, mode: 0o700 })
      binding.containedMkdir(parent, name, true)
      return path.join(parent, name)
    } catch {
      // not usable (not ours, a symlink, read-only): the next one
    }
  }
  return null
}

function logFileFor(root, backend) {
  const binding = bindingOf(backend)
  try {
    binding.containedMkdir(root, 'backups', true)
    // as BackupSystem does: git never picks up what lands here
    try {
      binding.containedWrite(root, 'backups/.gitignore', '*\n', { exclusive: true, fsync: false })
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
    }
    return path.join(root, 'backups', 'session.log')
  } catch {
    // not a usable folder of ours: the private fallback
  }
  const hash = crypto.createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 8)
  const name = path.basename(path.resolve(root)).replace(/[^A-Za-z0-9_-]/g, '_') || 'root'
  const dir = privateLogDir(binding) || os.tmpdir()
  return path.join(dir, `session-resilience-${name}-${hash}.log`)
}

class SessionLog {
  constructor(file, { verbose = false, rotateBytes = ROTATE_BYTES, backend } = {}) {
    this.file = file
    this.base = path.dirname(file)
    this.name = path.basename(file)
    this.verbose = verbose
    this.rotateBytes = rotateBytes
    this.binding = bindingOf(backend)
  }

  /** Append one line; a logging failure never fails the command (it warns when verbose). */
  log(message, level = 'INFO') {
    const line = `[${new Date().toISOString()}] [${level}] ${String(message).replace(/\r?\n/g, '\n    ')}\n`
    if (this.verbose) console.log(`🔍 LOG: ${message}`)
    try {
      this.rotateIfNeeded(Buffer.byteLength(line))
      this.binding.containedAppend(this.base, this.name, line)
    } catch (err) {
      if (this.verbose) console.warn(`⚠️  Logging failed: ${err.message}`)
    }
  }

  rotateIfNeeded(incoming) {
    const found = this.binding.containedStat(this.base, this.name)
    if (found === null || found.type !== 'file') return
    // renames the entry itself (never what a link points to) within the same folder
    if (found.size + incoming > this.rotateBytes) fs.renameSync(this.file, `${this.file}.old`)
  }

  /** `{ size, mtime }` of the log, or null. */
  stat() {
    try {
      const found = this.binding.containedStat(this.base, this.name)
      if (found === null || found.type !== 'file') return null
      return { size: found.size, mtime: fs.lstatSync(this.file).mtime }
    } catch {
      return null
    }
  }

  /** The last `n` non-empty lines. */
  tail(n = 50) {
    let text
    try {
      text = this.binding.containedRead(this.base, this.name, TAIL_BYTES).toString('utf8')
    } catch {
      return null
    }
    return text.split('\n').filter((l) => l.trim() !== '').slice(-n)
  }
}

module.exports = { SessionLog, logFileFor, privateLogDir, ROTATE_BYTES }
