'use strict'
// As core/src/backup/restore.rs, with lib/js/contained.js for every path (lstat walks,
// O_NOFOLLOW): no symlink anywhere on the way, `.git/` and `backups/` never targets, the
// previous file kept in backups/pre-restore/<ms>-<pid>-<n>/. The race the JS backend cannot
// close is described in lib/js/contained.js.

const path = require('node:path')

const { codedError, withContext, checkPath } = require('../errors')
const contained = require('../contained')
const { runCommand } = require('./command')
const { plainTempName, removeQuietly } = require('./common')
const { isSqlite, copyDatabaseSync, BUSY_TIMEOUT_MS } = require('./sqlite')

const PREVIOUS_DIR = 'backups/pre-restore'
let previousSeq = 0

function pathEscape(text, why) {
  return codedError('EPATHESCAPE', `Refusing path ${text}: ${why}`)
}

function checkRelative(text) {
  checkPath('path', text)
  if (path.isAbsolute(text) || text.startsWith('/') || text.startsWith('\\')) {
    throw pathEscape(text, 'absolute paths are not restored')
  }
  const parts = process.platform === 'win32' ? text.split(/[\\/]/) : text.split('/')
  if (parts.includes('..')) throw pathEscape(text, "it leads out with '..'")
}

/** A name as Windows and macOS compare it: case-folded, trailing dots and spaces dropped. */
const folded = (name) => name.replace(/[. ]+$/, '').toLowerCase()

function checkTarget(text) {
  checkRelative(text)
  const names = text
    .split(process.platform === 'win32' ? /[\\/]+/ : /\/+/)
    .filter((p) => p !== '' && p !== '.')
    .map(folded)
  if (names.includes('.git')) throw pathEscape(text, 'files in .git/ are never restored')
  if (names[0] === 'backups') throw pathEscape(text, 'files in backups/ are never restored')
  if (names.length === 0) throw pathEscape(text, 'it names the root itself')
}

function backupContainedPath(root, original) {
  checkPath('root', root)
  checkTarget(original)
  const parts = original.split(process.platform === 'win32' ? /[\\/]+/ : /\/+/).filter((p) => p !== '' && p !== '.')
  for (let i = 1; i <= parts.length; i++) {
    const found = contained.containedStat(root, parts.slice(0, i).join('/'))
    if (found === null) break
    if (found.type === 'symlink') throw pathEscape(original, 'it goes through a symbolic link')
  }
  return path.join(root, original)
}

/** `[base, rel]` to read the backup `source` through: below the root when it is inside it. */
function sourceBase(root, source) {
  const rel = path.relative(root, source)
  if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return [root, rel]
  return [path.dirname(source), path.basename(source)]
}

/** The target's kind: null when missing; refused when a link or not a regular file. */
function targetKind(root, original) {
  backupContainedPath(root, original)
  const found = contained.containedStat(root, original)
  if (found === null) return null
  if (found.type === 'symlink') throw pathEscape(original, 'it is a symbolic link')
  if (found.type !== 'file') throw pathEscape(original, `it is a ${found.type}, not a regular file`)
  return found
}

/** A new `backups/pre-restore/<ms>-<pid>-<n>` folder (0700); its path relative to the root. */
function previousDir(root) {
  contained.containedMkdir(root, 'backups', true)
  // one new folder per kept file: two restores of one file in one ms must not collide
  const rel = `${PREVIOUS_DIR}/${Date.now()}-${process.pid}-${previousSeq++}`
  contained.containedMkdir(root, rel, false)
  return rel
}

function backupRestoreFile(root, original, source) {
  checkPath('root', root)
  checkPath('source', source)
  checkTarget(original)
  const [base, rel] = sourceBase(root, source)
  let data
  try {
    data = contained.containedRead(base, rel)
  } catch (err) {
    throw withContext(`Cannot read backup ${source}`, err)
  }
  const existing = targetKind(root, original)
  let previous = null
  if (existing !== null) {
    const keep = `${previousDir(root)}/${original}`
    try {
      contained.containedCopy(root, original, root, keep)
    } catch (err) {
      throw withContext(`Cannot keep ${path.join(root, original)}`, err)
    }
    previous = path.join(root, keep)
  }
  contained.containedWrite(root, original, data, { fsync: true })
  return { target: path.join(root, original), previous }
}

function backupRestoreDatabase(root, original, source) {
  checkPath('root', root)
  checkPath('source', source)
  checkTarget(original)
  const [base, rel] = sourceBase(root, source)
  const found = contained.containedStat(base, rel)
  if (found === null) throw codedError('ENOENT', `Cannot read backup ${source}: ENOENT: no such file or directory`)
  if (found.type !== 'file') throw pathEscape(source, `it is a ${found.type}, not a regular file`)
  const existing = targetKind(root, original)
  const target = path.join(root, original)
  const sqliteBoth = isSqlite(source) && (existing === null || isSqlite(target))
  if (!sqliteBoth) return backupRestoreFile(root, original, source)
  const dir = path.dirname(target)
  contained.containedMkdir(root, path.dirname(original) === '.' ? '' : path.dirname(original), false)
  let previous = null
  if (existing !== null) {
    const keep = `${previousDir(root)}/${original}`
    contained.containedMkdir(root, path.dirname(keep), false)
    copyDatabaseSync(target, path.join(root, keep))
    previous = path.join(root, keep)
  }
  // `.restore` reads the backup through SQLite; a plain temp name avoids any quoting.
  const staged = plainTempName(dir, '.db-restore-')
  try {
    contained.containedCopy(base, rel, dir, path.basename(staged))
    runCommand('sqlite3', ['-cmd', `.timeout ${BUSY_TIMEOUT_MS}`, target, `.restore ${path.basename(staged)}`], dir)
  } catch (err) {
    throw codedError(err.code || 'EIO', `Database restore of ${target} failed: ${err.message}`)
  } finally {
    removeQuietly(staged)
  }
  return { target, previous }
}

module.exports = {
  backupContainedPath,
  backupRestoreFile,
  backupRestoreDatabase,
  // shared with the manifest
  checkRelative,
  pathEscape,
}
