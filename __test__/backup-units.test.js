'use strict'
// The backup primitives (lib/js/backup/ and their native twins in core/src/backup/) called
// directly, each case on both backends and the answers compared: what a restore target may
// be, where a restore reads its backup from, what it keeps, how a database is put back, what
// a manifest counts. The drop-in (lib/backup-system.js) reaches these only through whole
// backups; here each rule is asked alone, so that a rule broken in one backend fails here.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')

const { resolveBackend } = require('../lib/backend')
const { test, onBoth, tempDir, BACKENDS, ROOT, SYNC_CHILD, hasCommand, isRoot } = require('./helpers')

const bindingOf = (backend) => resolveBackend(backend).binding

/** `fn(binding, dir, backend)` on each backend in turn, awaited, each in a temp folder of its own: both results. */
async function onBothAsync(fn) {
  const results = {}
  for (const backend of BACKENDS) results[backend] = await fn(bindingOf(backend), tempDir(`sr-${backend}-`), backend)
  return results
}

/** `fn()`'s value, or the code of the error it threw. */
function outcome(fn) {
  try {
    return fn()
  } catch (err) {
    return err.code
  }
}

const sql = (db, statement) => execFileSync('sqlite3', [db, statement], { cwd: path.dirname(db), encoding: 'utf8' }).trim()

test('a restore target: which names are refused, and why, alike on both backends', () => {
  const targets = [
    'a/b.json',
    '\\evil', // a leading backslash is absolute on Windows: refused everywhere
    'a\\..\\b', // one plain name on Unix (no `..` component there)
    '.git\\config', // one name on Unix, not the .git folder
    'a/.git/config',
    '.GIT./hooks', // as Windows and macOS compare names
    './backups/x',
    'a/backups/x', // backups/ is refused at the root only
    'x/./y',
    '.',
    './',
    'a//b',
  ]
  const results = onBoth((backend, dir) => {
    const b = bindingOf(backend)
    return targets.map((p) => outcome(() => path.relative(dir, b.backupContainedPath(dir, p))))
  })
  assert.deepEqual(results.native, [
    'a/b.json',
    'EPATHESCAPE',
    'a\\..\\b',
    '.git\\config',
    'EPATHESCAPE',
    'EPATHESCAPE',
    'EPATHESCAPE',
    'a/backups/x',
    'x/y',
    'EPATHESCAPE',
    'EPATHESCAPE',
    'a/b',
  ])
  assert.deepEqual(results.js, results.native)
})

test('a restore target that is a link, or below one, at any depth, is refused on both backends', () => {
  const results = onBoth((backend, dir) => {
    const b = bindingOf(backend)
    fs.mkdirSync(path.join(dir, 'a/b'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'a/b/file'), 'x')
    fs.symlinkSync('file', path.join(dir, 'a/b/leaf-link'))
    fs.symlinkSync(path.join(dir, 'a'), path.join(dir, 'a/b/dir-link'))
    fs.symlinkSync('a', path.join(dir, 'top-link'))
    // 'top-link\\b': one name on Unix (nothing is below the link); './' and '//' on the way
    // name the same folders as without them
    const targets = ['a/b/file', 'a/b/leaf-link', 'a/b/dir-link/b/file', 'a/b/missing/deeper', 'top-link\\b', 'a/./b/file', 'a//b/leaf-link']
    return targets.map((p) => outcome(() => path.relative(dir, b.backupContainedPath(dir, p))))
  })
  assert.deepEqual(results.native, ['a/b/file', 'EPATHESCAPE', 'EPATHESCAPE', 'a/b/missing/deeper', 'top-link\\b', 'a/b/file', 'EPATHESCAPE'])
  assert.deepEqual(results.js, results.native)
})

/** A SQLite database at `db` holding `value`, with free pages (a deleted blob) that VACUUM drops. */
function bloated(db, value) {
  fs.mkdirSync(path.dirname(db), { recursive: true })
  sql(db, `CREATE TABLE t(v TEXT); CREATE TABLE junk(b BLOB); INSERT INTO junk VALUES (zeroblob(200000)); DELETE FROM junk; INSERT INTO t VALUES ('${value}');`)
  return db
}

/** A database in WAL mode whose row is in its WAL only: the writer exits without closing (no checkpoint). */
function walOnly(db, value) {
  fs.mkdirSync(path.dirname(db), { recursive: true })
  const script = `import sqlite3, os, sys
c = sqlite3.connect(sys.argv[1])
c.execute('PRAGMA journal_mode=WAL')
c.execute('PRAGMA wal_autocheckpoint=0')
c.execute('CREATE TABLE t(v TEXT)')
c.execute("INSERT INTO t VALUES ('${value}')")
c.commit()
os._exit(0)`
  execFileSync('python3', ['-c', script, db])
  assert.ok(fs.statSync(`${db}-wal`).size > 0, 'the row is in the WAL')
  return db
}

const openFds = () => fs.readdirSync('/proc/self/fd').length

test('a database restore: SQLite restores it, the previous one is kept with what its WAL held, its side files go, nested folders are made', () => {
  const results = onBoth((backend, dir) => {
    const b = bindingOf(backend)
    const root = path.join(dir, 'proj')
    const set = path.join(root, 'backups/database/set1')
    const source = bloated(path.join(set, 'app.db'), 'backup')
    fs.writeFileSync(path.join(set, 'notes.db'), 'not a database\n')
    walOnly(path.join(root, 'data/app.db'), 'live')
    const plainLive = bloated(path.join(root, 'plain/app.db'), 'plain live')
    const plainBytes = fs.readFileSync(plainLive)
    b.backupRestoreDatabase(root, 'warm-up/app.db', source) // what a backend opens once (SQLite's own state) is not a leak
    const before = openFds()
    const replaced = b.backupRestoreDatabase(root, 'data/app.db', source)
    const fresh = b.backupRestoreDatabase(root, 'fresh/sub/app.db', source)
    // a backup that is not a database replaces a database byte for byte, and the previous
    // one is kept byte for byte too
    const overPlain = b.backupRestoreDatabase(root, 'plain/app.db', path.join(set, 'notes.db'))
    const leaked = openFds() - before
    const backupsMode = (fs.statSync(path.join(root, 'backups')).mode & 0o777).toString(8)
    const rel = (p) => p && path.relative(root, p).replace(/pre-restore\/\d+-\d+-\d+\//, 'pre-restore/<n>/')
    return {
      leaked,
      backupsMode, // made owner-only when a previous file is kept there (it was 0755)
      replaced: { target: rel(replaced.target), previous: rel(replaced.previous), kept: sql(replaced.previous, 'SELECT v FROM t') },
      now: sql(path.join(root, 'data/app.db'), 'SELECT v FROM t'),
      sideFiles: ['-wal', '-shm', '-journal'].filter((s) => fs.existsSync(path.join(root, `data/app.db${s}`))),
      fresh: { keys: Object.keys(fresh), value: sql(fresh.target, 'SELECT v FROM t') },
      overPlain: { text: fs.readFileSync(overPlain.target, 'utf8'), keptSame: fs.readFileSync(overPlain.previous).equals(plainBytes) },
    }
  })
  assert.deepEqual(results.native, {
    leaked: 0,
    backupsMode: '700',
    replaced: { target: 'data/app.db', previous: 'backups/pre-restore/<n>/data/app.db', kept: 'live' },
    now: 'backup',
    sideFiles: [],
    fresh: { keys: ['target'], value: 'backup' },
    overPlain: { text: 'not a database\n', keptSame: true },
  })
  assert.deepEqual(results.js, results.native)
})

test('a database restore whose scratch folder is on another file system (EXDEV) copies across, on both backends', () => {
  const saved = process.env.TMPDIR
  const other = fs.mkdtempSync('/dev/shm/sr-exdev-')
  try {
    const results = onBoth((backend, dir) => {
      const b = bindingOf(backend)
      const root = path.join(dir, 'proj')
      const source = bloated(path.join(root, 'backups/database/set1/app.db'), 'backup')
      bloated(path.join(root, 'data/app.db'), 'live')
      process.env.TMPDIR = other
      try {
        const replaced = b.backupRestoreDatabase(root, 'data/app.db', source)
        return { now: sql(replaced.target, 'SELECT v FROM t'), kept: sql(replaced.previous, 'SELECT v FROM t') }
      } finally {
        // (an unset TMPDIR stays unset: assigning undefined would set it to 'undefined')
        if (saved === undefined) delete process.env.TMPDIR
        else process.env.TMPDIR = saved
      }
    })
    assert.deepEqual(results.native, { now: 'backup', kept: 'live' })
    assert.deepEqual(results.js, results.native)
    assert.deepEqual(fs.readdirSync(other), [], 'no scratch folder left behind')
  } finally {
    fs.rmSync(other, { recursive: true, force: true })
  }
})

test('a damaged database backup fails with ECORRUPT and leaves the live database as it was, on both backends', () => {
  const results = onBoth((backend, dir) => {
    const b = bindingOf(backend)
    const root = path.join(dir, 'proj')
    const source = path.join(root, 'backups/database/set1/app.db')
    fs.mkdirSync(path.dirname(source), { recursive: true })
    // SQLite's header, then garbage: taken for a database, which SQLite then cannot read
    fs.writeFileSync(source, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 0xa5)]))
    const live = bloated(path.join(root, 'app.db'), 'live')
    const over = outcome(() => b.backupRestoreDatabase(root, 'app.db', source))
    // a missing target too is restored through SQLite (not byte for byte), which refuses it
    const fresh = outcome(() => b.backupRestoreDatabase(root, 'new/app.db', source))
    return { over, fresh, live: sql(live, 'SELECT v FROM t'), made: fs.existsSync(path.join(root, 'new/app.db')) }
  })
  assert.deepEqual(results.native, { over: 'ECORRUPT', fresh: 'ECORRUPT', live: 'live', made: false })
  assert.deepEqual(results.js, results.native)
})

test('a restore reads a backup below the root without following a link on the way, and one outside the root as given', () => {
  const results = onBoth((backend, dir) => {
    const b = bindingOf(backend)
    const root = path.join(dir, 'proj')
    const elsewhere = path.join(dir, 'elsewhere/set1')
    fs.mkdirSync(elsewhere, { recursive: true })
    fs.mkdirSync(root)
    fs.writeFileSync(path.join(elsewhere, 'config.json'), '{"from":"elsewhere"}')
    const outside = b.backupRestoreFile(root, 'config.json', path.join(elsewhere, 'config.json'))
    fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(root, 'backups'))
    const linked = outcome(() => b.backupRestoreFile(root, 'other.json', path.join(root, 'backups/set1/config.json')))
    const linkedDb = outcome(() => b.backupRestoreDatabase(root, 'other.db', path.join(root, 'backups/set1/config.json')))
    // no `previous` key when nothing was kept
    const read = [Object.keys(outside), path.relative(root, outside.target), fs.readFileSync(outside.target, 'utf8')]
    return { outside: read, linked, linkedDb, other: fs.existsSync(path.join(root, 'other.json')) }
  })
  assert.deepEqual(results.native, { outside: [['target'], 'config.json', '{"from":"elsewhere"}'], linked: 'EPATHESCAPE', linkedDb: 'EPATHESCAPE', other: false })
  assert.deepEqual(results.js, results.native)
})

const noStrace = (process.platform !== 'linux' || !hasCommand('strace')) && 'needs strace on Linux'

/**
 * Run `call` (an expression on `b`, the backend's binding) in a Node child under strace, the
 * fsync of anything at `paths` failing with EIO (-P: calls on those paths or on descriptors
 * open on them; -f: whichever thread makes them); what it returned or the code it failed with.
 */
function underFsyncFault(backend, paths, call, env = {}) {
  const script = `
    const b = require(${JSON.stringify(path.join(ROOT, 'lib/backend'))}).resolveBackend(${JSON.stringify(backend)}).binding
    ;(async () => {
      let out
      try { out = { ok: await (${call}) } } catch (err) { out = { code: err.code, message: err.message } }
      process.stdout.write(JSON.stringify(out))
    })()`
  const args = ['-f', '-qq', '-o', '/dev/null', ...paths.flatMap((p) => ['-P', p]), '-e', 'trace=fsync,fdatasync', '-e', 'inject=fsync,fdatasync:error=EIO', process.execPath, '-e', script]
  const r = spawnSync('strace', args, { encoding: 'utf8', ...SYNC_CHILD, env: { ...process.env, ...env } })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

test('a restore makes what it wrote durable: an fsync failing (strace) fails it, on both backends', { skip: noStrace }, () => {
  const results = onBoth((backend, dir) => {
    const root = path.join(dir, 'proj')
    const source = bloated(path.join(root, 'backups/database/set1/app.db'), 'backup')
    fs.writeFileSync(path.join(root, 'backups/database/set1/config.json'), '{}')
    bloated(path.join(root, 'data/app.db'), 'live')
    const q = JSON.stringify
    return {
      // a new file (nothing kept): its only fsync is the file's own (of a temp name beside it)
      file: underFsyncFault(backend, [], `b.backupRestoreFile(${q(root)}, 'cfg/new.json', ${q(path.join(root, 'backups/database/set1/config.json'))})`).code,
      // the folder the restored database was renamed into
      folder: underFsyncFault(backend, [path.join(root, 'data')], `b.backupRestoreDatabase(${q(root)}, 'data/app.db', ${q(source)})`).code,
      after: [fs.existsSync(path.join(root, 'cfg/new.json')), sql(path.join(root, 'data/app.db'), 'SELECT v FROM t')],
    }
  })
  assert.deepEqual(results.native, { file: 'EIO', folder: 'EIO', after: [false, 'backup'] }) // the rename was done when the folder's fsync failed
  assert.deepEqual(results.js, results.native)
})

test('a snapshot makes its new packs durable: the packs folder\'s fsync failing fails it, on both backends', { skip: noStrace }, async () => {
  const results = await onBothAsync(async (b, dir, backend) => {
    const root = path.join(dir, 'proj')
    fs.mkdirSync(root)
    fs.writeFileSync(path.join(root, 'a.txt'), 'first')
    const store = path.join(dir, 'store')
    await b.storeCreateSnapshot(root, store, 's1')
    fs.writeFileSync(path.join(root, 'b.txt'), 'second')
    const q = JSON.stringify
    // the packs' indexes renamed into packs/, then that folder synced before the record is written
    const second = underFsyncFault(backend, [path.join(store, 'packs')], `b.storeCreateSnapshot(${q(root)}, ${q(store)}, 's2').then(() => true)`)
    return { code: second.code, recorded: fs.existsSync(path.join(store, 'snapshots', 's2.json')) }
  })
  assert.deepEqual(results.native, { code: 'EIO', recorded: false })
  assert.deepEqual(results.js, results.native)
})

test('a database copy: SQLite files by SQLite, anything else byte for byte, a link at the name never followed, alike on both backends', async () => {
  const results = await onBothAsync(async (b, dir) => {
  fs.mkdirSync(path.join(dir, 'real'))
  fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'))
  const db = bloated(path.join(dir, 'real/app.db'), 'one')
  fs.symlinkSync(db, path.join(dir, 'leaf'))
  fs.writeFileSync(path.join(dir, 'short'), 'SQLite format 3') // 15 bytes: SQLite's header cut short
  fs.writeFileSync(path.join(dir, 'plain'), 'not a database, but longer than a header')
  fs.writeFileSync(path.join(dir, 'damaged'), Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 0xa5)]))
  let n = 0
  const copy = async (src, ...root) => {
    const dest = path.join(dir, `copy-${n++}`)
    try {
      const kind = await b.backupCopyDatabase(path.join(dir, src), dest, ...root)
      const same = fs.readFileSync(dest).equals(fs.readFileSync(path.join(dir, src)))
      return [kind, same, (fs.statSync(dest).mode & 0o777).toString(8)]
    } catch (err) {
      // the context and the OS's reason, as the native message words them
      return [err.code, err.message.replace(dir, '<dir>').split(': ').slice(0, 3).join(': ')]
    }
  }
  return {
    short: await copy('short'),
    plain: await copy('plain'),
    missing: await copy('missing'),
    leaf: await copy('leaf'),
    // no root: the path is SQLite's to open, a linked folder on the way included
    throughLink: await copy('link/app.db'),
    // an empty or null root is no root
    rootless: [await copy('real/app.db', ''), await copy('real/app.db', null)],
    damaged: (await copy('damaged')).slice(0, 1),
  }
  })
  assert.deepEqual(results.native, {
    short: ['bytes', true, '600'],
    plain: ['bytes', true, '600'],
    missing: ['ENOENT', 'Database backup of <dir>/missing failed: ENOENT: no such file or directory'],
    leaf: ['ELOOP', 'Database backup of <dir>/leaf failed: ELOOP: too many symbolic links encountered'],
    throughLink: ['sqlite', false, '600'],
    rootless: [
      ['sqlite', false, '600'],
      ['sqlite', false, '600'],
    ],
    damaged: ['ECORRUPT'],
  })
  assert.deepEqual(results.js, results.native)
})

test('a live database copied below a root: what is refused there, and with which code, alike on both backends', async () => {
  const results = await onBothAsync(async (b, dir) => {
  const root = path.join(dir, 'proj')
  bloated(path.join(root, 'data/app.db'), 'one')
  bloated(path.join(dir, 'outside.db'), 'outside')
  fs.symlinkSync(path.join(root, 'data'), path.join(root, 'linked'))
  fs.symlinkSync(path.join(root, 'data/app.db'), path.join(root, 'leaf.db'))
  let n = 0
  const copy = async (src) => {
    try {
      return await b.backupCopyDatabase(src, path.join(dir, `copy-${n++}`), root)
    } catch (err) {
      return err.code
    }
  }
  return await Promise.all(
    [path.join(root, 'data/app.db'), root, path.join(dir, 'outside.db'), path.join(root, '../outside.db'), path.join(root, 'data'), path.join(root, 'missing.db'), path.join(root, 'leaf.db'), path.join(root, 'linked/app.db')].map(copy),
  )
  })
  assert.deepEqual(results.native, ['sqlite', 'EPATHESCAPE', 'EPATHESCAPE', 'EPATHESCAPE', 'EINVAL', 'ENOENT', 'EPATHESCAPE', 'EPATHESCAPE'])
  assert.deepEqual(results.js, results.native)
})

/** The members of a .tar.gz, without the './' GNU tar puts before each name (the native archive has none). */
const members = (archive) =>
  execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.replace(/^\.\//, '').replace(/\/$/, ''))
    .filter(Boolean)
    .sort()

test('an archive: excluded names, a database copy in place of the live file and its side files, counted as archived, alike on both backends', async () => {
  const results = await onBothAsync(async (b, dir) => {
  const root = path.join(dir, 'proj')
  fs.mkdirSync(path.join(root, 'data/deep'), { recursive: true })
  fs.mkdirSync(path.join(root, 'node_modules/dep'), { recursive: true })
  fs.writeFileSync(path.join(root, 'data/deep/app.db'), 'LIVE')
  fs.writeFileSync(path.join(root, 'data/deep/app.db-wal'), 'WAL')
  fs.writeFileSync(path.join(root, 'data/deep/app.db-shm'), 'SHM')
  fs.writeFileSync(path.join(root, 'data/notes.txt'), 'hello')
  fs.writeFileSync(path.join(root, 'debug.log'), 'noise')
  fs.writeFileSync(path.join(root, 'node_modules/dep/index.js'), 'x')
  fs.writeFileSync(path.join(dir, 'copy.db'), 'THE COPY, longer')
  const archive = path.join(dir, 'full.tar.gz')
  const made = await b.backupCreateArchive(root, archive, undefined, undefined, [{ path: 'data/deep/app.db', source: path.join(dir, 'copy.db') }])
  const custom = path.join(dir, 'custom.tar.gz')
  const only = await b.backupCreateArchive(root, custom, ['*.txt', 'deep'])
  const out = {
    counted: [made.files, made.bytes, made.changed],
    members: members(archive),
    substituted: execFileSync('tar', ['-xzOf', archive, '--wildcards', '*data/deep/app.db'], { encoding: 'utf8' }),
    mode: (fs.statSync(archive).mode & 0o777).toString(8),
    sha256: made.sha256 === execFileSync('sha256sum', [archive], { encoding: 'utf8' }).split(' ')[0] && made.size === fs.statSync(archive).size,
    custom: [only.files, only.bytes, members(custom)],
    left: fs.readdirSync(dir).sort(),
  }
  // read back to its end: every entry (its own listing's count) and the bytes of the files
  const checked = await b.backupCheckArchive(archive)
  const listed = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n').filter(Boolean).length
  fs.writeFileSync(path.join(dir, 'cut.tar.gz'), fs.readFileSync(archive).subarray(0, 60))
  let damaged = null
  await b.backupCheckArchive(path.join(dir, 'cut.tar.gz')).catch((err) => (damaged = err.code))
  let missing = null
  await b.backupCheckArchive(path.join(dir, 'none.tar.gz')).catch((err) => (missing = err.code))
  out.checked = [checked.entries === listed, checked.bytes, damaged, missing]
  // refused, nothing left behind: a destination folder that is not there (tar alone would say
  // "Cannot open", ECOMMAND), a database copy that is not there, for a live file or for one
  // that is gone too (an archive without the database asked for would pass for a whole one)
  const code = (p) => p.then(() => 'made', (err) => err.code)
  const noCopy = path.join(dir, 'no-copy.db')
  out.refused = [
    await code(b.backupCreateArchive(root, path.join(dir, 'missing', 'a.tar.gz'))),
    await code(b.backupCreateArchive(root, path.join(dir, 'r1.tar.gz'), undefined, undefined, [{ path: 'data/deep/app.db', source: noCopy }])),
    await code(b.backupCreateArchive(root, path.join(dir, 'r2.tar.gz'), undefined, undefined, [{ path: 'data/gone.db', source: noCopy }])),
  ]
  out.leftAfterRefusals = fs.readdirSync(dir).sort()
  return out
  })
  assert.deepEqual(results.native, {
    // the copy (16 bytes) and notes.txt; node_modules/ and *.log are excluded by default
    counted: [2, 16 + 5, []],
    members: ['data', 'data/deep', 'data/deep/app.db', 'data/notes.txt'],
    substituted: 'THE COPY, longer',
    mode: '600',
    sha256: true,
    custom: [2, 5 + 1, ['data', 'debug.log', 'node_modules', 'node_modules/dep', 'node_modules/dep/index.js']],
    left: ['copy.db', 'custom.tar.gz', 'full.tar.gz', 'proj'],
    checked: [true, 16 + 5, 'ECORRUPT', 'ENOENT'],
    refused: ['ENOENT', 'ENOENT', 'ENOENT'],
    leftAfterRefusals: ['copy.db', 'custom.tar.gz', 'cut.tar.gz', 'full.tar.gz', 'proj'],
  })
  // the native archive has no entry for the root folder itself, GNU tar's has './'
  results.js.members = results.js.members.filter((m) => m !== '.')
  results.js.custom[2] = results.js.custom[2].filter((m) => m !== '.')
  assert.deepEqual(results.js, results.native)
})

const noMount = !(process.platform === 'linux' && isRoot) && 'needs root on Linux to mount a tmpfs'

test('an archive that cannot be written (a full disk, an fsync failing) is that errno, with nothing left beside it, on both backends', { skip: noMount || noStrace }, async () => {
  const results = await onBothAsync(async (b, dir, backend) => {
  const out = {}
  const root = path.join(dir, 'proj')
  fs.mkdirSync(root)
  fs.writeFileSync(path.join(root, 'random.bin'), require('node:crypto').randomBytes(300_000)) // gzip cannot shrink it
  const full = path.join(dir, 'full')
  fs.mkdirSync(full)
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full], { encoding: 'utf8' })
  assert.equal(mounted.status, 0, mounted.stderr)
  try {
    let code = null
    await b.backupCreateArchive(root, path.join(full, 'a.tar.gz')).catch((err) => (code = err.code))
    out.full = [code, fs.readdirSync(full)]
  } finally {
    spawnSync('umount', [full])
  }
  // the archive's own fsync (tar and gzip, traced too with -f, make none)
  const dest = path.join(dir, 'b.tar.gz')
  const synced = underFsyncFault(backend, [], `b.backupCreateArchive(${JSON.stringify(root)}, ${JSON.stringify(dest)})`)
  out.fsync = [synced.code, synced.message.replace(dir, '<dir>'), fs.readdirSync(dir).sort()]
  return out
  })
  assert.deepEqual(results.native, {
    full: ['ENOSPC', []],
    fsync: ['EIO', 'Archive of <dir>/proj failed: EIO: i/o error', ['full', 'proj']],
  })
  assert.deepEqual(results.js, results.native)
})

test('a manifest: every file of the parts hashed in byte order, a link refused; verifying names the missing and the altered, alike on both backends', async () => {
  const results = await onBothAsync(async (b, dir) => {
  const backups = path.join(dir, 'backups')
  const at = (rel) => path.join(backups, rel)
  fs.mkdirSync(at('config/s1/sub'), { recursive: true })
  fs.mkdirSync(at('full'))
  fs.mkdirSync(path.join(dir, 'outside'))
  fs.writeFileSync(path.join(dir, 'outside/x'), 'x')
  fs.writeFileSync(at('config/s1/a.json'), 'aaaa')
  fs.writeFileSync(at('config/s1/sub/b.json'), 'bb')
  fs.writeFileSync(at('config/s1/B.json'), 'B')
  fs.writeFileSync(at('full/s1.tar.gz'), 'tar')
  const entries = await b.backupHashFiles(backups, ['config/s1', 'full/s1.tar.gz', 'state/s1'])
  fs.symlinkSync(path.join(dir, 'outside'), at('config/s1/lnk'))
  let linked = null
  await b.backupHashFiles(backups, ['config/s1']).catch((err) => (linked = err.code))
  fs.unlinkSync(at('config/s1/lnk'))
  const entry = (p, size = entries.find((e) => e.path === p)?.size ?? 1) => ({ path: p, size, sha256: entries.find((e) => e.path === p)?.sha256 ?? '0'.repeat(64) })
  fs.writeFileSync(at('config/s1/B.json'), 'C') // the same size, other bytes
  fs.mkdirSync(at('config/s1/dir.json'))
  fs.symlinkSync(path.join(dir, 'outside'), at('config/s2'))
  execFileSync('mkfifo', [at('config/s1/fifo')])
  const verified = await b.backupVerifyFiles(backups, [
    entry('config/s1/a.json'),
    entry('config/s1/a.json', 5), // its bytes, another size
    entry('config/s1/B.json'),
    entry('config/s1/dir.json', 0),
    entry('config/s2/x'), // below a link: altered, never read
    entry('config/s1/gone'),
    entry('config/s1/fifo', 0),
    entry('config/s1/sub/b.json'),
    entry('full/s1.tar.gz'),
  ])
  return { hashed: entries.map((e) => [e.path, e.size, e.sha256.length]), linked, verified }
  })
  assert.deepEqual(results.native, {
    hashed: [
      ['config/s1/B.json', 1, 64],
      ['config/s1/a.json', 4, 64],
      ['config/s1/sub/b.json', 2, 64],
      ['full/s1.tar.gz', 3, 64],
    ],
    linked: 'EPATHESCAPE',
    verified: { checked: 9, bytes: 4 + 4 + 1 + 2 + 3, missing: ['config/s1/gone'], altered: ['config/s1/a.json', 'config/s1/B.json', 'config/s1/dir.json', 'config/s2/x', 'config/s1/fifo'] },
  })
  assert.deepEqual(results.js, results.native)
})

test('a member of a set that cannot be read (EIO injected by strace) fails the verification with that errno, on both backends', { skip: noStrace }, () => {
  const results = onBoth((backend, dir) => {
    const backups = path.join(dir, 'backups')
    fs.mkdirSync(path.join(backups, 'config/s1'), { recursive: true })
    const member = path.join(backups, 'config/s1/a.json')
    fs.writeFileSync(member, 'aaaa')
    const entries = [{ path: 'config/s1/a.json', size: 4, sha256: '61be55a8e2f6b4e172338bddf184d6dbee29c98853e0a0485ecee7f27b9af0b4' }]
    const q = JSON.stringify
    const script = `
      const b = require(${q(path.join(ROOT, 'lib/backend'))}).resolveBackend(${q(backend)}).binding
      b.backupVerifyFiles(${q(backups)}, ${q(entries)}).then((r) => process.stdout.write(JSON.stringify(r)), (err) => process.stdout.write(JSON.stringify({ code: err.code })))`
    // -P: the member by its path (js), or by the folder it is opened below (native: openat(<folder fd>, name))
    const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-P', member, '-P', path.dirname(member), '-e', 'trace=openat', '-e', 'inject=openat:error=EIO', process.execPath, '-e', script], { encoding: 'utf8', ...SYNC_CHILD })
    assert.equal(r.status, 0, r.stderr)
    return JSON.parse(r.stdout)
  })
  assert.deepEqual(results.native, { code: 'EIO' })
  assert.deepEqual(results.js, results.native)
})

test('progress: a report every 200 files or 32 MiB since the last one, and one at the end, alike on both backends', async () => {
  const results = await onBothAsync(async (b, dir) => {
  const set = path.join(dir, 'set')
  fs.mkdirSync(path.join(set, 'many'), { recursive: true })
  fs.mkdirSync(path.join(set, 'big'))
  for (let i = 0; i < 201; i++) fs.writeFileSync(path.join(set, 'many', `f${String(i).padStart(3, '0')}`), 'x')
  fs.writeFileSync(path.join(set, 'big/a.bin'), Buffer.alloc(32 * 1024 * 1024)) // the byte threshold exactly
  fs.writeFileSync(path.join(set, 'big/b.txt'), 'b')
  fs.writeFileSync(path.join(set, 'big/c.txt'), 'c')
  const seen = (events) => (p) => events.push([p.phase, p.files, p.bytes])
  const many = []
  await b.backupHashFiles(set, ['many'], seen(many))
  const big = []
  await b.backupHashFiles(set, ['big'], seen(big))
  const none = await b.backupHashFiles(set, ['big/b.txt']) // no callback at all
  return { many, big, none: none.length }
  })
  assert.deepEqual(results.native, {
    many: [
      ['hash', 200, 200],
      ['hash', 201, 201],
    ],
    big: [
      ['hash', 1, 32 * 1024 * 1024],
      ['hash', 3, 32 * 1024 * 1024 + 2],
    ],
    none: 1,
  })
  assert.deepEqual(results.js, results.native)
})

test('a git bundle: all refs, or those not reachable from the commits left out (40 or 64 hex digits only), owner-only, alike on both backends', async () => {
  const git = (cwd, ...args) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' }).trim()
  const results = await onBothAsync(async (b, dir) => {
  const root = path.join(dir, 'repo')
  fs.mkdirSync(root)
  git(root, 'init', '-q', '-b', 'main')
  fs.writeFileSync(path.join(root, 'a.txt'), 'a')
  git(root, 'add', '-A')
  git(root, 'commit', '-qm', 'one')
  const first = git(root, 'rev-parse', 'HEAD')
  fs.writeFileSync(path.join(root, 'a.txt'), 'b')
  git(root, 'commit', '-qam', 'two')
  const whole = path.join(dir, 'whole.bundle')
  const since = path.join(dir, 'since.bundle')
  const made = [await b.backupGitBundle(root, whole), await b.backupGitBundle(root, since, [first])]
  const refused = []
  for (const bad of [first.toUpperCase(), first.slice(0, 39), `${first}0`, 'HEAD']) {
    await b.backupGitBundle(root, path.join(dir, 'bad.bundle'), [bad]).then(
      () => refused.push('made'),
      (err) => refused.push(err.code),
    )
  }
  return {
    made,
    // the incremental bundle needs the first commit, and holds only the second
    needs: git(root, 'bundle', 'verify', since).includes(first),
    heads: [whole, since].map((f) => git(root, 'bundle', 'list-heads', f).split('\n').length), // HEAD and main
    mode: (fs.statSync(whole).mode & 0o777).toString(8),
    refused,
    // inside .git/, git answers 'false' with success
    // (and a folder that is not there, or a file, is none: git cannot start there, which is
    // no missing git)
    isRepo: [root, dir, path.join(root, '.git'), path.join(dir, 'missing'), path.join(root, 'a.txt')].map((p) => b.backupIsGitRepo(p)),
  }
  })
  assert.deepEqual(results.native, { made: [true, true], needs: true, heads: [2, 2], mode: '600', refused: ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE'], isRepo: [true, false, false, false, false] })
  assert.deepEqual(results.js, results.native)
})

test('a cancel kills git and what it started (its process group): a child git left running never gets to finish, on both backends', { skip: process.platform === 'win32' && 'a shell script as git' }, async () => {
  const results = await onBothAsync(async (b, dir) => {
    // a git that starts a subshell of its own (as `git bundle` starts pack-objects), which
    // would leave a mark once it has slept; the subshell keeps git's stderr open
    const bin = path.join(dir, 'bin')
    fs.mkdirSync(bin)
    const started = path.join(dir, 'started')
    const late = path.join(dir, 'late')
    fs.writeFileSync(path.join(bin, 'git'), `#!/bin/sh\n( sleep 1; touch '${late}' ) &\ntouch '${started}'\nwait\n`, { mode: 0o755 })
    const saved = process.env.PATH
    process.env.PATH = `${bin}${path.delimiter}${saved}`
    try {
      const bundle = b.backupGitBundle(dir, path.join(dir, 'repo.bundle')).then(
        () => 'made',
        (err) => err.code,
      )
      const deadline = Date.now() + 20000
      while (!fs.existsSync(started) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
      b.backupCancel()
      const code = await bundle
      // what a surviving subshell would do, given the time to do it
      await new Promise((resolve) => setTimeout(resolve, 1500))
      return { started: fs.existsSync(started), code, late: fs.existsSync(late) }
    } finally {
      process.env.PATH = saved
    }
  })
  assert.deepEqual(results.native, { started: true, code: 'ECANCELED', late: false })
  assert.deepEqual(results.js, results.native)
})

test('the js backend without sqlite3 or git on PATH: ENOCOMMAND where the command is needed, no answer made up', () => {
  const b = bindingOf('js')
  const dir = tempDir()
  const db = bloated(path.join(dir, 'app.db'), 'x')
  const saved = process.env.PATH
  process.env.PATH = path.join(dir, 'empty-bin')
  try {
    assert.throws(() => b.backupIntegrityCheck(db), { code: 'ENOCOMMAND', message: /sqlite3 command is not installed/ })
    assert.throws(() => b.backupIsGitRepo(dir), { code: 'ENOCOMMAND', message: /git command is not installed/ })
    // a folder that does not exist is no repository, whatever is installed (spawning in a
    // missing folder fails with ENOENT too)
    assert.equal(b.backupIsGitRepo(path.join(dir, 'missing')), false)
  } finally {
    process.env.PATH = saved
  }
})

test('an integrity check names what is damaged, however long its report, alike on both backends', () => {
  const results = onBoth((backend, dir) => {
    const b = bindingOf(backend)
    const db = path.join(dir, 'app.db')
    const rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO t SELECT printf('v %05d', i), printf('w %05d', i) FROM n"
    sql(db, `CREATE TABLE t(v TEXT, w TEXT); CREATE INDEX tv ON t(v); ${rows};`)
    const sound = b.backupIntegrityCheck(db)
    // the index said to be on the other column: every row is then missing from it (500
    // lines of report from the sqlite3 command, far more than a line)
    sql(db, "PRAGMA writable_schema=ON; UPDATE sqlite_master SET sql = 'CREATE INDEX tv ON t(w)' WHERE name = 'tv';")
    const report = b.backupIntegrityCheck(db)
    // the native check answers its first line only, the sqlite3 command all of them
    return { sound, first: report.split('\n')[0] }
  })
  assert.deepEqual(results.native, { sound: 'ok', first: 'row 1 missing from index tv' })
  assert.deepEqual(results.js, results.native)
})
