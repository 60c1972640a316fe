'use strict'
// Drop-in for the legacy `safe-file-operations.js`: the same exports (the singleton's
// functions and the class), arguments, defaults and results, on the native or the JS
// backend (lib/backend.js), plus `run(argv)` / `main()` for its CLI.

const { resolveBackend } = require('./backend')
const { printJson, main: runMain, runCommand, usage } = require('./cli')
const { isOsError } = require('./js/errors')
const { safeJsonRead } = require('./safe-json-read')

const { lockDirOf } = require('./js/lock/options')
const { backupDirOf } = require('./js/fsx')

const DAY_MS = 24 * 3600 * 1000

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

  atomicWrite(filePath, content, options) {
    return this.binding.atomicWrite(filePath, content, options)
  }

  atomicWriteAsync(filePath, content, options) {
    return this.binding.atomicWriteAsync(filePath, content, options)
  }

  safeJsonRead(filePath, defaultValue = null, validator = null) {
    return safeJsonRead(this.binding, filePath, defaultValue, validator, { backupDir: this.backupDir })
  }

  /** The backup's path; null when the file does not exist, or (logged) when the OS refused the copy. */
  backupFile(filePath, label = 'auto') {
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
    return this.binding.verifyChecksum(filePath, expectedChecksum)
  }

  verifyChecksumAsync(filePath, expectedChecksum = null) {
    return this.binding.verifyChecksumAsync(filePath, expectedChecksum)
  }

  /** How many backups were removed; 0 (logged) when the cleanup failed. */
  cleanupOldBackups(maxAge = 7 * DAY_MS) {
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
    return reportTaken(identifier, this.binding.acquireLock(identifier, timeout, this.lockOptions(options)))
  }

  /** Resolves to the lock file path; waits off the event loop. Options: timeout, staleMs, pollMs. */
  acquireLockAsync(identifier, options = {}) {
    return this.binding.acquireLockAsync(identifier, this.lockOptions(options)).then((taken) => reportTaken(identifier, taken))
  }

  /** Legacy: true when removed or absent; false, with its message, when not ours or unreadable. */
  releaseLock(identifier) {
    const outcome = this.binding.releaseLock(identifier, { lockDir: this.lockDir })
    if (outcome.ownerPid !== undefined && outcome.ownerPid !== null) {
      console.warn(`Attempted to release lock owned by PID ${outcome.ownerPid}`)
    } else if (!outcome.released) console.error(`Failed to release lock for ${identifier}: ${outcome.error}`)
    return outcome.released
  }

  getLockInfo(identifier, options = {}) {
    return this.binding.getLockInfo(identifier, this.lockOptions(options))
  }

  listLocks(options = {}) {
    return this.binding.listLocks(this.lockOptions(options))
  }

  /**
   * Run `fn()` holding the lock, and release it however `fn` ends. A `fn` that returns a
   * promise keeps the lock until the promise settles.
   */
  withLock(identifier, fn, options = {}) {
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

const USAGE = `Safe File Operations Utility

Usage: node safe-file-operations.js <command> [args] [--json]

Commands:
  backup <file> [label]    Create a backup of a file (label default: manual)
  cleanup [days]           Remove backups older than <days> days (default 7)
  locks                    List lock files: ACTIVE, or STALE (holder dead, or unknowable
                           and older than 30 s); --json for the full records
  checksum <file>          Print the SHA-256 of a file
  help                     Show this help`

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
      else console.log(`✅ Cleanup completed: ${removed} old backup file(s) removed`)
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
      console.log(`Lock directory: ${ops.lockDir}`)
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
  main: (argv) => runMain(run, argv),
}
