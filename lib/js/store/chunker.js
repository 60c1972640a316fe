'use strict'
// The twin of core/src/store/chunker.rs: FastCDC cut points (the `fastcdc::ronomon` variant,
// 32-bit gear hash), decided on a full window of MAX bytes or the stream's tail, so the cut
// points depend on the content alone and equal the native backend's. A stream shorter than
// SMALL_BELOW (whole in the first read) is cut with the SMALL sizes. A stream that starts
// with a SQLite database header is cut every DB_GROUP bytes (or every page, when larger):
// page-aligned, so a changed page changes one chunk.

const fs = require('node:fs')
const GEAR = require('./gear')

const MIN = 16 * 1024
const AVG = 64 * 1024
const MAX = 256 * 1024
const READ = 1024 * 1024
const DB_GROUP = 4 * 1024
const SMALL_BELOW = 1024 * 1024
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1')

/** FastCDC sizes and the masks and normal size ronomon derives from them. */
function sizes(min, avg, max) {
  const bits = Math.round(Math.log2(avg))
  return { min, avg, max, maskS: 2 ** (bits + 1) - 1, maskL: 2 ** (bits - 1) - 1, normal: avg - Math.min(min + Math.ceil(min / 2), avg) }
}
const LARGE = sizes(MIN, AVG, MAX)
const SMALL = sizes(4 * 1024, 8 * 1024, 64 * 1024)

/** The length of the first chunk of `buf[start, end)` (a window of at most `s.max` bytes). */
function cut(buf, start, end, s = LARGE) {
  const n = end - start
  if (n <= s.min) return n
  const normal = Math.min(s.normal, n)
  let hash = 0
  let i = s.min
  for (; i < normal; i++) {
    hash = ((hash >>> 1) + GEAR[buf[start + i]]) >>> 0
    if ((hash & s.maskS) === 0) return i + 1
  }
  for (; i < n; i++) {
    hash = ((hash >>> 1) + GEAR[buf[start + i]]) >>> 0
    if ((hash & s.maskL) === 0) return i + 1
  }
  return n
}

/**
 * The chunk size of a stream whose first bytes are `head`: a SQLite database (its magic, a
 * valid page size at offset 16: a power of two from 512 to 32768, or 1 for 65536) is cut every
 * max(DB_GROUP, page size) bytes; null for anything else (content cut points).
 */
function sqliteGroup(head) {
  if (head.length < 100 || !head.subarray(0, 16).equals(SQLITE_MAGIC)) return null
  const field = head.readUInt16BE(16)
  const page = field === 1 ? 65536 : field
  const valid = page >= 512 && page <= 65536 && (page & (page - 1)) === 0
  return valid ? Math.max(page, DB_GROUP) : null
}

/**
 * Call `onChunk(bytes)` for each chunk of what `read(buf, offset, length)` yields (it returns
 * the bytes read, 0 at the end); `bytes` is only valid during the call. Holds READ + MAX bytes.
 */
function chunkStream(read, onChunk) {
  const buf = Buffer.allocUnsafe(READ + MAX)
  let start = 0
  let end = 0
  let eof = false
  let total = 0
  let fixed
  let s = LARGE
  for (;;) {
    if (end - start < MAX && !eof) {
      buf.copy(buf, 0, start, end)
      end -= start
      start = 0
      while (end < buf.length) {
        const n = read(buf, end, buf.length - end)
        if (n === 0) {
          eof = true
          break
        }
        end += n
      }
    }
    if (fixed === undefined) {
      fixed = sqliteGroup(buf.subarray(0, end))
      if (eof && end < SMALL_BELOW) s = SMALL
    }
    const avail = Math.min(end - start, s.max)
    if (avail === 0) return total
    const len = fixed === null ? cut(buf, start, start + avail, s) : Math.min(fixed, avail)
    onChunk(buf.subarray(start, start + len))
    total += len
    start += len
  }
}

/** Chunks of an open file descriptor. */
const chunkFd = (fd, onChunk) => chunkStream((buf, off, len) => fs.readSync(fd, buf, off, len, null), onChunk)

module.exports = { MIN, AVG, MAX, DB_GROUP, SMALL_BELOW, SMALL, cut, sqliteGroup, chunkFd }
