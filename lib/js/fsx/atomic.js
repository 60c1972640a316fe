'use strict'
// Crash-safe replacement of a file's content, as core/src/fsx/atomic.rs (read it for the why
// of each step): an exclusive temp beside the target, fsynced, renamed over it, dir fsynced.

const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')

const { codedError, osError, withContext, checkPath } = require('../errors')
const { isDead } = require('../process')

const TEMP_MARKER = '.sr-tmp-'

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
// antivirus or indexer holding it for a moment: retry after each of these pauses, 5 ms doubling
// to 200 ms (1,115 ms in all: about a second), then report. The schedule of the core's
// persist_with_retry, written out.
const RENAME_RETRY_PAUSES_MS = [5, 10, 20, 40, 80, 160, 200, 200, 200, 200]

/** Whether a failed rename is worth trying again: on Windows only (`platform`), a held target. */
function isTransientRenameError(err, platform = process.platform) {
  return platform === 'win32' && (err.code === 'EPERM' || err.code === 'EACCES')
}

function renameWithRetry(from, to) {
  for (const pause of RENAME_RETRY_PAUSES_MS) {
    try {
      return fs.renameSync(from, to)
    } catch (err) {
      if (!isTransientRenameError(err)) throw err
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause)
  }
  return fs.renameSync(from, to)
}

async function renameWithRetryAsync(from, to) {
  for (const pause of RENAME_RETRY_PAUSES_MS) {
    try {
      return await fs.promises.rename(from, to)
    } catch (err) {
      if (!isTransientRenameError(err)) throw err
    }
    await new Promise((resolve) => setTimeout(resolve, pause))
  }
  return fs.promises.rename(from, to)
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

module.exports = {
  atomicWrite,
  atomicWriteAsync,
  // shared with the backup copies
  tempName,
  sweepDeadTemps,
  // for the tests: the retry policy no Linux rename reaches
  isTransientRenameError,
  RENAME_RETRY_PAUSES_MS,
}
