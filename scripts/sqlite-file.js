'use strict'
// A small, valid SQLite 3 database file written byte by byte: one table on one leaf page.
// The example workspace needs a real database for its backups, and neither Node 18-21
// (no node:sqlite) nor a fresh machine (no sqlite3 CLI) can be counted on to make one.
// Format: https://www.sqlite.org/fileformat2.html (page 1 = header + sqlite_master,
// page 2 = the table's leaf page; rows small enough to need no overflow pages).

const PAGE_SIZE = 4096
const LEAF_TABLE = 0x0d

/** SQLite varint (big-endian 7-bit groups); values here stay far below 2^56. */
function varint(n) {
  const bytes = [n & 0x7f]
  n = Math.floor(n / 128)
  while (n > 0) {
    bytes.unshift(0x80 | (n & 0x7f))
    n = Math.floor(n / 128)
  }
  return Buffer.from(bytes)
}

/** A record: values are null, integers in -128..127, or strings. */
function record(values) {
  const types = []
  const bodies = []
  for (const v of values) {
    if (v === null) types.push(0)
    else if (Number.isInteger(v) && v >= -128 && v <= 127) {
      types.push(1)
      bodies.push(Buffer.from([v & 0xff]))
    } else {
      const text = Buffer.from(String(v), 'utf8')
      types.push(text.length * 2 + 13)
      bodies.push(text)
    }
  }
  const typeBytes = Buffer.concat(types.map(varint))
  const headerSize = typeBytes.length + 1 // < 128: a one-byte varint
  return Buffer.concat([varint(headerSize), typeBytes, ...bodies])
}

/** Write a leaf table page holding `cells` ([rowid, recordBuffer]) at `start` of `page`. */
function leafPage(page, start, cells) {
  let contentStart = PAGE_SIZE
  const pointers = []
  for (const [rowid, payload] of cells) {
    const cell = Buffer.concat([varint(payload.length), varint(rowid), payload])
    contentStart -= cell.length
    cell.copy(page, contentStart)
    pointers.push(contentStart)
  }
  if (start + 8 + pointers.length * 2 > contentStart) throw new Error('rows do not fit in one page')
  page[start] = LEAF_TABLE
  page.writeUInt16BE(0, start + 1) // first freeblock
  page.writeUInt16BE(cells.length, start + 3)
  page.writeUInt16BE(contentStart, start + 5)
  page[start + 7] = 0 // fragmented bytes
  pointers.forEach((p, i) => page.writeUInt16BE(p, start + 8 + i * 2))
}

/**
 * The bytes of a database with one table. `createSql` is its CREATE TABLE statement;
 * `rows` are arrays of column values (an INTEGER PRIMARY KEY column is given as null).
 */
function sqliteDatabase(tableName, createSql, rows) {
  const page1 = Buffer.alloc(PAGE_SIZE)
  page1.write('SQLite format 3\0', 0, 'latin1')
  page1.writeUInt16BE(PAGE_SIZE, 16)
  page1[18] = 1 // write version: legacy (rollback journal)
  page1[19] = 1 // read version
  page1[20] = 0 // reserved bytes per page
  page1[21] = 64 // max embedded payload fraction
  page1[22] = 32 // min embedded payload fraction
  page1[23] = 32 // leaf payload fraction
  page1.writeUInt32BE(1, 24) // file change counter
  page1.writeUInt32BE(2, 28) // database size in pages
  page1.writeUInt32BE(1, 40) // schema cookie
  page1.writeUInt32BE(4, 44) // schema format
  page1.writeUInt32BE(1, 56) // text encoding: UTF-8
  page1.writeUInt32BE(1, 92) // version-valid-for (= change counter)
  page1.writeUInt32BE(3046000, 96) // SQLite version that "wrote" it
  leafPage(page1, 100, [[1, record(['table', tableName, tableName, 2, createSql])]])

  const page2 = Buffer.alloc(PAGE_SIZE)
  leafPage(page2, 0, rows.map((values, i) => [i + 1, record(values)]))
  return Buffer.concat([page1, page2])
}

module.exports = { sqliteDatabase }
