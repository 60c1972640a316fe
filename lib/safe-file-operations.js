'use strict'
// Drop-in for the legacy `safe-file-operations.js`: the same exports (the singleton's
// functions and the class), arguments, defaults and results, on the native or the JS
// backend (lib/backend.js), plus `run(argv)` / `main()` for its CLI.

const path = require('node:path')
const { resolveBackend } = require('./backend')
const { ensurePrivateDir } = require('./js/fsx')
const { checkArgs } = require('./args')
const { lockOptions } = require('./binding-args')
const { printJson, main: runMain, runCommand, usage } = require('./cli')
const { isOsError } = require('./js/errors')
const { safeJsonRead } = require('./safe-json-read')

const { lockDirOf } = require('./js/lock/options')
const { backupDirOf } = require('./js/fsx')

const DAY_MS = 24 * 3600 * 1000

// What each method accepts (lib/args.js), checked before any backend is called.
const SPEC = {
  atomicWrite: [['filePath', 'path'], ['content', 'content'], ['options', 'optOptions']],
  safeJsonRead: [['filePath', 'path']], // a validator that is not a function is ignored, as legacy did
  backupFile: [['filePath', 'path'], ['label', 'optString']],
  verifyChecksum: [['filePath', 'path'], ['expectedChecksum', 'optString']],
  createBackupPath: [['filePath', 'path']],
  cleanupOldBackups: [['maxAge', 'optNumber']],
  acquireLock: [['identifier', 'string'], ['timeout', 'optNumber'], lockOptions],
  lockQuery: [['identifier', 'string'], lockOptions],
  listLocks: [lockOptions],
  withLock: [['identifier', 'string'], ['fn', 'function'], lockOptions],
}
// The legacy message prefixes, naming the file.
const CONTEXT = {
  atomicWrite: (p) => `Atomic write failed for ${p}`,
  safeJsonRead: (p) => `Failed to read ${p}`,
  backupFile: (p) => `Backup failed for ${p}`,
  verifyChecksum: (p) => `Checksum failed for ${p}`,
}

/** The legacy line for each dead holder's lock removed on the way; the lock file path. */
function reportTaken(identifier, { lockPath, brokenPids }) {
  for (const pid of brokenPids) console.warn(`Removing stale lock for ${identifier} (process ${pid} not found)`)
  return lockPath
}

class SafeFileOperations {
  /**
   * @param {{ lockDir?: string, backupDir?: string, backend?: 'native' | 'js' }} [options]
   * Directories are created (owner-only) on first use, not here.
   */
  constructor(options = {}) {
    const { name, binding } = resolveBackend(options.backend)
    this.backend = name
    this.binding = binding
    this.lockDir = lockDirOf(options)
    this.backupDir = backupDirOf(options)
  }

  /**
   * Legacy: create the lock and backup folders. Both are made owner-only (0700); a folder
   * that cannot be made is a warning, as legacy had it (the operation that needs it fails
   * with its own error later).
   */
  ensureLockDirectories() {
    for (const dir of [this.lockDir, this.backupDir]) {
      try {
        ensurePrivateDir(dir)
      } catch (err) {
        console.warn(`⚠️  Could not create directory ${dir}: ${err.message}`)
      }
    }
  }

  /**
   * Legacy: the path a backup of `filePath` would get, `<backupDir>/<name>.<ms>.bak` (a name
   * `cleanupOldBackups` recognises). Only a path: nothing is created; `backupFile` makes
   * backups (exclusively, with a label).
   */
  createBackupPath(filePath) {
    checkArgs(SPEC.createBackupPath, [filePath])
    return path.join(this.backupDir, `${path.basename(String(filePath))}.${Date.now()}.bak`)
  }

  atomicWrite(filePath, content, options) {
    checkArgs(SPEC.atomicWrite, [filePath, content, options], CONTEXT.atomicWrite)
    return this.binding.atomicWrite(filePath, content, options)
  }

  atomicWriteAsync(filePath, content, options) {
    checkArgs(SPEC.atomicWrite, [filePath, content, options], CONTEXT.atomicWrite)
    return this.binding.atomicWriteAsync(filePath, content, options)
  }

  safeJsonRead(filePath, defaultValue = null, validator = null) {
    checkArgs(SPEC.safeJsonRead, [filePath], CONTEXT.safeJsonRead)
    return safeJsonRead(this.binding, filePath, defaultValue, validator, { backupDir: this.backupDir })
  }

  /** The backup's path; null when the file does not exist, or (logged) when the OS refused the copy. */
  backupFile(filePath, label = 'auto') {
    checkArgs(SPEC.backupFile, [filePath, label], CONTEXT.backupFile)
    try {
      return this.binding.backupFile(filePath, label, { backupDir: this.backupDir })
    } catch (err) {
      // a source that is not a regular file (a FIFO, a device, a link) is refused, not a
      // failed copy: EINVAL reaches the caller
      if (!isOsError(err) || err.code === 'EINVAL') throw err
      console.error(`Failed to create backup: ${err.message}`)
      return null
    }
  }

  verifyChecksum(filePath, expectedChecksum = null) {
    checkArgs(SPEC.verifyChecksum, [filePath, expectedChecksum], CONTEXT.verifyChecksum)
    return this.binding.verifyChecksum(filePath, expectedChecksum)
  }

  verifyChecksumAsync(filePath, expectedChecksum = null) {
    checkArgs(SPEC.verifyChecksum, [filePath, expectedChecksum], CONTEXT.verifyChecksum)
    return this.binding.verifyChecksumAsync(filePath, expectedChecksum)
  }

  /** How many backups were removed; 0 (logged) when the cleanup failed. */
  cleanupOldBackups(maxAge = 7 * DAY_MS) {
    checkArgs(SPEC.cleanupOldBackups, [maxAge])
    let removed
    try {
      removed = this.binding.cleanupOldBackups(maxAge, { backupDir: this.backupDir })
    } catch (err) {
      console.error(`Failed to cleanup old backups: ${err.message}`)
      return 0
    }
    if (removed > 0) console.log(`Cleaned up ${removed} old backup files`)
    return removed
  }

  // ---- locks (see core/src/lock/ for the protocol) ----

  lockOptions(options) {
    return { ...options, lockDir: (options && options.lockDir) || this.lockDir }
  }

  /** Legacy: the lock file path, or throws `Lock timeout for <id> after <ms>ms` (ELOCKTIMEOUT). */
  acquireLock(identifier, timeout = 5000, options = {}) {
    checkArgs(SPEC.acquireLock, [identifier, timeout, options])
    return reportTaken(identifier, this.binding.acquireLock(identifier, timeout, this.lockOptions(options)))
  }

  /** Resolves to the lock file path; waits off the event loop. Options: timeout, staleMs, pollMs. */
  acquireLockAsync(identifier, options = {}) {
    checkArgs(SPEC.lockQuery, [identifier, options])
    return this.binding.acquireLockAsync(identifier, this.lockOptions(options)).then((taken) => reportTaken(identifier, taken))
  }

  /** Legacy: true when removed or absent; false, with its message, when not ours or unreadable. */
  releaseLock(identifier) {
    checkArgs(SPEC.lockQuery, [identifier])
    const outcome = this.binding.releaseLock(identifier, { lockDir: this.lockDir })
    if (outcome.ownerPid !== undefined && outcome.ownerPid !== null) {
      console.warn(`Attempted to release lock owned by PID ${outcome.ownerPid}`)
    } else if (!outcome.released) console.error(`Failed to release lock for ${identifier}: ${outcome.error}`)
    return outcome.released
  }

  getLockInfo(identifier, options = {}) {
    checkArgs(SPEC.lockQuery, [identifier, options])
    return this.binding.getLockInfo(identifier, this.lockOptions(options))
  }

  listLocks(options = {}) {
    checkArgs(SPEC.listLocks, [options])
    return this.binding.listLocks(this.lockOptions(options))
  }

  /**
   * Run `fn()` holding the lock, and release it however `fn` ends. A `fn` that returns a
   * promise keeps the lock until the promise settles.
   */
  withLock(identifier, fn, options = {}) {
    checkArgs(SPEC.withLock, [identifier, fn, options])
    this.acquireLock(identifier, options.timeout === undefined ? 5000 : options.timeout, options)
    let result
    try {
      result = fn()
    } catch (err) {
      this.releaseLock(identifier)
      throw err
    }
    if (result && typeof result.then === 'function') {
      return Promise.resolve(result).finally(() => this.releaseLock(identifier))
    }
    this.releaseLock(identifier)
    return result
  }

  /** `withLock` whose wait does not block the event loop. */
  async withLockAsync(identifier, fn, options = {}) {
    checkArgs(SPEC.withLock, [identifier, fn, options])
    await this.acquireLockAsync(identifier, options)
    try {
      return await fn()
    } finally {
      this.releaseLock(identifier)
    }
  }
}

let singleton = null
function instance() {
  if (!singleton) singleton = new SafeFileOperations()
  return singleton
}

// ---- CLI ---------------------------------------------------------------------------------

const USAGE = `
🛠️  Safe File Operations CLI

Usage:
  node safe-file-operations.js backup <file> [label]    Create backup
  node safe-file-operations.js cleanup [days]          Clean old backups (default: 7)
  node safe-file-operations.js locks                   Show active locks
  node safe-file-operations.js checksum <file>         Show file checksum
  node safe-file-operations.js help                    Show this help

Examples:
  node safe-file-operations.js backup phase-tracker.json session-start
  node safe-file-operations.js cleanup 3
  node safe-file-operations.js locks

Options: --json (one JSON document on stdout; locks: the full records).
backup labels are 1-64 of A-Z a-z 0-9 _ -; cleanup removes only files named like our backups;
locks are STALE when the holder is dead (or unknowable and older than 30 s).
Exit codes: 0 ok, 1 failure, 2 usage error.`

const commands = {
  backup: {
    run({ instance: ops, args: [file, label = 'manual'], json }) {
      if (!file) throw usage('backup needs a <file>')
      const backupPath = ops.backupFile(file, label)
      if (json) printJson({ ok: backupPath !== null, backupPath })
      else console.log(backupPath ? `✅ Backup created: ${backupPath}` : '❌ Backup failed')
      return backupPath ? 0 : 1
    },
  },
  cleanup: {
    run({ instance: ops, args: [days], json }) {
      const n = days === undefined ? 7 : Number(days)
      if (!Number.isFinite(n) || n < 0) throw usage(`cleanup needs a number of days, got "${days}"`)
      const removed = ops.cleanupOldBackups(n * DAY_MS)
      if (json) printJson({ ok: true, removed })
      else console.log(`🧹 Cleaned ${removed} old backups`)
      return 0
    },
  },
  locks: {
    run({ instance: ops, json }) {
      const locks = ops.listLocks()
      if (json) {
        printJson({ lockDir: ops.lockDir, locks })
        return 0
      }
      console.log(`🔒 Lock Directory: ${ops.lockDir}`)
      if (locks.length === 0) console.log('No active locks')
      for (const l of locks) {
        if (l.corrupted) console.log(`  ${l.identifier}: CORRUPTED (${l.error})`)
        else console.log(`  ${l.identifier}: ${l.stale ? 'STALE' : 'ACTIVE'} (PID: ${l.pid}, Age: ${l.age}ms)`)
      }
      return 0
    },
  },
  checksum: {
    run({ instance: ops, args: [file], json }) {
      if (!file) throw usage('checksum needs a <file>')
      const result = ops.verifyChecksum(file)
      if (json) printJson({ file, ...result })
      else if (result.valid) console.log(`✅ ${file}: ${result.checksum}`)
      else console.log(`❌ ${file}: ${result.error}`)
      return result.valid ? 0 : 1
    },
  },
}

/** The CLI: `run(['backup', 'file.json'])` resolves to the exit code. */
function run(argv) {
  return runCommand(argv, { usage: USAGE, commands, create: instance })
}

module.exports = {
  atomicWrite: (...a) => instance().atomicWrite(...a),
  atomicWriteAsync: (...a) => instance().atomicWriteAsync(...a),
  safeJsonRead: (...a) => instance().safeJsonRead(...a),
  backupFile: (...a) => instance().backupFile(...a),
  verifyChecksum: (...a) => instance().verifyChecksum(...a),
  verifyChecksumAsync: (...a) => instance().verifyChecksumAsync(...a),
  cleanupOldBackups: (...a) => instance().cleanupOldBackups(...a),
  acquireLock: (...a) => instance().acquireLock(...a),
  acquireLockAsync: (...a) => instance().acquireLockAsync(...a),
  releaseLock: (...a) => instance().releaseLock(...a),
  getLockInfo: (...a) => instance().getLockInfo(...a),
  withLock: (...a) => instance().withLock(...a),
  withLockAsync: (...a) => instance().withLockAsync(...a),
  listLocks: (...a) => instance().listLocks(...a),
  SafeFileOperations,
  run,
  main: (arg) => runMain(run, arg),
}
