'use strict'
// Backups of a live, crashing project (issue 12), on both backends: files changing while the
// archive is written, databases left by a writer killed mid-transaction (hot journal, WAL),
// backups interrupted by Ctrl+C or killed, structural verification, and no project root.
// Real files, real SQLite (Python's sqlite3 and the sqlite3 CLI), real signals, GNU tar as
// the reference reader.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn, spawnSync, execFileSync } = require('node:child_process')

const BackupSystem = require('../lib/backup-system')
const { eachBackend, runBin, ROOT } = require('./helpers')
const { createWorkspace } = require('../scripts/example-workspace')

const TRACKER = 'packages/system-api/phase-tracker.json'
const TIMEOUT = { timeout: 240000 }

function sql(db, statement) {
  return execFileSync('sqlite3', [db, statement], { encoding: 'utf8' }).trim()
}

/** A project without git (the code part is not what these tests look at). */
function project(dir, files = {}) {
  const root = path.join(dir, 'proj')
  fs.mkdirSync(path.join(root, 'packages/system-api'), { recursive: true })
  fs.mkdirSync(path.join(root, 'data'), { recursive: true })
  const tracker = {
    sessionInfo: { sessionId: 's-1', currentPhase: 1, currentWeek: 1, lastUpdate: '2025-01-01T00:00:00.000Z' },
    baselineStatus: { phase1Complete: true, testsPassingBaseline: '9/9', agentsLoaded: 88 },
    phases: {},
    backupStrategy: { frequency: 'daily', retentionDays: 30, restorePoints: [] },
  }
  fs.writeFileSync(path.join(root, TRACKER), JSON.stringify(tracker))
  fs.writeFileSync(path.join(root, 'package.json'), '{"name":"live"}\n')
  for (const [rel, content] of Object.entries(files)) fs.writeFileSync(path.join(root, rel), content)
  return root
}

function system(backend, root) {
  return new BackupSystem({ backend, root, quiet: true, lockDir: path.join(root, '..', 'locks') })
}

/** `tar -tzf` then a full extraction with GNU tar: the member names, or a failure. */
function gnuTarReads(archive, into) {
  const list = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' })
  assert.equal(list.status, 0, `tar -tzf ${archive}: ${list.stderr}`)
  fs.mkdirSync(into, { recursive: true })
  const extract = spawnSync('tar', ['-xzf', archive, '-C', into], { encoding: 'utf8' })
  assert.equal(extract.status, 0, `tar -xzf ${archive}: ${extract.stderr}`)
  return list.stdout
    .split('\n')
    .filter(Boolean)
    .map((n) => n.replace(/^\.\//, '').replace(/\/$/, ''))
    .filter(Boolean)
    .sort()
}

/**
 * What is in backups/ besides whole sets: staging folders, temps, parts of a set that is
 * neither recorded nor has its manifest (moved last: a set with one is whole; the tracker
 * keeps only the 10 newest points).
 */
function leftovers(root) {
  const b = path.join(root, 'backups')
  const tracker = JSON.parse(fs.readFileSync(path.join(root, TRACKER), 'utf8'))
  const ids = new Set(((tracker.backupStrategy || {}).restorePoints || []).map((p) => p.id))
  const manifests = path.join(b, 'manifests')
  for (const name of fs.existsSync(manifests) ? fs.readdirSync(manifests) : []) ids.add(name.replace(/\.json$/, ''))
  const found = []
  for (const name of fs.existsSync(b) ? fs.readdirSync(b) : []) {
    if (name.startsWith('.staging-') || name.startsWith('.claim-') || name.startsWith('.archive')) found.push(name)
  }
  for (const kind of ['code', 'database', 'config', 'state', 'full', 'manifests']) {
    const dir = path.join(b, kind)
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const id = name.replace(/\.tar\.gz$|\.json$/, '')
      if (!ids.has(id)) found.push(`${kind}/${name}`)
    }
  }
  return found
}

test('files appended to and truncated while the archive is written: GNU tar reads every archive whole (20 runs)', TIMEOUT, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const root = project(dir, { 'data/a-first.txt': 'first\n', 'data/z-last.txt': 'last\n' })
    const grows = path.join(root, 'data/growing.txt')
    const shrinks = path.join(root, 'data/shrinking.txt')
    // a writer that appends to one file and truncates/refills the other as fast as it can
    const writer = spawn(
      'python3',
      [
        '-c',
        `import os,sys
g, s = sys.argv[1], sys.argv[2]
chunk = b'x' * 65536
open(s, 'wb').write(chunk * 32)
print('ready', flush=True)
n = 0
while True:
    with open(g, 'ab') as f: f.write(chunk)
    n += 1
    if n % 2 == 0:
        os.truncate(s, 1000)
    else:
        with open(s, 'ab') as f: f.write(chunk * 32)
    if os.path.getsize(g) > 8 << 20: os.truncate(g, 0)`,
        grows,
        shrinks,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    t.after(() => writer.kill('SIGKILL'))
    await new Promise((resolve) => writer.stdout.once('data', resolve))
    const bs = system(backend, root)
    const expected = ['data', 'data/a-first.txt', 'data/growing.txt', 'data/shrinking.txt', 'data/z-last.txt', 'package.json', 'packages', 'packages/system-api', TRACKER]
    let changedSeen = 0
    for (let run = 0; run < 20; run++) {
      const id = await bs.createFullBackup(`run${run}`)
      const names = gnuTarReads(path.join(root, 'backups/full', `${id}.tar.gz`), path.join(dir, `x${run}`))
      assert.deepEqual(names, expected, `run ${run}`)
      assert.equal((await bs.verifyBackup(id)).valid, true)
      const manifest = JSON.parse(fs.readFileSync(path.join(root, 'backups/manifests', `${id}.json`), 'utf8'))
      const entry = manifest.files.find((f) => f.path === `full/${id}.tar.gz`)
      if (entry.changed) {
        changedSeen += 1
        assert.ok(entry.changedFiles.every((f) => f.startsWith('data/')), entry.changedFiles.join())
      }
    }
    // the writer runs flat out: files change under the archive in most runs
    assert.ok(changedSeen > 0, 'no run saw a file change while archived')
    assert.deepEqual(leftovers(root), [])
  })
})

/** Start Python's sqlite3 on `db` with `script`; resolves once it printed "ready". */
async function pythonWriter(t, db, script) {
  const child = spawn('python3', ['-c', `import sqlite3,sys,time\ndb = sqlite3.connect(sys.argv[1], isolation_level=None)\n${script}\nprint('ready', flush=True)\ntime.sleep(60)`, db], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.after(() => child.kill('SIGKILL'))
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve)
    child.once('exit', (code) => reject(new Error(`python writer exited ${code}`)))
  })
  return child
}

function killed(child) {
  return new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGKILL')
  })
}

/**
 * Run `script` in a Python writer on the project's database, SIGKILL it, check it left its
 * `side` file, back the project up: the copy and the archived database must be sound and
 * hold the `committed` rows only; returns the archive's member names.
 */
async function backupAfterCrash({ backend, dir, t }, side, script, committed) {
  const root = project(dir)
  const db = path.join(root, 'database.sqlite')
  await killed(await pythonWriter(t, db, script))
  assert.ok(fs.statSync(`${db}${side}`).size > 0, `the killed writer left ${side} data`)
  const id = await system(backend, root).createFullBackup('crashed')
  const names = gnuTarReads(path.join(root, 'backups/full', `${id}.tar.gz`), path.join(dir, 'x'))
  for (const copy of [path.join(root, 'backups/database', id, 'database.sqlite'), path.join(dir, 'x', 'database.sqlite')]) {
    assert.equal(sql(copy, 'PRAGMA integrity_check'), 'ok', copy)
    assert.equal(sql(copy, 'SELECT count(*) FROM t'), String(committed), copy)
  }
  return names.filter((n) => n.startsWith('database'))
}

test('a database whose writer was SIGKILLed mid-transaction (hot journal) is backed up with its committed rows only', TIMEOUT, async (t) => {
  await eachBackend(t, async (ctx) => {
    const script = `db.execute('PRAGMA journal_mode=DELETE'); db.execute('PRAGMA cache_size=1')
db.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)')
db.execute('INSERT INTO t(v) VALUES (randomblob(3000)), (randomblob(3000)), (randomblob(3000))')
db.execute('BEGIN')
for _ in range(4): db.execute('INSERT INTO t(v) SELECT randomblob(3000) FROM t')`
    assert.deepEqual(await backupAfterCrash(ctx, '-journal', script, 3), ['database.sqlite'])
  })
})

test('a WAL database with un-checkpointed frames and a killed writer: committed rows only, no -wal/-shm in the archive', TIMEOUT, async (t) => {
  await eachBackend(t, async (ctx) => {
    const script = `db.execute('PRAGMA journal_mode=WAL'); db.execute('PRAGMA wal_autocheckpoint=0')
db.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)')
for _ in range(5): db.execute('INSERT INTO t(v) VALUES (randomblob(2000))')
db.execute('PRAGMA cache_size=1'); db.execute('BEGIN')
for _ in range(200): db.execute('INSERT INTO t(v) VALUES (randomblob(2000))')`
    assert.deepEqual(await backupAfterCrash(ctx, '-wal', script, 5), ['database.sqlite'])
  })
})

test('verifyBackup reads the archive and the database copies: a damaged set with a matching manifest is not valid', TIMEOUT, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const root = project(dir, { 'data/noise.bin': Buffer.from(Array.from({ length: 300000 }, (_, i) => (i * 7919) % 251)) })
    sql(path.join(root, 'database.sqlite'), 'CREATE TABLE t(v); INSERT INTO t VALUES (1);')
    const bs = system(backend, root)
    const id = await bs.createFullBackup('v')
    assert.equal((await bs.verifyBackup(id)).valid, true)
    // Damage a part, then make the manifest agree with the damage (what the old archive
    // writer did: its digest was taken over corrupt bytes).
    const damage = (setId, rel, fn) => {
      const manifestPath = path.join(root, 'backups/manifests', `${setId}.json`)
      const file = path.join(root, 'backups', rel)
      const bytes = fn(fs.readFileSync(file))
      fs.writeFileSync(file, bytes)
      const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'))
      const entry = manifest.files.find((f) => f.path === rel)
      entry.size = bytes.length
      entry.sha256 = require('node:crypto').createHash('sha256').update(bytes).digest('hex')
      fs.writeFileSync(manifestPath, JSON.stringify(manifest))
    }
    damage(id, `full/${id}.tar.gz`, (b) => b.subarray(0, Math.floor(b.length / 2)))
    let v = await bs.verifyBackup(id)
    assert.equal(v.valid, false)
    assert.match(v.damaged.join(), new RegExp(`full/${id}.tar.gz`))
    const id2 = await bs.createFullBackup('w')
    damage(id2, `database/${id2}/database.sqlite`, (b) => {
      const out = Buffer.from(b)
      out.fill(0x55, 100, 4096 + 200) // the header's counters and the first pages
      return out
    })
    v = await bs.verifyBackup(id2)
    assert.equal(v.valid, false)
    assert.match(v.damaged.join(), /database\.sqlite/)
  })
})

/** Make `root` big enough that its archive takes a while (incompressible bytes). */
function addBlobs(root) {
  fs.mkdirSync(path.join(root, 'data'), { recursive: true })
  const block = Buffer.alloc(1 << 20)
  for (let i = 0; i < 40; i++) {
    for (let j = 0; j < block.length; j += 4) block.writeUInt32LE((Math.random() * 0xffffffff) >>> 0, j)
    fs.writeFileSync(path.join(root, 'data', `blob${i}.bin`), block)
  }
  return root
}

function bigProject(dir) {
  const root = addBlobs(project(dir))
  sql(path.join(root, 'database.sqlite'), 'CREATE TABLE t(v); INSERT INTO t VALUES (1);')
  return root
}

/** Start `bin/<cli> args` in `root`; resolves once a backup's staging folder exists. */
async function startCreate(t, backend, root, [cli, ...args] = ['backup-system', 'create', 'cut'], env = {}) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', `${cli}.js`), ...args], {
    cwd: root,
    env: { ...process.env, SESSION_RESILIENCE_BACKEND: backend, SESSION_RESILIENCE_ROOT: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => child.kill('SIGKILL'))
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })))
  const b = path.join(root, 'backups')
  const deadline = Date.now() + 20000
  while (!(fs.existsSync(b) && fs.readdirSync(b).some((n) => n.startsWith('.staging-')))) {
    if (Date.now() > deadline) throw new Error('no staging folder appeared')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return { child, exited }
}

test('Ctrl+C during create: exit 130 promptly, no staging folder, no partial part, locks free', TIMEOUT, async (t) => {
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    const root = bigProject(dir)
    for (const delay of [0, 150, 400]) {
      const { child, exited } = await startCreate(st, backend, root)
      await new Promise((resolve) => setTimeout(resolve, delay))
      const sent = performance.now()
      child.kill('SIGINT')
      const { code, at } = await exited
      assert.equal(code, 130, `delay ${delay}`)
      // the issue asks for 200 ms; a generous bound here (2 shared cores), the exact figure in the bench
      assert.ok(at - sent < 1000, `delay ${delay}: exited ${Math.round(at - sent)} ms after SIGINT`)
      assert.deepEqual(leftovers(root), [], `delay ${delay}`)
    }
    // nothing held: the next backup runs and is whole
    const id = await system(backend, root).createFullBackup('after')
    assert.equal((await system(backend, root).verifyBackup(id)).valid, true)
  })
})

/** A git repository with an incompressible history and a 60 MB SQLite database: the copy and the bundle take a while. */
function slowPartsProject(dir) {
  const root = addBlobs(project(dir))
  const git = (...args) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: root, stdio: 'ignore' })
  git('init', '-q')
  git('add', '-A')
  git('commit', '-qm', 'blobs')
  sql(path.join(root, 'database.sqlite'), 'CREATE TABLE t(v); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 60000) INSERT INTO t SELECT randomblob(1000) FROM n;')
  return root
}

/**
 * Resolves once a file whose name matches `re` exists somewhere in `root`'s staging folder, or
 * in one of the folders `also` (the create's temp folder: its databases' scratch copies).
 */
async function stagingHas(root, re, also = [], deadlineMs = 20000) {
  const b = path.join(root, 'backups')
  const found = (dir) => {
    let entries = []
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true })
    } catch {
      return false
    }
    return entries.some((e) => re.test(e.name) || (e.isDirectory() && found(path.join(dir, e.name))))
  }
  const deadline = Date.now() + deadlineMs
  for (;;) {
    const staging = fs.existsSync(b) ? fs.readdirSync(b).filter((n) => n.startsWith('.staging-')) : []
    if (staging.some((n) => found(path.join(b, n))) || also.some(found)) return
    if (Date.now() > deadline) throw new Error(`no ${re} appeared in the staging folder`)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

/** Processes (git, sqlite3, ...) still running in `root` or below (their cwd), on Linux. */
function runningIn(root) {
  if (process.platform !== 'linux') return []
  const found = []
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`)
      if (cwd === root || cwd.startsWith(`${root}${path.sep}`)) found.push(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '))
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found
}

test('Ctrl+C while the database is copied and while git bundles: exit 130 at once, git and sqlite3 killed, nothing left', TIMEOUT, async (t) => {
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    const root = slowPartsProject(dir)
    // the database copies are made in a scratch folder in the temp folder (lib/backup/create.js
    // says why): a temp folder of this test's own, so that it can be watched and must end empty
    const tmp = path.join(dir, 'tmp')
    fs.mkdirSync(tmp)
    // the database copy's temp (both backends name it .db-copy-*), then git's lock on the bundle
    for (const [step, marker] of [
      ['database copy', /^\.db-copy-/],
      ['git bundle', /^repo\.bundle\.lock$/],
    ]) {
      const { child, exited } = await startCreate(st, backend, root, undefined, { TMPDIR: tmp })
      await stagingHas(root, marker, [tmp])
      const sent = performance.now()
      child.kill('SIGINT')
      const { code, at } = await exited
      assert.equal(code, 130, step)
      // the issue asks for 200 ms; a generous bound here (2 shared cores), the exact figure in the bench
      assert.ok(at - sent < 1000, `${step}: exited ${Math.round(at - sent)} ms after SIGINT`)
      assert.deepEqual(leftovers(root), [], step)
      // git (and the pack-objects it started) and sqlite3 were killed, not left to finish
      const deadline = Date.now() + 2000
      const running = () => [...runningIn(root), ...runningIn(tmp)]
      while (running().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      assert.deepEqual(running(), [], step)
      assert.deepEqual(fs.readdirSync(tmp), [], `${step}: the scratch folder is gone`)
    }
    const id = await system(backend, root).createFullBackup('after')
    assert.equal((await system(backend, root).verifyBackup(id)).valid, true)
  })
})

test('Ctrl+C while `resilient-wrapper start` makes its session backup: exit 130 promptly, nothing left', TIMEOUT, async (t) => {
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    const root = addBlobs(createWorkspace(path.join(dir, 'ws')).root)
    const { child, exited } = await startCreate(st, backend, root, ['resilient-wrapper', 'start'], { SESSION_RESILIENCE_LOCK_DIR: path.join(dir, 'locks') })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const sent = performance.now()
    child.kill('SIGINT')
    const { code, at } = await exited
    assert.equal(code, 130)
    assert.ok(at - sent < 1000, `exited ${Math.round(at - sent)} ms after SIGINT`)
    assert.deepEqual(leftovers(root), [])
  })
})

test('SIGKILL during create: the next create removes what the killed one left, and no orphan set remains', TIMEOUT, async (t) => {
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    const root = bigProject(dir)
    for (const delay of [0, 100, 300, 700]) {
      const { child, exited } = await startCreate(st, backend, root)
      await new Promise((resolve) => setTimeout(resolve, delay))
      child.kill('SIGKILL')
      await exited
    }
    const bs = system(backend, root)
    const id = await bs.createFullBackup('next')
    assert.deepEqual(leftovers(root), [])
    assert.equal((await bs.verifyBackup(id)).valid, true)
  })
})

/** A claim folder as a create makes it (lib/backup/staging.js), owned by `pid` started at `startS`. */
function plantClaim(root, pid, startS) {
  const name = `.claim-${pid}-${startS}-${require('node:crypto').randomBytes(4).toString('hex')}`
  fs.mkdirSync(path.join(root, 'backups', name), { recursive: true, mode: 0o700 })
  fs.writeFileSync(path.join(root, 'backups', name, 'owner.json'), '{"pid":1,"timestamp":"x"}')
  return name
}

test('a claim folder left by a killed create is removed at once by the next create; a live one is kept', TIMEOUT, async (t) => {
  const { liveness } = require('../lib/js/process')
  await eachBackend(t, async ({ backend, dir }) => {
    const root = project(dir)
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
    const deadPid = Number(gone.stdout.trim())
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
    try {
      const seen = liveness(sleeper.pid)
      assert.ok(seen.alive && seen.startTimeS != null, 'the live owner is seen with its start time')
      fs.mkdirSync(path.join(root, 'backups'), { mode: 0o700 })
      const dead = plantClaim(root, deadPid, seen.startTimeS)
      const live = plantClaim(root, sleeper.pid, seen.startTimeS)
      // the live owner's pid with another start time: the pid was reused, the owner is gone
      const reused = plantClaim(root, sleeper.pid, seen.startTimeS - 3600)
      const id = await system(backend, root).createFullBackup('next')
      const names = fs.readdirSync(path.join(root, 'backups'))
      assert.ok(!names.includes(dead), `${dead} removed`)
      assert.ok(!names.includes(reused), `${reused} removed`)
      assert.ok(names.includes(live), `${live} kept while its owner runs`)
      assert.equal(fs.readFileSync(path.join(root, 'backups', live, 'owner.json'), 'utf8'), '{"pid":1,"timestamp":"x"}')
      assert.ok(!names.some((n) => n.startsWith('.staging-')), 'the new set left no staging folder')
      assert.ok(fs.existsSync(path.join(root, 'backups', 'manifests', `${id}.json`)))
    } finally {
      sleeper.kill('SIGKILL')
    }
  })
})

test('a staging folder is claimed whole: a taken id is EEXIST, leaves no claim folder, and the other owner\'s folder is untouched', TIMEOUT, async (t) => {
  const { Staging } = require('../lib/backup/staging')
  await eachBackend(t, async ({ backend, dir }) => {
    const root = project(dir)
    const bs = system(backend, root)
    bs.ensureBackupsDir()
    const first = new Staging(bs.binding, root, 'taken-1')
    try {
      const owner = JSON.parse(fs.readFileSync(path.join(root, 'backups/.staging-taken-1/owner.json'), 'utf8'))
      assert.equal(owner.pid, process.pid, 'the staging folder appears with its owner record inside')
      assert.equal(owner.id, 'taken-1')
      assert.throws(() => new Staging(bs.binding, root, 'taken-1'), { code: 'EEXIST' })
      const names = fs.readdirSync(path.join(root, 'backups'))
      assert.deepEqual(names.filter((n) => n.startsWith('.claim-')), [], 'the losing claim folder is removed')
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root, 'backups/.staging-taken-1/owner.json'), 'utf8')), owner)
      // a file or a symlink planted at the staging name is a taken name too, never followed
      fs.writeFileSync(path.join(root, 'backups/.staging-file-1'), 'planted')
      assert.throws(() => new Staging(bs.binding, root, 'file-1'), { code: 'EEXIST' })
      assert.equal(fs.readFileSync(path.join(root, 'backups/.staging-file-1'), 'utf8'), 'planted')
    } finally {
      first.remove()
      first.close()
    }
    assert.deepEqual(fs.readdirSync(path.join(root, 'backups')).filter((n) => n.startsWith('.staging-taken') || n.startsWith('.claim-')), [])
  })
})

test('create, restore and cleanup refuse to run where no project is found (ENOROOT); list says so', TIMEOUT, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const home = path.join(dir, 'not-a-project')
    fs.mkdirSync(home)
    fs.writeFileSync(path.join(home, 'notes.txt'), 'mine')
    const env = { SESSION_RESILIENCE_ROOT: '' }
    for (const args of [['create'], ['restore', 'x-1'], ['cleanup', '1']]) {
      const r = runBin('backup-system', [...args, '--json'], { backend, cwd: home, env })
      assert.equal(r.status, 1, `${args[0]}: ${r.stdout} ${r.stderr}`)
      const out = JSON.parse(r.stdout)
      assert.equal(out.code, 'ENOROOT')
      assert.match(out.error, new RegExp(home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    }
    const list = runBin('backup-system', ['list'], { backend, cwd: home, env })
    assert.match(`${list.stdout}${list.stderr}`, /No project found/)
    assert.deepEqual(fs.readdirSync(home), ['notes.txt'], 'nothing written where no project is')
    const bs = new BackupSystem({ backend, cwd: home, quiet: true })
    await assert.rejects(bs.createFullBackup('x'), { code: 'ENOROOT' })
  })
})

const canMount = process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0

test('a full disk during create: ENOSPC naming the part that failed, nothing of the set left', { ...TIMEOUT, skip: !canMount && 'needs root on Linux to mount a tmpfs' }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const root = project(dir)
    // 3 MiB that gzip cannot shrink, into a 1 MiB backups/ folder: the archive fills it
    fs.writeFileSync(path.join(root, 'data/noise.bin'), require('node:crypto').randomBytes(3 << 20))
    const backups = path.join(root, 'backups')
    fs.mkdirSync(backups)
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', backups]).status, 0)
    try {
      const err = await system(backend, root)
        .createFullBackup('full')
        .then(() => null, (e) => e)
      assert.ok(err, 'the backup must fail')
      assert.equal(err.code, 'ENOSPC', err.message)
      // the archive fills the disk while the other parts are written: whichever part hits it
      // first is named, with the reason
      assert.match(err.message, /failed in its (archive|state|config|code|manifest) part: .*ENOSPC/)
      assert.deepEqual(leftovers(root), [])
      assert.deepEqual(fs.readdirSync(path.join(backups, 'full')), [])
    } finally {
      spawnSync('umount', [backups])
    }
  })
})
