'use strict'
// The chunker's rules at their edges (docs/store-format.md, "Chunking"), on both backends: the
// same files snapshotted by each, every file's chunk list compared, and the cut points the
// rules give checked in the native store. A SQLite header is judged by its page-size field
// (a power of two from 512 to 32768, or 1 for 65536) and cut every max(page, 4 KiB) bytes; a
// stream shorter than 1 MiB takes the small sizes; content cuts test the stricter mask below
// the normal size and the looser one up to the window's end, and never look past that end.
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const { resolveBackend } = require('../lib/backend')
const { test, BACKENDS, tempDir, chunkIds } = require('./helpers')
const GEAR = require('../lib/js/store/gear')

const KIB = 1024
const MIB = 1024 * KIB
// the large sizes of FastCDC (ronomon) as the format fixes them
const MIN = 16 * KIB
const MAX = 256 * KIB
const NORMAL = 64 * KIB - (MIN + MIN / 2)
const MASK_S = 2 ** 17 - 1
const MASK_L = 2 ** 15 - 1

const sha = (data) => crypto.createHash('sha256').update(data).digest('hex')
const step = (hash, byte) => ((hash >>> 1) + GEAR[byte]) >>> 0

/** The gear hash of a chunk's bytes from MIN (where it starts) through `data[upTo]`. */
function hashAt(data, upTo) {
  let hash = 0
  for (let i = MIN; i <= upTo; i++) hash = step(hash, data[i])
  return hash
}

/**
 * A large (1.5 MiB) stream of zeros (which never cut) with 32 bytes put at `at - 31 .. at`
 * such that no cut falls before `at` under `before` and the hash at `at` passes `atEnd`.
 */
function craft(at, before, atEnd) {
  const data = Buffer.alloc(MIB + MIB / 2)
  const start = hashAt(data, at - 32)
  for (;;) {
    const x = crypto.randomBytes(31)
    let hash = start
    let clear = true
    for (let k = 0; k < 31; k++) {
      hash = step(hash, x[k])
      if (!before(hash, at - 31 + k)) clear = false
    }
    if (!clear) continue
    for (let y = 0; y < 256; y++) {
      if (!atEnd(step(hash, y))) continue
      x.copy(data, at - 31)
      data[at] = y
      return data
    }
  }
}

/** 100 bytes of SQLite header (magic unless `magic` is false) with page-size field `field`, then `size` random bytes in all. */
function sqliteLike(field, size, magic = true) {
  const data = crypto.randomBytes(size)
  if (magic) Buffer.from('SQLite format 3\0', 'latin1').copy(data, 0)
  data.writeUInt16BE(field, 16)
  return data
}

/** The plain chunks of `data` cut every `group` bytes. */
const groups = (data, group) => Array.from({ length: Math.ceil(data.length / group) }, (_, i) => sha(data.subarray(i * group, (i + 1) * group)))

test('cut points at the edges of the chunking rules: both backends cut every file alike, where the rules say', { timeout: 300_000 }, async () => {
  const dir = tempDir('sr-chunking-')
  const root = path.join(dir, 'root')
  fs.mkdirSync(root)
  const files = {
    // valid page sizes: the smallest (cut every 4 KiB, the group being larger) and 65536 (field 1)
    'page-512.db': sqliteLike(512, 200 * KIB),
    'page-65536.db': sqliteLike(1, 300 * KIB),
    // not valid: too small, not a power of two, zero; and a valid field without the magic
    'page-256.db': sqliteLike(256, 200 * KIB),
    'page-1000.db': sqliteLike(1000, 200 * KIB),
    'page-0.db': sqliteLike(0, 200 * KIB),
    'no-magic.bin': sqliteLike(4096, 200 * KIB, false),
    // the small sizes below 1 MiB only: exactly 1 MiB, and one past it but within the first read
    'one-mib.bin': crypto.randomBytes(MIB),
    'over-one-mib.bin': crypto.randomBytes(MIB + 100 * KIB),
    // a cut at the normal size itself, by the looser mask (the stricter one does not pass there)
    'normal.bin': craft(
      NORMAL,
      (hash) => (hash & MASK_S) !== 0,
      (hash) => (hash & MASK_L) === 0 && (hash & MASK_S) !== 0,
    ),
    // no cut in a whole window; the byte after it would cut, were it looked at
    'window.bin': craft(
      MAX,
      (hash) => (hash & MASK_L) !== 0,
      (hash) => (hash & MASK_L) === 0,
    ),
    // and an empty file: no chunks (its tree line has none)
    'empty.txt': Buffer.alloc(0),
  }
  for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(root, name), data)
  const chunksOf = {}
  const stores = {}
  for (const backend of BACKENDS) {
    const store = path.join(dir, `store-${backend}`)
    stores[backend] = store
    await resolveBackend(backend).binding.storeCreateSnapshot(root, store, 's1')
    const { Store } = require('../lib/js/store/format')
    const s = Store.open(store, false)
    chunksOf[backend] = Object.fromEntries([...s.tree(s.record('s1'))].map((e) => [e.path, e.chunks]))
  }
  const expected = {
    'page-512.db': groups(files['page-512.db'], 4 * KIB),
    'page-65536.db': groups(files['page-65536.db'], 64 * KIB),
  }
  for (const [name, ids] of Object.entries(expected)) assert.deepEqual(chunksOf.native[name], ids, name)
  // content cuts: not every 4 KiB
  for (const name of ['page-256.db', 'page-1000.db', 'page-0.db', 'no-magic.bin']) {
    assert.notDeepEqual(chunksOf.native[name], groups(files[name], 4 * KIB), name)
    assert.notDeepEqual(chunksOf.native[name], groups(files[name], 65536), name)
  }
  assert.equal(chunksOf.native['normal.bin'][0], sha(files['normal.bin'].subarray(0, NORMAL + 1)))
  assert.equal(chunksOf.native['window.bin'][0], sha(files['window.bin'].subarray(0, MAX)))
  assert.equal(chunksOf.native['window.bin'][1], sha(files['window.bin'].subarray(MAX, 2 * MAX)))
  for (const name of Object.keys(files)) assert.deepEqual(chunksOf.js[name], chunksOf.native[name], name)
  // the same tree of the same files: the same tree lines, so the same chunks in all
  assert.deepEqual(chunkIds(stores.js), chunkIds(stores.native))
})

test('a chunk list cut into exactly 64 runs (one level, as many ids as a line holds), the last one ending on its own id: both backends store the same list chunks', { timeout: 300_000 }, async () => {
  const dir = tempDir('sr-chunking-')
  const root = path.join(dir, 'root')
  fs.mkdirSync(root)
  // a SQLite header with 4 KiB pages: 128 chunks of 4 KiB whose ids we choose. A run of a list
  // ends after an id whose last byte has its low three bits clear, once it holds two ids:
  // every second id ends one, so the 128 ids make 64 runs, the last ending with the list
  const page = 4 * KIB
  const data = sqliteLike(page, 128 * page)
  for (let k = 0; k < 128; k++) {
    const ends = k % 2 === 1
    for (;;) {
      const chunk = data.subarray(k * page, (k + 1) * page)
      if (((parseInt(sha(chunk).slice(62), 16) & 0x07) === 0) === ends) break
      crypto.randomFillSync(chunk, k === 0 ? 100 : 0, 8)
    }
  }
  fs.writeFileSync(path.join(root, 'db.sqlite'), data)
  const ids = {}
  for (const backend of BACKENDS) {
    const store = path.join(dir, `store-${backend}`)
    await resolveBackend(backend).binding.storeCreateSnapshot(root, store, 's1')
    ids[backend] = chunkIds(store)
  }
  // the data chunks, the 64 list chunks of one level and the tree
  assert.equal(ids.native.length, 128 + 64 + 1)
  for (const id of groups(data, page)) assert.ok(ids.native.includes(id))
  assert.deepEqual(ids.js, ids.native)
})

test('a tree run closes once it holds 64 KiB of lines, to the byte, though no path ends it (treeRuns, docs/store-format.md)', () => {
  const { treeRuns } = require('../lib/js/store/format')
  // paths whose SHA-256 does not end a run (its first byte's low two bits set)
  const paths = []
  for (let i = 0; paths.length < 3; i++) if ((crypto.createHash('sha256').update(`p${i}`).digest()[0] & 0x03) !== 0) paths.push(`p${i}`)
  const line = (p, n) => [p, `${p}:${'x'.repeat(n - p.length - 2)}\n`]
  const lines = [line(paths[0], 64 * KIB - 100), line(paths[1], 100), line(paths[2], 100)]
  assert.equal(lines[0][1].length + lines[1][1].length, 64 * KIB)
  assert.deepEqual(
    treeRuns(lines).map((run) => run.length),
    [64 * KIB, 100],
  )
  // a path that ends a run ends it once the run holds two lines, not when it is alone
  let ending = 0
  while ((crypto.createHash('sha256').update(`e${ending}`).digest()[0] & 0x03) !== 0) ending++
  const end = `e${ending}`
  assert.deepEqual(
    treeRuns([line(paths[0], 10), line(end, 10), line(paths[1], 10)]).map((run) => run.length),
    [20, 10],
  )
  assert.deepEqual(
    treeRuns([line(end, 10), line(paths[0], 10), line(paths[1], 10)]).map((run) => run.length),
    [30],
  )
})
