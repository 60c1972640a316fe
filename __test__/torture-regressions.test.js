'use strict'
// Regression tests for what the torture suite (torture/) found, on both backends.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test, eachBackend } = require('./helpers')
const { SafeFileOperations } = require('../lib/safe-file-operations')

test('a lock identifier with an unpaired surrogate (lossy as UTF-8) is refused, and creates nothing', async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const ops = new SafeFileOperations({ backend, lockDir: path.join(dir, 'locks') })
    for (const id of ['\ud800bad', 'bad\udc00', '\ufffdbad', 'x\udbff']) {
      assert.throws(() => ops.acquireLock(id, 100), { code: 'EBADLOCKID' }, JSON.stringify(id))
      assert.throws(() => ops.releaseLock(id), { code: 'EBADLOCKID' })
      assert.throws(() => ops.getLockInfo(id), { code: 'EBADLOCKID' })
    }
    // a well-formed pair is an ordinary character
    const p = ops.acquireLock('emoji-\ud83d\ude00', 100)
    assert.equal(path.basename(p), 'emoji-😀.lock')
    assert.equal(ops.releaseLock('emoji-\ud83d\ude00'), true)
    assert.deepEqual(fs.readdirSync(path.join(dir, 'locks')), [])
  })
})

const { spawnSync } = require('node:child_process')
const { ROOT, hasCommand, SYNC_CHILD } = require('./helpers')

const noStrace = (process.platform !== 'linux' || !hasCommand('strace')) && 'needs strace on Linux'

/** acquireLock('job') in a child under strace, every write to `failPath` failing with ENOSPC. */
function acquireWithFailingWrites(backend, lockDir, failPath) {
  const script = `
    const { SafeFileOperations } = require(${JSON.stringify(path.join(ROOT, 'lib/safe-file-operations'))})
    const ops = new SafeFileOperations({ backend: ${JSON.stringify(backend)}, lockDir: ${JSON.stringify(lockDir)} })
    console.warn = () => {}
    let out
    try { ops.acquireLock('job', 2000); out = { ok: true } } catch (err) { out = { code: err.code } }
    process.stdout.write(JSON.stringify(out))`
  const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-P', failPath, '-e', 'trace=write', '-e', 'inject=write:error=ENOSPC', process.execPath, '-e', script], {
    encoding: 'utf8',
    ...SYNC_CHILD,
  })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

test('a lock record or takeover marker whose write fails leaves no empty file behind (strace)', { skip: noStrace }, async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const lockDir = path.join(dir, 'locks')
    fs.mkdirSync(lockDir, { mode: 0o700 })
    const lockPath = path.join(lockDir, 'job.lock')
    // the record's write fails: no empty job.lock (it would pass for a legacy writer mid-write)
    assert.deepEqual(acquireWithFailingWrites(backend, lockDir, lockPath), { code: 'ENOSPC' })
    assert.deepEqual(fs.readdirSync(lockDir), [])
    // a dead holder, and the takeover marker's write fails: the dead lock stays, no marker
    const dead = JSON.stringify({ pid: spawnSync('true').pid, timestamp: new Date().toISOString(), identifier: 'job' }, null, 2)
    fs.writeFileSync(lockPath, dead)
    assert.deepEqual(acquireWithFailingWrites(backend, lockDir, path.join(lockDir, '.job.lock.takeover.0')), { code: 'ENOSPC' })
    assert.deepEqual(fs.readdirSync(lockDir), ['job.lock'])
    assert.equal(fs.readFileSync(lockPath, 'utf8'), dead)
    // and the next acquire takes the dead holder's lock over
    const ops = new SafeFileOperations({ backend, lockDir })
    const warn = console.warn
    console.warn = () => {}
    try {
      assert.equal(ops.acquireLock('job', 2000), lockPath)
    } finally {
      console.warn = warn
    }
    assert.equal(ops.releaseLock('job'), true)
  })
})
