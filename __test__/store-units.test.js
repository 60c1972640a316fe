'use strict'
// The snapshot store's entry points (lib/js/store/index.js and their native twins) asked
// directly, on both backends, the answers compared: a store that is not there is read as
// empty and never made by a read; a snapshot keeps its label and the parent it was given, and
// reports progress to a callback.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { resolveBackend } = require('../lib/backend')
const { test, BACKENDS, tempDir, hasCommand, ROOT, SYNC_CHILD } = require('./helpers')
const { spawnSync } = require('node:child_process')

/** `fn(binding, dir)` on each backend in turn, awaited, each in a temp folder of its own: both results. */
async function onBothAsync(fn) {
  const results = {}
  for (const backend of BACKENDS) results[backend] = await fn(resolveBackend(backend).binding, tempDir(`sr-${backend}-`))
  return results
}

/** A project folder `root` with `files` ({ name: content }) and the path of its store (not made). */
function project(dir, files) {
  const root = path.join(dir, 'root')
  fs.mkdirSync(root)
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(root, name), content)
  return { root, store: path.join(dir, 'store') }
}

test('a store that is not there: listed and logged as empty, a removal, a restore, a verify and a gc are ENOENT, and none of them makes it', async () => {
  const results = await onBothAsync(async (b, dir) => {
    const store = path.join(dir, 'store')
    let removed = null
    try {
      b.storeRemoveSnapshot(store, 's1')
    } catch (err) {
      removed = err.code
    }
    const codeOf = (promise) => promise.then(
      () => 'ok',
      (err) => err.code,
    )
    const target = path.join(dir, 'target')
    fs.mkdirSync(target)
    const reads = [await codeOf(b.storeRestoreSnapshot(store, 's1', target)), await codeOf(b.storeVerify(store)), await codeOf(b.storeGc(store))]
    return { list: b.storeListSnapshots(store), log: await b.storeLog(store), removed, reads, made: fs.existsSync(store) }
  })
  assert.deepEqual(results.native, { list: [], log: [], removed: 'ENOENT', reads: ['ENOENT', 'ENOENT', 'ENOENT'], made: false })
  assert.deepEqual(results.js, results.native)
})

test('a snapshot keeps its label and the parent it names (not only the latest), and reports progress to a callback', async () => {
  const results = await onBothAsync(async (b, dir) => {
    const { root, store } = project(dir, { 'a.txt': 'a'.repeat(1000), 'b.txt': 'b' })
    const progress = []
    const s1 = await b.storeCreateSnapshot(root, store, 's1', { label: 'first' }, (p) => progress.push(p.phase))
    await b.storeCreateSnapshot(root, store, 's2', {})
    const s3 = await b.storeCreateSnapshot(root, store, 's3', { parent: 's1' })
    const s4 = await b.storeCreateSnapshot(root, store, 's4')
    return {
      s1: [s1.snapshot.label, s1.filesRead, s1.filesReused, progress.length > 0],
      s3: [s3.snapshot.label, s3.snapshot.parent, s3.filesReused],
      s4: [s4.snapshot.parent, s4.filesReused],
    }
  })
  assert.deepEqual(results.native, { s1: ['first', 2, 0, true], s3: ['', 's1', 2], s4: ['s3', 2] })
  assert.deepEqual(results.js, results.native)
})

test('a diff against the work tree, and a snapshot, read a file whose mtime was put back after a same-size change (its ctime moved), on both backends', async () => {
  const results = await onBothAsync(async (b, dir) => {
    const { root, store } = project(dir, { 'a.txt': 'aaaa' })
    const file = path.join(root, 'a.txt')
    const whole = 1_700_000_000 // a whole second: put back to the nanosecond
    fs.utimesSync(file, whole, whole)
    await b.storeCreateSnapshot(root, store, 's1')
    fs.writeFileSync(file, 'bbbb')
    fs.utimesSync(file, whole, whole) // the mtime as it was; the ctime is now
    const d = await b.storeDiff(store, 's1', null, { root })
    let missing = null
    await b.storeDiff(path.join(dir, 'no-store'), 's1', null, { root }).catch((err) => (missing = err.code))
    // a snapshot reads it again too (not reused from s1 on its size and mtime)
    const s2 = await b.storeCreateSnapshot(root, store, 's2')
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(store, 's2', out)
    const snapshot = [s2.filesRead, fs.readFileSync(path.join(out, 'a.txt'), 'utf8')]
    return { changes: d.changes.map((c) => [c.path, c.change]), hashed: d.hashed, missing, made: fs.existsSync(path.join(dir, 'no-store')), snapshot }
  })
  assert.deepEqual(results.native, { changes: [['a.txt', 'modified']], hashed: 1, missing: 'ENOENT', made: false, snapshot: [1, 'bbbb'] })
  assert.deepEqual(results.js, results.native)
})

test('a snapshot reports progress every 200 files and once at the end, and its record holds the same fields, on both backends', async () => {
  const results = await onBothAsync(async (b, dir) => {
    const files = Object.fromEntries(Array.from({ length: 450 }, (_, i) => [`f${i}.txt`, `${i}`]))
    const { root, store } = project(dir, files)
    const progress = []
    await b.storeCreateSnapshot(root, store, 's1', {}, (p) => progress.push([p.phase, p.files]))
    const records = [store]
    // a small tree, of one level: no list depth written
    fs.mkdirSync(path.join(dir, 'small'))
    const small = project(path.join(dir, 'small'), { 'a.txt': 'a' })
    await b.storeCreateSnapshot(small.root, small.store, 's1')
    records.push(small.store)
    const [large, one] = records.map((s) => JSON.parse(fs.readFileSync(path.join(s, 'snapshots', 's1.json'), 'utf8')))
    return { progress, fields: [large, one].map((r) => Object.keys(r).sort()), depths: [large.treeDepth, one.treeDepth] }
  })
  assert.deepEqual(results.native.progress, [
    ['snapshot', 200],
    ['snapshot', 400],
    ['snapshot', 450],
  ])
  assert.deepEqual(results.native.depths, [1, undefined])
  assert.deepEqual(results.js, results.native)
})

test('a snapshot also reports progress each time 32 MiB more were read, on both backends', async () => {
  const MiB = 1024 * 1024
  const results = await onBothAsync(async (b, dir) => {
    const { root, store } = project(dir, {})
    // three files of 12 MiB: 36 MiB once the third is read
    for (const name of ['a', 'b', 'c']) fs.writeFileSync(path.join(root, name), Buffer.alloc(12 * MiB, name))
    const progress = []
    await b.storeCreateSnapshot(root, store, 's1', {}, (p) => progress.push([p.files, p.bytes / MiB]))
    return progress
  })
  assert.deepEqual(results.native, [
    [3, 36],
    [3, 36],
  ])
  assert.deepEqual(results.js, results.native)
})

test('a restore puts back mtimes, leaves the mode of a folder outside its subset, and leaves no temp file when a chunk is missing, on both backends', async () => {
  const { dropChunk } = require('./helpers')
  const results = await onBothAsync(async (b, dir) => {
    const { root, store } = project(dir, { 'a.txt': 'alpha', 'b.txt': 'beta' })
    fs.mkdirSync(path.join(root, 'sub'))
    fs.writeFileSync(path.join(root, 'sub', 'c.txt'), 'gamma')
    fs.utimesSync(path.join(root, 'a.txt'), 1_600_000_000.25, 1_600_000_000.25)
    await b.storeCreateSnapshot(root, store, 's1')
    const target = path.join(dir, 'target')
    fs.mkdirSync(target)
    await b.storeRestoreSnapshot(store, 's1', target)
    const mtime = fs.statSync(path.join(target, 'a.txt')).mtimeMs
    // a subset below a folder the target has, made 0755: the folder is not in the subset
    const partial = path.join(dir, 'partial')
    fs.mkdirSync(path.join(partial, 'sub'), { recursive: true })
    fs.chmodSync(path.join(partial, 'sub'), 0o755)
    await b.storeRestoreSnapshot(store, 's1', partial, ['sub/c.txt'])
    const mode = (fs.statSync(path.join(partial, 'sub')).mode & 0o777).toString(8)
    // b.txt's chunk gone: its restore fails, and what was begun for it is removed
    const crypto = require('node:crypto')
    dropChunk(store, crypto.createHash('sha256').update('beta').digest('hex'))
    const broken = path.join(dir, 'broken')
    fs.mkdirSync(broken)
    const code = await b.storeRestoreSnapshot(store, 's1', broken, ['b.txt']).then(
      () => 'ok',
      (err) => err.code,
    )
    return { mtime, mode, code, left: fs.readdirSync(broken) }
  })
  assert.deepEqual(results.native, { mtime: 1_600_000_000_250, mode: '755', code: 'ENOENT', left: [] })
  assert.deepEqual(results.js, results.native)
})

test('a database named that is no SQLite database (longer than a header, or shorter) is stored as a plain file, on both backends', async () => {
  const results = await onBothAsync(async (b, dir) => {
    const { root, store } = project(dir, { 'notes.db': 'not a database, '.repeat(20), 'tiny.db': 'tiny' })
    const first = await b.storeCreateSnapshot(root, store, 's1', { databases: ['notes.db', 'tiny.db'] })
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(store, 's1', out)
    // no SQLite key in their tree lines (that key marks a live database's copy)
    const { Store } = require('../lib/js/store/format')
    const s = Store.open(store, false)
    const keys = [...s.tree(s.record('s1'))].map((e) => [e.path, e.sqlite ?? null])
    return { read: first.filesRead, keys, back: ['notes.db', 'tiny.db'].map((n) => fs.readFileSync(path.join(out, n), 'utf8') === fs.readFileSync(path.join(root, n), 'utf8')) }
  })
  assert.deepEqual(results.native, {
    read: 2,
    keys: [
      ['notes.db', null],
      ['tiny.db', null],
    ],
    back: [true, true],
  })
  assert.deepEqual(results.js, results.native)
})

test('snapshots are listed oldest first, not by name, and a new one takes the newest as its parent, on both backends', async () => {
  const results = await onBothAsync(async (b, dir) => {
    const { root, store } = project(dir, { 'a.txt': 'a' })
    await b.storeCreateSnapshot(root, store, 'zeta')
    // a later time to the millisecond
    await new Promise((resolve) => setTimeout(resolve, 5))
    await b.storeCreateSnapshot(root, store, 'alpha')
    await new Promise((resolve) => setTimeout(resolve, 5))
    const next = await b.storeCreateSnapshot(root, store, 'mid')
    return { listed: b.storeListSnapshots(store).map((s) => s.id), logged: (await b.storeLog(store)).map((s) => s.id), parent: next.snapshot.parent }
  })
  assert.deepEqual(results.native, { listed: ['zeta', 'alpha', 'mid'], logged: ['zeta', 'alpha', 'mid'], parent: 'alpha' })
  assert.deepEqual(results.js, results.native)
})

test('gc of a store without packs/ (an old format) has nothing to sweep; one whose packs/ is a file stops, on both backends', async () => {
  const results = await onBothAsync(async (b, dir) => {
    const { root, store } = project(dir, { 'a.txt': 'a' })
    await b.storeCreateSnapshot(root, store, 's1')
    b.storeRemoveSnapshot(store, 's1')
    fs.rmSync(path.join(store, 'packs'), { recursive: true })
    const none = await b.storeGc(store)
    fs.writeFileSync(path.join(store, 'packs'), 'not a folder')
    const file = await b.storeGc(store).then(
      () => 'ok',
      (err) => err.code,
    )
    return { none, file }
  })
  assert.deepEqual(results.native, { none: { snapshots: 0, chunks: 0, removed: 0, removedBytes: 0 }, file: 'ENOTDIR' })
  assert.deepEqual(results.js, results.native)
})

test('a snapshot makes its store owner-only (the folder, packs/ and snapshots/), a new one and one that was there, and a reader changes no mode, on both backends', { skip: process.platform === 'win32' && 'no mode bits' }, async () => {
  const results = await onBothAsync(async (b, dir) => {
    const { root, store } = project(dir, { 'a.txt': 'a' })
    const folders = ['', 'packs', 'snapshots'].map((name) => path.join(store, name))
    const modes = () => folders.map((f) => (fs.statSync(f).mode & 0o777).toString(8))
    await b.storeCreateSnapshot(root, store, 's1')
    const made = modes()
    for (const f of folders) fs.chmodSync(f, 0o755)
    b.storeListSnapshots(store)
    await b.storeVerify(store)
    const read = modes()
    await b.storeCreateSnapshot(root, store, 's2')
    return { made, read, written: modes() }
  })
  assert.deepEqual(results.native, { made: ['700', '700', '700'], read: ['755', '755', '755'], written: ['700', '700', '700'] })
  assert.deepEqual(results.js, results.native)
})

test('a substitute is stored under the name it stands for, read again at every snapshot, and the file it replaces is not read, on both backends', async () => {
  const results = await onBothAsync(async (b, dir) => {
    const { root, store } = project(dir, { 'app.db': 'the live file', 'notes.txt': 'n' })
    const source = path.join(dir, 'copy.db')
    fs.writeFileSync(source, 'a consistent copy')
    const substitutes = [{ path: 'app.db', source }]
    const first = await b.storeCreateSnapshot(root, store, 's1', { substitutes })
    fs.writeFileSync(source, 'a later copy')
    const second = await b.storeCreateSnapshot(root, store, 's2', { substitutes })
    const restored = {}
    for (const id of ['s1', 's2']) {
      const out = path.join(dir, `out-${id}`)
      fs.mkdirSync(out)
      await b.storeRestoreSnapshot(store, id, out)
      restored[id] = fs.readFileSync(path.join(out, 'app.db'), 'utf8')
    }
    return { read: [first.filesRead, second.filesRead], restored }
  })
  assert.deepEqual(results.native, { read: [2, 1], restored: { s1: 'a consistent copy', s2: 'a later copy' } })
  assert.deepEqual(results.js, results.native)
})

test('the JS writer makes its packs durable before their indexes: one `sync -f` of the packs\' file system, or an fsync of each pack where there is no `sync` (strace counts both)', { skip: (process.platform !== 'linux' || !hasCommand('strace')) && 'needs strace on Linux' }, () => {
  const seen = (traceeEnv) => {
    const dir = tempDir('sr-flush-')
    const root = path.join(dir, 'root')
    fs.mkdirSync(root)
    fs.writeFileSync(path.join(root, 'a.txt'), 'alpha\n')
    const log = path.join(dir, 'strace.log')
    const script = `require(${JSON.stringify(path.join(ROOT, 'lib/backend'))}).resolveBackend('js').binding.storeCreateSnapshot(${JSON.stringify(root)}, ${JSON.stringify(path.join(dir, 'store'))}, 's1')`
    const r = spawnSync('strace', ['-f', '-qq', '-y', '-o', log, '-e', 'trace=execve,fsync,fdatasync', ...traceeEnv.flatMap((v) => ['-E', v]), process.execPath, '-e', script], { encoding: 'utf8', ...SYNC_CHILD })
    assert.equal(r.status, 0, r.stderr)
    const lines = fs.readFileSync(log, 'utf8').split('\n')
    return {
      syncRuns: lines.filter((l) => /execve\("[^"]*\/sync", \["sync", "-f"/.test(l) && / = 0$/.test(l)).length,
      packFsyncs: lines.filter((l) => /fsync\(\d+<[^>]*\/packs\/[0-9a-f]{64}\.pack>\)/.test(l)).length,
    }
  }
  assert.deepEqual(seen([]), { syncRuns: 1, packFsyncs: 0 })
  assert.deepEqual(seen(['PATH=/nonexistent']), { syncRuns: 0, packFsyncs: 1 })
})

test('compareText (the JS store\'s sort order of ids, times and paths) answers 0 for the same text, so that a sort keeps ties where they were, and -1 or 1 by code unit otherwise', () => {
  const { compareText } = require('../lib/js/store/format')
  assert.deepEqual(
    [
      ['a', 'a'],
      ['a', 'b'],
      ['b', 'a'],
      ['2026-01-01T00:00:00Z', '2025-12-31T23:59:59Z'],
    ].map(([a, b]) => compareText(a, b)),
    [0, -1, 1, 1],
  )
})

test('the JS snapshot walk gives the event loop a turn every 20 entries, and after every 2 MiB read, so that a SIGINT cancels within a few files (its setImmediate turns counted)', async () => {
  const js = resolveBackend('js').binding
  const turnsOf = async (fill) => {
    const dir = tempDir('sr-yield-')
    const root = path.join(dir, 'root')
    fs.mkdirSync(root)
    fill(root)
    const saved = global.setImmediate
    let turns = 0
    global.setImmediate = (...args) => {
      turns++
      return saved(...args)
    }
    try {
      await js.storeCreateSnapshot(root, path.join(dir, 'store'), 's1')
    } finally {
      global.setImmediate = saved
    }
    return turns
  }
  // 45 small files: turns at the 20th and the 40th entry
  const small = await turnsOf((root) => {
    for (let i = 0; i < 45; i++) fs.writeFileSync(path.join(root, `f${String(i).padStart(2, '0')}`), `${i}\n`)
  })
  // three files of 1 MiB: 2 MiB read before the third, a turn there; none at the end
  const large = await turnsOf((root) => {
    for (const name of ['a', 'b', 'c']) fs.writeFileSync(path.join(root, name), Buffer.alloc(1024 * 1024, name))
  })
  assert.deepEqual({ small, large }, { small: 2, large: 1 })
})

test('list.resolve tells its fetch how many list levels lie under each list chunk it reads: depth - 1 at the top, 0 just above the data', () => {
  const list = require('../lib/js/store/list')
  const id = (n) => n.toString(16).padStart(64, '0')
  // a list of depth 3 built by hand: chunk a -> [b, c], b -> [d], c -> [e], d -> [data 1, 2], e -> [data 3]
  const chunks = new Map([
    [id(0xa), [id(0xb), id(0xc)]],
    [id(0xb), [id(0xd)]],
    [id(0xc), [id(0xe)]],
    [id(0xd), [id(1), id(2)]],
    [id(0xe), [id(3)]],
  ])
  const fetched = []
  const fetch = (c, below) => {
    fetched.push([Number.parseInt(c, 16), below])
    return Buffer.from(chunks.get(c).join(''), 'hex')
  }
  assert.deepEqual(list.resolve([id(0xa)], 3, 100, fetch), [id(1), id(2), id(3)])
  assert.deepEqual(fetched, [
    [0xa, 2],
    [0xb, 1],
    [0xc, 1],
    [0xd, 0],
    [0xe, 0],
  ])
})

test('the JS diff walk takes a name listed and then gone at its lstat as removed meanwhile, and fails on any other lstat error (strace injects ENOENT, then EACCES, into the lstat of one file)', { skip: (process.platform !== 'linux' || !hasCommand('strace')) && 'needs strace on Linux' }, async () => {
  const dir = tempDir('sr-diff-race-')
  const root = path.join(dir, 'root')
  fs.mkdirSync(root)
  for (const name of ['a.txt', 'b.txt']) fs.writeFileSync(path.join(root, name), `${name}\n`)
  const store = path.join(dir, 'store')
  await resolveBackend('js').binding.storeCreateSnapshot(root, store, 's1')
  const diffWith = (errno) => {
    const script = `require(${JSON.stringify(path.join(ROOT, 'lib/backend'))}).resolveBackend('js').binding.storeDiff(${JSON.stringify(store)}, 's1', null, { root: ${JSON.stringify(root)} })
      .then((d) => d.changes.map((c) => c.change + ' ' + c.path), (err) => err.code)
      .then((r) => process.stdout.write(JSON.stringify(r)))`
    const stat = 'statx,newfstatat,lstat'
    const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-P', path.join(root, 'b.txt'), '-e', `trace=${stat}`, '-e', `inject=${stat}:error=${errno}`, process.execPath, '-e', script], { encoding: 'utf8', ...SYNC_CHILD })
    assert.equal(r.status, 0, r.stderr)
    return JSON.parse(r.stdout)
  }
  assert.deepEqual(diffWith('ENOENT'), ['removed b.txt'])
  assert.equal(diffWith('EACCES'), 'EACCES')
})

test('checkTreePath refuses what is no string with EPATHESCAPE (not a TypeError), as it refuses a path that is not a plain relative name', () => {
  const { checkTreePath } = require('../lib/js/store/format')
  for (const p of [5, null, undefined, ['a'], '']) assert.throws(() => checkTreePath(p), { code: 'EPATHESCAPE' }, String(p))
  assert.equal(checkTreePath('a/b'), 'a/b')
})
