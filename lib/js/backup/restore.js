'use strict'
// As core/src/backup/restore.rs, with lib/js/contained.js for every path (lstat walks,
// O_NOFOLLOW): no symlink anywhere on the way, `.git/` and `backups/` never targets, the
// previous file kept in backups/pre-restore/<ms>-<pid>-<n>/. The race the JS backend cannot
// close is described in lib/js/contained.js.

const fs = require('node:fs')
const path = require('node:path')

const { codedError, withContext, checkPath } = require('../errors')
const contained = require('../contained')
const { newScratch } = require('../scratch')
const { isSqlite, copyDatabaseSync } = require('./sqlite')
const { SIDE_FILES } = require('./common')

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

/**
 * The target's held parent folder (made as needed), its name and kind (null when missing;
 * refused when a link or not a regular file). On Linux the folder is a descriptor
 * (lib/js/held.js): every later read, write and rename of the target goes through
 * `/proc/<pid>/fd/<n>/<name>`, so a folder on the way swapped for a symlink after this
 * changes nothing. `parent.close()` when done.
 */
function targetAt(root, original) {
  backupContainedPath(root, original)
  const parts = contained.namesOf(original)
  const name = parts.pop()
  const parent = contained.holdDir(root, parts.join('/'), true)
  try {
    const found = contained.containedStat(parent, name)
    if (found !== null && found.type === 'symlink') throw pathEscape(original, 'it is a symbolic link')
    if (found !== null && found.type !== 'file') throw pathEscape(original, `it is a ${found.type}, not a regular file`)
    return { parent, name, existing: found }
  } catch (err) {
    parent.close()
    throw err
  }
}

/** A new held `backups/pre-restore/<ms>-<pid>-<n>` folder (0700) and its path. */
function previousDir(root) {
  contained.containedMkdir(root, 'backups', true)
  // one new folder per kept file: two restores of one file in one ms must not collide
  const rel = `${PREVIOUS_DIR}/${Date.now()}-${process.pid}-${previousSeq++}`
  contained.containedMkdir(root, rel, false)
  return { keep: contained.holdDir(root, rel, false), keepPath: path.join(root, rel) }
}

/** `copy(keep)` into a new held pre-restore folder `keep`; the path of the kept `original`. */
function keepPrevious(root, original, copy) {
  const { keep, keepPath } = previousDir(root)
  try {
    copy(keep)
  } catch (err) {
    throw withContext(`Cannot keep ${path.join(root, original)}`, err)
  } finally {
    keep.close()
  }
  return path.join(keepPath, original)
}

/** A restore's result: `previous` only when a file was kept (the native object has no key otherwise). */
const restored = (target, previous) => (previous === null ? { target } : { target, previous })

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
  const { parent, name, existing } = targetAt(root, original)
  try {
    const previous = existing === null ? null : keepPrevious(root, original, (keep) => contained.containedCopy(parent, name, keep, original))
    contained.containedWrite(parent, name, data, { fsync: true })
    return restored(path.join(root, original), previous)
  } finally {
    parent.close()
  }
}

/** Names in a restore's scratch folder, as core/src/backup/restore.rs. */
const BACKUP = 'backup.sqlite'
const CURRENT = 'current.sqlite'
const KEPT = 'kept.sqlite'
const RESTORED = 'restored.sqlite'

/** The live database `name` of the held `parent` (and its journal and WAL) copied into `scratch` as CURRENT. */
function copyCurrent(parent, name, scratch) {
  contained.containedCopy(parent, name, scratch, CURRENT)
  for (const suffix of ['-journal', '-wal']) {
    const side = contained.containedStat(parent, name + suffix)
    if (side !== null && side.type === 'file') contained.containedCopy(parent, name + suffix, scratch, CURRENT + suffix)
  }
}

/** fsync the folder `dir` (a Held or a path), so a rename in it survives a power loss; Windows cannot. */
function syncDir(dir) {
  if (process.platform === 'win32') return
  if (dir instanceof contained.Held && dir.fd !== null) return fs.fsyncSync(dir.fd)
  const fd = fs.openSync(dir instanceof contained.Held ? dir.at() : dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Put the scratch file `name` at `rel` below the held folder `dest`: by a rename (one file
 * system: no copy; `exclusive` by link + unlink, which never replaces what is at the name),
 * else (`EXDEV`) by a copy through the held folders; the folder it entered is fsynced.
 */
function putFromScratch(scratch, name, dest, rel, exclusive) {
  const parts = contained.namesOf(rel)
  const last = parts.pop()
  const into = parts.length ? contained.descend(dest, parts, true) : dest
  const from = path.join(scratch, name)
  try {
    const to = path.join(into.at(), last)
    try {
      if (exclusive) {
        fs.linkSync(from, to)
        fs.unlinkSync(from)
      } else fs.renameSync(from, to)
    } catch (err) {
      if (err.code !== 'EXDEV') throw withContext(`Cannot move ${from} to ${path.join(into.path, last)}`, err)
      if (exclusive) contained.containedCopy(scratch, name, into, last)
      else contained.containedWrite(into, last, contained.containedRead(scratch, name, Infinity), { fsync: true })
    }
    syncDir(into)
  } finally {
    if (into !== dest) into.close()
  }
}

/**
 * As core/src/backup/restore.rs: SQLite (the sqlite3 command, which resolves every link of a
 * path itself and cannot be given a held one) works only in a private scratch folder
 * (lib/js/scratch.js says why); the backup and the live database are copied there, the
 * previous database kept and the restored one put back through the held parent folder
 * (targetAt), by rename where the temp dir is on the project's file system, replacing the
 * target atomically (a user holding the old file open keeps the old content, never a mix).
 */
function backupRestoreDatabase(root, original, source) {
  checkPath('root', root)
  checkPath('source', source)
  checkTarget(original)
  const [base, rel] = sourceBase(root, source)
  const found = contained.containedStat(base, rel)
  if (found === null) throw codedError('ENOENT', `Cannot read backup ${source}: ENOENT: no such file or directory`)
  if (found.type !== 'file') throw pathEscape(source, `it is a ${found.type}, not a regular file`)
  const { parent, name, existing } = targetAt(root, original)
  const target = path.join(root, original)
  const scratch = newScratch()
  const at = (file) => path.join(scratch, file)
  try {
    contained.containedCopy(base, rel, scratch, BACKUP)
    if (existing !== null) copyCurrent(parent, name, scratch)
    const sqliteBoth = isSqlite(at(BACKUP)) && (existing === null || isSqlite(at(CURRENT)))
    if (!sqliteBoth) {
      parent.close()
      return backupRestoreFile(root, original, source)
    }
    let previous = null
    if (existing !== null) {
      copyDatabaseSync(at(CURRENT), at(KEPT))
      previous = keepPrevious(root, original, (keep) => putFromScratch(scratch, KEPT, keep, original, true))
    }
    try {
      copyDatabaseSync(at(BACKUP), at(RESTORED))
    } catch (err) {
      throw codedError(err.code || 'EIO', `Database restore of ${target} failed: ${err.message}`)
    }
    // a hot journal or WAL of the database replaced would be played into the restored one
    for (const suffix of SIDE_FILES) contained.containedRemove(parent, name + suffix)
    putFromScratch(scratch, RESTORED, parent, name, false)
    return restored(target, previous)
  } finally {
    parent.close()
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

module.exports = {
  backupContainedPath,
  backupRestoreFile,
  backupRestoreDatabase,
  // shared with the manifest
  checkRelative,
  pathEscape,
}
