'use strict'
// A snapshot store no reader may trust: records, store.json and tree lines written by hand, as
// a damaged or crafted store would hold them, read by both backends and the answers compared.
// A tree path is used only when every component is a plain name; a record only when it is of a
// known version, names its own id and has a tree list (a version 1 record no list depth); a
// store only when its store.json names this format, a known version and SHA-256.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { resolveBackend } = require('../lib/backend')
const { test, BACKENDS, tempDir, chunkIds, baseStore, writeRecord, putTree } = require('./helpers')
const { Store, encode, chunkId } = require('../lib/js/store/format')

const binding = (backend) => resolveBackend(backend).binding

/**
 * `probe(b, id, out)` of each snapshot of `ids` on each backend (`b` its binding, `out` a new
 * folder to restore into): `{ native: { [id]: value }, js: { ... } }`.
 */
async function eachSnapshot(dir, ids, probe) {
  const results = {}
  for (const backend of BACKENDS) {
    results[backend] = {}
    for (const id of ids) {
      const out = path.join(dir, `out-${backend}-${id}`)
      fs.mkdirSync(out)
      results[backend][id] = await probe(binding(backend), id, out)
    }
  }
  return results
}

/** The code a promise rejects with, or 'ok'. */
const codeOf = (promise) => promise.then(
  () => 'ok',
  (err) => err.code,
)

test('tree paths that are not plain relative names are refused by a restore, on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store, record } = await baseStore(dir)
  const paths = ['', 'a\0b', 'a\\b', '.', '..', 'a//b', 'a/./b', 'a/../b', '/abs', 'x/', 'fine/name']
  const ids = paths.map((p, i) => {
    const line = { path: p, type: 'dir', mode: 0o755, size: 0, mtime: [0, 0], ctime: [0, 0], ino: '0' }
    const id = `p${i}`
    writeRecord(store, id, { ...record, id, tree: [putTree(store, `${JSON.stringify(line)}\n`)], files: 0, dirs: 1 })
    return id
  })
  const results = {}
  for (const backend of BACKENDS) {
    results[backend] = []
    for (const id of ids) {
      const out = path.join(dir, `out-${backend}-${id}`)
      fs.mkdirSync(out)
      results[backend].push(await codeOf(binding(backend).storeRestoreSnapshot(store, id, out)))
    }
  }
  assert.deepEqual(results.native, [...paths.slice(0, -1).map(() => 'EPATHESCAPE'), 'ok'])
  assert.deepEqual(results.js, results.native)
})

test('a tree line that is no entry (a path that is no string, a number, null) or not UTF-8 (also a text cut in a character) is damage: a restore and a verify say ECORRUPT, on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store, record } = await baseStore(dir)
  const entry = { type: 'dir', mode: 0o755, size: 0, mtime: [0, 0], ctime: [0, 0], ino: '0' }
  const lines = {
    numeric: `${JSON.stringify({ path: 7, ...entry })}\n`,
    number: '7\n',
    bytes: Buffer.concat([Buffer.from('{"path":"bad-'), Buffer.from([0xff, 0xfe]), Buffer.from(`",${JSON.stringify(entry).slice(1)}\n`)]),
    null: 'null\n',
    // a whole line, then the first byte of a two-byte character and the end of the text
    cut: Buffer.concat([Buffer.from(`${JSON.stringify({ path: 'whole', ...entry })}\n`), Buffer.from([0xc3])]),
  }
  for (const [id, line] of Object.entries(lines)) writeRecord(store, id, { ...record, id, tree: [putTree(store, line)], files: 0, dirs: 1 })
  const results = await eachSnapshot(dir, Object.keys(lines), async (b, id, out) => {
    const restored = await codeOf(b.storeRestoreSnapshot(store, id, out))
    const verify = await b.storeVerify(store, [id])
    return { restored, verified: verify.ok, left: fs.readdirSync(out) }
  })
  const damaged = { restored: 'ECORRUPT', verified: false, left: [] }
  // (the cut text's whole first line is restored before the damage is met, as a tree is streamed)
  assert.deepEqual(results.native, { numeric: damaged, number: damaged, bytes: damaged, null: damaged, cut: { ...damaged, left: ['whole'] } })
  assert.deepEqual(results.js, results.native)
})

test('records of another version, id or shape are damage: not listed, a restore of one is ECORRUPT, on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store, record } = await baseStore(dir)
  const cases = {
    v0: { ...record, version: 0 },
    v5: { ...record, version: 5 },
    vHalf: { ...record, version: 1.5 },
    vText: { ...record, version: '4' },
    noVersion: { ...record, version: undefined },
    null: 'null',
    notJson: '{"version": 4,',
    otherId: { ...record, id: 'someone-else' },
    treeObject: { ...record, tree: {} },
    v1Depth: { ...record, version: 1, treeDepth: 1 },
    // what is sound, beside them: a version 1 record with a depth of 0, and one of version 4
    v1Depth0: { ...record, version: 1, treeDepth: 0 },
    v4: { ...record },
    // a tree list of ids that are no chunk ids
    notHex: { ...record, tree: ['not-a-chunk-id'] },
  }
  for (const [id, value] of Object.entries(cases)) writeRecord(store, id, typeof value === 'string' ? value : { ...value, id: value.id === 'someone-else' ? value.id : id })
  const results = {}
  for (const backend of BACKENDS) {
    const b = binding(backend)
    const restored = {}
    for (const id of Object.keys(cases)) {
      const out = path.join(dir, `out-${backend}-${id}`)
      fs.mkdirSync(out)
      restored[id] = await codeOf(b.storeRestoreSnapshot(store, id, out))
    }
    results[backend] = { listed: b.storeListSnapshots(store).map((s) => s.id).sort(), restored }
  }
  const expected = Object.fromEntries(Object.keys(cases).map((id) => [id, 'ECORRUPT']))
  assert.deepEqual(results.native, {
    listed: ['base', 'notHex', 'v1Depth0', 'v4'],
    restored: { ...expected, v1Depth0: 'ok', v4: 'ok' },
  })
  assert.deepEqual(results.js, results.native)
})

test('a store.json of another format, version or hash is refused, a store without one holds nothing, on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store } = await baseStore(dir)
  const config = JSON.parse(fs.readFileSync(path.join(store, 'store.json'), 'utf8'))
  const cases = {
    v0: { ...config, version: 0 },
    v1: { ...config, version: 1 },
    v5: { ...config, version: 5 },
    vHalf: { ...config, version: 1.5 },
    vText: { ...config, version: '4' },
    otherFormat: { ...config, format: 'something-else' },
    otherHash: { ...config, hash: 'blake3' },
    null: 'null',
    notJson: '{"format":',
    missing: null,
    sound: config,
  }
  const results = {}
  for (const backend of BACKENDS) {
    const b = binding(backend)
    results[backend] = {}
    for (const [name, value] of Object.entries(cases)) {
      const copy = path.join(dir, `store-${backend}-${name}`)
      fs.cpSync(store, copy, { recursive: true })
      if (value === null) fs.rmSync(path.join(copy, 'store.json'))
      else fs.writeFileSync(path.join(copy, 'store.json'), typeof value === 'string' ? value : JSON.stringify(value))
      let listed
      try {
        listed = b.storeListSnapshots(copy).map((s) => s.id)
      } catch (err) {
        listed = err.code
      }
      results[backend][name] = listed
      // a read leaves an older store's store.json as it is
      if (name === 'v1') results[backend].v1After = JSON.parse(fs.readFileSync(path.join(copy, 'store.json'), 'utf8')).version
    }
  }
  const refused = Object.fromEntries(Object.keys(cases).map((name) => [name, 'ECORRUPT']))
  assert.deepEqual(results.native, { ...refused, v1: ['base'], v1After: 1, missing: [], sound: ['base'] })
  assert.deepEqual(results.js, results.native)
})

test('a tree whose chunks part in the middle of a character (a version 1 tree is cut anywhere) restores the name whole, on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store, record } = await baseStore(dir)
  const line = Buffer.from(`${JSON.stringify({ path: 'é-ü-名', type: 'dir', mode: 0o755, size: 0, mtime: [0, 0], ctime: [0, 0], ino: '0' })}\n`)
  const at = line.indexOf(Buffer.from('名')) + 1 // after the first of its three bytes
  writeRecord(store, 'split', { ...record, id: 'split', tree: [putTree(store, line.subarray(0, at)), putTree(store, line.subarray(at))], files: 0, dirs: 1 })
  const results = {}
  for (const backend of BACKENDS) {
    const out = path.join(dir, `out-${backend}`)
    fs.mkdirSync(out)
    await binding(backend).storeRestoreSnapshot(store, 'split', out)
    results[backend] = fs.readdirSync(out)
  }
  assert.deepEqual(results.native, ['é-ü-名'])
  assert.deepEqual(results.js, results.native)
})

test('gc rewrites a pack whose dead chunks are a quarter of its bytes or more, and leaves one with less, on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store, record } = await baseStore(dir)
  fs.rmSync(path.join(store, 'snapshots', 'base.json'))
  // chunks of 999 random bytes: stored as they are, 1000 bytes each in their pack
  const chunk = () => require('node:crypto').randomBytes(999)
  const pack = (datas) => {
    const s = Store.open(store, true)
    for (const data of datas) s.put(chunkId(data), encode(data))
    s.flush()
    return datas.map(chunkId)
  }
  const packOf = (id) => path.basename(new (require('../lib/js/store/pack').Chunks)(store).place(id).file)
  // one pack with two dead chunks beside six live ones (a quarter dead, to the byte), another
  // with one dead beside four live (a fifth): each live chunk a file of snapshot 'kept'
  const quarter = pack(Array.from({ length: 8 }, chunk))
  const fifth = pack(Array.from({ length: 5 }, chunk))
  const live = [...quarter.slice(2), ...fifth.slice(1)]
  const lines = live.map((id, i) => `${JSON.stringify({ path: `f${i}`, type: 'file', mode: 0o644, size: 999, mtime: [0, 0], ctime: [0, 0], ino: '0', chunks: [id] })}\n`)
  writeRecord(store, 'kept', { ...record, id: 'kept', tree: [putTree(store, lines.join(''))], files: live.length, dirs: 0, bytes: 999 * live.length })
  const packs = [packOf(quarter[0]), packOf(fifth[0])]
  const results = {}
  for (const backend of BACKENDS) {
    const copy = path.join(dir, `store-${backend}`)
    fs.cpSync(store, copy, { recursive: true })
    const stats = await binding(backend).storeGc(copy)
    const ok = (await binding(backend).storeVerify(copy)).ok
    results[backend] = { stats, kept: packs.map((p) => fs.existsSync(path.join(copy, 'packs', p))), ok, dead: [...quarter.slice(0, 2), fifth[0]].map((id) => chunkIds(copy).includes(id)) }
  }
  // the quarter's pack rewritten without its dead chunks; the fifth's kept whole, dead one too
  assert.deepEqual(results.native.kept, [false, true])
  assert.deepEqual(results.native.dead, [false, false, true])
  assert.equal(results.native.ok, true)
  assert.deepEqual(results.js, results.native)
})

test('a tree chunk altered so that it still reads as a tree is refused by its hash: a restore, a gc and a diff stop with ECORRUPT, on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { root, store, record } = await baseStore(dir)
  // the tree of one folder 'abc', stored as it is (codec 0), then 'abc' made 'abd' in its pack
  const text = Buffer.from(`${JSON.stringify({ path: 'abc', type: 'dir', mode: 0o755, size: 0, mtime: [0, 0], ctime: [0, 0], ino: '0' })}\n`)
  const s = Store.open(store, true)
  const id = chunkId(text)
  s.put(id, Buffer.concat([Buffer.of(0), text]))
  s.flush()
  writeRecord(store, 'altered', { ...record, id: 'altered', tree: [id], files: 0, dirs: 1 })
  const place = new (require('../lib/js/store/pack').Chunks)(store).place(id)
  const bytes = fs.readFileSync(place.file)
  const at = bytes.indexOf('"abc"', place.offset)
  bytes[at + 3] = 'd'.charCodeAt(0)
  fs.chmodSync(place.file, 0o600)
  fs.writeFileSync(place.file, bytes)
  const results = {}
  for (const backend of BACKENDS) {
    const b = binding(backend)
    const copy = path.join(dir, `store-${backend}`)
    fs.cpSync(store, copy, { recursive: true })
    const out = path.join(dir, `out-${backend}`)
    fs.mkdirSync(out)
    results[backend] = {
      restore: await codeOf(b.storeRestoreSnapshot(copy, 'altered', out)),
      written: fs.readdirSync(out),
      diff: await codeOf(b.storeDiff(copy, 'altered', null, { root })),
      gc: await codeOf(b.storeGc(copy)),
    }
  }
  assert.deepEqual(results.native, { restore: 'ECORRUPT', written: [], diff: 'ECORRUPT', gc: 'ECORRUPT' })
  assert.deepEqual(results.js, results.native)
})

test('the largest chunk (MAX bytes: deflated, or stored as MAX + 1 when they do not compress), in a pack and as a loose file, is verified and restored by both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store, record } = await baseStore(dir)
  const { MAX } = require('../lib/js/store/chunker')
  const crypto = require('node:crypto')
  const packed = crypto.randomBytes(MAX)
  const loose = crypto.randomBytes(MAX)
  // and MAX bytes that do compress: inflated to MAX exactly
  const deflated = Buffer.alloc(MAX, 'deflate me ')
  const s = Store.open(store, true)
  s.put(chunkId(packed), encode(packed))
  s.put(chunkId(deflated), encode(deflated))
  s.flush()
  const fan = path.join(store, 'chunks', chunkId(loose).slice(0, 2))
  fs.mkdirSync(fan, { recursive: true })
  fs.writeFileSync(path.join(fan, chunkId(loose)), encode(loose), { mode: 0o600 })
  assert.equal(encode(loose).length, MAX + 1)
  const line = (name, data) => `${JSON.stringify({ path: name, type: 'file', mode: 0o644, size: MAX, mtime: [0, 0], ctime: [0, 0], ino: '0', chunks: [chunkId(data)] })}\n`
  writeRecord(store, 'big', { ...record, id: 'big', tree: [putTree(store, line('deflated', deflated) + line('loose', loose) + line('packed', packed))], files: 3, dirs: 0, bytes: 3 * MAX })
  const results = {}
  for (const backend of BACKENDS) {
    const b = binding(backend)
    const out = path.join(dir, `out-${backend}`)
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(store, 'big', out)
    const verify = await b.storeVerify(store, ['big'], { deep: true })
    results[backend] = { ok: verify.ok, bad: verify.badChunks, same: [fs.readFileSync(path.join(out, 'deflated')).equals(deflated), fs.readFileSync(path.join(out, 'loose')).equals(loose), fs.readFileSync(path.join(out, 'packed')).equals(packed)] }
  }
  assert.deepEqual(results.native, { ok: true, bad: [], same: [true, true, true] })
  assert.deepEqual(results.js, results.native)
})

test('what is no index or loose chunk is passed over: a folder named as an index, stray names in a fan-out folder; an entry of no bytes damages its index', async () => {
  const dir = tempDir('sr-crafted-')
  const { store } = await baseStore(dir)
  const { encodeIndex, PACK_SHA256 } = require('../lib/js/store/pack')
  const crypto = require('node:crypto')
  const hex = (text) => crypto.createHash('sha256').update(text).digest('hex')
  fs.mkdirSync(path.join(store, 'packs', `${hex('a folder')}.idx`))
  const fan = path.join(store, 'chunks', 'ab')
  fs.mkdirSync(fan, { recursive: true })
  fs.writeFileSync(path.join(fan, 'junk'), 'not a chunk', { mode: 0o600 })
  fs.mkdirSync(path.join(fan, hex('a folder in a fan-out')))
  const results = {}
  for (const backend of BACKENDS) {
    const b = binding(backend)
    const copy = path.join(dir, `store-${backend}`)
    fs.cpSync(store, copy, { recursive: true })
    const sound = { verify: (await b.storeVerify(copy)).ok, gc: await b.storeGc(copy), left: [fs.existsSync(path.join(copy, 'chunks', 'ab', 'junk')), fs.readdirSync(path.join(copy, 'packs')).length] }
    // an index listing an entry of no bytes: damaged, so gc stops and removes nothing
    const pack = Buffer.from('x')
    const index = encodeIndex([{ id: hex('empty entry'), offset: 0, len: 0 }], { hash: PACK_SHA256, digest: crypto.createHash('sha256').update(pack).digest() })
    fs.writeFileSync(path.join(copy, 'packs', `${index.name}.pack`), pack, { mode: 0o600 })
    fs.writeFileSync(path.join(copy, 'packs', `${index.name}.idx`), index.bytes, { mode: 0o600 })
    results[backend] = { sound, damaged: await codeOf(b.storeGc(copy)) }
  }
  assert.equal(results.native.sound.verify, true)
  assert.equal(results.native.damaged, 'ECORRUPT')
  assert.deepEqual(results.js, results.native)
})

test('a reader whose index went stale looks again: a pack another process flushed since, a pack gc rewrote since (js backend internals)', async () => {
  const dir = tempDir('sr-crafted-')
  const { root, store } = await baseStore(dir)
  const { Chunks } = require('../lib/js/store/pack')
  const reader = new Chunks(store)
  reader.current() // the indexes as they are now
  // another writer flushes a new pack; packs/ is seen to have changed (its mtime moved)
  fs.writeFileSync(path.join(root, 'new.txt'), 'new chunk')
  await binding('native').storeCreateSnapshot(root, store, 'second')
  const later = new Date(Date.now() + 60_000)
  fs.utimesSync(path.join(store, 'packs'), later, later)
  const fresh = chunkId(Buffer.from('new chunk'))
  assert.equal(reader.getRaw(fresh).subarray(1).toString(), 'new chunk')
  // gc rewrites a pack holding a live chunk beside a larger dead one
  const live = Buffer.from('live bytes')
  const dead = require('node:crypto').randomBytes(3000)
  const s = Store.open(store, true)
  for (const data of [live, dead]) s.put(chunkId(data), encode(data))
  s.flush()
  const line = `${JSON.stringify({ path: 'live.txt', type: 'file', mode: 0o644, size: live.length, mtime: [0, 0], ctime: [0, 0], ino: '0', chunks: [chunkId(live)] })}\n`
  const record = JSON.parse(fs.readFileSync(path.join(store, 'snapshots', 'base.json'), 'utf8'))
  writeRecord(store, 'live', { ...record, id: 'live', tree: [putTree(store, line)], files: 1, dirs: 0, bytes: live.length })
  const second = new Chunks(store)
  const before = second.locate(chunkId(live))
  const packsTime = fs.statSync(path.join(store, 'packs')).mtime
  await binding('native').storeGc(store)
  assert.ok(!fs.existsSync(path.join(store, 'packs', `${before.pack}.pack`)), 'the pack was rewritten')
  // packs/ keeps its time (a clock that did not move meanwhile): the reader trusts its indexes,
  // finds the pack gone, and only then looks again
  fs.utimesSync(path.join(store, 'packs'), packsTime, packsTime)
  // a reader that loaded the indexes before still finds it: by its id, and at the place it was told
  assert.equal(second.getRaw(chunkId(live)).subarray(1).toString(), 'live bytes')
  const buf = Buffer.alloc(1024 * 1024)
  const n = new Chunks(store).readAtInto(chunkId(live), before, buf)
  assert.equal(buf.subarray(1, n).toString(), 'live bytes')
  // a chunk both packed and loose (a format 2 file left beside a pack), whose pack goes: the
  // reader looks again and reads the loose file
  const both = Buffer.from('packed and loose')
  const id = chunkId(both)
  const writer = Store.open(store, true)
  writer.put(id, encode(both))
  writer.flush()
  const third = new Chunks(store)
  const packed = third.locate(id)
  fs.mkdirSync(path.join(store, 'chunks', id.slice(0, 2)), { recursive: true })
  fs.writeFileSync(path.join(store, 'chunks', id.slice(0, 2), id), encode(both))
  const time = fs.statSync(path.join(store, 'packs')).mtime
  for (const ext of ['pack', 'idx']) fs.rmSync(path.join(store, 'packs', `${packed.pack}.${ext}`))
  fs.utimesSync(path.join(store, 'packs'), time, time)
  assert.equal(third.getRaw(id).subarray(1).toString(), 'packed and loose')
})

test('chunk lists as a reader follows them: 32 levels deep but no deeper, a depth that is no whole number refused, as many ids as the file has bytes but no more, list chunks of whole ids only; on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store, record } = await baseStore(dir)
  const dirLine = (p) => `${JSON.stringify({ path: p, type: 'dir', mode: 0o755, size: 0, mtime: [0, 0], ctime: [0, 0], ino: '0' })}\n`
  const text = putTree(store, dirLine('deep'))
  // a chain of list chunks, each holding the id below it: depth n over the tree text
  const chain = (n) => {
    let top = text
    for (let i = 0; i < n; i++) top = putTree(store, Buffer.from(top, 'hex'))
    return top
  }
  const trees = {
    depth32: { tree: [chain(32)], treeDepth: 32 },
    depth33: { tree: [chain(33)], treeDepth: 33 },
    negative: { tree: [text], treeDepth: -1 },
    notWhole: { tree: [text], treeDepth: 'x' },
    short: { tree: [putTree(store, Buffer.alloc(31, 1))], treeDepth: 1 },
    empty: { tree: [putTree(store, Buffer.alloc(0))], treeDepth: 1 },
  }
  // a file of 65 bytes in 65 one-byte chunks (a list of depth 1), and one of 64 bytes claiming them
  const bytes = Array.from({ length: 65 }, (_, i) => Buffer.from([i]))
  const s = Store.open(store, true)
  for (const b of bytes) s.put(chunkId(b), encode(b))
  s.flush()
  const list = putTree(store, Buffer.concat(bytes.map((b) => Buffer.from(chunkId(b), 'hex'))))
  const fileLine = (size) => `${JSON.stringify({ path: 'f', type: 'file', mode: 0o644, size, mtime: [0, 0], ctime: [0, 0], ino: '0', chunks: [list], depth: 1 })}\n`
  trees.exactly = { tree: [putTree(store, fileLine(65))] }
  trees.more = { tree: [putTree(store, fileLine(64))] }
  for (const [id, t] of Object.entries(trees)) writeRecord(store, id, { ...record, id, ...t })
  const results = await eachSnapshot(dir, Object.keys(trees), (b, id, out) => codeOf(b.storeRestoreSnapshot(store, id, out)))
  assert.deepEqual(results.native, { depth32: 'ok', depth33: 'ECORRUPT', negative: 'ECORRUPT', notWhole: 'ECORRUPT', short: 'ECORRUPT', empty: 'ECORRUPT', exactly: 'ok', more: 'ECORRUPT' })
  assert.deepEqual(results.js, results.native)
})

test('record files that cannot be read as one (too long, a link, a folder) and a snapshots/ that is missing or a file: the same codes from both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store } = await baseStore(dir)
  const snapshots = path.join(store, 'snapshots')
  const text = fs.readFileSync(path.join(snapshots, 'base.json'), 'utf8')
  fs.writeFileSync(path.join(snapshots, 'huge.json'), text.replace('{', `{${' '.repeat(1024 * 1024)}`))
  fs.symlinkSync('base.json', path.join(snapshots, 'linked.json'))
  fs.mkdirSync(path.join(snapshots, 'folder.json'))
  const results = {}
  for (const backend of BACKENDS) {
    const b = binding(backend)
    const restored = []
    for (const id of ['huge', 'linked', 'folder']) {
      const out = path.join(dir, `out-${backend}-${id}`)
      fs.mkdirSync(out)
      restored.push(await codeOf(b.storeRestoreSnapshot(store, id, out)))
    }
    const listed = {}
    for (const [name, change] of [
      ['missing', () => {}],
      ['file', (s) => fs.writeFileSync(path.join(s, 'snapshots'), 'not a folder')],
    ]) {
      const copy = path.join(dir, `store-${backend}-${name}`)
      fs.cpSync(store, copy, { recursive: true, verbatimSymlinks: true })
      fs.rmSync(path.join(copy, 'snapshots'), { recursive: true })
      change(copy)
      try {
        listed[name] = b.storeListSnapshots(copy).map((s) => s.id)
      } catch (err) {
        listed[name] = err.code
      }
    }
    // a snapshot is a record file: the link and the folder are no snapshots to verify, the long file a broken one
    const broken = (await b.storeVerify(store)).broken.map((x) => x.id)
    results[backend] = { restored, listed, all: b.storeListSnapshots(store).map((s) => s.id), broken }
  }
  assert.deepEqual(results.native, { restored: ['EFBIG', 'EPATHESCAPE', 'EINVAL'], listed: { missing: [], file: 'ENOTDIR' }, all: ['base'], broken: ['huge'] })
  assert.deepEqual(results.js, results.native)
})

test('store.json as another writer may lay it out (padded past 1 KiB) is read and kept byte for byte; an older version is rewritten by a writer, never by a reader; on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { root, store } = await baseStore(dir)
  const config = path.join(store, 'store.json')
  const padded = `${fs.readFileSync(config, 'utf8').trimEnd()}${' '.repeat(2048)}\n`
  const older = padded.replace('"version": 4', '"version": 3')
  assert.notEqual(older, padded)
  const results = {}
  for (const backend of BACKENDS) {
    const b = binding(backend)
    fs.writeFileSync(config, padded)
    await b.storeCreateSnapshot(root, store, `kept-${backend}`)
    const kept = fs.readFileSync(config, 'utf8') === padded
    fs.writeFileSync(config, older)
    const listed = b.storeListSnapshots(store).length
    const read = fs.readFileSync(config, 'utf8') === older
    await b.storeCreateSnapshot(root, store, `upgraded-${backend}`)
    results[backend] = { kept, listed, read, upgraded: JSON.parse(fs.readFileSync(config, 'utf8')).version }
  }
  assert.deepEqual(results.native, { kept: true, listed: 2, read: true, upgraded: 4 })
  assert.deepEqual(results.js, { ...results.native, listed: 4 })
})
