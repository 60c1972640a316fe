'use strict'
// The legacy `backupFile` copies of single files (`<name>.<label>.<stamp>.bak`), their cleanup,
// and finding them again, as core/src/fsx/copies.rs. (Backup *sets* are lib/js/backup/.)

const fs = require('node:fs')
const path = require('node:path')

const { openRegular } = require('../contained')
const { codedError, osError, checkPath } = require('../errors')
const { checkLabel, backupFileName, parseBackupName } = require('../names')
const { tempName, sweepDeadTemps } = require('./atomic')
const { CHUNK } = require('./checksum')
const { backupDirOf, ensurePrivateDir } = require('./dirs')

const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000

/** Copy the open source `fd` into a new owner-only temp file (backups may hold secrets). */
function copyFromFd(source, temp) {
  const fd = fs.openSync(temp, 'wx', 0o600)
  try {
    const buf = Buffer.allocUnsafe(CHUNK)
    let n
    while ((n = fs.readSync(source, buf, 0, CHUNK, null)) > 0) {
      for (let off = 0; off < n; ) off += fs.writeSync(fd, buf, off, n - off)
    }
    fs.fchmodSync(fd, 0o600)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

function copyIntoPlace(source, basename, label, dir) {
  const temp = path.join(dir, tempName(basename))
  try {
    copyFromFd(source, temp)
    const ms = Date.now()
    for (let serial = 0; ; serial++) {
      const target = path.join(dir, backupFileName(basename, label, ms, serial))
      try {
        fs.linkSync(temp, target) // never replaces: a collision moves on to the next serial
        return target
      } catch (err) {
        if (err.code !== 'EEXIST') throw err
      }
    }
  } finally {
    try {
      fs.unlinkSync(temp)
    } catch {
      // already gone
    }
  }
}

function backupFile(filePath, label = 'auto', options) {
  checkPath('filePath', filePath)
  const lbl = label === undefined || label === null ? 'auto' : label
  checkLabel(lbl)
  // a regular file only (lstat, O_NOFOLLOW | O_NONBLOCK, fstat): a FIFO would block the copy,
  // a link to /dev/zero would fill the disk
  let source
  try {
    source = openRegular(filePath, fs.constants.O_RDONLY)
  } catch (err) {
    if (err.code === 'ENOENT') return null
    if (err.code === 'EINVAL' || err.code === 'EPATHESCAPE') {
      throw codedError('EINVAL', `Backup failed for ${filePath}: refusing the source: ${err.message}`)
    }
    // the OS refused the lstat or the open (openRegular keeps its error as the cause): under the
    // legacy prefix, as the native backend says it
    throw err.cause ? osError(`Backup failed for ${filePath}`, err.cause) : err
  }
  try {
    const dir = backupDirOf(options)
    ensurePrivateDir(dir)
    sweepDeadTemps(dir)
    return copyIntoPlace(source, path.basename(filePath), lbl, dir)
  } catch (err) {
    throw err.syscall ? osError(`Backup failed for ${filePath}`, err) : err
  } finally {
    fs.closeSync(source)
  }
}

function cleanupOldBackups(maxAge = SEVEN_DAYS_MS, options) {
  const age = typeof maxAge === 'number' && Number.isFinite(maxAge) ? Math.max(0, maxAge) : SEVEN_DAYS_MS
  const dir = backupDirOf(options)
  const cutoff = Date.now() - age
  let removed = 0
  try {
    let names
    try {
      names = fs.readdirSync(dir)
    } catch (err) {
      if (err.code === 'ENOENT') return 0
      throw err
    }
    for (const name of names) {
      if (!parseBackupName(name)) continue
      const full = path.join(dir, name)
      let st
      try {
        st = fs.lstatSync(full)
      } catch {
        continue
      }
      if (st.isFile() && st.mtimeMs < cutoff) {
        fs.unlinkSync(full)
        removed++
      }
    }
  } catch (err) {
    throw osError(`Backup cleanup failed in ${dir}`, err)
  }
  return removed
}

/** Backups of `basename` in `dir`, newest first: [{ path, ms, serial }]. */
function backupsOf(basename, dir) {
  let names
  try {
    names = fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
  return names
    .filter((e) => e.isFile())
    .map((e) => ({ parsed: parseBackupName(e.name), path: path.join(dir, e.name) }))
    .filter((b) => b.parsed && b.parsed.basename === basename)
    .sort((a, b) => b.parsed.ms - a.parsed.ms || b.parsed.serial - a.parsed.serial)
}

module.exports = { backupFile, cleanupOldBackups, backupsOf }
