'use strict'
// One error contract on both backends: the same `code` for the same failure, decided by
// structure (never by matching a message), and one list of the core's project codes.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { SafeFileOperations } = require('../lib/safe-file-operations')
const { CORE_CODES } = require('../lib/js/errors')
const { eachBackend, ROOT, isRoot } = require('./helpers')

const TIMEOUT = { timeout: 60_000 }

test('CORE_CODES of lib/js/errors.js is exactly the project codes of core/src/error.rs', TIMEOUT, () => {
  const source = fs.readFileSync(path.join(ROOT, 'core', 'src', 'error.rs'), 'utf8')
  const asStr = source.slice(source.indexOf('pub fn as_str'), source.indexOf('impl fmt::Display'))
  const codes = [...asStr.matchAll(/=> "([A-Z_]+)"/g)].map((m) => m[1])
  assert.ok(codes.length >= 10, `found ${codes.length} codes in Code::as_str`)
  assert.deepEqual([...CORE_CODES].sort(), codes.sort())
})

test('a lock directory replaced by a symlink between two locks is EUNSAFEDIR on both backends', TIMEOUT, async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const lockDir = path.join(dir, 'locks')
    const o = new SafeFileOperations({ backend, lockDir })
    o.acquireLock('first', 1000)
    o.releaseLock('first')
    fs.rmSync(lockDir, { recursive: true })
    fs.symlinkSync(path.join(dir, 'nowhere'), lockDir)
    assert.throws(() => o.acquireLock('second', 1000), (err) => {
      assert.equal(err.code, 'EUNSAFEDIR', `${backend}: ${err.code} ${err.message}`)
      assert.match(err.message, /symbolic link/)
      return true
    })
    assert.ok(!fs.existsSync(path.join(dir, 'nowhere')), 'nothing created through the link')
  })
})

test('an unwritable lock directory: the OS code with the same message on both backends', TIMEOUT, async (t) => {
  if (isRoot || process.platform === 'win32') return t.skip('root (or Windows) ignores the directory mode')
  const messages = {}
  await eachBackend(t, ({ backend, dir }) => {
    const lockDir = path.join(dir, 'locks')
    const o = new SafeFileOperations({ backend, lockDir })
    o.acquireLock('first', 1000)
    o.releaseLock('first')
    fs.chmodSync(lockDir, 0o500)
    try {
      assert.throws(() => o.acquireLock('second', 1000), (err) => {
        assert.equal(err.code, 'EACCES', `${backend}: ${err.message}`)
        messages[backend] = err.message.replace(dir, '<dir>')
        return true
      })
    } finally {
      fs.chmodSync(lockDir, 0o700)
    }
  })
  assert.equal(messages.js, messages.native)
})

test('a directory where a file is expected: EISDIR with the same message on both backends', TIMEOUT, async (t) => {
  const seen = {}
  await eachBackend(t, async ({ backend, dir }) => {
    const o = new SafeFileOperations({ backend, backupDir: path.join(dir, 'b'), lockDir: path.join(dir, 'l') })
    const folder = path.join(dir, 'folder')
    fs.mkdirSync(folder)
    const sum = o.verifyChecksum(folder)
    const sumAsync = await o.verifyChecksumAsync(folder)
    let write
    try {
      o.atomicWrite(folder, 'x')
    } catch (err) {
      write = { code: err.code, message: err.message }
    }
    const strip = (s) => s.split(dir).join('<dir>')
    seen[backend] = { sum: strip(sum.error), sumAsync: strip(sumAsync.error), write: { code: write.code, message: strip(write.message) } }
    assert.equal(sum.valid, false)
    assert.match(sum.error, /EISDIR: illegal operation on a directory/)
  })
  assert.deepEqual(seen.js, seen.native)
})

test('lib/js/errors.js: an OS error is told from ours by its code, a Node system error by its syscall, and a cause is kept only when given', TIMEOUT, () => {
  const { codedError, osError, isOsError, isNodeSystemError } = require('../lib/js/errors')
  assert.equal(isOsError(codedError('ENOENT', 'x')), true)
  assert.equal(isOsError(codedError('EUNSAFEDIR', 'x')), false)
  assert.equal(isOsError({ code: 17 }), false)
  assert.equal(isOsError(null), false)
  assert.equal(isNodeSystemError(null), false)
  assert.equal(isNodeSystemError({ code: 'ENOENT' }), false)
  let real
  try {
    fs.readFileSync(path.join(ROOT, 'no-such-file'))
  } catch (err) {
    real = err
  }
  assert.equal(isNodeSystemError(real), true)
  const wrapped = osError('Reading', real)
  assert.equal(wrapped.code, 'ENOENT')
  assert.equal(wrapped.message, 'Reading: ENOENT: no such file or directory')
  assert.equal(wrapped.cause, real)
  // what is not an errno error keeps its message whole, its code (as text) or EIO
  const odd = osError('ctx', { code: 'weird', message: 'm, n' })
  assert.deepEqual([odd.code, odd.message, odd.cause], ['weird', 'ctx: m, n', undefined])
  assert.deepEqual([osError('ctx', { code: 42, message: 'm' }).code, osError('ctx', { code: 42, message: 'm' }).message], ['42', 'ctx: m'])
  assert.deepEqual([osError('ctx', new Error('boom')).code, osError('ctx', new Error('boom')).message], ['EIO', 'ctx: boom'])
  assert.deepEqual([osError('ctx', null).code, osError('ctx', null).message], ['EIO', 'ctx: null'])
  const plain = codedError('EIO', 'm')
  assert.equal('cause' in plain, false)
  assert.equal(codedError('EIO', 'm', real).cause, real)
})
