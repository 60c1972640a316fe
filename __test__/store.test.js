'use strict'
// The snapshot store (docs/store-format.md) on both backends: round trips of real trees
// (empty folders, symlinks, modes, unicode names, a 1 GB sparse file), unchanged files left
// unread, verify naming the snapshots a bad chunk breaks, subsets, containment, and stores
// written by one backend read, verified and restored by the other.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { resolveBackend } = require('../lib/backend')
const { test, eachBackend, tempDir, spawnChild, BACKENDS, flipChunk, chunkIds, hasCommand, ROOT, SYNC_CHILD } = require('./helpers')

const binding = (name) => resolveBackend(name).binding

function makeProject(dir) {
  const root = path.join(dir, 'project')
  fs.mkdirSync(path.join(root, 'src/deep/er'), { recursive: true })
  fs.mkdirSync(path.join(root, 'empty/inside'), { recursive: true })
  fs.mkdirSync(path.join(root, 'backups'))
  fs.mkdirSync(path.join(root, '.git'))
  fs.writeFileSync(path.join(root, '.git/HEAD'), 'ref: x\n')
  fs.writeFileSync(path.join(root, 'src/a.txt'), 'alpha\n')
  fs.writeFileSync(path.join(root, 'src/deep/er/ünïcødé 名前 😀.txt'), 'unicode\n')
  fs.writeFileSync(path.join(root, 'empty.txt'), '')
  const big = Buffer.alloc(900_000)
  for (let i = 0; i < big.length; i++) big[i] = (Math.imul(i, 2654435761) >>> 7) & 0xff
  fs.writeFileSync(path.join(root, 'src/big.bin'), big)
  fs.writeFileSync(path.join(root, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
  fs.chmodSync(path.join(root, 'run.sh'), 0o755)
  fs.writeFileSync(path.join(root, 'secret.txt'), 's')
  fs.chmodSync(path.join(root, 'secret.txt'), 0o400)
  fs.writeFileSync(path.join(root, 'debug.log'), 'excluded')
  fs.symlinkSync('src/a.txt', path.join(root, 'link-in'))
  fs.symlinkSync('/etc/passwd', path.join(root, 'link-out'))
  fs.symlinkSync('nowhere', path.join(root, 'src/dangling'))
  return { root, store: path.join(root, 'backups/store') }
}

/** Every entry below `root` (not followed), minus backups/.git/*.log: [path, kind, mode, content]. */
function listing(root) {
  const out = []
  const walk = (dir) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name)
      const rel = path.relative(root, full)
      if (rel === 'backups' || rel === '.git' || rel.endsWith('.log')) continue
      const st = fs.lstatSync(full)
      if (st.isSymbolicLink()) out.push([rel, 'link', 0, fs.readlinkSync(full)])
      else if (st.isDirectory()) {
        out.push([rel, 'dir', st.mode & 0o7777, ''])
        walk(full)
      } else out.push([rel, 'file', st.mode & 0o7777, fs.readFileSync(full).toString('base64')])
    }
  }
  walk(root)
  return out
}

function flipChunkOf(store, content) {
  const id = require('node:crypto').createHash('sha256').update(content).digest('hex')
  flipChunk(store, id)
  return id
}

test('a snapshot restores byte-identical: empty folders, symlinks, modes, unicode names', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeProject(dir)
    const first = await b.storeCreateSnapshot(p.root, p.store, 's1', { label: 'one' })
    assert.equal(first.snapshot.id, 's1')
    assert.equal(first.snapshot.label, 'one')
    assert.equal(first.filesReused, 0)
    assert.ok(first.snapshot.newChunks > 0)
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    const r = await b.storeRestoreSnapshot(p.store, 's1', out)
    assert.equal(r.files, first.snapshot.files)
    assert.deepEqual(listing(out), listing(p.root))
    assert.ok(!fs.existsSync(path.join(out, 'backups')) && !fs.existsSync(path.join(out, '.git')))
    // format 3: one small pack and its index, owner-only; no loose chunk file
    const packs = fs.readdirSync(path.join(p.store, 'packs'))
    assert.deepEqual(packs.map((n) => path.extname(n)).sort(), ['.idx', '.pack'])
    for (const f of packs) assert.equal(fs.statSync(path.join(p.store, 'packs', f)).mode & 0o777, 0o600)
    assert.equal(fs.statSync(path.join(p.store, 'packs')).mode & 0o777, 0o700)
    assert.ok(!fs.existsSync(path.join(p.store, 'chunks')))
    assert.equal(fs.statSync(p.store).mode & 0o777, 0o700)
  })
})

test('a restore puts each entry in place of what holds its name: a folder with content where a file or a link goes, a file or a link where a folder goes', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeProject(dir)
    await b.storeCreateSnapshot(p.root, p.store, 's1')
    const out = path.join(dir, 'out')
    fs.mkdirSync(path.join(out, 'src/a.txt/inside'), { recursive: true })
    fs.writeFileSync(path.join(out, 'src/a.txt/inside/old.txt'), 'old\n')
    fs.mkdirSync(path.join(out, 'link-in/inside'), { recursive: true })
    fs.writeFileSync(path.join(out, 'empty'), 'a file where a folder goes\n')
    fs.symlinkSync('src', path.join(out, 'src/deep'))
    await b.storeRestoreSnapshot(p.store, 's1', out)
    assert.deepEqual(listing(out), listing(p.root))
  })
})

test('a restore whose rename the OS refuses fails with that errno and leaves no temp file (strace injects EIO into every rename), the same on both backends', { skip: (process.platform !== 'linux' || !hasCommand('strace')) && 'needs strace on Linux' }, async () => {
  const { spawnSync } = require('node:child_process')
  const results = {}
  for (const backend of BACKENDS) {
    const dir = tempDir(`sr-store-rename-${backend}-`)
    const root = path.join(dir, 'project')
    fs.mkdirSync(path.join(root, 'src'), { recursive: true })
    fs.writeFileSync(path.join(root, 'src/a.txt'), 'alpha\n')
    const store = path.join(dir, 'store')
    await binding(backend).storeCreateSnapshot(root, store, 's1')
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    const script = `
      const b = require(${JSON.stringify(path.join(ROOT, 'lib/backend'))}).resolveBackend(${JSON.stringify(backend)}).binding
      b.storeRestoreSnapshot(${JSON.stringify(store)}, 's1', ${JSON.stringify(out)})
        .then(() => 'restored', (err) => err.code)
        .then((code) => process.stdout.write(code))`
    const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=rename,renameat,renameat2', '-e', 'inject=rename,renameat,renameat2:error=EIO', process.execPath, '-e', script], { encoding: 'utf8', ...SYNC_CHILD })
    assert.equal(r.status, 0, r.stderr)
    results[backend] = { code: r.stdout, left: fs.readdirSync(out, { recursive: true }).sort() }
  }
  assert.deepEqual(results.native, { code: 'EIO', left: ['src'] })
  assert.deepEqual(results.js, results.native)
})

test('the temp files a killed restore left beside its targets are removed by the next restore; a live writer\'s are kept', async (t) => {
  const { spawnSync } = require('node:child_process')
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    const b = binding(backend)
    const p = makeProject(dir)
    await b.storeCreateSnapshot(p.root, p.store, 's1')
    const out = path.join(dir, 'out')
    fs.mkdirSync(path.join(out, 'src/deep/er'), { recursive: true })
    const deadPid = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim())
    const writer = spawnChild(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { t: st, stdio: 'ignore' })
    const now = Date.now()
    // the names both backends give their temps (core/src/fsx/beneath.rs, lib/js/temps.js)
    const killed = [`src/.big.bin.sr-${deadPid}-${now}-0.tmp`, `src/deep/er/.x.sr-${deadPid}-${now}-3.tmp`, `.run.sh.sr-${deadPid}-${now}-0.tmp`]
    const live = `src/.a.txt.sr-${writer.pid}-${now}-0.tmp`
    for (const rel of [...killed, live]) fs.writeFileSync(path.join(out, rel), 'half a file')
    await b.storeRestoreSnapshot(p.store, 's1', out)
    for (const rel of killed) assert.ok(!fs.existsSync(path.join(out, rel)), `${rel} removed`)
    assert.equal(fs.readFileSync(path.join(out, live), 'utf8'), 'half a file', 'a live writer\'s temp is kept')
    fs.unlinkSync(path.join(out, live))
    assert.deepEqual(listing(out), listing(p.root))
  })
})

test('unchanged files are not read again and a second snapshot adds no chunk', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeProject(dir)
    const first = await b.storeCreateSnapshot(p.root, p.store, 's1')
    const second = await b.storeCreateSnapshot(p.root, p.store, 's2')
    assert.equal(second.filesRead, 0)
    assert.equal(second.filesReused, first.filesRead)
    assert.equal(second.snapshot.newChunks, 0)
    assert.equal(second.snapshot.newBytes, 0)
    assert.equal(second.snapshot.parent, 's1')
    fs.writeFileSync(path.join(p.root, 'src/a.txt'), 'changed\n')
    const third = await b.storeCreateSnapshot(p.root, p.store, 's3')
    assert.equal(third.filesRead, 1)
    const list = b.storeListSnapshots(p.store)
    assert.deepEqual(
      list.map((s) => s.id),
      ['s1', 's2', 's3'],
    )
    const out = path.join(dir, 'old')
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(p.store, 's2', out, ['src/a.txt'])
    assert.equal(fs.readFileSync(path.join(out, 'src/a.txt'), 'utf8'), 'alpha\n')
  })
})

test('a 1 GB sparse file round-trips, stored in a few chunks, restored sparse', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const root = path.join(dir, 'p')
    fs.mkdirSync(root)
    const size = 2 ** 30
    const fd = fs.openSync(path.join(root, 'disk.img'), 'w')
    fs.ftruncateSync(fd, size)
    fs.writeSync(fd, 'in the middle', size / 2)
    fs.closeSync(fd)
    const store = path.join(dir, 'store')
    const s = await b.storeCreateSnapshot(root, store, 's1')
    assert.equal(s.snapshot.bytes, size)
    assert.ok(s.snapshot.newBytes < 1024 * 1024, `${s.snapshot.newBytes}`)
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(store, 's1', out)
    const st = fs.statSync(path.join(out, 'disk.img'))
    assert.equal(st.size, size)
    assert.ok(st.blocks * 512 < size / 16, `${st.blocks} blocks`)
    const probe = Buffer.alloc(13)
    const rfd = fs.openSync(path.join(out, 'disk.img'), 'r')
    fs.readSync(rfd, probe, 0, 13, size / 2)
    fs.closeSync(rfd)
    assert.equal(probe.toString(), 'in the middle')
  })
})

test('verify re-hashes each chunk once and names the snapshots a bad chunk breaks', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeProject(dir)
    await b.storeCreateSnapshot(p.root, p.store, 's1')
    fs.writeFileSync(path.join(p.root, 'only-in-s2.txt'), 'second snapshot only\n')
    await b.storeCreateSnapshot(p.root, p.store, 's2')
    const good = await b.storeVerify(p.store)
    assert.equal(good.ok, true)
    assert.equal(good.chunks, chunkIds(p.store).length)
    const only2 = flipChunkOf(p.store, 'second snapshot only\n')
    const bad = await b.storeVerify(p.store)
    assert.equal(bad.ok, false)
    assert.deepEqual(
      bad.badChunks.map((c) => [c.id, c.snapshots]),
      [[only2, ['s2']]],
    )
    assert.deepEqual(
      bad.broken.map((x) => x.id),
      ['s2'],
    )
    const shared = flipChunkOf(p.store, 'alpha\n')
    const worse = await b.storeVerify(p.store)
    assert.deepEqual(worse.badChunks.find((c) => c.id === shared).snapshots, ['s1', 's2'])
    // the intact parts still restore; a broken file fails with ECORRUPT
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(p.store, 's1', out, ['run.sh'])
    await assert.rejects(b.storeRestoreSnapshot(p.store, 's2', out, ['only-in-s2.txt']), { code: 'ECORRUPT' })
    assert.ok(!fs.existsSync(path.join(out, 'only-in-s2.txt')))
  })
})

test('a subset naming a path the snapshot lacks writes nothing; bad ids and links are refused', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeProject(dir)
    await b.storeCreateSnapshot(p.root, p.store, 's1')
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    await assert.rejects(b.storeRestoreSnapshot(p.store, 's1', out, ['src/a.txt', 'nope']), { code: 'ENOENT' })
    assert.deepEqual(fs.readdirSync(out), [])
    await assert.rejects(b.storeRestoreSnapshot(p.store, '../s1', out), { code: 'EBADLABEL' })
    await assert.rejects(b.storeCreateSnapshot(p.root, p.store, 's1'), { code: 'EEXIST' })
    // a restore never writes through a symlink on the way
    const outside = path.join(dir, 'outside')
    fs.mkdirSync(outside)
    fs.symlinkSync(outside, path.join(out, 'src'))
    await assert.rejects(b.storeRestoreSnapshot(p.store, 's1', out, ['src/a.txt']), { code: 'EPATHESCAPE' })
    assert.deepEqual(fs.readdirSync(outside), [])
    // a symlinked store is refused, nothing written where it points
    const q = makeProject(path.join(dir, 'q'))
    const elsewhere = path.join(dir, 'elsewhere')
    fs.mkdirSync(elsewhere)
    fs.symlinkSync(elsewhere, q.store)
    await assert.rejects(b.storeCreateSnapshot(q.root, q.store, 's1'), { code: 'EPATHESCAPE' })
    assert.deepEqual(fs.readdirSync(elsewhere), [])
  })
})

test('a store written by one backend is listed, verified and restored by the other, with the same chunks', async () => {
  const dir = tempDir('sr-store-cross-')
  const p = makeProject(dir)
  const stores = {}
  for (const backend of BACKENDS) {
    stores[backend] = path.join(dir, `store-${backend}`)
    await binding(backend).storeCreateSnapshot(p.root, stores[backend], 's1')
  }
  // same cut points, same ids, same tree: the two stores hold the same chunk names
  assert.deepEqual(chunkIds(stores.js), chunkIds(stores.native))
  for (const [writer, reader] of [
    ['js', 'native'],
    ['native', 'js'],
  ]) {
    const b = binding(reader)
    assert.deepEqual(
      b.storeListSnapshots(stores[writer]).map((s) => s.id),
      ['s1'],
    )
    assert.equal((await b.storeVerify(stores[writer])).ok, true)
    const out = path.join(dir, `${writer}-read-by-${reader}`)
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(stores[writer], 's1', out)
    assert.deepEqual(listing(out), listing(p.root))
    // and the reader adds a snapshot to the writer's store, reusing its entries
    fs.writeFileSync(path.join(p.root, `new-${reader}.txt`), reader)
    const next = await b.storeCreateSnapshot(p.root, stores[writer], `by-${reader}`)
    assert.equal(next.filesRead, 1)
    assert.equal((await binding(writer).storeVerify(stores[writer])).ok, true)
    fs.rmSync(path.join(p.root, `new-${reader}.txt`))
  }
})

/** A project that takes every structure of format version 2: ~400 entries (many tree runs), a
 * file of ~100 content-cut chunks (a list of depth 1), a database of ~1,300 pages (depth 2). */
function makeLargeProject(dir) {
  const p = makeProject(dir)
  for (let d = 0; d < 20; d++) {
    fs.mkdirSync(path.join(p.root, `many/d${d}`), { recursive: true })
    for (let f = 0; f < 20; f++) fs.writeFileSync(path.join(p.root, `many/d${d}/f${f}.txt`), `${d} ${f}\n`)
  }
  fs.writeFileSync(path.join(p.root, 'large.bin'), require('node:crypto').randomBytes(7_000_000))
  makeDatabase(path.join(p.root, 'data.sqlite'), 5000)
  return p
}

test('format versions 2-3 across backends: tree runs, chunk lists and packs written alike, read, verified and restored by the other', async () => {
  const dir = tempDir('sr-store-v2-')
  const p = makeLargeProject(dir)
  const stores = {}
  for (const backend of BACKENDS) {
    stores[backend] = path.join(dir, `store-${backend}`)
    await binding(backend).storeCreateSnapshot(p.root, stores[backend], 's1')
  }
  const { Store } = require('../lib/js/store/format')
  const s = Store.open(stores.native, false)
  const record = s.record('s1')
  assert.equal(record.version, 4)
  assert.ok(record.treeDepth >= 1, 'more tree runs than a record lists inline')
  // the two long files: more chunks than a line lists inline
  const counts = {}
  for (const e of s.tree(record)) if (e.path === 'large.bin' || e.path === 'data.sqlite') counts[e.path] = e.chunks.length
  assert.ok(counts['large.bin'] > 64 && counts['data.sqlite'] > 1000, JSON.stringify(counts))
  assert.deepEqual(chunkIds(stores.js), chunkIds(stores.native))
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(stores.js, 'store.json'))), JSON.parse(fs.readFileSync(path.join(stores.native, 'store.json'))))
  for (const [writer, reader] of [
    ['js', 'native'],
    ['native', 'js'],
  ]) {
    const b = binding(reader)
    const v = await b.storeVerify(stores[writer])
    assert.equal(v.ok, true)
    assert.equal(v.chunks, chunkIds(stores[writer]).length, 'verify reached every chunk, tree runs and lists included')
    const out = path.join(dir, `${writer}-read-by-${reader}`)
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(stores[writer], 's1', out)
    assert.deepEqual(listing(out), listing(p.root))
    assert.equal((await b.storeGc(stores[writer])).removed, 0)
  }
  // a damaged list chunk: both backends name the snapshot broken
  const runs = require('../lib/js/store/list').resolve(record.tree, record.treeDepth, 1e6, (id) => s.get(id))
  const line = Buffer.concat(runs.map((c) => s.get(c)))
    .toString()
    .split('\n')
    .find((l) => l.includes('"path":"large.bin"'))
  const stored = JSON.parse(line)
  assert.equal(stored.depth, 1)
  flipChunk(stores.native, stored.chunks[0])
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(stores.native)
    assert.deepEqual(v.broken.map((x) => x.id), ['s1'], backend)
    assert.deepEqual(v.badChunks.map((x) => [x.id, x.snapshots]), [[stored.chunks[0], ['s1']]], backend)
  }
})

/**
 * Turn snapshot `id` of a version 2 store into a version 1 one: its lines in tree chunks of `cut`
 * bytes (default: one chunk of every line; a cut may fall inside a line, as version 1 cut trees),
 * lists inline, version 1. The ids of its tree chunks.
 */
function downgradeToV1(store, id, cut = Infinity) {
  const { Store, chunkId, encode, entryLine } = require('../lib/js/store/format')
  const s = Store.open(store, false)
  const record = s.record(id)
  const text = Buffer.from([...s.tree(record)].map(entryLine).join(''))
  const tree = []
  for (let at = 0; at < text.length; at += cut) {
    const part = text.subarray(at, at + cut)
    const c = chunkId(part)
    tree.push(c)
    // a loose chunk file, as version 1 wrote it
    fs.mkdirSync(path.join(store, 'chunks', c.slice(0, 2)), { recursive: true, mode: 0o700 })
    fs.writeFileSync(path.join(store, 'chunks', c.slice(0, 2), c), encode(part), { mode: 0o600 })
  }
  const r = { ...record, version: 1, tree }
  delete r.treeDepth
  const file = path.join(store, 'snapshots', `${id}.json`)
  fs.chmodSync(file, 0o600)
  fs.writeFileSync(file, JSON.stringify(r, null, 2))
  const config = path.join(store, 'store.json')
  const c = JSON.parse(fs.readFileSync(config))
  c.version = 1
  fs.chmodSync(config, 0o600)
  fs.writeFileSync(config, JSON.stringify(c, null, 2))
  return tree
}

test('a version 1 tree cut across lines, shared by two snapshots, verifies on both backends and a bad file chunk in it is named with both', async () => {
  const dir = tempDir('sr-store-v1-cut-')
  const p = makeLargeProject(dir)
  const { chunkId } = require('../lib/js/store/format')
  for (const writer of BACKENDS) {
    const store = path.join(dir, `store-${writer}`)
    await binding(writer).storeCreateSnapshot(p.root, store, 's1')
    assert.ok(downgradeToV1(store, 's1', 50).length > 5)
    const s1 = fs.readFileSync(path.join(store, 'snapshots/s1.json'), 'utf8')
    fs.writeFileSync(path.join(store, 'snapshots/s2.json'), s1.replace('"id": "s1"', '"id": "s2"'), { mode: 0o600 })
    const a = chunkId(fs.readFileSync(path.join(p.root, 'src/a.txt')))
    for (const backend of BACKENDS) {
      const v = await binding(backend).storeVerify(store)
      assert.equal(v.ok, true, `${writer} ${backend}`)
      const deep = await binding(backend).storeVerify(store, null, { deep: true })
      assert.deepEqual([deep.chunks, deep.bytes], [v.chunks, v.bytes], `${writer} ${backend}`)
    }
    flipChunk(store, a)
    for (const backend of BACKENDS) {
      const v = await binding(backend).storeVerify(store)
      assert.deepEqual(v.badChunks.map((c) => [c.id, c.snapshots]), [[a, ['s1', 's2']]], `${writer} ${backend}`)
    }
  }
})

test('a version 1 store is read as is by both backends, and the next snapshot turns it to version 4', async () => {
  const dir = tempDir('sr-store-v1-')
  const p = makeLargeProject(dir)
  for (const [writer, reader] of [
    ['js', 'native'],
    ['native', 'js'],
  ]) {
    const store = path.join(dir, `store-${writer}`)
    await binding(writer).storeCreateSnapshot(p.root, store, 'old')
    downgradeToV1(store, 'old')
    for (const backend of BACKENDS) {
      const b = binding(backend)
      assert.equal((await b.storeVerify(store)).ok, true, backend)
      const out = path.join(dir, `v1-${writer}-${backend}`)
      fs.mkdirSync(out)
      await b.storeRestoreSnapshot(store, 'old', out)
      assert.deepEqual(listing(out), listing(p.root))
    }
    // the other backend writes the next snapshot: store.json becomes version 4, 'old' stays version 1
    fs.writeFileSync(path.join(p.root, 'added.txt'), 'added')
    const next = await binding(reader).storeCreateSnapshot(p.root, store, 'new')
    assert.equal(next.filesRead, 1)
    assert.equal(JSON.parse(fs.readFileSync(path.join(store, 'store.json'))).version, 4)
    assert.equal(JSON.parse(fs.readFileSync(path.join(store, 'snapshots/old.json'))).version, 1)
    await binding(writer).storeGc(store)
    for (const backend of BACKENDS) assert.equal((await binding(backend).storeVerify(store)).ok, true, backend)
    fs.rmSync(path.join(p.root, 'added.txt'))
  }
})

// gc under SIGKILL (50 kills per backend) and gc racing create: __test__/store-gc-kill.test.js

/** A SQLite database of `rows` rows of 1,000 random bytes (page size 4096), made by sqlite3. */
function makeDatabase(file, rows) {
  const sql = `PRAGMA page_size=4096; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${rows}) INSERT INTO t SELECT x, randomblob(1000) FROM c;`
  sqlite(file, sql)
}

function sqlite(file, sql) {
  const r = require('node:child_process').spawnSync('sqlite3', [file, sql], { encoding: 'utf8', timeout: 30000 })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.trim()
}

/** A project folder in `dir` for database `name`, and a store beside it. */
function dbProject(dir, name) {
  const root = path.join(dir, 'p')
  fs.mkdirSync(root)
  return { root, db: path.join(root, name), store: path.join(dir, 'store') }
}

/** Every entry of a snapshot's tree, as the native backend reads them back: path -> entry. */
function treeOf(store, id) {
  const { Store } = require('../lib/js/store/format')
  const s = Store.open(store, false)
  return new Map([...s.tree(s.record(id))].map((e) => [e.path, e]))
}

/** Bytes on disk of the chunks of `store` that snapshot `to` references and `from` does not, split: [data, tree and lists]. */
function newBytesOf(store, from, to) {
  const { Store } = require('../lib/js/store/format')
  const s = Store.open(store, false)
  const refs = (id) => {
    const data = new Set()
    const structure = new Set()
    for (const e of s.tree(s.record(id), (c) => structure.add(c) && s.get(c))) for (const c of e.chunks || []) data.add(c)
    return { data, structure }
  }
  const [a, b] = [refs(from), refs(to)]
  const old = new Set([...a.data, ...a.structure])
  const sum = (set) => [...set].filter((c) => !old.has(c)).reduce((n, c) => n + s.chunkSize(c), 0)
  return [sum(b.data), sum(b.structure)]
}

test('a SQLite database is cut at page-aligned points: a changed page costs one chunk', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const { root, db, store } = dbProject(dir, 'data.sqlite')
    makeDatabase(db, 1000)
    await b.storeCreateSnapshot(root, store, 's1')
    const size = fs.statSync(db).size
    // 4 KiB chunks: more than a tree line lists inline, so they are in list chunks (format 2)
    assert.equal(treeOf(store, 's1').get('data.sqlite').chunks.length, Math.ceil(size / 4096))
    // 50 bytes of one page in the middle rewritten: one 4 KiB chunk is new, plus the runs of
    // the list and the tree that name it
    const fd = fs.openSync(db, 'r+')
    fs.writeSync(fd, require('node:crypto').randomBytes(50), 0, 50, 150 * 4096 + 2000)
    fs.closeSync(fd)
    const second = await b.storeCreateSnapshot(root, store, 's2')
    const [data, structure] = newBytesOf(store, 's1', 's2')
    assert.ok(data <= 4097, `${data} bytes of new data chunks`)
    assert.ok(structure <= 4096, `${structure} bytes of new tree and list chunks`)
    assert.equal(second.snapshot.newBytes, data + structure)
    const before = treeOf(store, 's1').get('data.sqlite').chunks
    const after = treeOf(store, 's2').get('data.sqlite').chunks
    assert.deepEqual(
      after.map((c, i) => (c === before[i] ? '' : i)).filter((i) => i !== ''),
      [150],
    )
  })
})

test('a live database is copied only when SQLite says it changed; a touch alone is no change', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const { root, db, store } = dbProject(dir, 'data.sqlite')
    fs.writeFileSync(path.join(root, 'notes.txt'), 'n')
    makeDatabase(db, 600)
    const options = { databases: ['data.sqlite'] }
    const first = await b.storeCreateSnapshot(root, store, 's1', options)
    assert.equal(first.filesRead, 2)
    const [counter, pages] = [fs.readFileSync(db).readUInt32BE(24), fs.readFileSync(db).readUInt32BE(28)]
    assert.deepEqual(treeOf(store, 's1').get('data.sqlite').sqlite, [counter, pages, fs.statSync(db).size])
    const again = await b.storeCreateSnapshot(root, store, 's2', options)
    assert.equal(again.filesRead, 0)
    assert.equal(again.snapshot.newChunks, 0)
    const later = new Date(Date.now() + 5000)
    fs.utimesSync(db, later, later) // its times change, its content does not: SQLite's counter says so
    const touched = await b.storeCreateSnapshot(root, store, 's3', options)
    assert.equal(touched.filesRead, 0)
    sqlite(db, 'UPDATE t SET v = randomblob(1000) WHERE id = 300;')
    const changed = await b.storeCreateSnapshot(root, store, 's4', options)
    assert.equal(changed.filesRead, 1)
    // page 1 (the header's counter) and the row's page: at most two data chunks (and the runs
    // of the tree and of the chunk list that name them)
    const [data] = newBytesOf(store, 's3', 's4')
    assert.ok(data <= 2 * 4097, `${data} bytes of new data chunks`)
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(store, 's4', out)
    const row = 'SELECT hex(v) FROM t WHERE id = 300;'
    assert.equal(sqlite(path.join(out, 'data.sqlite'), row), sqlite(db, row))
    assert.equal(sqlite(path.join(out, 'data.sqlite'), 'PRAGMA integrity_check;'), 'ok')
  })
})

test('a WAL database with frames not yet checkpointed round-trips its committed rows, at the root and in a folder walked after another', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const { root, store } = dbProject(dir, 'wal.sqlite')
    fs.mkdirSync(path.join(root, 'a'))
    fs.writeFileSync(path.join(root, 'a', 'notes.txt'), 'n')
    fs.mkdirSync(path.join(root, 'data'))
    const databases = ['wal.sqlite', 'data/wal.sqlite']
    for (const rel of databases) {
      const db = path.join(root, rel)
      // committed, then the process ends without closing: the rows stay in the -wal file only
      const script = `import sqlite3, os
c = sqlite3.connect(${JSON.stringify(db)}, isolation_level=None)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
c.execute("BEGIN"); c.executemany("INSERT INTO t(v) VALUES (?)", [("row %d" % i,) for i in range(500)]); c.execute("COMMIT")
os._exit(0)`
      const r = require('node:child_process').spawnSync('python3', ['-c', script], { timeout: 30000 })
      assert.equal(r.status, 0, String(r.stderr))
      assert.ok(fs.statSync(`${db}-wal`).size > 0, 'the rows are in the WAL')
    }
    const made = await b.storeCreateSnapshot(root, store, 's1', { databases })
    assert.equal(made.filesRead, 3)
    // -wal, -shm left out
    assert.deepEqual([...treeOf(store, 's1').keys()], ['a', 'a/notes.txt', 'data', 'data/wal.sqlite', 'wal.sqlite'])
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(store, 's1', out)
    for (const rel of databases) assert.equal(sqlite(path.join(out, rel), "SELECT count(*) || ' ' || max(v) FROM t;"), '500 row 99', rel)
  })
})

test('a live database whose journal holds content is read at every snapshot; one whose journal is empty is reused', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const { root, store } = dbProject(dir, 'unused')
    // PERSIST keeps the journal's bytes after each commit, TRUNCATE leaves it empty
    sqlite(path.join(root, 'persist.db'), "PRAGMA journal_mode=PERSIST; CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('kept');")
    sqlite(path.join(root, 'truncate.db'), "PRAGMA journal_mode=TRUNCATE; CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('kept');")
    assert.ok(fs.statSync(path.join(root, 'persist.db-journal')).size > 0)
    assert.equal(fs.statSync(path.join(root, 'truncate.db-journal')).size, 0)
    const options = { databases: ['persist.db', 'truncate.db'] }
    const read = []
    for (const id of ['s1', 's2']) read.push((await b.storeCreateSnapshot(root, store, id, options)).filesRead)
    assert.deepEqual(read, [2, 1])
  })
})

test('a live database written to in a loop by another process is stored consistent every time', async (t) => {
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    const b = binding(backend)
    const { root, db, store } = dbProject(dir, 'busy.sqlite')
    makeDatabase(db, 2000)
    // another process commits rows of 3,000 bytes (each commit rewrites pages all over the file) until killed
    const writer = `import sqlite3, os
c = sqlite3.connect(${JSON.stringify(db)}, timeout=30, isolation_level=None)
while True:
    c.execute("BEGIN IMMEDIATE")
    c.executemany("INSERT INTO t(v) VALUES (randomblob(3000))", [()] * 20)
    c.execute("DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 10)")
    c.execute("COMMIT")`
    const child = spawnChild('python3', ['-c', writer], { t: st })
    await new Promise((resolve) => setTimeout(resolve, 300))
    const ids = []
    let read = 0
    for (let i = 0; i < 5; i++) {
      // a moment for the writer to commit (on a loaded machine it may not have: then the
      // database is rightly reused unread)
      await new Promise((resolve) => setTimeout(resolve, 100))
      const made = await b.storeCreateSnapshot(root, store, `s${i}`, { databases: ['busy.sqlite'] })
      read += made.filesRead
      ids.push(`s${i}`)
    }
    assert.ok(read >= 2, `the database was read while written to in ${read} of 5 snapshots`)
    child.kill('SIGKILL')
    for (const id of ids) {
      const out = path.join(dir, `out-${id}`)
      fs.mkdirSync(out)
      await b.storeRestoreSnapshot(store, id, out)
      assert.equal(sqlite(path.join(out, 'busy.sqlite'), 'PRAGMA integrity_check;'), 'ok', id)
    }
  })
})

// A store written by format 2 code (the JS backend of commit e499b79, before packs: one file
// per chunk under chunks/<hh>/): two snapshots of a small project, one file long enough for a
// list chunk (rows.txt, depth 1). The project in the archive is as the second snapshot took it.
const V2_FIXTURE = path.join(__dirname, 'fixtures/store-v2.tar.gz')

test('a store written by format 2 code is verified and restored by both backends, then extended with packs and collected', async () => {
  for (const [reader, writer] of [
    ['js', 'native'],
    ['native', 'js'],
  ]) {
    const dir = tempDir(`sr-store-v2-fixture-${reader}-`)
    require('node:child_process').execFileSync('tar', ['xzf', V2_FIXTURE, '-C', dir])
    const root = path.join(dir, 'project')
    const store = path.join(root, 'backups/store')
    assert.equal(JSON.parse(fs.readFileSync(path.join(store, 'store.json'))).version, 2)
    assert.ok(!fs.existsSync(path.join(store, 'packs')) && chunkIds(store).length > 80)
    const b = binding(reader)
    const v = await b.storeVerify(store)
    assert.equal(v.ok, true, JSON.stringify(v))
    assert.equal(v.chunks, chunkIds(store).length)
    const out = path.join(dir, 'out-s2')
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(store, 's2', out)
    assert.deepEqual(listing(out), listing(root))
    // the other backend takes the next snapshot: store.json turns to 4, new chunks go to a pack
    fs.writeFileSync(path.join(root, 'src/c.txt'), 'gamma, in s3\n')
    const s3 = await binding(writer).storeCreateSnapshot(root, store, 's3')
    // (tar gave every file a new inode and ctime: all are read again, and found in the store)
    assert.ok(s3.snapshot.newBytes < 8192, JSON.stringify(s3.snapshot))
    assert.equal(JSON.parse(fs.readFileSync(path.join(store, 'store.json'))).version, 4)
    assert.deepEqual(fs.readdirSync(path.join(store, 'packs')).map((n) => path.extname(n)).sort(), ['.idx', '.pack'])
    for (const backend of BACKENDS) assert.equal((await binding(backend).storeVerify(store)).ok, true, backend)
    // s1 goes: its own loose chunks (the first a.txt) are collected, s2 and s3 stay whole
    const loose = chunkIds(store).length
    // the bytes of the loose chunk files, as the file system counts them
    const looseBytes = () => fs.readdirSync(path.join(store, 'chunks'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((n, e) => n + fs.statSync(path.join(e.parentPath, e.name)).size, 0)
    const looseBefore = looseBytes()
    b.storeRemoveSnapshot(store, 's1')
    const gc = await b.storeGc(store)
    assert.ok(gc.removed > 0 && chunkIds(store).length < loose, JSON.stringify(gc))
    assert.equal(gc.removedBytes, looseBefore - looseBytes(), 'the bytes of the loose chunks removed')
    assert.ok(!chunkIds(store).includes(require('node:crypto').createHash('sha256').update('alpha\n').digest('hex')))
    for (const backend of BACKENDS) {
      assert.equal((await binding(backend).storeVerify(store)).ok, true, backend)
      const again = path.join(dir, `out-s3-${backend}`)
      fs.mkdirSync(again)
      await binding(backend).storeRestoreSnapshot(store, 's3', again)
      assert.deepEqual(listing(again), listing(root))
    }
  }
})

test('gc of packs: a dead pack goes, a mostly dead one is rewritten, unindexed packs wait out the grace, temps of dead writers go', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeProject(dir)
    const sha = (text) => require('node:crypto').createHash('sha256').update(text).digest('hex')
    const packs = () => fs.readdirSync(path.join(p.store, 'packs')).filter((n) => n.endsWith('.pack'))
    const { Chunks } = require('../lib/js/store/pack')
    const packOf = (id) => new Chunks(p.store).place(id).file
    fs.writeFileSync(path.join(p.root, 'gone.bin'), require('node:crypto').randomBytes(3_000_000))
    await b.storeCreateSnapshot(p.root, p.store, 's1')
    fs.rmSync(path.join(p.root, 'gone.bin'))
    fs.writeFileSync(path.join(p.root, 'third.txt'), 'third\n')
    await b.storeCreateSnapshot(p.root, p.store, 's2')
    assert.equal(packs().length, 2)
    const third = packOf(sha('third\n'))
    // s2 goes: its pack holds only s2's new chunks, none live any more
    b.storeRemoveSnapshot(p.store, 's2')
    fs.rmSync(path.join(p.root, 'third.txt'))
    await b.storeCreateSnapshot(p.root, p.store, 's3') // nothing new but its record
    const first = await b.storeGc(p.store)
    assert.ok(first.removed > 0, JSON.stringify(first))
    assert.ok(!fs.existsSync(third) && !fs.existsSync(third.replace(/\.pack$/, '.idx')))
    // s1 goes: its pack is mostly gone.bin; what s3 still needs is copied into a new pack
    const old = packOf(sha('alpha\n'))
    b.storeRemoveSnapshot(p.store, 's1')
    const second = await b.storeGc(p.store)
    assert.ok(second.removedBytes > 2_000_000, JSON.stringify(second))
    assert.ok(!fs.existsSync(old) && packOf(sha('alpha\n')) !== old)
    assert.deepEqual(packs().length, 2) // s3's own (its tree runs) and the rewritten one
    for (const other of BACKENDS) assert.equal((await binding(other).storeVerify(p.store)).ok, true, other)
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(p.store, 's3', out)
    assert.deepEqual(listing(out), listing(p.root))
    // leftovers of killed writers: an unindexed pack (kept until an hour old), temps by name
    const orphan = path.join(p.store, 'packs', `${sha('orphan')}.pack`)
    const dead = path.join(p.store, 'packs', '.pack.sr-1-2-3.tmp') // pid 1 started after that moment
    const ours = path.join(p.store, 'packs', `.pack.sr-${process.pid}-${Date.now()}-0.tmp`)
    for (const f of [orphan, dead, ours]) fs.writeFileSync(f, 'partial', { mode: 0o600 })
    // a pack whose index lists nothing holds no chunk a reader can find: it goes, index and pack
    const { encodeIndex, PACK_SHA256 } = require('../lib/js/store/pack')
    const empty = encodeIndex([], { hash: PACK_SHA256, digest: require('node:crypto').createHash('sha256').digest() })
    const emptyIdx = path.join(p.store, 'packs', `${empty.name}.idx`)
    fs.writeFileSync(emptyIdx, empty.bytes, { mode: 0o600 })
    fs.writeFileSync(emptyIdx.replace(/\.idx$/, '.pack'), '', { mode: 0o600 })
    const emptied = await b.storeGc(p.store)
    assert.deepEqual([fs.existsSync(emptyIdx), fs.existsSync(emptyIdx.replace(/\.idx$/, '.pack'))], [false, false], JSON.stringify(emptied))
    assert.deepEqual([emptied.removed, emptied.removedBytes], [0, 0])
    assert.deepEqual([fs.existsSync(orphan), fs.existsSync(dead), fs.existsSync(ours)], [true, false, true])
    // everything in packs/ aged past the grace: only the orphan goes, every index and its pack stay
    const hourAgo = new Date(Date.now() - 2 * 3600 * 1000)
    const packsDir = path.join(p.store, 'packs')
    for (const name of fs.readdirSync(packsDir)) fs.utimesSync(path.join(packsDir, name), hourAgo, hourAgo)
    const before = fs.readdirSync(packsDir).filter((name) => path.join(packsDir, name) !== orphan)
    await b.storeGc(p.store)
    assert.equal(fs.existsSync(orphan), false)
    assert.deepEqual(fs.readdirSync(packsDir), before)
    assert.equal((await b.storeVerify(p.store)).ok, true)
  })
})

test('damage in a pack: a flipped byte breaks its chunk only, a truncated pack or an entry past its end is reported by both backends, a damaged index stops gc', async () => {
  const dir = tempDir('sr-store-pack-damage-')
  const p = makeProject(dir)
  const sha = (text) => require('node:crypto').createHash('sha256').update(text).digest('hex')
  const { Chunks, encodeIndex, parseIndex } = require('../lib/js/store/pack')
  await binding('native').storeCreateSnapshot(p.root, p.store, 's1')
  fs.writeFileSync(path.join(p.root, 'only-in-s2.txt'), 'second snapshot only\n')
  await binding('js').storeCreateSnapshot(p.root, p.store, 's2')
  const placeOf = (id) => new Chunks(p.store).place(id)
  assert.notEqual(placeOf(sha('alpha\n')).file, placeOf(sha('second snapshot only\n')).file)
  flipChunk(p.store, sha('alpha\n'))
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(p.store)
    assert.deepEqual(
      v.badChunks.map((c) => [c.id, c.snapshots]),
      [[sha('alpha\n'), ['s1', 's2']]],
      backend,
    )
  }
  // an index entry that reaches past its pack's end: its chunk is damaged, not a crash
  const second = placeOf(sha('second snapshot only\n'))
  const name = path.basename(second.file, '.pack')
  const idx = path.join(p.store, 'packs', `${name}.idx`)
  const entries = parseIndex(name, fs.readFileSync(idx)).map((e) => (e.id === sha('second snapshot only\n') ? { ...e, offset: 1 << 30 } : e))
  const forged = encodeIndex(entries)
  fs.renameSync(second.file, path.join(p.store, 'packs', `${forged.name}.pack`))
  fs.writeFileSync(path.join(p.store, 'packs', `${forged.name}.idx`), forged.bytes, { mode: 0o600 })
  fs.rmSync(idx)
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(p.store)
    const past = v.badChunks.find((c) => c.id === sha('second snapshot only\n'))
    assert.match(past.reason, /ends before its bytes/, backend)
    assert.deepEqual(past.snapshots, ['s2'], backend)
  }
  // the pack cut short: every chunk of it is reported, with the snapshots that need them
  fs.truncateSync(path.join(p.store, 'packs', `${forged.name}.pack`), 0)
  for (const backend of BACKENDS) {
    const v = await binding(backend).storeVerify(p.store)
    assert.ok(v.badChunks.length > 1 && v.badChunks.every((c) => c.id === sha('alpha\n') || /ends before/.test(c.reason)), backend)
    assert.ok(v.broken.some((x) => x.id === 's2'), backend)
  }
  // an index that does not hash to its name: gc stops, nothing removed
  const bytes = fs.readFileSync(path.join(p.store, 'packs', `${forged.name}.idx`))
  bytes[30] ^= 1
  fs.writeFileSync(path.join(p.store, 'packs', `${forged.name}.idx`), bytes)
  binding('js').storeRemoveSnapshot(p.store, 's2')
  const before = fs.readdirSync(path.join(p.store, 'packs')).sort()
  for (const backend of BACKENDS) {
    await assert.rejects(binding(backend).storeGc(p.store), (err) => err.code === 'ECORRUPT', backend)
    assert.deepEqual(fs.readdirSync(path.join(p.store, 'packs')).sort(), before, backend)
  }
})
