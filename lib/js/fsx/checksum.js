'use strict'
// Streaming SHA-256, as core/src/fsx/checksum.rs: constant memory whatever the file size (the
// legacy module read the whole file into memory, and failed beyond 2 GiB).

const fs = require('node:fs')
const crypto = require('node:crypto')

const { osError, checkPath } = require('../errors')

const CHUNK = 256 * 1024

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

module.exports = { verifyChecksum, verifyChecksumAsync, CHUNK }
