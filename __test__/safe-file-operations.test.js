'use strict'
// safe-file-operations (legacy §1, locks aside): behaviour on both backends, and parity.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')

const { SafeFileOperations } = require('../lib/safe-file-operations')
const { resolveBackend } = require('../lib/backend')
const { test, eachBackend, onBoth, captureConsole, runBin, tempDir, hasCommand, liveProcess, exited, ROOT, SYNC_CHILD } = require('./helpers')

function ops(backend, dir) {
  return new SafeFileOperations({ backend, backupDir: path.join(dir, 'backups'), lockDir: path.join(dir, 'locks') })
}

const listing = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [])

test('atomicWrite writes strings and Buffers, replaces, keeps the mode, leaves no temp', async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const o = ops(backend, dir)
    const target = path.join(dir, 'tracker.json')
    assert.equal(o.atomicWrite(target, '{"a":1}'), true)
    assert.equal(fs.readFileSync(target, 'utf8'), '{"a":1}')
    fs.chmodSync(target, 0o640)
    assert.equal(o.atomicWrite(target, Buffer.from('{"a":2}'), { fsync: false }), true)
    assert.equal(fs.readFileSync(target, 'utf8'), '{"a":2}')
    // Windows has no permission bits beyond read-only
    if (process.platform !== 'win32') assert.equal(fs.statSync(target).mode & 0o777, 0o640)
    assert.deepEqual(listing(dir), ['tracker.json'])
  })
})

test('atomicWriteAsync resolves true and writes the bytes', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const o = ops(backend, dir)
    const target = path.join(dir, 'a.json')
    assert.equal(await o.atomicWriteAsync(target, 'x'.repeat(100000)), true)
    assert.equal(fs.readFileSync(target, 'utf8').length, 100000)
    await assert.rejects(o.atomicWriteAsync(path.join(dir, 'missing', 'a.json'), 'x'), { code: 'ENOENT' })
    assert.deepEqual(listing(dir), ['a.json'])
  })
})

test('atomicWrite failures carry the legacy message and the errno code, and leave nothing', () => {
  const results = onBoth((backend, dir) => {
    const target = path.join(dir, 'no', 'such', 'dir', 'x.json')
    try {
      ops(backend, dir).atomicWrite(target, '{}')
      return 'no error'
    } catch (err) {
      assert.match(err.message, new RegExp(`^Atomic write failed for ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOENT`))
      assert.deepEqual(listing(dir), [])
      return err.code
    }
  })
  assert.deepEqual(results, { native: 'ENOENT', js: 'ENOENT' })
})

test('bad paths and contents get a clear error with a code on both backends', () => {
  const cases = [
    [undefined, 'x', 'ERR_INVALID_ARG_TYPE'],
    [42, 'x', 'ERR_INVALID_ARG_TYPE'],
    ['', 'x', 'EBADPATH'],
    ['a\0b', 'x', 'EBADPATH'],
  ]
  const results = onBoth((backend, dir) =>
    cases.map(([p, content]) => {
      try {
        ops(backend, dir).atomicWrite(p, content)
        return 'no error'
      } catch (err) {
        return err.code
      }
    }),
  )
  assert.deepEqual(results.native, cases.map((c) => c[2]))
  assert.deepEqual(results.js, results.native)
})

test('the backends\' backupFile of a source it cannot take: a path through a file is ENOTDIR and a FIFO, a link or a folder is EINVAL, each under the legacy prefix, the same on both backends; nothing is written', { skip: process.platform === 'win32' }, () => {
  const results = onBoth((backend, dir) => {
    fs.writeFileSync(path.join(dir, 'f'), 'x')
    require('node:child_process').execFileSync('mkfifo', [path.join(dir, 'fifo')])
    fs.symlinkSync(path.join(dir, 'f'), path.join(dir, 'link'))
    fs.mkdirSync(path.join(dir, 'folder'))
    return ['f/x', 'fifo', 'link', 'folder'].map((name) => {
      const source = path.join(dir, name)
      try {
        return `no error: ${resolveBackend(backend).binding.backupFile(source, 'l', { backupDir: path.join(dir, 'backups') })}`
      } catch (err) {
        const prefix = `Backup failed for ${source}: `
        assert.ok(err.message.startsWith(prefix), `${backend} ${name}: ${err.message}`)
        // the OS's refusal word for word; our own refusals name the kind, worded per backend
        assert.deepEqual(listing(path.join(dir, 'backups')), [], `${backend} ${name}: nothing written`)
        return `${name}: ${err.code} ${err.code === 'EINVAL' ? err.message.slice(prefix.length).split(':')[0] : err.message.slice(prefix.length)}`
      }
    })
  })
  assert.deepEqual(results.native, ['f/x: ENOTDIR ENOTDIR: not a directory', 'fifo: EINVAL refusing the source', 'link: EINVAL refusing the source', 'folder: EINVAL refusing the source'])
  assert.deepEqual(results.js, results.native)
})

test('lib/js atomicWrite alone (as core/src/fsx/atomic.rs): a bad path is EBADPATH under the legacy prefix, a path of another type is refused unwrapped; nothing is written', () => {
  const { atomicWrite } = require('../lib/js/fsx/atomic')
  const dir = tempDir('atomic-alone-')
  const bad = path.join(dir, 'a\0b')
  assert.throws(() => atomicWrite(bad, 'x'), (e) => e.code === 'EBADPATH' && e.message === `Atomic write failed for ${bad}: filePath must not contain a NUL byte`)
  assert.throws(() => atomicWrite('', 'x'), (e) => e.code === 'EBADPATH' && e.message === 'Atomic write failed for : filePath must not be empty')
  assert.throws(() => atomicWrite(42, 'x'), (e) => e.code === 'ERR_INVALID_ARG_TYPE' && e.message === 'The "filePath" argument must be of type string')
  assert.deepEqual(listing(dir), [])
})

test('a temp file left by a dead writer is removed by the next write; a live one is kept', async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const { spawnSync } = require('node:child_process')
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid
    const deadTemp = `.t.json.sr-tmp-${dead}-abcdef`
    const legacyTemp = `t.json.tmp.1757344468688.${dead}`
    const liveTemp = `.t.json.sr-tmp-${process.pid}-abcdef`
    for (const name of [deadTemp, legacyTemp, liveTemp]) fs.writeFileSync(path.join(dir, name), 'partial')
    ops(backend, dir).atomicWrite(path.join(dir, 't.json'), '{}')
    assert.deepEqual(listing(dir), [liveTemp, 't.json'].sort())
  })
})

test('a rename the OS refuses is tried once on Linux and fails with its errno, sync and async, the same on both backends (strace injects EBUSY into every rename)', { skip: (process.platform !== 'linux' || !hasCommand('strace')) && 'needs strace on Linux' }, () => {
  // Only Windows retries a refused rename (a held target); here the first refusal is final.
  const { spawnSync } = require('node:child_process')
  const results = onBoth((backend, dir) => {
    const log = path.join(dir, 'strace.log')
    const target = path.join(dir, 't.json')
    const script = `
      const b = require(${JSON.stringify(path.join(ROOT, 'lib/backend'))}).resolveBackend(${JSON.stringify(backend)}).binding
      const codes = []
      try { b.atomicWrite(${JSON.stringify(target)}, '{}') } catch (err) { codes.push(err.code) }
      b.atomicWriteAsync(${JSON.stringify(target)}, '{}').catch((err) => err).then((err) => { codes.push(err.code); process.stdout.write(JSON.stringify(codes)) })`
    const renames = 'trace=rename,renameat,renameat2'
    const r = spawnSync('strace', ['-f', '-qq', '-o', log, '-e', renames, '-e', 'inject=rename,renameat,renameat2:error=EBUSY', process.execPath, '-e', script], { encoding: 'utf8', ...SYNC_CHILD })
    assert.equal(r.status, 0, r.stderr)
    const attempts = fs.readFileSync(log, 'utf8').split('\n').filter((line) => /\brename(at2?)?\(/.test(line)).length
    fs.rmSync(log)
    return { codes: JSON.parse(r.stdout), attempts, left: listing(dir) }
  })
  assert.deepEqual(results.native, { codes: ['EBUSY', 'EBUSY'], attempts: 2, left: [] })
  assert.deepEqual(results.js, results.native)
})

test('js backend: a refused rename is retried on Windows only, and only when another handle holds the target (EPERM, EACCES)', () => {
  const { isTransientRenameError } = require('../lib/js/fsx/atomic')
  const answers = ['EPERM', 'EACCES', 'EBUSY', 'ENOENT'].flatMap((code) => ['win32', 'linux', 'darwin'].map((platform) => `${code} ${platform} ${isTransientRenameError({ code }, platform)}`))
  assert.deepEqual(answers.filter((a) => a.endsWith('true')), ['EPERM win32 true', 'EACCES win32 true'])
  assert.equal(answers.length, 12)
})

test('the temps of another live writer are kept until it dies, then swept', async (t) => {
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    const writer = liveProcess(st)
    const ours = `.t.json.sr-tmp-${writer.pid}-abcdef`
    const legacy = `t.json.tmp.1757344468688.${writer.pid}`
    for (const name of [ours, legacy]) fs.writeFileSync(path.join(dir, name), 'partial')
    ops(backend, dir).atomicWrite(path.join(dir, 't.json'), '{}')
    assert.deepEqual(listing(dir), [ours, legacy, 't.json'].sort(), 'a live writer keeps its temps')
    writer.kill('SIGKILL')
    await exited(writer)
    ops(backend, dir).atomicWrite(path.join(dir, 't.json'), '{}')
    assert.deepEqual(listing(dir), ['t.json'], 'a dead writer\'s temps are swept')
  })
})

test('js backend: the temp file and its directory are flushed, and nothing with fsync: false (counted in-process)', { skip: process.platform === 'win32' && 'Windows has no directory flush' }, async () => {
  // The native backend's flushes are counted by its core test (strace) and faults.test.js.
  const dir = tempDir()
  const o = ops('js', dir)
  const target = path.join(dir, 't.json')
  const flushed = []
  const probe = await fs.promises.open(target, 'w')
  const FileHandle = Object.getPrototypeOf(probe)
  await probe.close()
  const { fsyncSync } = fs
  const { sync } = FileHandle
  fs.fsyncSync = (fd) => {
    flushed.push(fs.fstatSync(fd).isDirectory() ? 'directory' : 'file')
    return fsyncSync(fd)
  }
  FileHandle.sync = function () {
    flushed.push('file')
    return sync.call(this)
  }
  try {
    o.atomicWrite(target, '{"a":1}')
    assert.deepEqual(flushed.splice(0), ['file', 'directory'], 'atomicWrite')
    await o.atomicWriteAsync(target, '{"a":2}')
    assert.deepEqual(flushed.splice(0), ['file', 'directory'], 'atomicWriteAsync')
    o.atomicWrite(target, '{"a":3}', { fsync: false })
    await o.atomicWriteAsync(target, '{"a":4}', { fsync: false })
    assert.deepEqual(flushed, [], 'fsync: false')
    assert.equal(fs.readFileSync(target, 'utf8'), '{"a":4}')
  } finally {
    fs.fsyncSync = fsyncSync
    FileHandle.sync = sync
  }
})

test('backupFile: legacy name, same bytes, unique within a millisecond, owner-only', async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const o = ops(backend, dir)
    const file = path.join(dir, 'phase-tracker.json')
    fs.writeFileSync(file, '{"v":1}')
    const paths = Array.from({ length: 25 }, () => o.backupFile(file, 'manual'))
    assert.equal(new Set(paths).size, 25)
    for (const p of paths) {
      assert.equal(path.dirname(p), path.join(dir, 'backups'))
      assert.match(path.basename(p), /^phase-tracker\.json\.manual\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z(-\d+)?\.bak$/)
      assert.equal(fs.readFileSync(p, 'utf8'), '{"v":1}')
      if (process.platform !== 'win32') assert.equal(fs.statSync(p).mode & 0o777, 0o600)
    }
    assert.match(path.basename(o.backupFile(file)), /\.auto\./)
    if (process.platform !== 'win32') assert.equal(fs.statSync(path.join(dir, 'backups')).mode & 0o777, 0o700)
    assert.equal(o.backupFile(path.join(dir, 'missing.json')), null)
  })
})

test('backupFile refuses unsafe labels and writes nothing anywhere', () => {
  const labels = ['../../escape', 'a/b', 'a\\b', '..', 'a\0b', '', 'x'.repeat(65), 'dot.ted']
  const results = onBoth((backend, dir) => {
    const file = path.join(dir, 'f.json')
    fs.writeFileSync(file, '{}')
    const codes = labels.map((label) => {
      try {
        ops(backend, dir).backupFile(file, label)
        return 'no error'
      } catch (err) {
        return err.code
      }
    })
    assert.deepEqual(listing(dir), ['f.json'])
    assert.deepEqual(listing(path.dirname(dir)).filter((n) => n.includes('escape')), [])
    return codes
  })
  assert.deepEqual(results.native, labels.map(() => 'EBADLABEL'))
  assert.deepEqual(results.js, results.native)
})

test('the backup directory is refused when it is a symlink', { skip: process.platform === 'win32' }, () => {
  const results = onBoth((backend, dir) => {
    const real = path.join(dir, 'elsewhere')
    fs.mkdirSync(real)
    fs.symlinkSync(real, path.join(dir, 'backups'))
    const file = path.join(dir, 'f.json')
    fs.writeFileSync(file, '{}')
    try {
      ops(backend, dir).backupFile(file, 'x')
      return 'no error'
    } catch (err) {
      assert.deepEqual(listing(real), [])
      return err.code
    }
  })
  assert.deepEqual(results, { native: 'EUNSAFEDIR', js: 'EUNSAFEDIR' })
})

test('verifyChecksum: legacy shapes, identical on both backends', () => {
  const results = onBoth((backend, dir) => {
    const o = ops(backend, dir)
    const file = path.join(dir, 'data.bin')
    const bytes = crypto.randomBytes(700 * 1024)
    fs.writeFileSync(file, bytes)
    const digest = crypto.createHash('sha256').update(bytes).digest('hex')
    const plain = o.verifyChecksum(file)
    assert.deepEqual(plain, { valid: true, checksum: digest })
    assert.deepEqual(o.verifyChecksum(file, digest), { valid: true, checksum: digest, expected: digest })
    assert.deepEqual(o.verifyChecksum(file, 'abc'), { valid: false, checksum: digest, expected: 'abc' })
    return [o.verifyChecksum(path.join(dir, 'missing')), o.verifyChecksum(dir).valid]
  })
  assert.deepEqual(results.native, [{ valid: false, error: 'File does not exist' }, false])
  assert.deepEqual(results.js, results.native)
})

test('verifyChecksumAsync matches the sync result', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const o = ops(backend, dir)
    const file = path.join(dir, 'd')
    fs.writeFileSync(file, 'abc')
    assert.deepEqual(await o.verifyChecksumAsync(file), o.verifyChecksum(file))
    assert.deepEqual(await o.verifyChecksumAsync(path.join(dir, 'nope')), { valid: false, error: 'File does not exist' })
  })
})

test('cleanupOldBackups deletes only our old backups: never other files or directories', () => {
  const results = onBoth((backend, dir) => {
    const o = ops(backend, dir)
    const file = path.join(dir, 'f.json')
    fs.writeFileSync(file, '{}')
    const young = o.backupFile(file, 'auto')
    const old = o.backupFile(file, 'manual')
    const backups = path.join(dir, 'backups')
    const legacyLeftover = path.join(backups, 'f.json.1757344468688.bak')
    fs.writeFileSync(legacyLeftover, '{}')
    fs.writeFileSync(path.join(backups, 'notes.txt'), 'keep')
    fs.mkdirSync(path.join(backups, 'f.json.auto.2025-09-08T15-14-28-688Z.bak'))
    const past = new Date(Date.now() - 10 * 24 * 3600 * 1000)
    for (const p of [old, legacyLeftover, path.join(backups, 'notes.txt')]) fs.utimesSync(p, past, past)
    const { result, lines } = captureConsole(() => o.cleanupOldBackups())
    assert.ok(fs.existsSync(young))
    return { removed: result, left: listing(backups).filter((n) => n !== path.basename(young)), lines }
  })
  assert.deepEqual(results.native, {
    removed: 2,
    left: ['f.json.auto.2025-09-08T15-14-28-688Z.bak', 'notes.txt'],
    lines: ['log: Cleaned up 2 old backup files'],
  })
  assert.deepEqual(results.js, results.native)
})

test('safeJsonRead: missing, empty, valid, validator and repair, as legacy', () => {
  const results = onBoth((backend, dir) => {
    const o = ops(backend, dir)
    const file = path.join(dir, 't.json')
    const out = []
    out.push(captureConsole(() => o.safeJsonRead(file, { d: 1 })))
    out.push(captureConsole(() => o.safeJsonRead(file)))
    fs.writeFileSync(file, '  \n')
    out.push(captureConsole(() => o.safeJsonRead(file, 'dflt')))
    fs.writeFileSync(file, '{"phase":2,"list":[1,2]}')
    out.push(captureConsole(() => o.safeJsonRead(file)))
    const invalid = () => ({ valid: false, error: 'no sessionInfo' })
    out.push(captureConsole(() => o.safeJsonRead(file, 'dflt', invalid)))
    const repairing = () => ({ valid: false, error: 'bad', repair: (d) => ({ ...d, repaired: true }) })
    out.push(captureConsole(() => o.safeJsonRead(file, null, repairing)))
    out.push(captureConsole(() => o.safeJsonRead(file, null, 'not a function')))
    return out.map(({ result, lines }) => ({ result, lines: lines.map((l) => l.replace(dir + path.sep, '<dir>/')) }))
  })
  assert.deepEqual(results.native, [
    { result: { d: 1 }, lines: ['warn: File <dir>/t.json does not exist, using default value'] },
    { result: null, lines: ['warn: File <dir>/t.json does not exist, using default value'] },
    { result: 'dflt', lines: ['warn: File <dir>/t.json is empty, using default value'] },
    { result: { phase: 2, list: [1, 2] }, lines: [] },
    { result: 'dflt', lines: ['warn: Validation failed for <dir>/t.json: no sessionInfo'] },
    { result: { phase: 2, list: [1, 2], repaired: true }, lines: ['warn: Validation failed for <dir>/t.json: bad'] },
    { result: { phase: 2, list: [1, 2] }, lines: [] },
  ])
  assert.deepEqual(results.js, results.native)
})

test('safeJsonRead: a validator that throws any value or returns no verdict gives the default, logged, on both backends', () => {
  const results = onBoth((backend, dir) => {
    const o = ops(backend, dir)
    const file = path.join(dir, 'v.json')
    fs.writeFileSync(file, '{"a":1}')
    const validators = [
      () => undefined,
      () => null,
      () => 'yes',
      () => {
        throw null
      },
      () => {
        throw undefined
      },
      () => {
        throw new RangeError('too deep')
      },
      () => {
        throw { message: 'plain object' }
      },
    ]
    const out = validators.map((v) => captureConsole(() => o.safeJsonRead(file, 'dflt', v)))
    assert.equal(fs.readFileSync(file, 'utf8'), '{"a":1}', 'the file is untouched')
    return out.map(({ result, lines }) => ({ result, lines: lines.map((l) => l.replace(dir + path.sep, '<dir>/')) }))
  })
  const failed = (why) => ({ result: 'dflt', lines: [`error: Validator failed for <dir>/v.json: ${why}`] })
  assert.deepEqual(results.native, [
    failed('it returned undefined, not { valid, error }'),
    failed('it returned null, not { valid, error }'),
    failed('it returned yes, not { valid, error }'),
    failed('null'),
    failed('undefined'),
    failed('too deep'),
    failed('plain object'),
  ])
  assert.deepEqual(results.js, results.native)
})

test('the backends print nothing: they return structured outcomes, the drop-in prints the legacy lines', () => {
  const results = onBoth((backend, dir) => {
    const { binding } = resolveBackend(backend)
    const lockDir = path.join(dir, 'locks')
    const backupDir = path.join(dir, 'backups')
    fs.mkdirSync(lockDir, { mode: 0o700 })
    // a dead holder's lock (a pid that cannot exist), taken over
    fs.writeFileSync(path.join(lockDir, 'x.lock'), JSON.stringify({ pid: 4194304 + 7, timestamp: new Date(0).toISOString(), identifier: 'x' }))
    const file = path.join(dir, 'd.json')
    fs.writeFileSync(file, '{broken')
    const quiet = captureConsole(() => {
      const taken = binding.acquireLock('x', 2000, { lockDir })
      const released = binding.releaseLock('x', { lockDir })
      const absent = binding.releaseLock('x', { lockDir })
      fs.writeFileSync(path.join(lockDir, 'y.lock'), '{"pid":1,"timestamp":"2020-01-01T00:00:00.000Z","identifier":"y"}')
      const notOurs = binding.releaseLock('y', { lockDir })
      const recovery = binding.recoverJsonFile(file, { backupDir })
      return {
        taken: { ...taken, lockPath: path.relative(dir, taken.lockPath) },
        released,
        absent,
        notOurs,
        recovery: { ...recovery, keptAs: path.basename(recovery.keptAs).replace(/corrupt-.*/, 'corrupt-<stamp>') },
      }
    })
    assert.deepEqual(quiet.lines, [], `${backend} printed nothing`)
    const o = ops(backend, dir)
    fs.writeFileSync(path.join(lockDir, 'z.lock'), JSON.stringify({ pid: 4194304 + 7, timestamp: new Date(0).toISOString(), identifier: 'z' }))
    const loud = captureConsole(() => [o.acquireLock('z', 2000), o.releaseLock('y')])
    assert.deepEqual(loud.result, [path.join(lockDir, 'z.lock'), false])
    assert.deepEqual(loud.lines, ['warn: Removing stale lock for z (process 4194311 not found)', 'warn: Attempted to release lock owned by PID 1'])
    o.releaseLock('z')
    return quiet.result
  })
  const normalize = (r) => ({ ...r, notOurs: { released: r.notOurs.released, ownerPid: r.notOurs.ownerPid } })
  assert.deepEqual(normalize(results.native), {
    taken: { lockPath: path.join('locks', 'x.lock'), brokenPids: [4194311] },
    released: { released: true },
    absent: { released: true },
    notOurs: { released: false, ownerPid: 1 },
    recovery: { keptAs: 'd.json.corrupt-<stamp>' },
  })
  assert.deepEqual(normalize(results.js), normalize(results.native))
})

test('safeJsonRead keeps a damaged file aside and restores its newest parsable backup', () => {
  const results = onBoth((backend, dir) => {
    const o = ops(backend, dir)
    const file = path.join(dir, 'phase-tracker.json')
    fs.writeFileSync(file, '{"version":1}')
    o.backupFile(file, 'auto')
    fs.writeFileSync(file, '{"version":2}')
    o.backupFile(file, 'auto')
    // the newest backup is itself damaged: it must be skipped
    fs.writeFileSync(path.join(dir, 'backups', 'phase-tracker.json.auto.2099-01-01T00-00-00-000Z.bak'), '{"vers')
    fs.writeFileSync(file, '{"version":3, "trunc')
    const { result } = captureConsole(() => o.safeJsonRead(file, 'dflt'))
    const aside = listing(dir).filter((n) => n.startsWith('phase-tracker.json.corrupt-'))
    assert.equal(aside.length, 1)
    assert.equal(fs.readFileSync(path.join(dir, aside[0]), 'utf8'), '{"version":3, "trunc')
    assert.equal(fs.readFileSync(file, 'utf8'), '{"version":2}')
    return result
  })
  assert.deepEqual(results, { native: { version: 2 }, js: { version: 2 } })
})

test('safeJsonRead without any backup returns the default and still keeps the bytes', () => {
  const results = onBoth((backend, dir) => {
    const file = path.join(dir, 'x.json')
    fs.writeFileSync(file, '{not json')
    const { result } = captureConsole(() => ops(backend, dir).safeJsonRead(file, { fresh: true }))
    const aside = listing(dir).filter((n) => n.startsWith('x.json.corrupt-'))
    return { result, kept: fs.readFileSync(path.join(dir, aside[0]), 'utf8'), stillThere: fs.existsSync(file) }
  })
  assert.deepEqual(results.native, { result: { fresh: true }, kept: '{not json', stillThere: false })
  assert.deepEqual(results.js, results.native)
})

test('CLI: backup, checksum, cleanup, help, bad input, --json', async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const env = { SESSION_RESILIENCE_BACKUP_DIR: path.join(dir, 'b'), SESSION_RESILIENCE_LOCK_DIR: path.join(dir, 'l') }
    const file = path.join(dir, 'f.json')
    fs.writeFileSync(file, 'abc')
    let r = runBin('safe-file-operations', ['backup', file], { backend, env })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^✅ Backup created: .*f\.json\.manual\..*\.bak\n$/)
    r = runBin('safe-file-operations', ['checksum', file], { backend, env })
    assert.equal(r.stdout, `✅ ${file}: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n`)
    r = runBin('safe-file-operations', ['checksum', path.join(dir, 'nope'), '--json'], { backend, env })
    assert.equal(r.status, 1)
    assert.deepEqual(JSON.parse(r.stdout), { file: path.join(dir, 'nope'), valid: false, error: 'File does not exist' })
    r = runBin('safe-file-operations', ['backup', file, '../../x'], { backend, env })
    assert.equal(r.status, 1)
    assert.match(r.stderr, /EBADLABEL/)
    r = runBin('safe-file-operations', ['backup', path.join(dir, 'missing')], { backend, env })
    assert.equal(r.status, 1)
    assert.equal(r.stdout, '❌ Backup failed\n')
    r = runBin('safe-file-operations', ['cleanup', '0', '--json'], { backend, env })
    assert.equal(r.status, 0)
    assert.deepEqual(JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))), { ok: true, removed: 1 })
    r = runBin('safe-file-operations', ['help'], { backend, env })
    assert.equal(r.status, 0)
    assert.match(r.stdout, /Usage:\n  node safe-file-operations\.js backup <file> \[label\]/)
    r = runBin('safe-file-operations', ['frobnicate'], { backend, env })
    assert.equal(r.status, 2)
    assert.match(r.stderr, /Unknown command: frobnicate/)
  })
})

test('backend selection: js on request, a clear error when native is forced but cannot load', () => {
  const { spawnSync } = require('node:child_process')
  const script = `const {SafeFileOperations}=require('./lib/safe-file-operations'); console.log(new SafeFileOperations().backend)`
  let r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', ...SYNC_CHILD, env: { ...process.env, SESSION_RESILIENCE_BACKEND: 'js' } })
  assert.equal(r.stdout.trim(), 'js')
  r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', ...SYNC_CHILD, env: { ...process.env, SESSION_RESILIENCE_BACKEND: '' } })
  assert.equal(r.stdout.trim(), 'native')
  // A loader that cannot find its binary: point the napi loader at a missing file.
  const broken = { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: path.join(tempDir(), 'missing.node') }
  r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', ...SYNC_CHILD, env: { ...broken, SESSION_RESILIENCE_BACKEND: 'native' } })
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /ENATIVEUNAVAILABLE|native backend was requested.*linux-x64|no binary loads on/)
  r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', ...SYNC_CHILD, env: { ...broken, SESSION_RESILIENCE_BACKEND: '' } })
  assert.equal(r.stdout.trim(), 'js')
  assert.equal((r.stderr.match(/using the JS backend/g) || []).length, 1)
})

test('verifyChecksum streams files over 2 GiB (legacy could not read them)', { skip: !hasCommand('sha256sum') && 'needs sha256sum' }, () => {
  const dir = tempDir()
  const file = path.join(dir, 'sparse.bin')
  const size = 2 * 1024 ** 3 + 4096
  fs.writeFileSync(file, 'head')
  fs.truncateSync(file, size) // sparse: costs no disk, reads as zeros
  const { spawnSync } = require('node:child_process')
  const expected = spawnSync('sha256sum', [file], { encoding: 'utf8' }).stdout.split(' ')[0]
  const results = onBoth((backend) => ops(backend, dir).verifyChecksum(file))
  assert.match(expected, /^[0-9a-f]{64}$/)
  assert.deepEqual(results.native, { valid: true, checksum: expected })
  assert.deepEqual(results.js, results.native)
})

test('recoverJsonFile: the first name aside has no serial; a missing file is ENOENT and nothing is made', () => {
  const { resolveBackend } = require('../lib/backend')
  const results = onBoth((backend, dir) => {
    const { binding } = resolveBackend(backend)
    const backupDir = path.join(dir, 'backups')
    const file = path.join(dir, 'd.json')
    fs.writeFileSync(file, '{broken')
    const { keptAs } = binding.recoverJsonFile(file, { backupDir })
    let missing
    try {
      binding.recoverJsonFile(path.join(dir, 'gone.json'), { backupDir })
      missing = 'no error'
    } catch (err) {
      missing = err.code
    }
    return { keptAs: path.relative(dir, keptAs).replace(/\d/g, '9'), missing, listing: listing(dir).map((n) => n.replace(/\d/g, '9')) }
  })
  assert.deepEqual(results.native, {
    keptAs: 'd.json.corrupt-9999-99-99T99-99-99-999Z',
    missing: 'ENOENT',
    listing: ['d.json.corrupt-9999-99-99T99-99-99-999Z'],
  })
  assert.deepEqual(results.js, results.native)
})

test('a backup directory that is a regular file is ENOTDIR, and the file is left as it was', () => {
  const { resolveBackend } = require('../lib/backend')
  const results = onBoth((backend, dir) => {
    const backupDir = path.join(dir, 'backups')
    fs.writeFileSync(backupDir, 'not a folder')
    const file = path.join(dir, 'f.json')
    fs.writeFileSync(file, '{}')
    try {
      resolveBackend(backend).binding.backupFile(file, 'x', { backupDir })
      return 'no error'
    } catch (err) {
      assert.equal(fs.readFileSync(path.join(dir, 'backups'), 'utf8'), 'not a folder')
      return err.code
    }
  })
  assert.deepEqual(results, { native: 'ENOTDIR', js: 'ENOTDIR' })
})

test('without backupDir or its environment variable, backups go to <tmpdir>/agenthive-backups', () => {
  const { resolveBackend } = require('../lib/backend')
  const saved = { tmp: process.env.TMPDIR, env: process.env.SESSION_RESILIENCE_BACKUP_DIR }
  const results = onBoth((backend, dir) => {
    process.env.TMPDIR = dir
    delete process.env.SESSION_RESILIENCE_BACKUP_DIR
    try {
      const file = path.join(dir, 'f.json')
      fs.writeFileSync(file, '{}')
      const made = resolveBackend(backend).binding.backupFile(file, 'x', {})
      return { dir: path.relative(dir, path.dirname(made)), viaClass: path.relative(dir, new SafeFileOperations({ backend }).backupDir) }
    } finally {
      if (saved.tmp === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = saved.tmp
      if (saved.env !== undefined) process.env.SESSION_RESILIENCE_BACKUP_DIR = saved.env
    }
  })
  assert.deepEqual(results, { native: { dir: 'agenthive-backups', viaClass: 'agenthive-backups' }, js: { dir: 'agenthive-backups', viaClass: 'agenthive-backups' } })
})

test('backup directory: made with its missing parents (0700); an own 0755 one is tightened with one warning; one of another user is refused', { skip: process.platform === 'win32' }, () => {
  const { resolveBackend } = require('../lib/backend')
  const results = onBoth((backend, dir) => {
    const { binding } = resolveBackend(backend)
    const file = path.join(dir, 'f.json')
    fs.writeFileSync(file, '{}')
    const nested = path.join(dir, 'a', 'b', 'backups')
    binding.backupFile(file, 'x', { backupDir: nested })
    const nestedMode = (fs.statSync(nested).mode & 0o777).toString(8)
    const loose = path.join(dir, 'loose')
    fs.mkdirSync(loose)
    fs.chmodSync(loose, 0o755)
    const { lines } = captureConsole(() => binding.backupFile(file, 'x', { backupDir: loose }))
    const tightened = (fs.statSync(loose).mode & 0o777).toString(8)
    // a folder of another user: one chowned to nobody as root, else the root folder
    let foreign = '/'
    if (process.getuid() === 0) {
      foreign = path.join(dir, 'foreign')
      fs.mkdirSync(foreign, { mode: 0o700 })
      fs.chownSync(foreign, 65534, 65534)
    }
    let refused
    try {
      binding.backupFile(file, 'x', { backupDir: foreign })
      refused = 'no error'
    } catch (err) {
      refused = err.code
    }
    if (foreign !== '/') assert.deepEqual(listing(foreign), [])
    // the native backend writes its warning to stderr itself, past console
    if (backend === 'js') assert.deepEqual(lines, [`error: session-resilience: warning: ${loose} was mode 755; made owner-only (0700)`])
    return { nestedMode, tightened, refused }
  })
  assert.deepEqual(results.native, { nestedMode: '700', tightened: '700', refused: 'EUNSAFEDIR' })
  assert.deepEqual(results.js, results.native)
})

test('verifyChecksum closes every file it opens, read or failed (no descriptor left open)', { skip: process.platform !== 'linux' }, () => {
  const { resolveBackend } = require('../lib/backend')
  const openFds = () => fs.readdirSync('/proc/self/fd').length
  const results = onBoth((backend, dir) => {
    const { binding } = resolveBackend(backend)
    const file = path.join(dir, 'f.bin')
    fs.writeFileSync(file, crypto.randomBytes(1000))
    const before = openFds()
    for (let i = 0; i < 50; i++) {
      assert.equal(binding.verifyChecksum(file).valid, true)
      assert.equal(binding.verifyChecksum(dir).valid, false) // a folder: opened, its read fails
    }
    return openFds() - before
  })
  assert.deepEqual(results, { native: 0, js: 0 })
})

test('verifyChecksumAsync of a folder is not valid and says why, on both backends', async (t) => {
  const { resolveBackend } = require('../lib/backend')
  await eachBackend(t, async ({ backend, dir }) => {
    const result = await resolveBackend(backend).binding.verifyChecksumAsync(dir)
    assert.equal(result.valid, false)
    assert.match(result.error, /EISDIR/)
  })
})

test('recoverJsonFile restores the newest backup of that file that parses: by time, then serial (two in one millisecond); other files\' backups, folders and unparsable copies are passed over; both backends alike', () => {
  const { resolveBackend } = require('../lib/backend')
  const { fileStamp } = require('../lib/js/time')
  const results = onBoth((backend, dir) => {
    const backupDir = path.join(dir, 'bak')
    fs.mkdirSync(backupDir, { mode: 0o700 })
    const older = fileStamp(Date.UTC(2026, 0, 1))
    const newer = fileStamp(Date.UTC(2026, 0, 2))
    const newest = fileStamp(Date.UTC(2026, 0, 3))
    const put = (name, text) => fs.writeFileSync(path.join(backupDir, name), text)
    put(`t.json.a.${older}.bak`, '{"v":1}')
    // serials 0 to 8 parse, 9 (the newest) does not
    put(`t.json.a.${newer}.bak`, '{"v":0}')
    for (let serial = 1; serial <= 8; serial++) put(`t.json.a.${newer}-${serial}.bak`, `{"v":${serial}}`)
    put(`t.json.a.${newer}-9.bak`, '{"v":')
    put(`u.json.a.${newest}.bak`, '{"v":"other file"}')
    fs.mkdirSync(path.join(backupDir, `t.json.b.${newest}.bak`))
    const file = path.join(dir, 't.json')
    fs.writeFileSync(file, '{"damaged"')
    const r = resolveBackend(backend).binding.recoverJsonFile(file, { backupDir })
    return { from: path.basename(r.restoredFrom), text: fs.readFileSync(file, 'utf8'), kept: fs.readFileSync(r.keptAs, 'utf8') }
  })
  assert.deepEqual(results.js, results.native)
  assert.match(results.native.from, /^t\.json\.a\.2026-01-02T.*-8\.bak$/)
  assert.equal(results.native.text, '{"v":8}')
  assert.equal(results.native.kept, '{"damaged"')
})

test('cleanupOldBackups removes exactly the names a backup copy can carry: stamp, label and serial at and past their bounds, both backends alike', () => {
  const { resolveBackend } = require('../lib/backend')
  const stamp = (mo, d, h, mi, s) => `2026-${mo}-${d}T${h}-${mi}-${s}-678Z`
  const ours = [
    `f.json.auto.${stamp('01', '01', '00', '00', '00')}.bak`,
    `f.json.auto.${stamp('12', '31', '23', '59', '60')}.bak`, // a leap second is a time
    `f.json.auto.${stamp('06', '15', '12', '30', '30')}-7.bak`,
    'f.json.auto.2026-06-15T12-30-30Z.bak', // no milliseconds
    'f.json.1757344468688.bak', // the legacy module's own name
    `f.json.${'l'.repeat(64)}.${stamp('06', '15', '12', '30', '30')}.bak`,
    `.f.auto.${stamp('06', '15', '12', '30', '30')}.bak`, // a dot file's backup
  ]
  const others = [
    `f.json.auto.${stamp('00', '15', '12', '30', '30')}.bak`,
    `f.json.auto.${stamp('13', '15', '12', '30', '30')}.bak`,
    `f.json.auto.${stamp('06', '00', '12', '30', '30')}.bak`,
    `f.json.auto.${stamp('06', '32', '12', '30', '30')}.bak`,
    `f.json.auto.${stamp('06', '15', '24', '30', '30')}.bak`,
    `f.json.auto.${stamp('06', '15', '12', '60', '30')}.bak`,
    `f.json.auto.${stamp('06', '15', '12', '30', '61')}.bak`,
    `f.json.auto.${stamp('06', '15', '12', '30', '30')}7.bak`, // a serial without its dash
    `f.json.auto.${stamp('06', '15', '12', '30', '30')}-x.bak`,
    `f.json.${'l'.repeat(65)}.${stamp('06', '15', '12', '30', '30')}.bak`,
    `f.json.con.${stamp('06', '15', '12', '30', '30')}.bak`, // a device name is never a label
    `f.json.com1.${stamp('06', '15', '12', '30', '30')}.bak`,
    `auto.${stamp('06', '15', '12', '30', '30')}.bak`, // no file name before the label
    `.auto.${stamp('06', '15', '12', '30', '30')}.bak`,
    '.1757344468688.bak',
    'f.json.175734446868.bak', // 12 digits
    `f.json.auto.${stamp('06', '15', '12', '30', '30')}.bak.txt`,
  ]
  const results = onBoth((backend, dir) => {
    const backupDir = path.join(dir, 'backups')
    fs.mkdirSync(backupDir, { mode: 0o700 })
    const past = new Date(Date.now() - 30 * 24 * 3600 * 1000)
    for (const name of [...ours, ...others]) {
      fs.writeFileSync(path.join(backupDir, name), '{}')
      fs.utimesSync(path.join(backupDir, name), past, past)
    }
    const removed = resolveBackend(backend).binding.cleanupOldBackups(24 * 3600 * 1000, { backupDir })
    return { removed, left: listing(backupDir) }
  })
  assert.deepEqual(results.native, { removed: ours.length, left: [...others].sort() })
  assert.deepEqual(results.js, results.native)
})

test('cleanupOldBackups: seven days unless a finite age is given; a younger backup is kept; both backends alike', () => {
  const { resolveBackend } = require('../lib/backend')
  const DAY = 24 * 3600 * 1000
  const results = onBoth((backend, dir) => {
    const backupDir = path.join(dir, 'backups')
    const binding = resolveBackend(backend).binding
    const round = (maxAge) => {
      fs.rmSync(backupDir, { recursive: true, force: true })
      fs.mkdirSync(backupDir, { mode: 0o700 })
      const ages = { six: 6, eight: 8, now: 0 }
      for (const [name, days] of Object.entries(ages)) {
        const file = path.join(backupDir, `${name}.json.auto.2026-01-01T00-00-00-000Z.bak`)
        fs.writeFileSync(file, '{}')
        const when = new Date(Date.now() - days * DAY - (days ? 3600 * 1000 : 0))
        fs.utimesSync(file, when, when)
      }
      const removed = maxAge === 'none' ? binding.cleanupOldBackups(undefined, { backupDir }) : binding.cleanupOldBackups(maxAge, { backupDir })
      return { removed, left: listing(backupDir).map((n) => n.split('.')[0]) }
    }
    return [round('none'), round(Number.NaN), round(Number.POSITIVE_INFINITY), round(9 * DAY), round(5 * DAY)]
  })
  const kept = (...left) => ({ removed: 3 - left.length, left })
  assert.deepEqual(results.native, [
    kept('now', 'six'),
    kept('now', 'six'),
    kept('now', 'six'),
    kept('eight', 'now', 'six'),
    kept('now'),
  ])
  assert.deepEqual(results.js, results.native)
})

test('a refused label says why (a device name, or the characters and length allowed), and a first backup in its millisecond has no serial; both backends alike', () => {
  const { resolveBackend } = require('../lib/backend')
  const labels = ['con', 'COM1', 'lpt9', 'a b', 'x'.repeat(65)]
  const results = onBoth((backend, dir) => {
    const binding = resolveBackend(backend).binding
    const file = path.join(dir, 'f.json')
    fs.writeFileSync(file, '{}')
    const backupDir = path.join(dir, 'backups')
    const why = labels.map((label) => {
      try {
        binding.backupFile(file, label, { backupDir })
        return 'no error'
      } catch (err) {
        return `${err.code}: ${err.message}`
      }
    })
    // an empty folder: nothing to collide with, so serial 0, which the name leaves out
    const first = path.basename(binding.backupFile(file, 'x'.repeat(64), { backupDir }))
    return { why, first: first.replace(/\d/g, '0') }
  })
  const device = (label) => `EBADLABEL: Invalid backup label "${label}": it is a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9)`
  const chars = (label) => `EBADLABEL: Invalid backup label "${label}": use 1 to 64 characters of A-Z, a-z, 0-9, _ and -`
  assert.deepEqual(results.native, {
    why: [device('con'), device('COM1'), device('lpt9'), chars('a b'), chars('x'.repeat(65))],
    first: `f.json.${'x'.repeat(64)}.0000-00-00T00-00-00-000Z.bak`,
  })
  assert.deepEqual(results.js, results.native)
})

test('recoverJsonFile orders backups by their stamp across a year\'s end (the last day of December before the 2nd of January); both backends alike', () => {
  const { resolveBackend } = require('../lib/backend')
  const { fileStamp } = require('../lib/js/time')
  const results = onBoth((backend, dir) => {
    const backupDir = path.join(dir, 'bak')
    fs.mkdirSync(backupDir, { mode: 0o700 })
    fs.writeFileSync(path.join(backupDir, `t.json.a.${fileStamp(Date.UTC(2026, 11, 31, 12))}.bak`), '{"v":"december"}')
    fs.writeFileSync(path.join(backupDir, `t.json.a.${fileStamp(Date.UTC(2027, 0, 2, 12))}.bak`), '{"v":"january"}')
    const file = path.join(dir, 't.json')
    fs.writeFileSync(file, '{"damaged"')
    resolveBackend(backend).binding.recoverJsonFile(file, { backupDir })
    return fs.readFileSync(file, 'utf8')
  })
  assert.deepEqual(results, { native: '{"v":"january"}', js: '{"v":"january"}' })
})

test('backupFile at the binding: a null label is the default one, a missing source is null, a name already taken moves on to the next serial; cleanupOldBackups of a missing folder is 0; both backends alike', () => {
  const { resolveBackend } = require('../lib/backend')
  const { fileStamp } = require('../lib/js/time')
  const results = onBoth((backend, dir) => {
    const binding = resolveBackend(backend).binding
    const backupDir = path.join(dir, 'backups')
    const file = path.join(dir, 'f.json')
    fs.writeFileSync(file, '{"v":1}')
    const named = path.basename(binding.backupFile(file, null, { backupDir })).replace(/\d/g, '0')
    const missing = binding.backupFile(path.join(dir, 'missing.json'), 'x', { backupDir })
    // every serial-0 name of the next three seconds taken: the copy gets serial 1
    const start = Date.now()
    for (let ms = start; ms < start + 3000; ms++) fs.writeFileSync(path.join(backupDir, `f.json.taken.${fileStamp(ms)}.bak`), 'other')
    const taken = binding.backupFile(file, 'taken', { backupDir })
    const serial = /-(\d+)\.bak$/.exec(taken)
    return {
      named,
      missing,
      serial: serial && serial[1],
      bytes: fs.readFileSync(taken, 'utf8'),
      none: binding.cleanupOldBackups(0, { backupDir: path.join(dir, 'no-such-folder') }),
    }
  })
  assert.deepEqual(results.native, { named: 'f.json.auto.0000-00-00T00-00-00-000Z.bak', missing: null, serial: '1', bytes: '{"v":1}', none: 0 })
  assert.deepEqual(results.js, results.native)
})

test('atomicWrite at the binding: a plain Uint8Array is content; the async write keeps the mode; a dead writer\'s temp named by the marker alone (`.sr-tmp-<pid>-…`) is swept too; both backends alike', { skip: process.platform === 'win32' }, async () => {
  const { resolveBackend } = require('../lib/backend')
  const { spawnSync } = require('node:child_process')
  const dead = spawnSync('true').pid
  const results = {}
  for (const backend of ['native', 'js']) {
    const binding = resolveBackend(backend).binding
    const dir = tempDir(`sr-${backend}-`)
    fs.writeFileSync(path.join(dir, `.sr-tmp-${dead}-abc`), 'left')
    const bytes = path.join(dir, 'bytes')
    binding.atomicWrite(bytes, new Uint8Array([104, 105]))
    const kept = path.join(dir, 'kept.json')
    fs.writeFileSync(kept, '{}')
    fs.chmodSync(kept, 0o640)
    await binding.atomicWriteAsync(kept, '{"a":1}')
    results[backend] = { bytes: fs.readFileSync(bytes, 'utf8'), mode: (fs.statSync(kept).mode & 0o777).toString(8), text: fs.readFileSync(kept, 'utf8'), left: listing(dir) }
  }
  assert.deepEqual(results.native, { bytes: 'hi', mode: '640', text: '{"a":1}', left: ['bytes', 'kept.json'] })
  assert.deepEqual(results.js, results.native)
})
