'use strict'
// Real faults under atomicWrite: a read-only file system (EROFS), a full disk (ENOSPC from a
// 1 MiB tmpfs) and an fsync that fails (EIO injected by strace). Each time: the errno code is
// reported, the target is unchanged, no temp file is left, and the next write succeeds.
// And under restoreFromBackup: an open of one file of the set failing (strace, by path) is
// reported as its own errno naming that file, never as "not found" or "corrupt".
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { test, eachBackend, hasCommand, isRoot, ROOT, SYNC_CHILD } = require('./helpers')
const { SafeFileOperations } = require('../lib/safe-file-operations')

const linuxRoot = process.platform === 'linux' && isRoot
const noMount = !linuxRoot && 'needs root on Linux to mount a tmpfs'

function mountTmpfs(dir, size) {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' })
  assert.equal(r.status, 0, `mount failed: ${r.stderr}`)
}

function unmount(dir) {
  spawnSync('umount', [dir])
}

function attempt(fn) {
  try {
    fn()
    return null
  } catch (err) {
    return err
  }
}

test('a read-only file system: EROFS, target unchanged, nothing left', { skip: noMount }, async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const mnt = path.join(dir, 'ro')
    fs.mkdirSync(mnt)
    mountTmpfs(mnt, '1m')
    try {
      const target = path.join(mnt, 'tracker.json')
      fs.writeFileSync(target, '{"old":true}')
      assert.equal(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0)
      const err = attempt(() => new SafeFileOperations({ backend }).atomicWrite(target, '{"new":true}'))
      assert.equal(err && err.code, 'EROFS')
      assert.match(err.message, /^Atomic write failed for .*tracker\.json: EROFS/)
      assert.equal(fs.readFileSync(target, 'utf8'), '{"old":true}')
      assert.deepEqual(fs.readdirSync(mnt), ['tracker.json'])
    } finally {
      unmount(mnt)
    }
  })
})

test('a full disk: ENOSPC, target unchanged, no temp, the next small write succeeds', { skip: noMount }, async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const mnt = path.join(dir, 'full')
    fs.mkdirSync(mnt)
    mountTmpfs(mnt, '1m')
    try {
      const ops = new SafeFileOperations({ backend })
      const target = path.join(mnt, 'tracker.json')
      fs.writeFileSync(target, '{"old":true}')
      const err = attempt(() => ops.atomicWrite(target, Buffer.alloc(2 * 1024 * 1024, 0x61)))
      assert.equal(err && err.code, 'ENOSPC')
      assert.equal(fs.readFileSync(target, 'utf8'), '{"old":true}')
      assert.deepEqual(fs.readdirSync(mnt), ['tracker.json'])
      assert.equal(ops.atomicWrite(target, '{"new":true}'), true)
      assert.equal(fs.readFileSync(target, 'utf8'), '{"new":true}')
    } finally {
      unmount(mnt)
    }
  })
})

const noStrace = (process.platform !== 'linux' || !hasCommand('strace')) && 'needs strace on Linux'

test('an fsync failing with EIO (strace fault injection)', { skip: noStrace }, async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const target = path.join(dir, 'tracker.json')
    fs.writeFileSync(target, '{"old":true}')
    const script = `
      const { SafeFileOperations } = require(${JSON.stringify(path.join(ROOT, 'lib/safe-file-operations'))})
      const ops = new SafeFileOperations({ backend: ${JSON.stringify(backend)} })
      let out
      try { ops.atomicWrite(${JSON.stringify(target)}, '{"new":true}'); out = { ok: true } }
      catch (err) { out = { code: err.code, message: err.message } }
      process.stdout.write(JSON.stringify(out))`
    const r = spawnSync(
      'strace',
      // no -f: the fault hits this Node process (whose main thread does the sync write), never a child
      ['-qq', '-o', '/dev/null', '-e', 'trace=fsync', '-e', 'inject=fsync:error=EIO', process.execPath, '-e', script],
      { encoding: 'utf8', ...SYNC_CHILD },
    )
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.code, 'EIO', JSON.stringify(out))
    assert.match(out.message, /^Atomic write failed for .*: EIO/)
    assert.equal(fs.readFileSync(target, 'utf8'), '{"old":true}')
    assert.deepEqual(fs.readdirSync(dir), ['tracker.json'])
    assert.equal(new SafeFileOperations({ backend }).atomicWrite(target, '{"new":true}'), true)
  })
})

test('restoreFromBackup: a set file that cannot be opened is that errno, naming the file; nothing changed; the next restore succeeds', { skip: noStrace }, async (t) => {
  const BackupSystem = require('../lib/backup-system')
  await eachBackend(t, async ({ backend, dir }) => {
    const root = path.join(dir, 'proj')
    const tracker = 'packages/system-api/phase-tracker.json'
    fs.mkdirSync(path.join(root, 'packages/system-api'), { recursive: true })
    fs.writeFileSync(path.join(root, tracker), JSON.stringify({ sessionInfo: { sessionId: 's', currentPhase: 1, currentWeek: 1, lastUpdate: '2025-01-01T00:00:00.000Z' }, baselineStatus: {}, phases: {}, backupStrategy: { restorePoints: [] } }))
    fs.writeFileSync(path.join(root, 'package.json'), '{"name":"before"}\n')
    spawnSync('sqlite3', [path.join(root, 'database.sqlite'), 'CREATE TABLE t(v); INSERT INTO t VALUES (1);'])
    const options = { backend, root, quiet: true, lockDir: path.join(dir, 'locks') }
    const id = await new BackupSystem(options).createFullBackup('set')
    fs.writeFileSync(path.join(root, 'package.json'), '{"name":"after"}\n')
    const script = `
      const BackupSystem = require(${JSON.stringify(path.join(ROOT, 'lib/backup-system'))})
      new BackupSystem(${JSON.stringify(options)}).restoreFromBackup(${JSON.stringify(id)}, { restoreCode: false, skipCurrentBackup: true })
        .then(() => process.stdout.write('{"ok":true}'), (err) => process.stdout.write(JSON.stringify({ code: err.code, message: err.message })))`
    // -P: only calls on these paths fail (-f: whichever thread or child makes them). The native
    // backend opens set files below a held folder (openat(<folder fd>, name): matched by the
    // folder), SQLite and the js backend by their full path (matched by the file).
    const folder = path.join(root, 'backups', 'database', id)
    for (const paths of [
      [folder, path.join(folder, 'db-info.json')], // every open in the set's database folder
      [path.join(folder, 'database.sqlite')], // native: SQLite's open of the copy, in verify's integrity check
    ]) {
      const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', ...paths.flatMap((p) => ['-P', p]), '-e', 'trace=openat', '-e', 'inject=openat:error=EIO', process.execPath, '-e', script], { encoding: 'utf8', ...SYNC_CHILD })
      assert.equal(r.status, 0, r.stderr)
      const out = JSON.parse(r.stdout)
      assert.equal(out.code, 'EIO', `${paths}: ${r.stdout}`)
      assert.ok(out.message.includes(folder), `${paths}: ${out.message}`)
      assert.equal(fs.readFileSync(path.join(root, 'package.json'), 'utf8'), '{"name":"after"}\n')
    }
    await new BackupSystem(options).restoreFromBackup(id, { restoreCode: false, skipCurrentBackup: true })
    assert.equal(fs.readFileSync(path.join(root, 'package.json'), 'utf8'), '{"name":"before"}\n')
  })
})
