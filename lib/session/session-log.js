'use strict'
// The resilient wrapper's log. Legacy: `/tmp/agenthive-session.log` for every project and
// user, lines ended by a literal "\n" (one endless line). Here: one file per workspace,
// `<root>/backups/session.log` (the backups folder is made owner-only if missing), or
// `<os tmp>/session-resilience-<root name>-<hash of root>.log` when that folder cannot be
// made (a read-only checkout); real newlines; owner-only; rotated to `<file>.old` past 1 MiB.

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROTATE_BYTES = 1024 * 1024

function logFileFor(root) {
  const backups = path.join(root, 'backups')
  try {
    fs.mkdirSync(backups, { mode: 0o700 })
    // as BackupSystem does: git never picks up what lands here
    fs.writeFileSync(path.join(backups, '.gitignore'), '*\n', { mode: 0o600, flag: 'wx' })
  } catch {
    // exists already, or cannot be made: checked below
  }
  try {
    const st = fs.lstatSync(backups)
    if (st.isDirectory()) {
      fs.accessSync(backups, fs.constants.W_OK)
      return path.join(backups, 'session.log')
    }
  } catch {
    // not writable: the temp dir
  }
  const hash = crypto.createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 8)
  const name = path.basename(path.resolve(root)).replace(/[^A-Za-z0-9_-]/g, '_') || 'root'
  return path.join(os.tmpdir(), `session-resilience-${name}-${hash}.log`)
}

class SessionLog {
  constructor(file, { verbose = false, rotateBytes = ROTATE_BYTES } = {}) {
    this.file = file
    this.verbose = verbose
    this.rotateBytes = rotateBytes
  }

  /** Append one line; a logging failure never fails the command (it warns when verbose). */
  log(message, level = 'INFO') {
    const line = `[${new Date().toISOString()}] [${level}] ${String(message).replace(/\r?\n/g, '\n    ')}\n`
    if (this.verbose) console.log(`🔍 LOG: ${message}`)
    try {
      this.rotateIfNeeded(Buffer.byteLength(line))
      fs.appendFileSync(this.file, line, { mode: 0o600 })
    } catch (err) {
      if (this.verbose) console.warn(`⚠️  Logging failed: ${err.message}`)
    }
  }

  rotateIfNeeded(incoming) {
    let size = 0
    try {
      size = fs.statSync(this.file).size
    } catch {
      return
    }
    if (size + incoming > this.rotateBytes) fs.renameSync(this.file, `${this.file}.old`)
  }

  /** `{ size, mtime }` of the log, or null. */
  stat() {
    try {
      const st = fs.statSync(this.file)
      return { size: st.size, mtime: st.mtime }
    } catch {
      return null
    }
  }

  /** The last `n` non-empty lines. */
  tail(n = 50) {
    let text
    try {
      text = fs.readFileSync(this.file, 'utf8')
    } catch {
      return null
    }
    return text.split('\n').filter((l) => l.trim() !== '').slice(-n)
  }
}

module.exports = { SessionLog, logFileFor, ROTATE_BYTES }
