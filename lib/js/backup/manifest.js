'use strict'
// The manifest of a backup set (size + SHA-256 of every file) and its re-verification, as
// core/src/backup/manifest.rs. Read through lib/js/contained.js below `backupsDir`: a
// symlinked backups/, kind folder or member is never followed (no hash oracle on files outside).

const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')

const { codedError, osError, withContext, checkPath } = require('../errors')
const contained = require('../contained')
const { cancelToken } = require('./cancel')
const { meter } = require('./common')
const { checkRelative, pathEscape } = require('./restore')

const CHUNK = 256 * 1024

async function sha256File(file) {
  const hash = crypto.createHash('sha256')
  for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK })) hash.update(chunk)
  return hash.digest('hex')
}

/** SHA-256 and size of the regular file `rel` below `base`, opened O_NOFOLLOW | O_NONBLOCK. */
async function sha256Contained(base, rel) {
  const full = path.join(base, rel)
  if (contained.containedStat(base, rel) === null) throw codedError('ENOENT', `Cannot hash ${full}: ENOENT: no such file or directory`)
  const fd = contained.openRegular(full, fs.constants.O_RDONLY)
  const hash = crypto.createHash('sha256')
  let size = 0
  try {
    const stream = fs.createReadStream(null, { fd, highWaterMark: CHUNK, autoClose: false })
    for await (const chunk of stream) {
      hash.update(chunk)
      size += chunk.length
    }
  } finally {
    fs.closeSync(fd)
  }
  return { size, sha256: hash.digest('hex') }
}

function collectFiles(base, rel, out) {
  const found = contained.containedStat(base, rel)
  if (found === null) return
  if (found.type === 'directory') {
    for (const e of contained.containedList(base, rel)) collectFiles(base, `${rel}/${e.name}`, out)
  } else if (found.type === 'file') out.push(rel)
  else throw pathEscape(path.join(base, rel), `a ${found.type} in a backup set, not a file this package wrote`)
}

const byBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))

async function backupHashFiles(backupsDir, parts, onProgress) {
  checkPath('backupsDir', backupsDir)
  const files = []
  for (const part of parts) {
    checkRelative(part)
    try {
      collectFiles(backupsDir, part.split(/[\\/]+/).filter(Boolean).join('/'), files)
    } catch (err) {
      throw err.syscall ? osError(`Cannot list backup part ${part}`, err) : withContext(`Cannot list backup part ${part}`, err)
    }
  }
  files.sort(byBytes)
  const m = meter('hash', onProgress)
  const entries = []
  const token = cancelToken()
  for (const rel of files) {
    const full = path.join(backupsDir, rel)
    token.check(`Hashing ${full}`)
    try {
      const { size, sha256 } = await sha256Contained(backupsDir, rel)
      m.add(size)
      entries.push({ path: rel, size, sha256 })
    } catch (err) {
      const full = path.join(backupsDir, rel)
      throw err.syscall ? osError(`Cannot hash ${full}`, err) : withContext(`Cannot hash ${full}`, err)
    }
  }
  m.finish()
  return entries
}

async function backupVerifyFiles(backupsDir, entries, onProgress) {
  checkPath('backupsDir', backupsDir)
  contained.containedList(backupsDir, '') // a symlinked backups/ is refused (EUNSAFEDIR)
  const result = { checked: 0, bytes: 0, missing: [], altered: [] }
  const m = meter('verify', onProgress)
  for (const entry of entries) {
    checkRelative(entry.path)
    // missing, altered (also a symlink on the way or at the member, a FIFO, a device: never
    // read), or a regular file whose read failed: that failure is the answer (EIO, EACCES...)
    const full = path.join(backupsDir, entry.path)
    const refused = (err) => err.code === 'EPATHESCAPE' || err.code === 'EINVAL'
    let found = null
    let unsafe = false
    try {
      found = contained.containedStat(backupsDir, entry.path)
    } catch (err) {
      if (!refused(err)) throw withContext(`Cannot verify ${full}`, err)
      unsafe = true
    }
    if (unsafe || (found && found.type !== 'file')) result.altered.push(entry.path)
    else if (found === null) result.missing.push(entry.path)
    else {
      let got = null
      try {
        got = await sha256Contained(backupsDir, entry.path)
      } catch (err) {
        if (!refused(err)) throw err.syscall ? osError(`Cannot verify ${full}`, err) : withContext(`Cannot verify ${full}`, err)
      }
      const same = got !== null && got.size === entry.size && found.size === entry.size && got.sha256 === entry.sha256
      if (!same) result.altered.push(entry.path)
      result.bytes += found.size
      m.add(found.size)
    }
    result.checked += 1
  }
  m.finish()
  return result
}

module.exports = { backupHashFiles, backupVerifyFiles, sha256File }
