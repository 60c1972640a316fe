'use strict'
// `backup-system diff` and `log` (issue 14's new commands) on both backends: every kind of
// change between two snapshots and between a snapshot and the work tree (metadata first,
// content read only when the metadata moved at the same size), a walk that follows no link
// and never leaves the project, the log's new and shared bytes against the chunk files on
// disk, and the same answers from both backends on the same store.
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const BackupSystem = require('../lib/backup-system')
const { resolveBackend } = require('../lib/backend')
const { test, eachBackend, runBin, flipChunk, dropChunk, chunkIds, storedBytes, tempDir } = require('./helpers')

const binding = (name) => resolveBackend(name).binding
const OTHER = { native: 'js', js: 'native' }

function makeTree(dir) {
  const root = path.join(dir, 'project')
  for (const d of ['src/sub', 'old/inner', 'becomes-file', 'backups', '.git']) fs.mkdirSync(path.join(root, d), { recursive: true })
  const write = (rel, data, mode) => {
    fs.writeFileSync(path.join(root, rel), data)
    if (mode) fs.chmodSync(path.join(root, rel), mode)
  }
  write('src/same.txt', 'unchanged\n')
  write('src/content.txt', 'aaaa\n')
  write('src/size.txt', 'short\n')
  write('src/mode.sh', '#!/bin/sh\n', 0o644)
  write('src/removed.txt', 'bye\n')
  write('old/inner/x.txt', 'x\n')
  write('becomes-dir', 'file first\n')
  write('becomes-file/y.txt', 'y\n')
  write('.git/HEAD', 'ref: x\n')
  write('debug.log', 'excluded\n')
  const big = crypto.randomBytes(600_000)
  write('src/big.bin', big)
  fs.symlinkSync('src/same.txt', path.join(root, 'link'))
  return { root, store: path.join(root, 'backups/store'), big }
}

/** The second state: one change of every kind. */
function change(p) {
  const at = (rel) => path.join(p.root, rel)
  fs.writeFileSync(at('src/content.txt'), 'bbbb\n') // same size, other content
  fs.writeFileSync(at('src/size.txt'), 'much longer now\n')
  fs.chmodSync(at('src/mode.sh'), 0o755)
  fs.rmSync(at('src/removed.txt'))
  fs.rmSync(at('old'), { recursive: true })
  fs.rmSync(at('becomes-dir'))
  fs.mkdirSync(at('becomes-dir'))
  fs.rmSync(at('becomes-file'), { recursive: true })
  fs.writeFileSync(at('becomes-file'), 'now a file\n')
  fs.writeFileSync(at('src/new.txt'), 'new\n')
  fs.mkdirSync(at('empty-new'))
  fs.rmSync(at('link'))
  fs.symlinkSync('src/size.txt', at('link'))
  const big = Buffer.from(p.big)
  big[300_000] ^= 1 // one chunk of a large file
  fs.writeFileSync(at('src/big.bin'), big)
  fs.writeFileSync(at('debug.log'), 'still excluded, changed\n')
  fs.writeFileSync(at('.git/HEAD'), 'ref: y\n')
}

const EXPECTED = [
  { path: 'becomes-dir', change: 'modified', type: 'dir', what: ['type'] },
  { path: 'becomes-file', change: 'modified', type: 'file', what: ['type'] },
  { path: 'becomes-file/y.txt', change: 'removed', type: 'file', what: [] },
  { path: 'empty-new', change: 'added', type: 'dir', what: [] },
  { path: 'link', change: 'modified', type: 'symlink', what: ['target'] },
  { path: 'old', change: 'removed', type: 'dir', what: [] },
  { path: 'old/inner', change: 'removed', type: 'dir', what: [] },
  { path: 'old/inner/x.txt', change: 'removed', type: 'file', what: [] },
  { path: 'src/big.bin', change: 'modified', type: 'file', what: ['content'] },
  { path: 'src/content.txt', change: 'modified', type: 'file', what: ['content'] },
  { path: 'src/mode.sh', change: 'modified', type: 'file', what: ['mode'] },
  { path: 'src/new.txt', change: 'added', type: 'file', what: [] },
  { path: 'src/removed.txt', change: 'removed', type: 'file', what: [] },
  { path: 'src/size.txt', change: 'modified', type: 'file', what: ['size'] },
]

/** The result without `hashed` (the work-tree side reads files; two snapshots read none). */
const shape = (r) => ({ changes: r.changes, added: r.added, removed: r.removed, modified: r.modified, skipped: r.skipped })

test('diff of two snapshots names every change once; both backends agree on the same store', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeTree(dir)
    await b.storeCreateSnapshot(p.root, p.store, 's1')
    change(p)
    await b.storeCreateSnapshot(p.root, p.store, 's2')
    const d = await b.storeDiff(p.store, 's1', 's2')
    assert.deepEqual(d.changes, EXPECTED)
    assert.deepEqual([d.added, d.removed, d.modified, d.hashed], [2, 5, 7, 0])
    // the other direction: added and removed swap
    const back = await b.storeDiff(p.store, 's2', 's1')
    assert.deepEqual(
      back.changes.filter((c) => c.change !== 'modified').map((c) => `${c.change} ${c.path}`),
      d.changes.filter((c) => c.change !== 'modified').map((c) => `${c.change === 'added' ? 'removed' : 'added'} ${c.path}`),
    )
    assert.deepEqual((await b.storeDiff(p.store, 's2', 's2')).changes, [])
    // the other backend reads this store and finds the same
    assert.deepEqual(shape(await binding(OTHER[backend]).storeDiff(p.store, 's1', 's2')), shape(d))
    // and against the work tree (nothing changed since s2): nothing, and no file read
    const now = await b.storeDiff(p.store, 's2', null, { root: p.root })
    assert.deepEqual([now.changes, now.hashed], [[], 0])
    const fromS1 = await b.storeDiff(p.store, 's1', null, { root: p.root })
    assert.deepEqual(fromS1.changes, EXPECTED)
    assert.deepEqual(shape(await binding(OTHER[backend]).storeDiff(p.store, 's1', null, { root: p.root })), shape(fromS1))
  })
})

test('diff against the work tree: metadata first, content read only when it moved at the same size', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeTree(dir)
    await b.storeCreateSnapshot(p.root, p.store, 's1')
    const at = (rel) => path.join(p.root, rel)
    const diff = () => b.storeDiff(p.store, 's1', null, { root: p.root })
    assert.deepEqual([(await diff()).changes, (await diff()).hashed], [[], 0])
    // touched, same bytes: read once, not a change
    const later = new Date(Date.now() + 5000)
    fs.utimesSync(at('src/same.txt'), later, later)
    let d = await diff()
    assert.deepEqual([d.changes, d.hashed], [[], 1])
    // rewritten with other bytes of the same size: read, a content change (the large file too)
    fs.writeFileSync(at('src/content.txt'), 'zzzz\n')
    const big = Buffer.from(p.big)
    big[10] ^= 0xff
    fs.writeFileSync(at('src/big.bin'), big)
    d = await diff()
    assert.deepEqual(
      d.changes.map((c) => [c.path, c.what]),
      [
        ['src/big.bin', ['content']],
        ['src/content.txt', ['content']],
      ],
    )
    assert.equal(d.hashed, 3)
    // a new size decides without reading
    fs.writeFileSync(at('src/size.txt'), 'a different length\n')
    d = await diff()
    assert.equal(d.hashed, 3)
    assert.deepEqual(d.changes.at(-1), { path: 'src/size.txt', change: 'modified', type: 'file', what: ['size'] })
    // a database's side files are left out as a snapshot leaves them out
    fs.writeFileSync(at('src/db.sqlite-wal'), 'wal')
    d = await b.storeDiff(p.store, 's1', null, { root: p.root, databases: ['src/db.sqlite'] })
    assert.ok(!d.changes.some((c) => c.path.includes('db.sqlite')))
    d = await diff()
    assert.ok(d.changes.some((c) => c.path === 'src/db.sqlite-wal' && c.change === 'added'))
  })
})

test('the work-tree walk follows no link and never leaves the project', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeTree(dir)
    const outside = path.join(dir, 'outside')
    fs.mkdirSync(path.join(outside, 'deep'), { recursive: true })
    fs.writeFileSync(path.join(outside, 'deep/secret.txt'), 'secret')
    fs.symlinkSync(outside, path.join(p.root, 'src/to-outside'))
    fs.symlinkSync('../..', path.join(p.root, 'src/sub/up'))
    await b.storeCreateSnapshot(p.root, p.store, 's1')
    // what is outside changes; the links stay the same
    fs.writeFileSync(path.join(outside, 'deep/secret.txt'), 'other secret')
    fs.writeFileSync(path.join(outside, 'deep/more.txt'), 'more')
    let d = await b.storeDiff(p.store, 's1', null, { root: p.root })
    assert.deepEqual(d.changes, [])
    // a folder of the project swapped for a link to the outside: the link is what is seen
    fs.renameSync(path.join(p.root, 'src/sub'), path.join(dir, 'sub-moved'))
    fs.symlinkSync(outside, path.join(p.root, 'src/sub'))
    d = await b.storeDiff(p.store, 's1', null, { root: p.root })
    assert.deepEqual(
      d.changes.map((c) => `${c.change} ${c.path} ${c.type}`),
      ['modified src/sub symlink', 'removed src/sub/up symlink'],
    )
    // a root that is itself a link is refused
    const linkRoot = path.join(dir, 'root-link')
    fs.symlinkSync(p.root, linkRoot)
    await assert.rejects(b.storeDiff(p.store, 's1', null, { root: linkRoot }), (err) => typeof err.code === 'string')
  })
})

test('diff refuses what it cannot compare, with a code', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeTree(dir)
    await b.storeCreateSnapshot(p.root, p.store, 's1')
    await assert.rejects(b.storeDiff(p.store, 'nope', 's1'), { code: 'ENOENT' })
    await assert.rejects(b.storeDiff(p.store, 's1', '../../etc'), { code: 'EBADLABEL' })
    await assert.rejects(b.storeDiff(p.store, 's1', null), { code: 'EBADPATH' })
    await assert.rejects(b.storeDiff(path.join(dir, 'no-store'), 's1', 's1'), { code: 'ENOENT' })
    const checked = backend === 'native' ? require('../lib/addon') : b
    await assert.rejects(async () => checked.storeDiff(p.store, 1, 's1'), { code: 'ERR_INVALID_ARG_TYPE' })
  })
})

test('log: logical, new and shared bytes per snapshot; new bytes add up to the chunks on disk', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeTree(dir)
    assert.deepEqual(await b.storeLog(p.store), [], 'no store yet: an empty log')
    const s1 = (await b.storeCreateSnapshot(p.root, p.store, 's1')).snapshot
    const s2 = (await b.storeCreateSnapshot(p.root, p.store, 's2')).snapshot // unchanged
    fs.writeFileSync(path.join(p.root, 'src/more.bin'), crypto.randomBytes(300_000))
    const s3 = (await b.storeCreateSnapshot(p.root, p.store, 's3')).snapshot
    const log = await b.storeLog(p.store)
    assert.deepEqual(
      log.map((e) => e.id),
      ['s1', 's2', 's3'],
    )
    assert.deepEqual(
      log.map((e) => e.logical),
      [s1.bytes, s2.bytes, s3.bytes],
    )
    // s1 adds everything; s2 (unchanged, same tree) adds nothing and shares all of s1
    assert.equal(log[0].newBytes, s1.newBytes)
    assert.equal(log[0].sharedBytes, 0)
    assert.deepEqual([log[1].newBytes, log[1].newChunks, log[1].sharedBytes, log[1].chunks], [0, 0, log[0].newBytes, log[0].chunks])
    // s3's new bytes are the new file's chunks and its new tree chunk, what its record counted
    assert.equal(log[2].newBytes, s3.newBytes)
    assert.ok(log[2].newBytes > 300_000 && log[2].sharedBytes > 600_000, JSON.stringify(log[2]))
    assert.equal(
      log.reduce((n, e) => n + e.newBytes, 0),
      storedBytes(p.store),
    )
    assert.ok(log.every((e) => e.missingChunks === 0 && e.error === undefined))
    assert.deepEqual(await binding(OTHER[backend]).storeLog(p.store), log)
    // a removed snapshot's chunks go to the next one that references them
    b.storeRemoveSnapshot(p.store, 's1')
    const after = await b.storeLog(p.store)
    assert.equal(after[0].newBytes, log[0].newBytes)
    assert.equal(after[0].sharedBytes, 0)
  })
})

test('log reports a damaged tree and missing chunks instead of failing', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const b = binding(backend)
    const p = makeTree(dir)
    await b.storeCreateSnapshot(p.root, p.store, 's1')
    const record = JSON.parse(fs.readFileSync(path.join(p.store, 'snapshots/s1.json'), 'utf8'))
    const tree = record.tree[0]
    dropChunk(p.store, tree)
    const [line] = await b.storeLog(p.store)
    assert.equal(line.missingChunks, 1)
    assert.match(line.error, /tree of snapshot s1/)
    assert.deepEqual(
      (await binding(OTHER[backend]).storeLog(p.store)).map((e) => [e.missingChunks, e.chunks, e.newBytes]),
      [[line.missingChunks, line.chunks, line.newBytes]],
    )
  })
})

const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex')

test('verify names every snapshot a bad tree or file chunk breaks: the same from both backends, with and without the JS workers', async () => {
  const dir = tempDir('sr-verify-')
  const root = path.join(dir, 'project')
  const store = path.join(dir, 'store')
  fs.mkdirSync(path.join(root, 'src'), { recursive: true })
  const write = (rel, text) => fs.writeFileSync(path.join(root, rel), text)
  write('src/a.txt', 'alpha\n')
  write('src/shared-34.txt', 'not yet\n')
  const b = binding('native')
  await b.storeCreateSnapshot(root, store, 's1')
  await b.storeCreateSnapshot(root, store, 's2') // unchanged: the same tree chunks as s1
  write('src/shared-34.txt', 'in s3 and s4\n')
  write('src/only-3.txt', 'only in s3\n')
  await b.storeCreateSnapshot(root, store, 's3')
  fs.rmSync(path.join(root, 'src/only-3.txt'))
  await b.storeCreateSnapshot(root, store, 's4')
  const treeOf = (id) => JSON.parse(fs.readFileSync(path.join(store, 'snapshots', `${id}.json`), 'utf8')).tree
  const tree = treeOf('s1')[0]
  assert.deepEqual(treeOf('s2'), treeOf('s1'))
  assert.ok(!treeOf('s3').includes(tree) && !treeOf('s4').includes(tree))
  flipChunk(store, tree)
  flipChunk(store, sha256('in s3 and s4\n'))
  dropChunk(store, sha256('only in s3\n'))

  const report = await b.storeVerify(store)
  assert.equal(report.ok, false)
  assert.equal(report.snapshots, 4)
  const users = Object.fromEntries(report.badChunks.map((c) => [c.id, c.snapshots]))
  assert.deepEqual(users, { [tree]: ['s1', 's2'], [sha256('in s3 and s4\n')]: ['s3', 's4'], [sha256('only in s3\n')]: ['s3'] })
  assert.equal(report.badChunks.find((c) => c.id === sha256('only in s3\n')).reason, 'missing')
  assert.match(report.badChunks.find((c) => c.id === tree).reason, /^Chunk [0-9a-f]{64} is damaged: /)
  assert.deepEqual(
    report.broken.map((x) => x.id),
    ['s1', 's2', 's3', 's4'],
  )
  assert.match(report.broken[0].reason, /a chunk of its tree/)
  assert.match(report.broken[3].reason, /^src\/shared-34\.txt: chunk /)
  // the good chunks counted once each, whatever the snapshots sharing them: all the files but
  // the two damaged and "not yet" (listed only by the tree of s1 and s2, which cannot be read)
  const files = chunkIds(store)
  assert.ok(files.includes(sha256('not yet\n')))
  assert.equal(report.chunks, files.length - 3)

  // the backends word a damaged chunk's reason each its own way (zlib's message or ours)
  const worded = (r) => ({ ...r, badChunks: r.badChunks.map((c) => ({ ...c, reason: c.reason.replace(/damaged: .*/, 'damaged') })) })
  // the verdicts, without how each chunk was checked (by its pack's digest or alone)
  const verdicts = (r) => {
    const { chunksHashed, packs, packsMismatched, ...rest } = worded(r)
    return rest
  }
  // the native packs carry BLAKE3 digests, which the JS backend cannot compute: it checks every
  // chunk alone, as a deep verify does, and says so the same way
  const deep = await b.storeVerify(store, null, { deep: true })
  assert.deepEqual(worded(await binding('js').storeVerify(store)), worded(deep))
  assert.deepEqual(verdicts(deep), verdicts(report))
  // the JS backend's worker threads (a store this small is verified without them)
  const { verifyStore } = require('../lib/js/store/verify')
  const { cancelToken } = require('../lib/js/backup/cancel')
  const here = await verifyStore(store, null, cancelToken(), { inline: true })
  const workers = await verifyStore(store, null, cancelToken(), { inline: false, checkers: 2 })
  assert.deepEqual(workers, here)
  // the default: one worker that walks and checks (no checker workers)
  assert.deepEqual(await verifyStore(store, null, cancelToken(), { inline: false, checkers: 0 }), here)
  assert.equal(here.chunks, report.chunks)
  assert.deepEqual(worded({ badChunks: here.badChunks }), worded({ badChunks: report.badChunks }))
  // a subset: only the snapshots asked for, and only their users named
  const only = await b.storeVerify(store, ['s4'])
  assert.deepEqual(only.badChunks.map((c) => [c.id, c.snapshots]), [[sha256('in s3 and s4\n'), ['s4']]])
  assert.deepEqual(verdicts(await binding('js').storeVerify(store, ['s4'])), verdicts(only))
  assert.deepEqual((await verifyStore(store, ['s4'], cancelToken(), { inline: false })).badChunks, only.badChunks)
})

test('verify reaches every chunk once when checkpoints share tree runs, and names every snapshot a shared chunk breaks', async () => {
  const dir = tempDir('sr-verify-runs-')
  const root = path.join(dir, 'project')
  const store = path.join(dir, 'store')
  for (let i = 0; i < 400; i++) {
    fs.mkdirSync(path.join(root, `d${i % 20}`), { recursive: true })
    fs.writeFileSync(path.join(root, `d${i % 20}`, `f${i}.txt`), `file ${i}\n`)
  }
  const b = binding('native')
  const ids = []
  for (let s = 0; s < 5; s++) {
    // two files change per checkpoint: most of the tree's runs are the previous snapshot's
    fs.writeFileSync(path.join(root, `d${s}`, `f${s}.txt`), `file ${s}, checkpoint ${s}\n`)
    fs.writeFileSync(path.join(root, `d${s + 10}`, `f${s + 10}.txt`), `file ${s + 10}, checkpoint ${s}\n`)
    ids.push(`s${s}`)
    await b.storeCreateSnapshot(root, store, ids[s])
  }
  const files = chunkIds(store)
  for (const backend of ['native', 'js']) {
    const report = await binding(backend).storeVerify(store)
    assert.equal(report.ok, true, backend)
    // every chunk file is referenced here: each one reached, and counted once
    assert.equal(report.chunks, files.length, backend)
  }
  // an unchanged file's chunk: every snapshot lists it, in runs they share
  flipChunk(store, sha256('file 399\n'))
  for (const backend of ['native', 'js']) {
    const report = await binding(backend).storeVerify(store)
    assert.deepEqual(
      report.badChunks.map((c) => [c.id, c.snapshots]),
      [[sha256('file 399\n'), ids]],
      backend,
    )
    assert.deepEqual(
      report.broken.map((x) => [x.id, x.reason.replace(/chunk .*/, '')]),
      ids.map((id) => [id, 'd19/f399.txt: ']),
      backend,
    )
  }
})

const TRACKER = 'packages/system-api/phase-tracker.json'

function snapshotProject(dir) {
  const root = path.join(dir, 'cli-project')
  fs.mkdirSync(path.join(root, 'packages/system-api'), { recursive: true })
  fs.mkdirSync(path.join(root, 'src'))
  const backupStrategy = { retentionDays: 30, restorePoints: [], backupTypes: { fullSystem: { method: 'snapshot' } } }
  fs.writeFileSync(path.join(root, TRACKER), JSON.stringify({ sessionInfo: { sessionId: 's', currentPhase: 1 }, backupStrategy }, null, 2))
  fs.writeFileSync(path.join(root, 'src/a.txt'), 'alpha\n')
  fs.writeFileSync(path.join(root, 'src/b.txt'), 'beta\n')
  return root
}

test('backup-system diff and log: one line per path, --json, errors with a code', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const root = snapshotProject(dir)
    const bs = new BackupSystem({ backend, root, quiet: true, lockDir: path.join(dir, 'locks') })
    const first = await bs.createFullBackup('one')
    fs.writeFileSync(path.join(root, 'src/a.txt'), 'ALPHA, longer\n')
    fs.rmSync(path.join(root, 'src/b.txt'))
    fs.writeFileSync(path.join(root, 'src/c.txt'), 'gamma\n')
    const second = await bs.createFullBackup('two')
    const cli = (...args) => runBin('backup-system', [...args, '--root', root], { backend })
    let r = cli('diff', first, second)
    assert.equal(r.status, 0, r.stderr)
    // the tracker changed too: the first set's restore point was recorded in it
    assert.deepEqual(r.stdout.trim().split('\n'), [`M ${TRACKER}`, 'M src/a.txt', 'D src/b.txt', 'A src/c.txt'])
    r = cli('diff', first, second, '--json')
    assert.equal(r.status, 0, r.stderr)
    const json = JSON.parse(r.stdout)
    assert.deepEqual(Object.keys(json), ['from', 'to', 'changes', 'added', 'removed', 'modified', 'hashed', 'skipped'])
    assert.deepEqual([json.from, json.to, json.added, json.removed, json.modified], [first, second, 1, 1, 2])
    // against the project now: the tracker (the second restore point) and a new edit
    fs.writeFileSync(path.join(root, 'src/c.txt'), 'GAMMA\n')
    r = cli('diff', second)
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(r.stdout.trim().split('\n'), [`M ${TRACKER}`, 'M src/c.txt'])
    r = cli('log', '--json')
    assert.equal(r.status, 0, r.stderr)
    const log = JSON.parse(r.stdout)
    assert.deepEqual(
      log.map((e) => e.id),
      [first, second],
    )
    assert.deepEqual(Object.keys(log[0]), ['id', 'time', 'label', 'files', 'logical', 'chunks', 'newChunks', 'newBytes', 'sharedBytes', 'missingChunks', 'error'])
    r = cli('log')
    assert.equal(r.status, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    assert.match(lines[0], new RegExp(`^${first}  \\S+  \\d+ files  logical [\\d.]+ [KM]?i?B  new [\\d.]+ [KM]?i?B  shared [\\d.]+ [KM]?i?B$`))
    assert.match(lines[2], /^2 snapshots: logical .* stored .* on disk$/)
    // errors: a missing id (usage, exit 2), an unknown one, a tar.gz set
    assert.equal(cli('diff').status, 2)
    r = cli('diff', 'nope-2025-01-01T00-00-00-000Z', '--json')
    assert.equal(r.status, 1)
    assert.equal(JSON.parse(r.stdout).code, 'ENOENT')
    const tarSet = await new BackupSystem({ backend, root, quiet: true, fullMethod: 'tar_gz', lockDir: path.join(dir, 'locks') }).createFullBackup('tar')
    r = cli('diff', tarSet, '--json')
    assert.equal(JSON.parse(r.stdout).code, 'ENOTSNAPSHOT')
  })
})
