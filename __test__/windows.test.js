'use strict'
// Windows only (skipped elsewhere; run on Linux by scripts/test-windows.sh under Wine, and on
// the windows-latest runners): replacing a file that another process holds open.
//
// Windows refuses to rename over a file opened without delete sharing (an editor, an indexer,
// an antivirus). atomicWrite retries for about a second with backoff, then reports the error
// with its errno code, target untouched and no temp file left, on both backends.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { SafeFileOperations } = require('../lib/safe-file-operations')
const { test, eachBackend, spawnNode } = require('./helpers')

const skip = process.platform !== 'win32' && 'Windows file-sharing rules'

// libuv's UV_FS_O_EXLOCK: open with no sharing at all, as an exclusive reader does.
const EXLOCK = fs.constants.UV_FS_O_EXLOCK || 0x10000000

// A child process opens `file` exclusively, says "held", and closes it `delayMs` after the
// `signal` file appears (a file, not stdin: the parent is blocked in a sync write meanwhile).
const HOLDER = `
const fs = require('node:fs')
const [file, signal, delayMs, flags] = process.argv.slice(1)
const fd = fs.openSync(file, fs.constants.O_RDONLY | Number(flags))
process.stdout.write('held\\n')
const poll = setInterval(() => {
  if (!fs.existsSync(signal)) return
  clearInterval(poll)
  setTimeout(() => { fs.closeSync(fd); process.exit(0) }, Number(delayMs))
}, 10)
`

async function holdExclusively(t, file, signal, delayMs) {
  const child = spawnNode(HOLDER, { args: [file, signal, String(delayMs), String(EXLOCK)], t })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('held')) resolve()
    })
    child.on('exit', (code) => reject(new Error(`holder exited early (${code})`)))
  })
  return { release: () => fs.writeFileSync(signal, ''), exited }
}

function setup(backend, dir) {
  const o = new SafeFileOperations({ backend, backupDir: path.join(dir, 'b'), lockDir: path.join(dir, 'l') })
  const work = path.join(dir, 'work')
  fs.mkdirSync(work)
  const target = path.join(work, 'tracker.json')
  fs.writeFileSync(target, 'old')
  return { o, work, target, signal: path.join(dir, 'release') }
}

test('a target held open for a moment is still replaced (sync and async)', { skip }, async (t) => {
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    for (const mode of ['sync', 'async']) {
      const { o, work, target, signal } = setup(backend, fs.mkdtempSync(path.join(dir, `${mode}-`)))
      const holder = await holdExclusively(st, target, signal, 50)
      // The case is real: a plain rename over the held file is refused.
      const probe = path.join(work, 'probe')
      fs.writeFileSync(probe, 'p')
      assert.throws(() => fs.renameSync(probe, target), (err) => ['EPERM', 'EACCES', 'EBUSY'].includes(err.code))
      fs.unlinkSync(probe)

      holder.release() // let go 50 ms from now, well inside the retry budget
      const written = mode === 'sync' ? o.atomicWrite(target, 'new') : await o.atomicWriteAsync(target, 'new')
      assert.equal(written, true)
      await holder.exited
      assert.equal(fs.readFileSync(target, 'utf8'), 'new')
      assert.deepEqual(fs.readdirSync(work), ['tracker.json'])
    }
  })
})

test('a target held open throughout: EPERM after the retries, target kept, no temp', { skip }, async (t) => {
  const codes = {}
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    const { o, work, target, signal } = setup(backend, dir)
    const holder = await holdExclusively(st, target, signal, 0)
    let caught
    try {
      o.atomicWrite(target, 'new')
    } catch (err) {
      caught = err
    } finally {
      holder.release()
      await holder.exited
    }
    assert.ok(caught, 'atomicWrite must fail while the target is held')
    assert.ok(['EPERM', 'EACCES'].includes(caught.code), caught.code)
    assert.ok(caught.message.startsWith(`Atomic write failed for ${target}: ${caught.code}`), caught.message)
    codes[backend] = caught.code
    assert.equal(fs.readFileSync(target, 'utf8'), 'old')
    assert.deepEqual(fs.readdirSync(work), ['tracker.json'])
  })
  assert.equal(codes.native, codes.js, 'both backends report the same code')
})
