'use strict'
// backup-system with the tracker's `backupStrategy.backupTypes.fullSystem.method` set to
// "snapshot": the full part is a snapshot in backups/store/, the other parts are real files
// as before; list, verify (chunks re-hashed, damage named), restore --only, export as the
// legacy archive and cleanup, on both backends; "tar_gz" (the default) unchanged.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const BackupSystem = require('../lib/backup-system')
const { test, eachBackend, runBin, flipChunk, chunkIds } = require('./helpers')

const TRACKER = 'packages/system-api/phase-tracker.json'

function project(dir, method) {
  const root = path.join(dir, 'project')
  fs.mkdirSync(path.join(root, 'packages/system-api'), { recursive: true })
  fs.mkdirSync(path.join(root, 'src/sub'), { recursive: true })
  fs.mkdirSync(path.join(root, 'empty'))
  const backupStrategy = { frequency: 'daily', retentionDays: 30, restorePoints: [] }
  if (method) backupStrategy.backupTypes = { fullSystem: { method } }
  const tracker = { sessionInfo: { sessionId: 's', currentPhase: 2, currentWeek: 1, lastUpdate: '2025-01-01T00:00:00.000Z' }, baselineStatus: {}, phases: {}, backupStrategy }
  fs.writeFileSync(path.join(root, TRACKER), JSON.stringify(tracker, null, 2))
  fs.writeFileSync(path.join(root, 'package.json'), '{"name":"demo"}\n')
  fs.writeFileSync(path.join(root, 'src/a.txt'), 'alpha\n')
  fs.writeFileSync(path.join(root, 'src/sub/b.txt'), 'beta\n')
  fs.writeFileSync(path.join(root, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
  fs.symlinkSync('src/a.txt', path.join(root, 'link'))
  return root
}

const system = (backend, root) => new BackupSystem({ backend, root, quiet: true, lockDir: path.join(root, '..', 'locks') })
const tarList = (file) =>
  execFileSync('tar', ['-tvzf', file], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/))
    .map((f) => [f[0], f[2], f.slice(5).join(' ')].join(' '))
    .sort()

test('a snapshot set: restore point, list, verify, damage named, cleanup', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const root = project(dir, 'snapshot')
    const bs = system(backend, root)
    const id = await bs.createFullBackup('checkpoint')
    const b = path.join(root, 'backups')
    assert.ok(!fs.existsSync(path.join(b, 'full', `${id}.tar.gz`)), 'no archive for a snapshot set')
    assert.ok(fs.existsSync(path.join(b, 'store/snapshots', `${id}.json`)))
    const point = bs.restorePoints()[0]
    assert.equal(point.method, 'snapshot')
    assert.equal(point.snapshot.id, id)
    assert.equal(point.archive, null)
    // the parts a restore point names are real files
    assert.ok(fs.statSync(path.join(b, 'config', id, 'package.json')).isFile())
    const manifest = JSON.parse(fs.readFileSync(path.join(b, 'manifests', `${id}.json`), 'utf8'))
    assert.ok(manifest.files.some((f) => f.path === `store/snapshots/${id}.json`))
    const good = await bs.verifyBackup(id)
    assert.equal(good.valid, true, JSON.stringify(good))
    assert.equal((await bs.verifyBackup(id, { deep: true })).valid, true)
    // a second snapshot of the unchanged project adds nothing but its record
    const id2 = await bs.createFullBackup('again')
    // (the tracker changed: it records the first set; its chunk and the tree's few are new)
    assert.ok(bs.restorePoints()[0].snapshot.newBytes < 16 * 1024)
    // damage the chunk holding src/a.txt: verify names it, for both snapshots
    const sha = require('node:crypto').createHash('sha256').update('alpha\n').digest('hex')
    flipChunk(path.join(b, 'store'), sha)
    for (const which of [id, id2]) {
      const bad = await bs.verifyBackup(which)
      assert.equal(bad.valid, false)
      assert.ok(
        bad.damaged.some((d) => d.includes(sha)),
        JSON.stringify(bad.damaged),
      )
      // --deep (every chunk re-derived, pack digests not used) names the same damage
      const r = runBin('backup-system', ['verify', which, '--deep', '--json', '--root', root], { backend })
      assert.equal(r.status, 1, r.stderr)
      assert.deepEqual(JSON.parse(r.stdout).damaged, bad.damaged)
    }
    // cleanup removes the records of the sets it removes
    const removed = await bs.cleanup(0)
    assert.equal(removed, 2)
    assert.deepEqual(fs.readdirSync(path.join(b, 'store/snapshots')), [])
    // ...and garbage collection removed every chunk, since no snapshot is left
    assert.deepEqual(chunkIds(path.join(b, 'store')), [])
    assert.deepEqual(fs.readdirSync(path.join(b, 'store/packs')), [])
  })
})

test('restore --only puts back the named paths of a snapshot; export writes the legacy archive', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const root = project(dir, 'snapshot')
    const id = await system(backend, root).createFullBackup('before')
    fs.writeFileSync(path.join(root, 'src/a.txt'), 'changed\n')
    fs.rmSync(path.join(root, 'src/sub'), { recursive: true })
    const r = runBin('backup-system', ['restore', id, '--only', 'src/sub', 'src/a.txt', '--skip-current-backup', '--root', root, '--json'], { backend })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).files, 2)
    assert.equal(fs.readFileSync(path.join(root, 'src/a.txt'), 'utf8'), 'alpha\n')
    assert.equal(fs.readFileSync(path.join(root, 'src/sub/b.txt'), 'utf8'), 'beta\n')
    const missing = runBin('backup-system', ['restore', id, '--only', 'nope', '--skip-current-backup', '--root', root], { backend })
    assert.notEqual(missing.status, 0)
    assert.match(missing.stderr + missing.stdout, /nope is not in snapshot/)
    // export: the legacy archive, with the listing a fresh tar.gz set of the same tree has
    fs.writeFileSync(path.join(root, 'src/a.txt'), 'alpha\n')
    const e = runBin('backup-system', ['export', id, '--root', root, '--json'], { backend })
    assert.equal(e.status, 0, e.stderr)
    const exported = JSON.parse(e.stdout).file
    assert.equal(exported, path.join(root, 'backups/full', `${id}.tar.gz`))
    const legacy = project(path.join(dir, 'legacy'), null)
    const legacyId = await system(backend, legacy).createFullBackup('before')
    const fresh = tarList(path.join(legacy, 'backups/full', `${legacyId}.tar.gz`)).filter((l) => !l.includes(TRACKER))
    assert.deepEqual(
      tarList(exported).filter((l) => !l.includes(TRACKER)),
      fresh,
    )
    assert.ok(!fs.readdirSync(path.join(root, 'backups')).some((n) => n.startsWith('.export-')))
    // a tar.gz set is refused by --only and export, with a clear code
    await assert.rejects(system(backend, legacy).exportBackup(legacyId), { code: 'ENOTSNAPSHOT' })
  })
})

test('an existing tracker without a method keeps writing tar.gz sets, no store', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const root = project(dir, null)
    const id = await system(backend, root).createFullBackup('plain')
    assert.ok(fs.existsSync(path.join(root, 'backups/full', `${id}.tar.gz`)))
    assert.ok(!fs.existsSync(path.join(root, 'backups/store')))
    assert.equal(system(backend, root).restorePoints()[0].method, undefined)
  })
})

test('a snapshot set bundles only the commits that are new since a base set; restore fetches both', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const root = project(dir, 'snapshot')
    const git = (...args) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: root, encoding: 'utf8' }).trim()
    fs.writeFileSync(path.join(root, '.gitignore'), `backups/\n${TRACKER}\n`) // the tracker: not reset with the code
    git('init', '-q')
    // a history worth bundling: 30 commits of 20 KB of noise each
    for (let i = 0; i < 30; i++) {
      fs.writeFileSync(path.join(root, `src/h${i}.bin`), require('node:crypto').randomBytes(20000))
      git('add', '-A', '.')
      git('commit', '-qm', `c${i}`)
    }
    const bs = system(backend, root)
    const info = (id) => JSON.parse(fs.readFileSync(path.join(root, 'backups/code', id, 'git-info.json'), 'utf8'))
    const bundleSize = (id) => fs.statSync(path.join(root, 'backups/code', id, 'repo.bundle')).size
    const id1 = await bs.createFullBackup('one')
    assert.equal(info(id1).bundle, 'full')
    const same = await bs.createFullBackup('same')
    assert.deepEqual([info(same).bundle, info(same).base], ['none', id1])
    assert.ok(!fs.existsSync(path.join(root, 'backups/code', same, 'repo.bundle')))
    fs.writeFileSync(path.join(root, 'src/a.txt'), 'one more commit\n')
    git('commit', '-qam', 'new')
    const commit = git('rev-parse', 'HEAD')
    const id2 = await bs.createFullBackup('two')
    assert.deepEqual([info(id2).bundle, info(id2).base], ['incremental', id1])
    assert.ok(bundleSize(id2) < 4096 && bundleSize(id1) > 500000, `${bundleSize(id2)} bytes after one commit, ${bundleSize(id1)} for the history`)
    assert.equal((await bs.verifyBackup(id2)).valid, true)
    // without its base's bundle the increment is no history: verify says so
    const baseBundle = path.join(root, 'backups/code', id1, 'repo.bundle')
    fs.renameSync(baseBundle, `${baseBundle}.away`)
    const broken = await bs.verifyBackup(id2)
    assert.equal(broken.valid, false)
    assert.ok(broken.damaged.some((d) => d.includes(`set ${id1}`)), JSON.stringify(broken.damaged))
    fs.renameSync(`${baseBundle}.away`, baseBundle)
    // the new commit gone from the repository: the restore fetches the base's bundle, then the increment
    git('reset', '-q', '--hard', 'HEAD~1')
    git('reflog', 'expire', '--expire=now', '--all')
    git('gc', '-q', '--prune=now')
    assert.throws(() => git('cat-file', '-e', `${commit}^{commit}`))
    await bs.restoreFromBackup(id2, { skipCurrentBackup: true, restoreDatabase: false, restoreConfig: false })
    assert.equal(git('rev-parse', 'HEAD'), commit)
    // cleanup keeps a base while a kept set builds on it
    const trackerFile = path.join(root, TRACKER)
    const tracker = JSON.parse(fs.readFileSync(trackerFile, 'utf8'))
    for (const p of tracker.backupStrategy.restorePoints) if (p.id !== id2) p.timestamp = '2020-01-01T00:00:00.000Z'
    fs.writeFileSync(trackerFile, JSON.stringify(tracker, null, 2))
    assert.equal(await system(backend, root).cleanup(1), 1)
    assert.deepEqual(
      system(backend, root)
        .restorePoints()
        .map((p) => p.id),
      [id2, id1],
    )
  })
})

test('a snapshot set links its part files to store files; a second set of the same content costs no copy; the fallback keeps copies', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const root = project(dir, 'snapshot')
    execFileSync('sqlite3', [path.join(root, 'database.sqlite'), 'CREATE TABLE t(x); INSERT INTO t VALUES (1), (2);'])
    const bs = system(backend, root)
    const b = path.join(root, 'backups')
    const id1 = await bs.createFullBackup('one')
    const id2 = await bs.createFullBackup('two')
    const point = bs.restorePoints()[0]
    assert.ok(point.partFiles.hardlinks >= 3 && point.partFiles.copies === 0, JSON.stringify(point.partFiles))
    const manifest = JSON.parse(fs.readFileSync(path.join(b, 'manifests', `${id2}.json`), 'utf8'))
    // the same content in both sets: one inode, the store's, linked three times
    for (const rel of ['config/ID/package.json', 'database/ID/database.sqlite']) {
      const [a, c] = [id1, id2].map((id) => fs.statSync(path.join(b, rel.replace('ID', id))))
      const entry = manifest.files.find((f) => f.path === rel.replace('ID', id2))
      const stored = fs.statSync(path.join(b, entry.store))
      assert.equal(a.ino, c.ino, rel)
      assert.equal(stored.ino, c.ino, rel)
      assert.equal(stored.nlink, 3, rel)
      assert.equal(stored.mode & 0o777, 0o400, rel)
    }
    let v = await bs.verifyBackup(id2)
    assert.deepEqual([v.valid, v.unlinked], [true, []])
    // a part replaced by a copy of the same bytes: still valid, no longer linked, and said so
    const config = path.join(b, 'config', id2, 'package.json')
    const bytes = fs.readFileSync(config)
    fs.rmSync(config)
    fs.writeFileSync(config, bytes, { mode: 0o600 })
    v = await bs.verifyBackup(id2)
    assert.deepEqual([v.valid, v.unlinked], [true, [`config/${id2}/package.json is no longer a hard link to ${manifest.files.find((f) => f.path === `config/${id2}/package.json`).store}`]])
    // a file system without hard links (link and linkat fail with EXDEV, injected by strace): copies, said so
    const script = `const B = require(${JSON.stringify(path.join(__dirname, '../lib/backup-system'))}); const bs = new B({ backend: '${backend}', root: ${JSON.stringify(root)}, quiet: true, lockDir: ${JSON.stringify(path.join(dir, 'locks'))} }); bs.createFullBackup('nolinks').then(() => console.log(JSON.stringify(bs.restorePoints()[0])))`
    const out = execFileSync('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=link,linkat', '-e', 'inject=link,linkat:error=EXDEV', process.execPath, '-e', script], { encoding: 'utf8', timeout: 60000 })
    const copied = JSON.parse(out.trim().split('\n').pop())
    assert.ok(copied.partFiles.hardlinks === 0 && copied.partFiles.copies >= 3, JSON.stringify(copied.partFiles))
    assert.equal(fs.statSync(path.join(b, 'config', copied.id, 'package.json')).nlink, 1)
    assert.equal((await bs.verifyBackup(copied.id)).valid, true)
    // cleanup of every set: garbage collection removes the store files no part links to
    await bs.cleanup(0)
    const left = fs.readdirSync(path.join(b, 'store/files')).flatMap((f) => fs.readdirSync(path.join(b, 'store/files', f)))
    assert.deepEqual(left, [])
  })
})

test('a tar.gz set imported into the store restores byte-identical, modes, mtimes and links', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const root = project(dir, null)
    fs.writeFileSync(path.join(root, 'src/sub/ünï 名.bin'), require('node:crypto').randomBytes(300000))
    const bs = system(backend, root)
    const id = await bs.createFullBackup('old')
    const b = path.join(root, 'backups')
    const archive = path.join(b, 'full', `${id}.tar.gz`)
    const before = tarList(archive)
    const original = path.join(dir, 'original')
    fs.mkdirSync(original)
    execFileSync('tar', ['-xzf', archive, '-C', original, '-p'])
    const usage = runBin('backup-system', ['import', '--root', root], { backend })
    assert.notEqual(usage.status, 0)
    assert.match(usage.stderr, /import needs a backup <id>/)
    const r = runBin('backup-system', ['import', id, '--root', root, '--json'], { backend })
    assert.equal(r.status, 0, r.stderr)
    const made = JSON.parse(r.stdout)
    assert.deepEqual([made.ok, made.id], [true, id])
    assert.ok(!fs.existsSync(archive), 'the archive is gone once imported')
    const point = system(backend, root).restorePoints()[0]
    assert.deepEqual([point.method, point.archive, point.importedFrom], ['snapshot', null, `full/${id}.tar.gz`])
    assert.equal((await bs.verifyBackup(id)).valid, true)
    await assert.rejects(bs.importBackup(id), { code: 'EEXIST' })
    // the snapshot restored: the archive's files, byte for byte, with their modes and mtimes
    const out = path.join(dir, 'restored')
    fs.mkdirSync(out)
    await bs.binding.storeRestoreSnapshot(path.join(b, 'store'), id, out)
    const files = (top) => {
      const rows = []
      const walk = (d) => {
        for (const name of fs.readdirSync(d).sort()) {
          const full = path.join(d, name)
          const st = fs.lstatSync(full)
          const rel = path.relative(top, full)
          if (st.isSymbolicLink()) rows.push([rel, 'link', fs.readlinkSync(full)])
          else if (st.isDirectory()) {
            rows.push([rel, 'dir', st.mode & 0o7777])
            walk(full)
          } else rows.push([rel, st.mode & 0o7777, Math.floor(st.mtimeMs / 1000), fs.readFileSync(full).toString('base64')])
        }
      }
      walk(top)
      return rows
    }
    assert.deepEqual(files(out), files(original))
    // and exported again, the archive lists what the old one did
    await bs.exportBackup(id)
    assert.deepEqual(tarList(archive), before)
  })
})
