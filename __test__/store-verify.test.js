'use strict'
// Store verify by pack digests (issue 14, docs/store-format.md version 4): each pack hashed
// whole once (SHA-256 where the JS backend wrote it, BLAKE3 where the native one did; the JS
// backend cannot compute BLAKE3 and checks those packs chunk by chunk), a pack that does not
// match checked chunk by chunk so damage is still named per chunk and per snapshot, the digest
// never trusted blindly, `deep` re-deriving every id, and stores written before digests.
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const { resolveBackend } = require('../lib/backend')
const { test, tempDir, BACKENDS, flipChunk, baseStore, putTree, writeRecord } = require('./helpers')
const { Chunks, encodeIndex, readIndex, PACK_SHA256, PACK_BLAKE3 } = require('../lib/js/store/pack')
const { Store, encode, chunkId } = require('../lib/js/store/format')
const { ChunkChecker, TreeWalker } = require('../lib/js/store/verify-check')

const binding = (name) => resolveBackend(name).binding
const sha = (text) => crypto.createHash('sha256').update(text).digest('hex')

/** A project of a few files, and its store (a snapshot s1; s2 adds one file). */
async function twoSnapshots(dir, writer) {
  const root = path.join(dir, 'project')
  fs.mkdirSync(path.join(root, 'src'), { recursive: true })
  fs.writeFileSync(path.join(root, 'src/a.txt'), 'alpha\n')
  fs.writeFileSync(path.join(root, 'src/b.bin'), crypto.randomBytes(300_000))
  const store = path.join(dir, 'store')
  await binding(writer).storeCreateSnapshot(root, store, 's1')
  fs.writeFileSync(path.join(root, 'only-in-s2.txt'), 'second snapshot only\n')
  await binding(writer).storeCreateSnapshot(root, store, 's2')
  return { root, store }
}

/** The packs of `store`: [{ name, entries, digest }], by name. */
function packsOf(store) {
  return new Chunks(store).load().packs.sort((a, b) => (a.name < b.name ? -1 : 1))
}

/** Replace pack `name`'s index by one of `entries` and `digest` (version 3 when null); the pack renamed after it. */
function reindex(store, name, entries, digest) {
  const packs = path.join(store, 'packs')
  const forged = encodeIndex(entries, digest)
  fs.renameSync(path.join(packs, `${name}.pack`), path.join(packs, `${forged.name}.pack`))
  fs.writeFileSync(path.join(packs, `${forged.name}.idx`), forged.bytes, { mode: 0o600 })
  fs.rmSync(path.join(packs, `${name}.idx`))
  return forged.name
}

/** The verdicts of a report, without how each chunk was checked: what deep and default agree on. */
const verdicts = ({ chunksHashed, packs, packsMismatched, ...rest }) => ({
  ...rest,
  badChunks: rest.badChunks.map((c) => ({ ...c, reason: c.reason.replace(/damaged: .*/, 'damaged') })),
})

test('a JS-written store: its SHA-256 packs hashed whole by both backends; a flipped byte is named per chunk and per snapshot, as deep names it', async () => {
  const dir = tempDir('sr-store-verify-js-')
  const { store } = await twoSnapshots(dir, 'js')
  const packs = packsOf(store)
  assert.equal(packs.length, 2)
  assert.ok(packs.every((p) => p.digest.hash === PACK_SHA256))
  const deep = {}
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(store)
    assert.equal(v.ok, true, backend)
    assert.deepEqual([v.packs, v.chunksHashed, v.packsMismatched], [2, 0, []], backend)
    deep[backend] = await binding(backend).storeVerify(store, null, { deep: true })
    assert.deepEqual([deep[backend].packs, deep[backend].chunksHashed], [0, v.chunks], backend)
    assert.deepEqual(verdicts(deep[backend]), verdicts(v), backend)
  }
  assert.deepEqual(deep.js, deep.native)
  flipChunk(store, sha('second snapshot only\n'))
  const bad = packs.find((p) => p.entries.some((e) => e.id === sha('second snapshot only\n')))
  const reports = {}
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(store)
    reports[backend] = v
    assert.deepEqual(
      v.badChunks.map((c) => [c.id, c.snapshots]),
      [[sha('second snapshot only\n'), ['s2']]],
      backend,
    )
    assert.deepEqual(
      v.broken.map((b) => b.id),
      ['s2'],
      backend,
    )
    // that pack alone was checked chunk by chunk
    assert.deepEqual([v.packs, v.packsMismatched, v.chunksHashed], [1, [bad.name], bad.entries.length], backend)
    assert.deepEqual(verdicts(await binding(backend).storeVerify(store, null, { deep: true })), verdicts(v), backend)
  }
  assert.deepEqual(verdicts(reports.js), verdicts(reports.native))
  // the JS backend's worker threads (a store this small is verified without them) say the same
  const { verifyStore } = require('../lib/js/store/verify')
  const { cancelToken } = require('../lib/js/backup/cancel')
  const here = await verifyStore(store, null, cancelToken(), { inline: true })
  for (const checkers of [0, 2]) {
    assert.deepEqual(await verifyStore(store, null, cancelToken(), { inline: false, checkers }), here, `${checkers} checkers`)
  }
  assert.deepEqual(here.packsMismatched, [bad.name])
  // only the snapshot asked for: the same verdicts from both backends
  const only = await binding('native').storeVerify(store, ['s1'])
  assert.equal(only.ok, true)
  assert.deepEqual(verdicts(await binding('js').storeVerify(store, ['s1'])), verdicts(only))
})

test('a native-written store: BLAKE3 packs hashed whole natively, checked chunk by chunk by the JS backend, the same verdicts', async () => {
  const dir = tempDir('sr-store-verify-native-')
  const { store } = await twoSnapshots(dir, 'native')
  const packs = packsOf(store)
  assert.ok(packs.length === 2 && packs.every((p) => p.digest.hash === PACK_BLAKE3))
  const native = await binding('native').storeVerify(store)
  assert.deepEqual([native.ok, native.packs, native.chunksHashed], [true, 2, 0])
  const js = await binding('js').storeVerify(store)
  assert.deepEqual([js.ok, js.packs, js.chunksHashed, js.packsMismatched], [true, 0, js.chunks, []])
  assert.deepEqual(verdicts(js), verdicts(native))
  flipChunk(store, sha('alpha\n'))
  const after = {}
  for (const backend of BACKENDS) {
    after[backend] = await binding(backend).storeVerify(store)
    assert.deepEqual(
      after[backend].badChunks.map((c) => [c.id, c.snapshots]),
      [[sha('alpha\n'), ['s1', 's2']]],
      backend,
    )
  }
  assert.equal(after.native.packsMismatched.length, 1)
  assert.deepEqual(verdicts(after.js), verdicts(after.native))
})

test('a bad chunk that two files of a snapshot share names that snapshot once, and its first file, on both backends', async () => {
  for (const writer of BACKENDS) {
    const dir = tempDir(`sr-store-verify-shared-${writer}-`)
    const root = path.join(dir, 'project')
    fs.mkdirSync(root)
    for (const name of ['a.txt', 'b.txt', 'c.txt']) fs.writeFileSync(path.join(root, name), 'the same bytes\n')
    const store = path.join(dir, 'store')
    await binding(writer).storeCreateSnapshot(root, store, 's1')
    await binding(writer).storeCreateSnapshot(root, store, 's2')
    flipChunk(store, sha('the same bytes\n'))
    const reports = {}
    for (const backend of BACKENDS) {
      const v = await binding(backend).storeVerify(store)
      reports[backend] = v
      assert.deepEqual(
        v.badChunks.map((c) => [c.id, c.snapshots]),
        [[sha('the same bytes\n'), ['s1', 's2']]],
        `${writer} store, ${backend}`,
      )
      assert.deepEqual(
        v.broken.map((b) => [b.id, b.reason]),
        ['s1', 's2'].map((id) => [id, `a.txt: chunk ${sha('the same bytes\n')} is bad`]),
        `${writer} store, ${backend}`,
      )
    }
    assert.deepEqual(verdicts(reports.js), verdicts(reports.native), `${writer} store`)
  }
})

test('a pack digest is not trusted blindly: a damaged digest field breaks its index, a wrong one is named, an entry outside a matching pack is damage', async () => {
  const dir = tempDir('sr-store-verify-digest-')
  const { store } = await twoSnapshots(dir, 'js')
  const first = packsOf(store).find((p) => p.entries.some((e) => e.id === sha('alpha\n')))
  // a byte of the digest flipped in place: the index no longer hashes to its name
  const idx = path.join(store, 'packs', `${first.name}.idx`)
  const bytes = fs.readFileSync(idx)
  const at = 28 + 40 * first.entries.length + 1
  bytes[at] ^= 1
  fs.writeFileSync(idx, bytes)
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(store)
    assert.equal(v.ok, false, backend)
    assert.ok(
      v.badChunks.length > 0 && v.badChunks.every((c) => c.reason === 'missing'),
      backend,
    )
    assert.deepEqual(
      v.broken.map((b) => b.id),
      ['s1', 's2'],
      backend,
    )
  }
  bytes[at] ^= 1
  fs.writeFileSync(idx, bytes)
  // a wrong digest in an index that hashes right: the pack is checked chunk by chunk, all good
  const wrong = Buffer.from(first.digest.digest)
  wrong[0] ^= 1
  const renamed = reindex(store, first.name, first.entries, { hash: PACK_SHA256, digest: wrong })
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(store)
    assert.equal(v.ok, true, backend)
    assert.deepEqual(v.packsMismatched, [renamed], backend)
    assert.equal(v.chunksHashed, first.entries.length, backend)
  }
  // the right digest, and a file chunk's entry past the pack's end: that chunk is damaged
  const size = fs.statSync(path.join(store, 'packs', `${renamed}.pack`)).size
  const past = first.entries.map((e) => (e.id === sha('alpha\n') ? { ...e, offset: size } : e))
  const moved = reindex(store, renamed, past, first.digest)
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(store)
    assert.equal(v.packs, 2, backend)
    assert.deepEqual(
      v.badChunks.map((c) => c.id),
      [sha('alpha\n')],
      backend,
    )
    // the reason names the pack and the bytes wanted, not wrapped as a failed read
    const len = past.find((e) => e.id === sha('alpha\n')).len
    assert.equal(v.badChunks[0].reason, `Chunk ${sha('alpha\n')} is damaged: pack ${moved} ends before its bytes ${size}..${size + len}`, backend)
  }
})

test('a version 3 store (indexes without pack digests) verifies on both backends, every chunk checked alone; the next snapshot adds a digest', async () => {
  const dir = tempDir('sr-store-verify-v3-')
  const { root, store } = await twoSnapshots(dir, 'native')
  for (const p of packsOf(store)) reindex(store, p.name, p.entries, null)
  const demote = (rel) => {
    const file = path.join(store, rel)
    const text = fs.readFileSync(file, 'utf8')
    assert.match(text, /"version": 4/)
    fs.writeFileSync(file, text.replace('"version": 4', '"version": 3'))
  }
  demote('store.json')
  demote('snapshots/s1.json')
  demote('snapshots/s2.json')
  assert.ok(packsOf(store).every((p) => p.digest === null))
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(store)
    assert.equal(v.ok, true, backend)
    assert.deepEqual([v.packs, v.chunksHashed], [0, v.chunks], backend)
  }
  for (const writer of BACKENDS) {
    fs.writeFileSync(path.join(root, `new-${writer}.txt`), `new from ${writer}\n`)
    await binding(writer).storeCreateSnapshot(root, store, `s3-${writer}`)
  }
  assert.equal(JSON.parse(fs.readFileSync(path.join(store, 'store.json'))).version, 4)
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(store)
    assert.equal(v.ok, true, backend)
    // the JS snapshot's pack (SHA-256) is hashed whole by both; the native one's by native only
    assert.equal(v.packs, backend === 'native' ? 2 : 1, backend)
    assert.ok(v.chunksHashed < v.chunks, backend)
  }
})

test('readIndex: a version 4 index names its pack digest, a version 3 one has none, other magics and short ones are refused', () => {
  const entries = [{ id: sha('a'), offset: 0, len: 7 }]
  const digest = { hash: PACK_BLAKE3, digest: crypto.randomBytes(32) }
  const v4 = encodeIndex(entries, digest)
  assert.deepEqual(readIndex(v4.name, v4.bytes), { entries, digest })
  const v3 = encodeIndex(entries)
  assert.deepEqual(readIndex(v3.name, v3.bytes), { entries, digest: null })
  assert.equal(v4.bytes.length, v3.bytes.length + 33)
  const other = Buffer.from(v4.bytes)
  other[7] = 5
  assert.throws(() => readIndex(v4.name, other), (err) => err.code === 'ECORRUPT')
  // refused for its magic or its length even where it hashes to its name, before its count is read
  const notIndex = /is damaged: not a version 3 or 4 pack index$/
  const selfNamed = (body) => {
    const sum = crypto.createHash('sha256').update(body).digest()
    return [sum.toString('hex'), Buffer.concat([body, sum])]
  }
  const otherMagic = Buffer.from(v4.bytes.subarray(0, v4.bytes.length - 32))
  otherMagic[7] = 5
  assert.throws(() => readIndex(...selfNamed(otherMagic)), (err) => err.code === 'ECORRUPT' && notIndex.test(err.message))
  // a version 4 index one byte shorter than its smallest (no entries: head, pack digest, self hash)
  const empty = encodeIndex([], digest).bytes
  const short = selfNamed(empty.subarray(0, empty.length - 32 - 1))
  assert.throws(() => readIndex(...short), (err) => err.code === 'ECORRUPT' && notIndex.test(err.message))
  const head = selfNamed(empty.subarray(0, 10))
  assert.throws(() => readIndex(...head), (err) => err.code === 'ECORRUPT' && notIndex.test(err.message))
  // named by the hash of its content, but its last bytes (that hash, stored) changed
  const tail = Buffer.from(v4.bytes)
  tail[tail.length - 1] ^= 1
  assert.throws(() => readIndex(v4.name, tail), { code: 'ECORRUPT', message: `The index of pack ${v4.name} is damaged: its content does not match its name` })
})

test('a pack the collection rewrites records its digest: every pack hashed whole afterwards, by both backends', async () => {
  for (const writer of BACKENDS) {
    const dir = tempDir(`sr-store-verify-gc-${writer}-`)
    const { root, store } = await twoSnapshots(dir, writer)
    // s1's pack is mostly b.bin: once no snapshot needs it, the collection rewrites the rest
    fs.rmSync(path.join(root, 'src/b.bin'))
    await binding(writer).storeCreateSnapshot(root, store, 's3')
    binding(writer).storeRemoveSnapshot(store, 's1')
    binding(writer).storeRemoveSnapshot(store, 's2')
    const before = packsOf(store).map((p) => p.name)
    await binding(writer).storeGc(store)
    const after = packsOf(store)
    assert.ok(
      after.some((p) => !before.includes(p.name)),
      `${writer}: a pack was rewritten`,
    )
    const v = await binding(writer).storeVerify(store)
    assert.equal(v.ok, true, writer)
    assert.deepEqual([v.packs, v.chunksHashed], [after.length, 0], writer)
  }
})

/** `s1`..`s4` of a project of 60 small files in `many/`, only `z.txt` changed from one to the next: the tree runs of `many/` are the same chunks in every snapshot. */
async function sharedRuns(dir, writer) {
  const root = path.join(dir, `project-${writer}`)
  fs.mkdirSync(path.join(root, 'many'), { recursive: true })
  for (let i = 0; i < 60; i++) fs.writeFileSync(path.join(root, 'many', `f${String(i).padStart(3, '0')}.txt`), `file ${i}\n`)
  const store = path.join(dir, `store-${writer}`)
  const ids = ['s1', 's2', 's3', 's4']
  for (const [i, id] of ids.entries()) {
    fs.writeFileSync(path.join(root, 'z.txt'), `round ${i}\n`)
    await binding(writer).storeCreateSnapshot(root, store, id)
  }
  return { store, ids }
}

test('a bad chunk reached through a tree run every snapshot shares is named with each of them, by both backends, default and deep alike', async () => {
  const dir = tempDir('sr-store-verify-shared-')
  const { Store } = require('../lib/js/store/format')
  for (const writer of BACKENDS) {
    const { store, ids } = await sharedRuns(dir, writer)
    const check = async (bad) => {
      for (const backend of BACKENDS) {
        const v = await binding(backend).storeVerify(store)
        const deep = await binding(backend).storeVerify(store, null, { deep: true })
        assert.deepEqual(verdicts(deep), verdicts(v), `${writer} ${backend}`)
        assert.deepEqual(
          v.badChunks.map((c) => [c.id, c.snapshots]),
          bad.map((c) => [c, ids]),
          `${writer} ${backend}`,
        )
        assert.deepEqual(v.broken.map((b) => b.id).sort(), bad.length ? ids : [], `${writer} ${backend}`)
      }
    }
    await check([])
    // a file chunk the shared run lists
    flipChunk(store, sha('file 30\n'))
    await check([sha('file 30\n')])
    flipChunk(store, sha('file 30\n'))
    // the run's own chunk, the same in every snapshot's tree
    const s = Store.open(store, false)
    const run = s.record('s1').tree.find((c) => s.get(c, true).toString().includes('"many/f030.txt"'))
    for (const id of ids) assert.ok(s.record(id).tree.includes(run), `${writer} ${id}`)
    flipChunk(store, run)
    await check([run])
  }
})

/**
 * A store of one JS snapshot ('base') and `record(id, tree, treeDepth, version)`, which writes a
 * record by hand over tree chunks put by hand.
 */
async function craftedStore(dir) {
  const { store, record: base } = await baseStore(dir, 'js')
  const record = (id, tree, treeDepth, version = base.version) => writeRecord(store, id, { ...base, version, id, tree, treeDepth, files: 0, dirs: 2, bytes: 0 })
  return { store, record }
}

const dirLine = (p) => `${JSON.stringify({ path: p, type: 'dir', mode: 0o755, size: 0, mtime: [0, 0], ctime: [0, 0], ino: '0' })}\n`

test('the JS verify walk notes the text runs it read whole from a line start (not its tree list), and a later snapshot skips them, its tree list read again unhashed', async () => {
  const { store, record } = await craftedStore(tempDir('sr-store-verify-walker-'))
  const runs = [putTree(store, dirLine('d1')), putTree(store, dirLine('d2'))]
  const list = putTree(store, Buffer.from(runs.join(''), 'hex'))
  // a list chunk is no text: its last byte here is no newline, so read as text it would leave
  // the walk mid-line and the first run unnoted
  assert.notEqual(list.slice(-2), '0a')
  for (const id of ['s1', 's2']) record(id, [list], 1)
  const walker = new TreeWalker(Store.open(store, false), () => {}, new Map())
  const reads = []
  const plain = walker.checker.plain.bind(walker.checker)
  walker.checker.plain = (id, check) => {
    reads.push([id, check])
    return plain(id, check)
  }
  assert.equal(walker.walk('s1').broken, null)
  assert.deepEqual(reads, [[list, true], ...runs.map((c) => [c, true])])
  assert.deepEqual([...walker.runs].sort(), [...runs].sort())
  reads.length = 0
  assert.equal(walker.walk('s2').broken, null)
  assert.deepEqual(reads, [[list, false]])
  // a version 1 tree is cut across lines: a chunk that ends mid-line, or starts there, is no run
  const line = dirLine('d3')
  const cut = [putTree(store, dirLine('d4') + line.slice(0, 10)), putTree(store, line.slice(10))]
  record('v1', cut, 0, 1)
  assert.equal(walker.walk('v1').broken, null)
  assert.deepEqual([...walker.runs].sort(), [...runs].sort())
  // and the whole verify agrees on both backends
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(store)
    assert.deepEqual([v.ok, v.snapshots], [true, 4], backend)
  }
})

test('the JS verify check finds a chunk another writer flushed after it read the indexes (looked up again, not missing)', async () => {
  const { store } = await craftedStore(tempDir('sr-store-verify-fresh-'))
  // packs/ older than any flush to come, so that the flush below changes its stamp
  fs.utimesSync(path.join(store, 'packs'), 1, 1)
  const checker = new ChunkChecker(Store.open(store, false))
  const data = Buffer.from('flushed after the indexes were read\n')
  const id = chunkId(data)
  assert.equal(checker.chunks.locate(id), undefined)
  putTree(store, data)
  assert.deepEqual(checker.verdict(id), [encode(data).length, null, 1])
})

test('a damaged tree list chunk, or a tree list too deep, breaks its snapshot alone, on both backends', async () => {
  const { store, record } = await craftedStore(tempDir('sr-store-verify-treelist-'))
  const text = putTree(store, dirLine('d1'))
  const list = putTree(store, Buffer.from(text, 'hex'))
  let chain = text
  for (let i = 0; i < 33; i++) chain = putTree(store, Buffer.from(chain, 'hex'))
  record('listed', [list], 1)
  record('deep', [chain], 33)
  const reports = {}
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(store)
    assert.deepEqual(v.broken.map((b) => b.id), ['deep'], backend)
    assert.match(v.broken[0].reason, /depth 33/, backend)
  }
  flipChunk(store, list)
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(store)
    reports[backend] = v
    assert.deepEqual(v.broken.map((b) => b.id), ['deep', 'listed'], backend)
    assert.deepEqual(v.badChunks.map((c) => [c.id, c.snapshots]), [[list, ['listed']]], backend)
    assert.match(v.broken[1].reason, new RegExp(`The tree of snapshot listed cannot be read: .*${list}`), backend)
  }
  assert.deepEqual(verdicts(reports.js).badChunks, verdicts(reports.native).badChunks)
})

test('a verify changes nothing in the store: a store folder left 0755 stays so, on both backends and in the JS worker threads', async () => {
  const dir = tempDir('sr-store-verify-reader-')
  const { store } = await twoSnapshots(dir, 'js')
  const modes = () => ['', 'packs', 'snapshots'].map((d) => fs.statSync(path.join(store, d)).mode & 0o777)
  for (const d of ['', 'packs', 'snapshots']) fs.chmodSync(path.join(store, d), 0o755)
  const before = fs.readFileSync(path.join(store, 'store.json'))
  const { verifyStore } = require('../lib/js/store/verify')
  const { cancelToken } = require('../lib/js/backup/cancel')
  // deep: no pack trusted, so every file chunk goes to the checker, which must have opened the
  // store before it answers (a checker with nothing to do may be ended before it runs at all)
  for (const checkers of [0, 1]) {
    const report = await verifyStore(store, null, cancelToken(), { inline: false, checkers, deep: true })
    assert.deepEqual([report.ok, report.chunksHashed], [true, report.chunks], `${checkers} checkers`)
    assert.deepEqual(modes(), [0o755, 0o755, 0o755], `${checkers} checkers`)
  }
  for (const backend of BACKENDS) {
    assert.equal((await binding(backend).storeVerify(store)).ok, true)
    assert.deepEqual(modes(), [0o755, 0o755, 0o755], backend)
  }
  assert.deepEqual(fs.readFileSync(path.join(store, 'store.json')), before)
})

test('the JS verify checker reads a batch pack by pack, each forward by offset, and answers in the batch order', async () => {
  const { store } = await craftedStore(tempDir('sr-store-verify-order-'))
  const ids = []
  for (const pack of ['one', 'two']) {
    const s = Store.open(store, true)
    for (let i = 0; i < 4; i++) {
      const data = Buffer.from(`${pack} ${i}\n`)
      ids.push(chunkId(data))
      s.put(chunkId(data), encode(data))
    }
    s.flush()
  }
  const checker = new ChunkChecker(Store.open(store, false))
  const batch = [5, 2, 7, 0, 3, 6, 1, 4].map((i) => [ids[i], checker.chunks.locate(ids[i])])
  const reads = []
  const readAtInto = checker.chunks.readAtInto.bind(checker.chunks)
  checker.chunks.readAtInto = (id, loc, buf) => {
    reads.push([loc.pack, loc.offset])
    return readAtInto(id, loc, buf)
  }
  const verdicts = checker.verdicts(batch)
  const places = batch.map(([, loc]) => [loc.pack, loc.offset])
  assert.deepEqual(reads, [...places].sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1)))
  assert.equal(new Set(places.map(([pack]) => pack)).size, 2)
  assert.deepEqual(
    verdicts,
    batch.map(([, loc]) => [loc.len, null, 1]),
  )
})
