'use strict'
// Short writes, for real: under a file size limit (RLIMIT_FSIZE, set with prlimit) the kernel
// writes a call's bytes up to the limit and answers with that shorter count; the next write
// past the limit fails with EFBIG (Node ignores SIGXFSZ). A disk filling up does the same. Every
// write loop must then fail with that EFBIG: never commit a file cut short, nor ask for more
// bytes than are left (a RangeError instead of the OS's answer). Each operation runs in a child under the limit, on both backends.
// (A loop that wrote the rest at the wrong place cannot be caught this way: every file here
// still ends past the limit, so its last write or truncation fails with EFBIG as well.)

const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { test, onBoth, tempDir, BACKENDS, ROOT, SYNC_CHILD, hasCommand } = require('./helpers')

const skip = (process.platform !== 'linux' || !hasCommand('prlimit')) && 'needs prlimit on Linux'

/**
 * Run `body` (an async function body with the backend's binding as `b`) in a child whose files
 * may grow to `limit` bytes while it runs: its result, or the code it threw. The child sets the
 * limit on itself and lifts it after `body` (prlimit --pid), so that what it writes at exit
 * (V8's coverage, for the mutation runner) is not cut short too.
 */
function underSizeLimit(backend, limit, body) {
  const script = `
    const { execFileSync } = require('node:child_process')
    const fsize = (soft) => execFileSync('prlimit', ['--pid', String(process.pid), '--fsize=' + soft + ':unlimited'])
    const b = require(${JSON.stringify(path.join(ROOT, 'lib/backend'))}).resolveBackend(${JSON.stringify(backend)}).binding
    fsize(${limit})
    ;(async () => { ${body} })()
      .then((value) => ({ value }), (err) => ({ code: err.code }))
      .then((r) => {
        fsize('unlimited')
        process.stdout.write(JSON.stringify(r))
      })`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', ...SYNC_CHILD })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

const LIMIT = 4000
// one chunk (below the chunkers' minimum) of incompressible bytes, longer than the limit
const bigFile = () => crypto.randomBytes(10_000)

/** A store of `backend` with snapshot s1 of a project holding `files` (name -> content), and an empty out/ folder. */
async function storeWith(backend, files) {
  const dir = tempDir(`sr-${backend}-`)
  const b = require('../lib/backend').resolveBackend(backend).binding
  const root = path.join(dir, 'project')
  fs.mkdirSync(root)
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(root, name), content)
  const store = path.join(dir, 'store')
  await b.storeCreateSnapshot(root, store, 's1')
  const out = path.join(dir, 'out')
  fs.mkdirSync(out)
  return { b, root, store, out }
}

test('an atomic write cut short by the file size limit fails with EFBIG; the file keeps its old content and no temp is left, the same on both backends', { skip }, () => {
  const results = onBoth((backend, dir) => {
    const file = path.join(dir, 'tracker.json')
    fs.writeFileSync(file, '{"old":true}\n')
    const big = JSON.stringify({ notes: 'x'.repeat(3 * LIMIT) })
    const r = underSizeLimit(backend, LIMIT, `return b.atomicWrite(${JSON.stringify(file)}, ${JSON.stringify(big)})`)
    return { ...r, left: fs.readdirSync(dir), kept: fs.readFileSync(file, 'utf8') }
  })
  assert.deepEqual(results.native, { code: 'EFBIG', left: ['tracker.json'], kept: '{"old":true}\n' })
  assert.deepEqual(results.js, results.native)
})

test('a contained write of text longer in bytes than in characters, cut short by the file size limit, fails with EFBIG and commits nothing, the same on both backends', { skip }, () => {
  // 'é' is two bytes: 3000 characters are 6000 bytes, and the limit (4000) lies between them,
  // so a loop that counted characters instead of bytes would stop after the first short write
  const results = onBoth((backend, dir) => {
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'before\n')
    const r = underSizeLimit(backend, LIMIT, `return b.containedWrite(${JSON.stringify(dir)}, 'notes.txt', 'é'.repeat(3000))`)
    return { ...r, left: fs.readdirSync(dir), kept: fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8') }
  })
  assert.deepEqual(results.native, { code: 'EFBIG', left: ['notes.txt'], kept: 'before\n' })
  assert.deepEqual(results.js, results.native)
})

test('a snapshot whose pack is cut short by the file size limit fails with EFBIG; the store keeps its earlier snapshot whole and verifies, the same on both backends', { skip }, async () => {
  const results = {}
  for (const backend of BACKENDS) {
    const { b, root, store, out } = await storeWith(backend, { 'small.txt': 'alpha\n' })
    fs.writeFileSync(path.join(root, 'big.bin'), bigFile())
    const r = underSizeLimit(backend, LIMIT, `return b.storeCreateSnapshot(${JSON.stringify(root)}, ${JSON.stringify(store)}, 's2')`)
    const verified = await b.storeVerify(store)
    await b.storeRestoreSnapshot(store, 's1', out)
    results[backend] = { code: r.code, snapshots: fs.readdirSync(path.join(store, 'snapshots')).sort(), ok: verified.ok, restored: fs.readdirSync(out) }
  }
  assert.deepEqual(results.native, { code: 'EFBIG', snapshots: ['s1.json'], ok: true, restored: ['small.txt'] })
  assert.deepEqual(results.js, results.native)
})

test('a store restore of a file cut short by the file size limit fails with EFBIG and leaves no temp file, the same on both backends', { skip }, async () => {
  const results = {}
  for (const backend of BACKENDS) {
    const { store, out } = await storeWith(backend, { 'big.bin': bigFile() })
    const r = underSizeLimit(backend, LIMIT, `return b.storeRestoreSnapshot(${JSON.stringify(store)}, 's1', ${JSON.stringify(out)})`)
    results[backend] = { code: r.code, left: fs.readdirSync(out) }
  }
  assert.deepEqual(results.native, { code: 'EFBIG', left: [] })
  assert.deepEqual(results.js, results.native)
})
