'use strict'
// Database copies and checks with the sqlite3 command, as core/src/backup/sqlite.rs (which
// says why VACUUM INTO and not a byte copy or the shell's `.backup`).

const fs = require('node:fs')
const path = require('node:path')

const { codedError, osError, checkPath } = require('../errors')
const { runCommand, runCommandAsync } = require('./command')
const { plainTempName, removeQuietly } = require('./common')
const { containedStat } = require('../contained')

const BUSY_TIMEOUT_MS = 30000

const NOFOLLOW = fs.constants.O_NOFOLLOW || 0

/** Does `file` start with SQLite's header (a link at its name is not read)? */
function isSqlite(file) {
  let fd = null
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | NOFOLLOW)
    const header = Buffer.alloc(16)
    return fs.readSync(fd, header, 0, 16, 0) === 16 && header.toString('latin1') === 'SQLite format 3\0'
  } catch {
    return false
  } finally {
    if (fd !== null) fs.closeSync(fd)
  }
}

/** Copy the bytes of `src` (never through a link at its name) to the new file `dest`. */
function copyNoFollow(src, dest) {
  const fd = fs.openSync(src, fs.constants.O_RDONLY | NOFOLLOW)
  try {
    fs.writeFileSync(dest, fs.readFileSync(fd), { flag: 'wx', mode: 0o600 })
  } finally {
    fs.closeSync(fd)
  }
}

/** `fn(value)`, after `value` resolved when it is a promise: one body for sync and async runners. */
const after = (value, fn) => (value instanceof Promise ? value.then(fn) : fn(value))

/**
 * A database's consistent copy at `dest`: `run(cmd, args, cwd)` runs the sqlite3 commands,
 * `runCommand` (restore keeps the previous database this way, synchronously) or
 * `runCommandAsync` (a backup: off the event loop, killed by `backupCancel()`). Resolves, or
 * returns, `'sqlite'` or `'bytes'`. `nofollow`: sqlite3 refuses a link anywhere in `src`.
 */
function copyDatabase(src, dest, run, nofollow = false) {
  checkPath('src', src)
  checkPath('dest', dest)
  const context = `Database backup of ${src} failed`
  const dir = path.dirname(dest)
  const temp = plainTempName(dir, '.db-copy-')
  const fail = (err) => {
    removeQuietly(temp)
    // a command's failure (no syscall: ours) keeps its whole text; an fs error is wrapped
    if (!err.syscall) throw codedError(err.code || 'EIO', `${context}: ${err.message}`)
    throw osError(context, err)
  }
  const finish = () => {
    const fd = fs.openSync(temp, 'r+')
    if (process.platform !== 'win32') fs.fchmodSync(fd, 0o600) // owner-only, like everything under backups/
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fs.renameSync(temp, dest)
  }
  try {
    if (!isSqlite(src)) {
      copyNoFollow(src, temp)
      finish()
      return 'bytes'
    }
    // VACUUM INTO copies the database as of one read transaction (the shell's `.backup`
    // steps 100 pages at a time and restarts at every concurrent write: under a steady
    // writer it never ends). The temp name needs no quoting (cwd = its dir). Not
    // -readonly: a hot journal left by a crashed writer must be rolled back first, which
    // needs a connection that may write (core/src/backup/sqlite.rs says why this way).
    const copied = after(run('sqlite3', [...(nofollow ? ['-nofollow'] : []), '-cmd', `.timeout ${BUSY_TIMEOUT_MS}`, src, `VACUUM INTO '${path.basename(temp)}';`], dir), () =>
      after(run('sqlite3', [temp, 'PRAGMA journal_mode=DELETE;'], dir), () => {
        finish()
        return 'sqlite'
      }),
    )
    return copied instanceof Promise ? copied.catch(fail) : copied
  } catch (err) {
    fail(err)
  }
}

/**
 * Off the event loop; `backupCancel()` kills sqlite3 (ECANCELED), as the native task stops.
 * With `root`, `src` is a live database below it: refused when a link is on the way or at
 * its name (EPATHESCAPE), and sqlite3 is given it below the root's real path with
 * `-nofollow` (it refuses a path with a link anywhere in it). What js cannot do: sqlite3
 * opens by name, so a folder swapped for a link between its check and its open still
 * wins; the native backend gives SQLite a held folder instead (core/src/backup/sqlite.rs).
 */
async function backupCopyDatabase(src, dest, root) {
  if (root === undefined || root === null || root === '') return copyDatabase(src, dest, runCommandAsync)
  checkPath('root', root)
  checkPath('src', src)
  const rel = path.relative(root, src)
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) throw codedError('EPATHESCAPE', `Refusing database ${src}: not below ${root}`)
  const found = containedStat(root, rel)
  if (found === null) throw codedError('ENOENT', `Database ${src} does not exist`)
  if (found.type === 'symlink') throw codedError('EPATHESCAPE', `Refusing database ${src}: it is a symbolic link`)
  if (found.type !== 'file') throw codedError('EINVAL', `Refusing database ${src}: not a regular file (a ${found.type})`)
  return copyDatabase(path.join(fs.realpathSync.native(root), rel), dest, runCommandAsync, true)
}

/** The same, synchronously (restore keeps the database it replaces). */
const copyDatabaseSync = (src, dest) => copyDatabase(src, dest, runCommand)

function backupIntegrityCheck(db) {
  checkPath('db', db)
  try {
    return runCommand('sqlite3', ['-readonly', db, 'PRAGMA integrity_check;'], path.dirname(db)).trim()
  } catch (err) {
    throw codedError(err.code, `Integrity check of ${db} failed: ${err.message}`)
  }
}

module.exports = { isSqlite, backupCopyDatabase, copyDatabaseSync, backupIntegrityCheck, BUSY_TIMEOUT_MS }
