'use strict'
// The JS backend of the safe file operations: the same contract as the Rust core
// (core/src/fsx/), with Node's fs. Read core/src/fsx/atomic.rs for the why of each step.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')

const { openRegular } = require('./contained')
const { codedError, osError, withContext, checkPath } = require('./errors')
const { checkLabel, backupFileName, parseBackupName } = require('./names')
const { fileStamp } = require('./time')
const { isDead } = require('./process')

const TEMP_MARKER = '.sr-tmp-'
const CHUNK = 256 * 1024
const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000
const DEFAULTS = require('./defaults.json')

/** The `backupFile` directory: `options.backupDir`, else the environment's, else `<tmpdir>/agenthive-backups`. */
function backupDirOf(options) {
  return (options && options.backupDir) || process.env[DEFAULTS.env.backupDir] || path.join(os.tmpdir(), DEFAULTS.dirNames.backupDir)
}

// ---- directories -------------------------------------------------------------------------

function ensurePrivateDir(dir) {
  checkPath('directory', dir)
  let exists = true
  try {
    fs.lstatSync(dir)
  } catch {
    exists = false
  }
  if (!exists) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw osError(`Cannot create directory ${dir}`, err)
    }
  }
  checkTrusted(dir)
  tightenOwnDir(dir)
}

function checkTrusted(dir) {
  let st
  try {
    st = fs.lstatSync(dir)
  } catch (err) {
    throw osError(`Cannot use directory ${dir}`, err)
  }
  if (st.isSymbolicLink()) throw codedError('EUNSAFEDIR', `Refusing directory ${dir}: it is a symbolic link`)
  if (!st.isDirectory()) throw codedError('ENOTDIR', `Cannot use directory ${dir}: not a directory`)
  if (typeof process.geteuid === 'function' && st.uid !== process.geteuid()) {
    const how = st.mode & 0o022 ? ' and writable by others' : ''
    throw codedError(
      'EUNSAFEDIR',
      `Refusing directory ${dir}: owned by uid ${st.uid}, not by this user (uid ${process.geteuid()})${how}; remove it or choose another folder`,
    )
  }
}

/** One of ours that others may read or write (legacy made 0755 folders): 0700, one warning. */
function tightenOwnDir(dir) {
  if (process.platform === 'win32') return
  const mode = fs.lstatSync(dir).mode & 0o777
  if (mode === 0o700) return
  fs.chmodSync(dir, 0o700)
  console.error(`session-resilience: warning: ${dir} was mode ${mode.toString(8)}; made owner-only (0700)`)
}

// ---- atomic write ------------------------------------------------------------------------

function tempName(base) {
  return `.${base}${TEMP_MARKER}${process.pid}-${crypto.randomBytes(9).toString('base64url')}`
}

/** The pid of the writer of a temp file (ours or the legacy module's), else null. */
function tempWriterPid(name) {
  const at = name.indexOf(TEMP_MARKER)
  if (at >= 0) {
    if (!name.startsWith('.')) return null
    const m = /^(\d+)-/.exec(name.slice(at + TEMP_MARKER.length))
    return m ? Number(m[1]) : null
  }
  const legacy = /(?:^|\.)tmp\.(\d{12,})\.(\d+)$/.exec(name)
  return legacy ? Number(legacy[2]) : null
}

function sweepDeadTemps(dir) {
  let names
  try {
    names = fs.readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    const pid = tempWriterPid(name)
    if (pid !== null && pid !== process.pid && isDead(pid)) {
      try {
        fs.unlinkSync(path.join(dir, name))
      } catch {
        // best effort: someone else swept it, or we may not
      }
    }
  }
}

function syncDir(dir) {
  if (process.platform === 'win32') return // no directory handles to flush; NTFS journals renames
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

function parentDir(filePath) {
  return path.dirname(filePath) || '.'
}

// Windows refuses to rename over a file another handle has open (EPERM/EACCES), often an
// antivirus or indexer holding it for a moment: retry with backoff for about a second, then
// report. Same policy as the core's persist_with_retry.
const RENAME_RETRY_BUDGET_MS = 1000

function isTransientRenameError(err) {
  return process.platform === 'win32' && (err.code === 'EPERM' || err.code === 'EACCES')
}

function renameWithRetry(from, to) {
  let delay = 5
  let waited = 0
  for (;;) {
    try {
      return fs.renameSync(from, to)
    } catch (err) {
      if (!isTransientRenameError(err) || waited >= RENAME_RETRY_BUDGET_MS) throw err
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay)
      waited += delay
      delay = Math.min(delay * 2, 200)
    }
  }
}

async function renameWithRetryAsync(from, to) {
  let delay = 5
  let waited = 0
  for (;;) {
    try {
      return await fs.promises.rename(from, to)
    } catch (err) {
      if (!isTransientRenameError(err) || waited >= RENAME_RETRY_BUDGET_MS) throw err
      await new Promise((resolve) => setTimeout(resolve, delay))
      waited += delay
      delay = Math.min(delay * 2, 200)
    }
  }
}

/** writeSync may write less than asked (a disk filling up): loop until all is written. */
function writeAll(fd, data) {
  let offset = 0
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset)
}

function writeReplacing(filePath, data, fsync) {
  const dir = parentDir(filePath)
  sweepDeadTemps(dir)
  let mode = 0o666
  try {
    mode = fs.statSync(filePath).mode & 0o7777
  } catch {
    // a new file: open(O_CREAT, 0666) and the umask decide, as for writeFileSync
  }
  const temp = path.join(dir, tempName(path.basename(filePath)))
  let fd = null
  try {
    fd = fs.openSync(temp, 'wx', 0o666)
    if (mode !== 0o666) fs.fchmodSync(fd, mode)
    writeAll(fd, data)
    if (fsync) fs.fsyncSync(fd)
    fs.closeSync(fd)
    fd = null
    renameWithRetry(temp, filePath)
  } catch (err) {
    if (fd !== null) fs.closeSync(fd)
    try {
      fs.unlinkSync(temp)
    } catch {
      // never created, or already renamed
    }
    throw err
  }
  if (fsync) syncDir(dir)
}

function toBytes(content) {
  if (typeof content === 'string') return Buffer.from(content, 'utf8')
  if (Buffer.isBuffer(content) || content instanceof Uint8Array) return content
  throw codedError('ERR_INVALID_ARG_TYPE', 'The "content" argument must be of type string or Buffer')
}

/** The checked arguments of an atomic write; a bad path is reported under the legacy message. */
function writeRequest(filePath, content, options) {
  const context = `Atomic write failed for ${filePath}`
  try {
    checkPath('filePath', filePath)
  } catch (err) {
    throw err.code === 'EBADPATH' ? withContext(context, err) : err
  }
  return { context, data: toBytes(content), fsync: !(options && options.fsync === false) }
}

function atomicWrite(filePath, content, options) {
  const { context, data, fsync } = writeRequest(filePath, content, options)
  try {
    writeReplacing(filePath, data, fsync)
  } catch (err) {
    throw osError(context, err)
  }
  return true
}

async function atomicWriteAsync(filePath, content, options) {
  // The sync path in a microtask would still block the loop; fs.promises keeps it free.
  const { context, data, fsync } = writeRequest(filePath, content, options)
  const fsp = fs.promises
  const dir = parentDir(filePath)
  sweepDeadTemps(dir)
  let mode = 0o666
  try {
    mode = (await fsp.stat(filePath)).mode & 0o7777
  } catch {
    // new file
  }
  const temp = path.join(dir, tempName(path.basename(filePath)))
  let handle = null
  try {
    handle = await fsp.open(temp, 'wx', 0o666)
    if (mode !== 0o666) await handle.chmod(mode)
    await handle.writeFile(data)
    if (fsync) await handle.sync()
    await handle.close()
    handle = null
    await renameWithRetryAsync(temp, filePath)
    if (fsync) syncDir(dir)
  } catch (err) {
    if (handle) await handle.close().catch(() => {})
    await fsp.unlink(temp).catch(() => {})
    throw osError(context, err)
  }
  return true
}

// ---- checksums ---------------------------------------------------------------------------

function checksumResult(digest, expected) {
  const want = expected ? String(expected) : null
  return want === null ? { valid: true, checksum: digest } : { valid: digest === want, checksum: digest, expected: want }
}

function verifyChecksum(filePath, expectedChecksum = null) {
  checkPath('filePath', filePath)
  if (!fs.existsSync(filePath)) return { valid: false, error: 'File does not exist' }
  let fd = null
  try {
    fd = fs.openSync(filePath, 'r')
    const hash = crypto.createHash('sha256')
    const buf = Buffer.allocUnsafe(CHUNK)
    let n
    while ((n = fs.readSync(fd, buf, 0, CHUNK, null)) > 0) hash.update(buf.subarray(0, n))
    return checksumResult(hash.digest('hex'), expectedChecksum)
  } catch (err) {
    return { valid: false, error: osError(filePath, err).message }
  } finally {
    if (fd !== null) fs.closeSync(fd)
  }
}

async function verifyChecksumAsync(filePath, expectedChecksum = null) {
  checkPath('filePath', filePath)
  if (!fs.existsSync(filePath)) return { valid: false, error: 'File does not exist' }
  try {
    const hash = crypto.createHash('sha256')
    for await (const chunk of fs.createReadStream(filePath, { highWaterMark: CHUNK })) hash.update(chunk)
    return checksumResult(hash.digest('hex'), expectedChecksum)
  } catch (err) {
    return { valid: false, error: osError(filePath, err).message }
  }
}

// ---- backups -----------------------------------------------------------------------------

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
    throw err.syscall ? osError(`Backup failed for ${filePath}`, err) : err
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

function parses(text) {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** Move `filePath` aside as `<name>.corrupt-<stamp>`, never over an existing file. */
function keepAside(filePath) {
  const aside = linkAside(filePath)
  fs.unlinkSync(filePath)
  return aside
}

/** A second name `<name>.corrupt-<stamp>` for `filePath`'s bytes; the file itself stays. */
function linkAside(filePath) {
  const stamp = fileStamp(Date.now())
  for (let serial = 0; ; serial++) {
    const aside = `${filePath}.corrupt-${stamp}${serial === 0 ? '' : `-${serial}`}`
    try {
      fs.linkSync(filePath, aside)
    } catch (err) {
      if (err.code === 'EEXIST') continue
      if (fs.existsSync(aside)) continue
      fs.copyFileSync(filePath, aside, fs.constants.COPYFILE_EXCL) // no hard links here
    }
    return aside
  }
}

/**
 * Move a JSON file that does not parse aside and restore its newest backup that parses:
 * `{ keptAs, restoredFrom, text }` (only `{ keptAs }` when none parses, as the native one).
 */
function recoverJsonFile(filePath, options) {
  checkPath('filePath', filePath)
  let keptAs
  try {
    keptAs = keepAside(filePath)
  } catch (err) {
    throw osError(`Cannot move damaged ${filePath} aside`, err)
  }
  for (const candidate of backupsOf(path.basename(filePath), backupDirOf(options))) {
    let text
    try {
      text = fs.readFileSync(candidate.path, 'utf8')
    } catch {
      continue
    }
    if (!parses(text)) continue
    atomicWrite(filePath, text)
    return { keptAs, restoredFrom: candidate.path, text }
  }
  return { keptAs }
}

module.exports = {
  atomicWrite,
  atomicWriteAsync,
  recoverJsonFile,
  backupFile,
  verifyChecksum,
  verifyChecksumAsync,
  cleanupOldBackups,
  // shared with the other JS-backend modules and lib/safe-file-operations.js
  linkAside,
  backupsOf,
  backupDirOf,
  ensurePrivateDir,
}
