'use strict'
// process-cleanup (legacy §4): signals and safeExit release the locks this process holds,
// and only those; registered temp files go; backups are never touched. Real processes.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { test, eachBackend, spawnNode, waitForLine } = require('./helpers')

const started = (child) => waitForLine(child, /^ready$/)

const ended = (child) => new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))

const HOLDER = `
  const fs = require('node:fs')
  const { onExit, trackTempFile } = require('./lib/process-cleanup')
  const { SafeFileOperations } = require('./lib/safe-file-operations')
  const [dir] = process.argv.slice(1)
  const o = new SafeFileOperations({ lockDir: dir + '/locks', backupDir: dir + '/backups' })
  o.acquireLock('mine')
  o.acquireLock('also-mine')
  fs.writeFileSync(dir + '/temp-ours', 'x')
  trackTempFile(dir + '/temp-ours')
  onExit(() => fs.writeFileSync(dir + '/handler-ran', 'yes'))
  onExit(() => { throw new Error('a failing handler does not stop the others') })
`

function prepare(dir) {
  fs.mkdirSync(path.join(dir, 'locks'), { mode: 0o700 })
  fs.mkdirSync(path.join(dir, 'backups'), { mode: 0o700 })
  // A lock of another live process (this test runner) and an old manual backup.
  fs.writeFileSync(
    path.join(dir, 'locks', 'theirs.lock'),
    JSON.stringify({ pid: process.pid, timestamp: new Date().toISOString(), identifier: 'theirs' }, null, 2),
  )
  const backup = path.join(dir, 'backups', 'tracker.json.manual.2020-01-01T00-00-00-000Z.bak')
  fs.writeFileSync(backup, '{}')
  const old = new Date('2020-01-01T00:00:00Z')
  fs.utimesSync(backup, old, old)
  fs.writeFileSync(path.join(dir, 'temp-not-ours'), 'x')
}

function assertCleaned(dir) {
  assert.deepEqual(fs.readdirSync(path.join(dir, 'locks')), ['theirs.lock'], 'our locks released, theirs kept')
  assert.deepEqual(fs.readdirSync(path.join(dir, 'backups')), ['tracker.json.manual.2020-01-01T00-00-00-000Z.bak'])
  assert.equal(fs.existsSync(path.join(dir, 'temp-ours')), false)
  assert.equal(fs.existsSync(path.join(dir, 'temp-not-ours')), true)
  assert.equal(fs.readFileSync(path.join(dir, 'handler-ran'), 'utf8'), 'yes')
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 130],
]) {
  // Windows has no POSIX signals: libuv's child.kill(SIGINT|SIGTERM) is TerminateProcess, which
  // runs no handler at all, and Ctrl+C reaches only processes attached to the sender's console.
  const skip = process.platform === 'win32' && `win32: child.kill('${signal}') is TerminateProcess (no handler can run); a killed native holder's lock is covered by the SIGKILL takeover test`
  test(`${signal} to a process holding locks: handlers run, its locks (only) are released, exit ${code}`, { skip }, async (t) => {
    await eachBackend(t, async ({ backend, dir, t: st }) => {
      prepare(dir)
      const child = spawnNode(`${HOLDER}; console.log('ready'); setInterval(() => {}, 1000)`, { backend, args: [dir], t: st })
      await started(child)
      child.kill(signal)
      assert.deepEqual(await ended(child), { code, signal: null })
      assertCleaned(dir)
    })
  })
}

test('safeExit(code): handlers (errors only warn), our locks and temp files, never backups, then exit(code)', async (t) => {
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    prepare(dir)
    const child = spawnNode(`${HOLDER}; console.log('ready'); require('./lib/process-cleanup').safeExit(3)`, { backend, args: [dir], t: st })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    await started(child)
    assert.deepEqual(await ended(child), { code: 3, signal: null })
    assert.match(stderr, /Cleanup handler failed: a failing handler does not stop the others/)
    assertCleaned(dir)
  })
})

test('an uncaught exception exits 1 and still releases the locks', async (t) => {
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    prepare(dir)
    const child = spawnNode(`${HOLDER}; console.log('ready'); setTimeout(() => { throw new Error('bug') }, 10)`, { backend, args: [dir], t: st })
    await started(child)
    assert.deepEqual(await ended(child), { code: 1, signal: null })
    assertCleaned(dir)
  })
})

test('onExit refuses a non-function; a ProcessCleanup can be made without installing handlers', () => {
  const { ProcessCleanup } = require('../lib/process-cleanup')
  const before = process.listenerCount('SIGINT')
  const pc = new ProcessCleanup({ install: false })
  assert.equal(process.listenerCount('SIGINT'), before)
  assert.throws(() => pc.onExit('nope'), { code: 'ERR_INVALID_ARG_TYPE' })
  const off = pc.onExit(() => {})
  off()
  assert.equal(pc.handlers.length, 0)
})
