'use strict'
// Real faults under atomicWrite: a read-only file system (EROFS), a full disk (ENOSPC from a
// 1 MiB tmpfs) and an fsync that fails (EIO injected by strace). Each time: the errno code is
// reported, the target is unchanged, no temp file is left, and the next write succeeds.
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
      ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=fsync', '-e', 'inject=fsync:error=EIO', process.execPath, '-e', script],
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
