'use strict'
// Containment (issue 11): whoever can write inside the project (a cloned repository, a shared
// folder, an unpacked backup set) plants symlinks, FIFOs, device links and crafted sets. Each
// attack runs on both backends against a victim outside the project, which must come out
// byte for byte unchanged (or still present). FIFO and /dev/zero cases run in a child under a
// watchdog, so a regression fails instead of hanging the suite.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')

const BackupSystem = require('../lib/backup-system')
const { SessionLog, logFileFor } = require('../lib/session/session-log')
const { resolveBackend } = require('../lib/backend')
const { eachBackend, onBoth, runBin, tempDir, ROOT, isRoot, liveProcess, hasCommand, SYNC_CHILD } = require('./helpers')
const { makeProject, makeRestoreRaceProject, raceRestores, raceDatabaseCopies, raceSnapshots, snapshot, hasRenameat2, raceCreates } = require('../torture/containment-kit')

const POSIX = process.platform !== 'win32'
const WATCHDOG_MS = 15000


/** A project (git repo, tracker, .env, a SQLite database) and an `outside` folder with victims. */
const setup = makeProject

function system(backend, ctx) {
  return new BackupSystem({ backend, root: ctx.root, quiet: true, lockDir: ctx.lockDir })
}


/** Assert `fn` refuses with one of `codes`. */
async function refuses(fn, codes) {
  try {
    await fn()
  } catch (err) {
    assert.ok(codes.includes(err.code), `expected one of ${codes}, got ${err.code}: ${err.message}`)
    return err
  }
  assert.fail(`expected a refusal (${codes})`)
}

/** Move `backups/<rel>` outside and leave a symlink to it in its place. */
function swapForLink(ctx, rel, name = rel.replace(/\//g, '_')) {
  const from = path.join(ctx.root, 'backups', rel)
  const to = path.join(ctx.outside, name)
  fs.renameSync(from, to)
  fs.symlinkSync(to, from)
  return to
}

test('cleanup never deletes through a symlinked backups/<kind> folder', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ctx = setup(dir)
    const bs = system(backend, ctx)
    await bs.createFullBackup('victim')
    swapForLink(ctx, 'config')
    const before = snapshot(ctx.outside)
    await refuses(() => bs.cleanup(0), ['EUNSAFEDIR', 'EPATHESCAPE'])
    assert.deepEqual(snapshot(ctx.outside), before)
    // the CLI too
    const r = runBin('backup-system', ['cleanup', '0', '--json'], { backend, env: { SESSION_RESILIENCE_ROOT: ctx.root, SESSION_RESILIENCE_LOCK_DIR: ctx.lockDir } })
    assert.equal(r.status, 1, r.stdout + r.stderr)
    assert.match(JSON.parse(r.stdout).code, /^(EUNSAFEDIR|EPATHESCAPE)$/)
    assert.deepEqual(snapshot(ctx.outside), before)
  })
})

test('a symlinked backups/ is refused by create, list, verify, restore and cleanup', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ctx = setup(dir)
    const bs = system(backend, ctx)
    const id = await bs.createFullBackup('victim')
    swapForLink(ctx, '', 'backups')
    const before = snapshot(ctx.outside)
    const codes = ['EUNSAFEDIR', 'EPATHESCAPE']
    await refuses(() => bs.listBackups(), codes)
    await refuses(() => bs.verifyBackup(id), codes)
    await refuses(() => bs.restoreFromBackup(id, { skipCurrentBackup: true, force: true }), codes)
    await refuses(() => bs.cleanup(0), codes)
    await refuses(() => bs.createFullBackup('again'), codes)
    for (const args of [['list'], ['verify', id], ['restore', id, '--skip-current-backup', '--force'], ['cleanup', '0']]) {
      const r = runBin('backup-system', [...args, '--json'], { backend, env: { SESSION_RESILIENCE_ROOT: ctx.root, SESSION_RESILIENCE_LOCK_DIR: ctx.lockDir } })
      assert.equal(r.status, 1, `${args}: ${r.stdout}${r.stderr}`)
      assert.ok(codes.includes(JSON.parse(r.stdout).code), `${args}: ${r.stdout}`)
    }
    assert.deepEqual(snapshot(ctx.outside), before)
  })
})

test('create writes through neither a dangling backups/.gitignore link nor a symlinked backups/state', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ctx = setup(dir)
    const bs = system(backend, ctx)
    fs.mkdirSync(path.join(ctx.root, 'backups'), { mode: 0o700 })
    const planted = path.join(ctx.outside, 'planted-by-gitignore')
    fs.symlinkSync(planted, path.join(ctx.root, 'backups', '.gitignore'))
    fs.mkdirSync(path.join(ctx.outside, 'state'))
    fs.symlinkSync(path.join(ctx.outside, 'state'), path.join(ctx.root, 'backups', 'state'))
    const before = snapshot(ctx.outside)
    await refuses(() => bs.createFullBackup('x'), ['EPATHESCAPE', 'EUNSAFEDIR'])
    assert.ok(!fs.existsSync(planted), 'nothing written through the dangling link')
    assert.deepEqual(snapshot(ctx.outside), before)
  })
})

test('restore never reads a source through a symlink (config .env, the database copy), even with no manifest', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ctx = setup(dir)
    const bs = system(backend, ctx)
    const id = await bs.createFullBackup('set')
    const set = path.join(ctx.root, 'backups')
    fs.rmSync(path.join(set, 'config', id, '.env'))
    fs.symlinkSync(path.join(ctx.outside, 'secret.key'), path.join(set, 'config', id, '.env'))
    fs.rmSync(path.join(set, 'database', id, 'database.sqlite'))
    fs.symlinkSync(path.join(ctx.outside, 'victim.sqlite'), path.join(set, 'database', id, 'database.sqlite'))
    fs.rmSync(path.join(set, 'manifests', `${id}.json`)) // "deleting the manifest only warns"
    const before = snapshot(ctx.outside)
    await refuses(() => bs.restoreFromBackup(id, { skipCurrentBackup: true, force: true, restoreCode: false }), ['EPATHESCAPE', 'ERESTORE'])
    const r = await bs.restoreFromBackup(id, { skipCurrentBackup: true, force: true, restoreCode: false, continueOnError: true }).catch((e) => e)
    assert.ok(r instanceof Error || (!r.config && !r.database), 'neither part restored')
    assert.equal(fs.readFileSync(path.join(ctx.root, '.env'), 'utf8'), 'API_TOKEN=project\n')
    assert.equal(execFileSync('sqlite3', [path.join(ctx.root, 'database.sqlite'), 'SELECT v FROM t'], { encoding: 'utf8' }).trim(), 'project')
    assert.deepEqual(snapshot(ctx.outside), before)
  })
})

test('verify never follows a symlinked member: no hash oracle on files outside', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ctx = setup(dir)
    const bs = system(backend, ctx)
    const id = await bs.createFullBackup('set')
    const member = path.join(ctx.root, 'backups', 'config', id, '.env')
    // the outside file has the very bytes the manifest expects: following the link would say "valid"
    fs.copyFileSync(member, path.join(ctx.outside, 'same-bytes'))
    fs.rmSync(member)
    fs.symlinkSync(path.join(ctx.outside, 'same-bytes'), member)
    const v = await bs.verifyBackup(id)
    assert.equal(v.valid, false)
    assert.deepEqual(v.altered, [`config/${id}/.env`])
    // a symlinked set folder: the same
    const setDir = path.join(ctx.root, 'backups', 'state', id)
    fs.renameSync(setDir, path.join(ctx.outside, 'state-set'))
    fs.symlinkSync(path.join(ctx.outside, 'state-set'), setDir)
    const v2 = await bs.verifyBackup(id)
    assert.ok(v2.altered.includes(`state/${id}/system-info.json`), JSON.stringify(v2))
  })
})

test('pre-restore copies go to backups/pre-restore, created exclusively: a link planted at the legacy name is never written', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ctx = setup(dir)
    const bs = system(backend, ctx)
    const id = await bs.createFullBackup('set')
    fs.writeFileSync(path.join(ctx.root, '.env'), 'API_TOKEN=changed\n')
    // links at every `.env.pre-restore.<ms>` name of the next few seconds
    const now = Date.now()
    for (let ms = now; ms < now + 4000; ms++) fs.symlinkSync(path.join(ctx.outside, 'victim.txt'), path.join(ctx.root, `.env.pre-restore.${ms}`))
    const before = snapshot(ctx.outside)
    const result = await bs.restoreFromBackup(id, { skipCurrentBackup: true, force: true, restoreCode: false })
    assert.equal(fs.readFileSync(path.join(ctx.root, '.env'), 'utf8'), 'API_TOKEN=project\n')
    const kept = result.previous.find((p) => p.endsWith(`${path.sep}.env`))
    assert.ok(kept && kept.startsWith(path.join(ctx.root, 'backups', 'pre-restore')), JSON.stringify(result.previous))
    assert.equal(fs.readFileSync(kept, 'utf8'), 'API_TOKEN=changed\n')
    assert.equal(fs.statSync(kept).mode & 0o777, 0o600)
    assert.deepEqual(snapshot(ctx.outside), before)
    // nothing new beside the targets in the work tree (what `git add -A` would commit)
    const beside = fs.readdirSync(ctx.root).filter((n) => n.includes('pre-restore') && !fs.lstatSync(path.join(ctx.root, n)).isSymbolicLink())
    assert.deepEqual(beside, [])
  })
})

test('restore targets never include .git/ (any depth), backups/ or the lock folder', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ctx = setup(dir)
    const lockDir = path.join(ctx.root, 'locks-in-project')
    const bs = new BackupSystem({ backend, root: ctx.root, quiet: true, lockDir })
    const id = await bs.createFullBackup('set')
    const gitConfig = fs.readFileSync(path.join(ctx.root, '.git', 'config'))
    const setDir = path.join(ctx.root, 'backups', 'config', id)
    const payload = '[core]\n\tfsmonitor = "touch /tmp/pwned-by-restore"\n'
    fs.writeFileSync(path.join(setDir, 'evil'), payload)
    const info = JSON.parse(fs.readFileSync(path.join(setDir, 'config-info.json'), 'utf8'))
    fs.rmSync(path.join(ctx.root, 'backups', 'manifests', `${id}.json`))
    for (const original of ['.git/config', 'sub/.git/hooks/pre-commit', '.GIT/config', 'backups/manifests/x.json', 'locks-in-project/x.lock']) {
      const crafted = { ...info, files: [{ original, backup: path.join(setDir, 'evil') }] }
      fs.writeFileSync(path.join(setDir, 'config-info.json'), JSON.stringify(crafted))
      await refuses(() => bs.restoreFromBackup(id, { skipCurrentBackup: true, force: true, restoreCode: false, restoreDatabase: false }), ['EPATHESCAPE'])
    }
    assert.deepEqual(fs.readFileSync(path.join(ctx.root, '.git', 'config')), gitConfig)
    assert.ok(!fs.existsSync(path.join(ctx.root, 'sub')))
    assert.ok(!fs.existsSync(path.join(ctx.root, 'backups', 'manifests', 'x.json')))
    assert.ok(!fs.existsSync(path.join(lockDir, 'x.lock')))
  })
})

test('the session log: a symlinked session.log gets nothing; the fallback is a private folder of the user', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ctx = setup(dir)
    fs.mkdirSync(path.join(ctx.root, 'backups'), { mode: 0o700 })
    fs.symlinkSync(path.join(ctx.outside, 'victim.txt'), path.join(ctx.root, 'backups', 'session.log'))
    const before = snapshot(ctx.outside)
    const file = logFileFor(ctx.root, backend)
    const log = new SessionLog(file, { backend })
    log.log('a line that must not land outside')
    assert.equal(log.tail(5), null)
    assert.deepEqual(snapshot(ctx.outside), before)
    // a FIFO in its place: refused at once, nothing blocks
    fs.rmSync(path.join(ctx.root, 'backups', 'session.log'))
    execFileSync('mkfifo', [path.join(ctx.root, 'backups', 'session.log')])
    const started = Date.now()
    log.log('no reader: must not block')
    assert.ok(Date.now() - started < 2000)
    // backups/ as a symlink: the private fallback, 0700 and ours
    fs.rmSync(path.join(ctx.root, 'backups'), { recursive: true })
    fs.symlinkSync(ctx.outside, path.join(ctx.root, 'backups'))
    const cache = tempDir()
    const saved = process.env.XDG_CACHE_HOME
    process.env.XDG_CACHE_HOME = cache
    try {
      const fallback = logFileFor(ctx.root, backend)
      assert.equal(path.dirname(fallback), path.join(cache, 'session-resilience'))
      assert.equal(fs.statSync(path.dirname(fallback)).mode & 0o777, 0o700)
      new SessionLog(fallback, { backend }).log('fallback line')
      assert.match(fs.readFileSync(fallback, 'utf8'), /fallback line/)
      assert.equal(fs.statSync(fallback).mode & 0o777, 0o600)
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME
      else process.env.XDG_CACHE_HOME = saved
    }
    assert.deepEqual(snapshot(ctx.outside), before)
  })
})

/** Run `script` in a child with `backend`, killed after WATCHDOG_MS: its JSON line. */
function underWatchdog(backend, script, args) {
  const started = Date.now()
  const r = spawnSync(process.execPath, ['-e', script, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: WATCHDOG_MS,
    killSignal: 'SIGKILL',
    env: { ...process.env, SESSION_RESILIENCE_BACKEND: backend },
  })
  assert.notEqual(r.signal, 'SIGKILL', `hung: killed by the watchdog after ${WATCHDOG_MS} ms`)
  assert.equal(r.status, 0, r.stderr)
  return { result: JSON.parse(r.stdout.trim().split('\n').pop()), ms: Date.now() - started }
}

const LOCK_SCRIPT = `
const ops = new (require('./lib/safe-file-operations').SafeFileOperations)({ lockDir: process.argv[1] })
const out = {}
const code = (fn) => { try { const v = fn(); return { value: v } } catch (e) { return { code: e.code } } }
const t0 = Date.now()
out.acquire = code(() => ops.acquireLock('victim', 2000))
out.info = code(() => ops.getLockInfo('victim'))
out.release = code(() => ops.releaseLock('victim'))
out.list = code(() => ops.listLocks().map((l) => ({ identifier: l.identifier, corrupted: l.corrupted })))
out.ms = Date.now() - t0
console.log(JSON.stringify(out))`

test('a lock file that is a FIFO or a link to /dev/zero is refused within milliseconds (EBADLOCK)', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    for (const plant of ['fifo', 'zero']) {
      const lockDir = path.join(dir, `locks-${plant}`)
      fs.mkdirSync(lockDir, { mode: 0o700 })
      const lockFile = path.join(lockDir, 'victim.lock')
      if (plant === 'fifo') execFileSync('mkfifo', [lockFile])
      else fs.symlinkSync('/dev/zero', lockFile)
      const { result } = underWatchdog(backend, LOCK_SCRIPT, [lockDir])
      for (const op of ['acquire', 'info', 'release']) assert.equal(result[op].code, 'EBADLOCK', `${plant} ${op}: ${JSON.stringify(result)}`)
      assert.deepEqual(result.list.value, [{ identifier: 'victim', corrupted: true }])
      assert.ok(result.ms < 3000, `took ${result.ms} ms`)
      // the CLI too
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'safe-file-operations.js'), 'locks', '--json'], {
        encoding: 'utf8',
        timeout: WATCHDOG_MS,
        killSignal: 'SIGKILL',
        env: { ...process.env, SESSION_RESILIENCE_BACKEND: backend, SESSION_RESILIENCE_LOCK_DIR: lockDir },
      })
      assert.notEqual(r.signal, 'SIGKILL', 'the locks CLI hung')
      assert.match(r.stdout, /victim/)
    }
  })
})

test('a lock record larger than 64 KiB is not a record: read at most that much', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ops = new (require('../lib/safe-file-operations').SafeFileOperations)({ lockDir: dir, backend })
    fs.writeFileSync(path.join(dir, 'big.lock'), `{"pid": ${process.pid}, "timestamp": "${new Date().toISOString()}", "pad": "${'x'.repeat(70 * 1024)}"}`)
    const info = ops.getLockInfo('big')
    assert.equal(info.corrupted, true, JSON.stringify(info).slice(0, 200))
  })
})

const BACKUP_FILE_SCRIPT = `
const ops = new (require('./lib/safe-file-operations').SafeFileOperations)({ backupDir: process.argv[2] })
let out
try { out = { value: ops.backupFile(process.argv[1], 'x') } } catch (e) { out = { code: e.code } }
console.log(JSON.stringify(out))`

test('backupFile of a FIFO or a link to /dev/zero is refused at once (EINVAL), nothing written', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const fifo = path.join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    const zero = path.join(dir, 'zero')
    fs.symlinkSync('/dev/zero', zero)
    for (const source of [fifo, zero]) {
      const backupDir = path.join(dir, `bak-${path.basename(source)}`)
      const { result } = underWatchdog(backend, BACKUP_FILE_SCRIPT, [source, backupDir])
      assert.equal(result.code, 'EINVAL', `${source}: ${JSON.stringify(result)}`)
      const left = fs.existsSync(backupDir) ? fs.readdirSync(backupDir) : []
      assert.deepEqual(left, [], 'no temp file, no 0-byte backup')
    }
  })
})

test('files under backups/ are 0600, folders 0700; a 0755 backups/ of ours is tightened with one warning', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ctx = setup(dir)
    fs.mkdirSync(path.join(ctx.root, 'backups'), { mode: 0o755 })
    fs.chmodSync(path.join(ctx.root, 'backups'), 0o755)
    const warnings = []
    const saved = { warn: console.warn, log: console.log }
    console.warn = (...a) => warnings.push(a.join(' '))
    console.log = () => {}
    let restored
    try {
      const bs = new BackupSystem({ backend, root: ctx.root, lockDir: ctx.lockDir, quiet: false })
      const id = await bs.createFullBackup('perm')
      // a restore keeps the previous .env and database in backups/pre-restore/ (native on
      // Linux: the kept database moved there by rename from its scratch folder in backups/)
      restored = await bs.restoreFromBackup(id, { force: true, restoreCode: false })
    } finally {
      Object.assign(console, saved)
    }
    assert.equal(warnings.filter((w) => w.includes('made owner-only')).length, 1, warnings.join('\n'))
    assert.ok(restored.previous.some((p) => p.endsWith('database.sqlite')), JSON.stringify(restored.previous))
    const bad = []
    const walk = (p) => {
      const st = fs.lstatSync(p)
      const want = st.isDirectory() ? 0o700 : 0o600
      if ((st.mode & 0o777) !== want) bad.push(`${p}: ${(st.mode & 0o777).toString(8)}`)
      if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n))
    }
    walk(path.join(ctx.root, 'backups'))
    assert.deepEqual(bad, [])
  })
})

test('lock folder: an own 0755 folder (legacy) is tightened to 0700; a foreign-owned writable one is refused', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const legacy = path.join(dir, 'agenthive-locks')
    fs.mkdirSync(legacy)
    fs.chmodSync(legacy, 0o755)
    const ops = new (require('../lib/safe-file-operations').SafeFileOperations)({ lockDir: legacy, backend })
    assert.ok(ops.acquireLock('migrating', 1000))
    assert.equal(fs.statSync(legacy).mode & 0o777, 0o700)
    assert.equal(fs.statSync(path.join(legacy, 'migrating.lock')).mode & 0o777, 0o600)
    ops.releaseLock('migrating')
    if (!isRoot) return // chown to another user needs root
    const foreign = path.join(dir, 'foreign-locks')
    fs.mkdirSync(foreign)
    fs.chmodSync(foreign, 0o777)
    fs.chownSync(foreign, 12345, 12345)
    const ops2 = new (require('../lib/safe-file-operations').SafeFileOperations)({ lockDir: foreign, backend })
    const err = await refuses(() => ops2.acquireLock('x', 500), ['EUNSAFEDIR'])
    assert.match(err.message, /owned by uid 12345.*writable by others/)
  })
})

test('Windows device names and names ending in a dot or space are refused as lock ids and labels', async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ops = new (require('../lib/safe-file-operations').SafeFileOperations)({ lockDir: dir, backend })
    for (const id of ['NUL', 'con', 'Aux.lock', 'COM1', 'lpt9.txt', 'PRN', 'name.', 'name ', 'conin$']) {
      await refuses(() => ops.acquireLock(id, 100), ['EBADLOCKID'])
    }
    assert.ok(ops.acquireLock('console', 100))
    ops.releaseLock('console')
    const ctx = setup(path.join(dir, 'p'))
    const bs = system(backend, ctx)
    for (const label of ['CON', 'nul', 'Com3', 'LPT1']) await refuses(() => bs.createFullBackup(label), ['EBADLABEL'])
    assert.ok(!fs.existsSync(path.join(ctx.root, 'backups', 'full')) || fs.readdirSync(path.join(ctx.root, 'backups', 'full')).length === 0)
  })
})

test('create skips a config file that is a symlink to a secret outside: it is never copied into the set', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const ctx = setup(dir)
    fs.rmSync(path.join(ctx.root, '.env'))
    fs.symlinkSync(path.join(ctx.outside, 'secret.key'), path.join(ctx.root, '.env'))
    const id = await system(backend, ctx).createFullBackup('links')
    const setDir = path.join(ctx.root, 'backups', 'config', id)
    assert.ok(!fs.existsSync(path.join(setDir, '.env')))
    for (const name of fs.readdirSync(setDir)) assert.ok(!fs.readFileSync(path.join(setDir, name), 'utf8').includes('OUTSIDE-SECRET'), name)
  })
})

test('the contained calls agree on both backends: links anywhere on the way refused, the same codes', { skip: !POSIX }, () => {
  const results = {}
  for (const backend of ['native', 'js']) {
    const b = resolveBackend(backend).binding
    const dir = tempDir()
    const outside = tempDir()
    fs.writeFileSync(path.join(outside, 'v'), 'V')
    fs.mkdirSync(path.join(dir, 'a'))
    fs.symlinkSync(outside, path.join(dir, 'a', 'out'))
    fs.symlinkSync(path.join(outside, 'v'), path.join(dir, 'a', 'f'))
    const code = (fn) => {
      try {
        fn()
        return 'ok'
      } catch (e) {
        return e.code
      }
    }
    results[backend] = {
      readThroughDir: code(() => b.containedRead(dir, 'a/out/v')),
      readLink: code(() => b.containedRead(dir, 'a/f')),
      writeThroughDir: code(() => b.containedWrite(dir, 'a/out/new', 'x')),
      appendLink: code(() => b.containedAppend(dir, 'a/f', 'x')),
      mkdirThroughDir: code(() => b.containedMkdir(dir, 'a/out/sub', false)),
      removeThroughDir: code(() => b.containedRemove(dir, 'a/out/v')),
      copyFromLink: code(() => b.containedCopy(dir, 'a/f', dir, 'copy')),
      dotdot: code(() => b.containedRead(dir, '../x')),
      baseLink: code(() => b.containedList(path.join(dir, 'a', 'out'), '')),
      statLink: b.containedStat(dir, 'a/f').type,
      removeLinkItself: code(() => b.containedRemove(dir, 'a/f')),
    }
    assert.equal(fs.readFileSync(path.join(outside, 'v'), 'utf8'), 'V')
    assert.deepEqual(fs.readdirSync(outside), ['v'])
  }
  assert.deepEqual(results.native, results.js)
  assert.deepEqual(results.native, {
    readThroughDir: 'EPATHESCAPE',
    readLink: 'EPATHESCAPE',
    writeThroughDir: 'EPATHESCAPE',
    appendLink: 'EPATHESCAPE',
    mkdirThroughDir: 'EPATHESCAPE',
    removeThroughDir: 'EPATHESCAPE',
    copyFromLink: 'EPATHESCAPE',
    dotdot: 'EPATHESCAPE',
    baseLink: 'EUNSAFEDIR',
    statLink: 'symlink',
    removeLinkItself: 'ok',
  })
})


test('race: a folder swapped for a symlink in a loop while restores of a file and a database run writes nothing outside (native); js reported', { skip: process.platform !== 'linux' || !hasRenameat2(), timeout: 90000 }, async (t) => {
  const escapes = {}
  for (const backend of ['native', 'js']) {
    const project = makeRestoreRaceProject(tempDir(`race-${backend}-`))
    const r = await raceRestores({ binding: resolveBackend(backend).binding, ...project, seconds: 3 })
    escapes[backend] = r.escaped
    t.diagnostic(`${backend}: ${r.files} file and ${r.databases} database restores, ${r.refused} refused ${JSON.stringify(r.codes)}, ${r.swaps} swaps, changed outside: ${r.escaped.join(', ') || 'nothing'}`)
    assert.ok(r.swaps > 50, `the swapper ran (${r.swaps} swaps)`)
    assert.ok(r.files > 5 && r.databases > 5, `restores of both kinds ran (${r.files}, ${r.databases})`)
    if (backend === 'native') assert.equal(execFileSync('sqlite3', [path.join(project.outside, 'app.db'), 'SELECT v FROM t'], { encoding: 'utf8' }).trim(), 'victim')
  }
  assert.deepEqual(escapes.native, [], 'native: nothing changed outside')
  // js: lstat + O_NOFOLLOW cannot close this race (README "Containment"); what it did is in the diagnostic above
})

// The create side of the race: every write, move and removal of createFullBackup under
// backups/ goes through held folders (lib/backup/staging.js). The swapper is paced (a few ms
// between swaps): unpaced, nearly every create is refused at its first check, which proves
// nothing about the writes that follow it.
// createFullBackup copies each live database through backupCopyDatabase(src, dest, root): the
// folders on the way are opened below the root without following a link, and SQLite is kept on
// the held folder (native, Linux: core/src/backup/sqlite_held.rs) or refuses links (js: sqlite3
// -nofollow below the root's real path). A planted link is refused; the victim outside is
// neither changed nor read (its row never reaches the copy).
test('create never reads the live database through a link: a folder or the file itself planted as a symlink', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const { binding } = resolveBackend(backend)
    const project = makeRestoreRaceProject(dir)
    const { root, outside } = project
    const dest = path.join(dir, 'copy.sqlite')
    const before = snapshot(outside)
    assert.equal(await binding.backupCopyDatabase(path.join(root, 'cfg', 'app.db'), dest, root), 'sqlite')
    assert.equal(execFileSync('sqlite3', [dest, 'SELECT v FROM t'], { encoding: 'utf8' }).trim(), 'project')
    fs.rmSync(dest)
    // the folder: cfg/ moved away, a symlink to outside/ (which has an app.db) in its place
    fs.renameSync(path.join(root, 'cfg'), path.join(root, 'cfg-real'))
    fs.symlinkSync(outside, path.join(root, 'cfg'))
    await refuses(() => binding.backupCopyDatabase(path.join(root, 'cfg', 'app.db'), dest, root), ['EPATHESCAPE'])
    // the file itself a link to the victim
    fs.symlinkSync(path.join(outside, 'app.db'), path.join(root, 'cfg-real', 'linked.db'))
    await refuses(() => binding.backupCopyDatabase(path.join(root, 'cfg-real', 'linked.db'), dest, root), ['EPATHESCAPE'])
    // a path not below the root
    const notBelow = await refuses(() => binding.backupCopyDatabase(path.join(outside, 'app.db'), dest, root), ['EPATHESCAPE'])
    assert.equal(notBelow.message, `Refusing database ${path.join(outside, 'app.db')}: not below ${root}`, backend)
    assert.ok(!fs.existsSync(dest), `${backend}: no copy made`)
    assert.deepEqual(snapshot(outside), before, `${backend}: nothing outside changed`)
  })
})

/**
 * Run `race` (a containment-kit race over makeRestoreRaceProject's cfg/app.db) on both backends
 * and report it; `kind` names what it counts. Native: the victim is never read and nothing
 * outside changes. js: sqlite3 opens by name; -nofollow refuses a link it sees, but a swap
 * between its look and its open is the race js cannot close (its counts are in the
 * diagnostic); `jsEscapes`: what it may then create outside is only reported too.
 */
async function databaseRace(t, race, kind, { jsEscapes = false } = {}) {
  for (const backend of ['native', 'js']) {
    const project = makeRestoreRaceProject(tempDir(`${kind}-race-${backend}-`))
    const r = await race({ binding: resolveBackend(backend).binding, ...project, seconds: 3 })
    t.diagnostic(`${backend}: ${r[kind]} ${kind}, ${r.refused} refused ${JSON.stringify(r.codes)}, ${r.swaps} swaps, ${kind} holding the victim's row: ${r.victimRead}, changed outside: ${r.escaped.join(', ') || 'nothing'}`)
    assert.ok(r.swaps > 20, `${backend}: the swapper ran (${r.swaps} swaps)`)
    assert.ok(r[kind] > 5, `${backend}: ${kind} ran (${r[kind]})`)
    if (backend === 'native' || !jsEscapes) assert.deepEqual(r.escaped, [], `${backend}: nothing changed outside`)
    if (backend === 'native') assert.equal(r.victimRead, 0, 'native: the victim was never read')
  }
}

test('race: the database folder swapped for a symlink while create copies the live database: the victim is never read (native); js reported', { skip: process.platform !== 'linux' || !hasRenameat2(), timeout: 90000 }, async (t) => {
  await databaseRace(t, raceDatabaseCopies, 'copies')
})

test('a store snapshot never reads a listed live database through a link: the file or its folder planted as a symlink', { skip: !POSIX }, async (t) => {
  await eachBackend(t, async ({ backend, dir }) => {
    const { binding } = resolveBackend(backend)
    const { root, outside } = makeRestoreRaceProject(dir)
    fs.rmSync(path.join(root, 'backups'), { recursive: true })
    // cfg/app.db a link to the victim database; data/ a link to the folder holding it
    fs.renameSync(path.join(root, 'cfg', 'app.db'), path.join(root, 'cfg', 'real.db'))
    fs.symlinkSync(path.join(outside, 'app.db'), path.join(root, 'cfg', 'app.db'))
    fs.symlinkSync(outside, path.join(root, 'data'))
    const before = snapshot(outside)
    const store = path.join(dir, 'store')
    const r = await binding.storeCreateSnapshot(root, store, 's1', { databases: ['cfg/app.db', 'data/app.db'], excludes: ['swap'] })
    assert.equal(r.snapshot.id, 's1')
    const target = path.join(dir, 'restored')
    fs.mkdirSync(target)
    await binding.storeRestoreSnapshot(store, 's1', target)
    // recorded as the links they are, never as the victim's bytes
    assert.equal(fs.readlinkSync(path.join(target, 'cfg', 'app.db')), path.join(outside, 'app.db'))
    assert.ok(fs.lstatSync(path.join(target, 'data')).isSymbolicLink(), `${backend}: data/ kept as a link`)
    const victim = fs.readFileSync(path.join(outside, 'app.db'))
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.isFile() ? [path.join(d, e.name)] : []))
    for (const file of walk(target)) assert.ok(!fs.readFileSync(file).equals(victim), `${backend}: ${file} is not the victim's copy`)
    assert.equal(execFileSync('sqlite3', [path.join(target, 'cfg', 'real.db'), 'SELECT v FROM t'], { encoding: 'utf8' }).trim(), 'project')
    assert.deepEqual(snapshot(outside), before, `${backend}: nothing outside changed`)
  })
})

// js: the WAL database's -wal and -shm, opened by name after the database, may be created
// outside by a swap in between (reported)
test('race: the database folder swapped for a symlink while a store snapshot copies the live database: the victim is never read (native); js reported', { skip: process.platform !== 'linux' || !hasRenameat2(), timeout: 90000 }, async (t) => {
  await databaseRace(t, raceSnapshots, 'snapshots', { jsEscapes: true })
})

test('race: backups/, or a staging part folder, swapped for a symlink while createFullBackup runs writes nothing outside', { skip: process.platform !== 'linux' || !hasRenameat2(), timeout: 180000 }, async (t) => {
  const SECONDS = 4
  const outcomes = {}
  for (const backend of ['native', 'js']) {
    for (const [what, pattern] of [['backups/', 'backups'], ['a staging part folder', 'backups/.staging-*/database']]) {
      const ctx = setup(tempDir(`create-race-${backend}-`))
      await system(backend, ctx).createFullBackup('first') // backups/ and its kind folders are there
      const r = await raceCreates({ backend, root: ctx.root, outside: ctx.outside, pattern: path.join(ctx.root, pattern), seconds: SECONDS, lockDir: ctx.lockDir })
      t.diagnostic(`${backend}, ${what} swapped: ${r.swaps} swaps, ${r.created} creates done, ${r.refused} refused ${JSON.stringify(r.codes)}, entries changed outside: ${r.escaped.length}`)
      assert.ok(r.swaps > 20, `the swapper ran (${r.swaps} swaps)`)
      assert.ok(r.created + r.refused >= 3, `creates ran (${r.created} done, ${r.refused} refused)`)
      outcomes[`${backend} ${what}`] = r.escaped
    }
  }
  const expected = { 'native backups/': [], 'native a staging part folder': [] }
  // js holds its folders as descriptors named through /proc/<pid>/fd on Linux (lib/js/held.js),
  // so it is held to the same; without /proc it walks by path and cannot close the race
  if (require('../lib/js/contained').viaProc()) Object.assign(expected, { 'js backups/': [], 'js a staging part folder': [] })
  for (const key of Object.keys(expected)) assert.deepEqual(outcomes[key], [], `${key}: nothing changed outside`)
})

/**
 * Run `script` in a child (`env` added) and SIGKILL it as soon as a scratch folder of its
 * own (`sr-db-<pid>-...`) appears in `dir` (within 60 s): `{ child, seen, mine }`, `seen` the
 * folder's name or null, `mine` what matches the child's folders.
 */
async function killOnScratch(t, script, dir, env) {
  const child = require('node:child_process').spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: 'ignore' })
  t.after(() => child.kill('SIGKILL'))
  const mine = new RegExp(`^sr-db-${child.pid}-\\d+-`)
  const deadline = Date.now() + 60000
  let seen = null
  while (seen === null && Date.now() < deadline) {
    seen = (fs.existsSync(dir) ? fs.readdirSync(dir) : []).find((n) => mine.test(n)) || null
    if (seen === null) await new Promise((resolve) => setTimeout(resolve, 1))
  }
  child.kill('SIGKILL')
  await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.on('exit', resolve)))
  return { child, seen, mine }
}

/** `cleanup(30)` of the project `ctx` with the temp dir `tmp` (where scratch folders are swept). */
async function cleanupWithTmp(backend, ctx, tmp) {
  const saved = process.env.TMPDIR
  process.env.TMPDIR = tmp
  try {
    await new BackupSystem({ backend, root: ctx.root, quiet: true, lockDir: ctx.lockDir }).cleanup(30)
  } finally {
    if (saved === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = saved
  }
}

// A create killed with SIGKILL cannot remove its databases' scratch folder from the temp dir;
// the folder's name carries its owner (pid, start time: lib/js/scratch.js), and the next
// cleanup (or create) removes it once that owner is dead. Only real folders of our naming
// owned by the user go: a link of that name, a live owner's folder and what a link inside
// points at are left alone.
test('a SIGKILLed create leaves its database scratch folder; the next cleanup removes it, and only that', { skip: !POSIX, timeout: 120000 }, async (t) => {
  const { ownStartTimeS } = require('../lib/js/process')
  for (const backend of ['native', 'js']) {
    const dir = tempDir(`scratch-${backend}-`)
    const ctx = makeProject(dir)
    const tmp = path.join(dir, 'tmp')
    fs.mkdirSync(tmp)
    const script = `const B = require(${JSON.stringify(path.join(ROOT, 'lib', 'backup-system'))});
(async () => { for (;;) await new B({ backend: ${JSON.stringify(backend)}, root: ${JSON.stringify(ctx.root)}, quiet: true, lockDir: ${JSON.stringify(ctx.lockDir)} }).createFullBackup('kill') })()`
    const { child, seen, mine } = await killOnScratch(t, script, tmp, { TMPDIR: tmp })
    assert.ok(seen, `${backend}: the create made a scratch folder`)
    const left = fs.readdirSync(tmp).filter((n) => mine.test(n))
    assert.ok(left.length >= 1, `${backend}: the killed create left its scratch folder`)
    // what must stay: a live owner's folder (ours), a link named like a dead owner's folder,
    // and the target of a link inside the dead folder
    const live = `sr-db-${process.pid}-${ownStartTimeS()}-keepme`
    fs.mkdirSync(path.join(tmp, live), { mode: 0o700 })
    fs.symlinkSync(ctx.outside, path.join(tmp, `sr-db-${child.pid}-1-linked`))
    fs.symlinkSync(path.join(ctx.outside, 'victim.txt'), path.join(tmp, left[0], 'planted-link'))
    const outsideBefore = snapshot(ctx.outside)
    await cleanupWithTmp(backend, ctx, tmp)
    const after = fs.readdirSync(tmp)
    for (const name of left) assert.ok(!after.includes(name), `${backend}: ${name} removed`)
    assert.ok(after.includes(live), `${backend}: a live owner's folder is kept`)
    assert.ok(fs.lstatSync(path.join(tmp, `sr-db-${child.pid}-1-linked`)).isSymbolicLink(), `${backend}: a link named like ours is left`)
    assert.deepEqual(snapshot(ctx.outside), outsideBefore, `${backend}: nothing outside changed`)
    t.diagnostic(`${backend}: killed create ${child.pid} left ${left.join(', ')}; the next cleanup removed it`)
  }
})

// On Linux a native database restore works in a scratch folder inside the held backups/
// (SQLite is given held paths there, and the results move into place by rename:
// core/src/backup/restore.rs). Killed with SIGKILL mid-restore, it leaves that folder; the
// next cleanup removes it once its owner is dead, and nothing else: a live owner's folder and
// a link named like ours stay, the restored database is the old or the new one, whole.
test('a SIGKILLed native restore leaves its scratch folder in backups/; the next cleanup removes it, and only that', { skip: process.platform !== 'linux', timeout: 120000 }, async (t) => {
  const { ownStartTimeS } = require('../lib/js/process')
  const dir = tempDir('restore-scratch-')
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const ctx = makeProject(dir)
  const db = path.join(ctx.root, 'database.sqlite')
  // big enough that a restore takes a while
  execFileSync('sqlite3', [db, "CREATE TABLE big(v BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 3000) INSERT INTO big SELECT randomblob(4096) FROM n;"])
  const bs = system('native', ctx)
  const id = await bs.createFullBackup('to-restore')
  const backups = path.join(ctx.root, 'backups')
  const script = `const B = require(${JSON.stringify(path.join(ROOT, 'lib', 'backup-system'))});
(async () => { for (;;) await new B({ backend: 'native', root: ${JSON.stringify(ctx.root)}, quiet: true, lockDir: ${JSON.stringify(ctx.lockDir)} }).restoreFromBackup(${JSON.stringify(id)}, { skipCurrentBackup: true, force: true, restoreCode: false, restoreConfig: false }) })()`
  const { child, seen, mine } = await killOnScratch(t, script, backups, {})
  assert.ok(seen, 'the restore made its scratch folder in backups/')
  const left = fs.readdirSync(backups).filter((n) => mine.test(n))
  assert.ok(left.length >= 1, 'the killed restore left its scratch folder')
  const live = `sr-db-${process.pid}-${ownStartTimeS()}-keepme`
  fs.mkdirSync(path.join(backups, live), { mode: 0o700 })
  fs.symlinkSync(ctx.outside, path.join(backups, `sr-db-${child.pid}-1-linked`))
  const outsideBefore = snapshot(ctx.outside)
  await bs.cleanup(30)
  const after = fs.readdirSync(backups)
  for (const name of left) assert.ok(!after.includes(name), `${name} removed`)
  assert.ok(after.includes(live), "a live owner's folder is kept")
  assert.ok(fs.lstatSync(path.join(backups, `sr-db-${child.pid}-1-linked`)).isSymbolicLink(), 'a link named like ours is left')
  assert.deepEqual(snapshot(ctx.outside), outsideBefore, 'nothing outside changed')
  assert.equal(execFileSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim(), 'ok')
  t.diagnostic(`killed restore ${child.pid} left ${left.join(', ')}; the next cleanup removed it`)
})

// A store snapshot copies a WAL-mode database that has frames through SQLite into a scratch
// folder of the temp dir (core/src/store/database.rs, lib/js/store/write.js). Killed with
// SIGKILL meanwhile, the snapshot leaves that folder; it carries its owner in its name like
// every database scratch folder, so the next cleanup removes it.
test('a SIGKILLed store snapshot leaves its database scratch folder; the next cleanup removes it', { skip: !POSIX, timeout: 120000 }, async (t) => {
  for (const backend of ['native', 'js']) {
    const dir = tempDir(`store-scratch-${backend}-`)
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
    const ctx = makeProject(dir)
    const tmp = path.join(dir, 'tmp')
    fs.mkdirSync(tmp)
    // a writer keeps the database in WAL mode with frames not checkpointed: every snapshot copies it
    const writer = require('node:child_process').spawn('sqlite3', [path.join(ctx.root, 'database.sqlite')], { stdio: ['pipe', 'ignore', 'ignore'] })
    t.after(() => writer.kill('SIGKILL'))
    writer.stdin.write("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE big(v BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) INSERT INTO big SELECT randomblob(4096) FROM n;\n")
    const wal = path.join(ctx.root, 'database.sqlite-wal')
    for (let i = 0; i < 500 && !(fs.existsSync(wal) && fs.statSync(wal).size > 4096 * 1000); i++) await new Promise((resolve) => setTimeout(resolve, 20))
    assert.ok(fs.statSync(wal).size > 0, 'the writer left frames in the WAL')
    const store = path.join(dir, 'store')
    const script = `const { binding } = require(${JSON.stringify(path.join(ROOT, 'lib', 'backend'))}).resolveBackend(${JSON.stringify(backend)});
(async () => { for (let i = 0; ; i++) await binding.storeCreateSnapshot(${JSON.stringify(ctx.root)}, ${JSON.stringify(store)}, 's' + i, { databases: ['database.sqlite'] }) })()`
    const { child, seen, mine } = await killOnScratch(t, script, tmp, { TMPDIR: tmp })
    assert.ok(seen, `${backend}: the snapshot made a scratch folder named for its owner`)
    const left = fs.readdirSync(tmp).filter((n) => mine.test(n))
    assert.ok(left.length >= 1, `${backend}: the killed snapshot left its scratch folder`)
    await cleanupWithTmp(backend, ctx, tmp)
    const after = fs.readdirSync(tmp)
    for (const name of left) assert.ok(!after.includes(name), `${backend}: ${name} removed`)
    t.diagnostic(`${backend}: killed snapshot ${child.pid} left ${left.join(', ')}; the next cleanup removed it`)
    writer.kill('SIGKILL')
  }
})

// A restore target on another file system than backups/ (a mount point inside the project):
// the rename between held folders fails with EXDEV and the result is copied instead, on both
// backends (js: TMPDIR on its own tmpfs too). Needs a private mount namespace (unshare -m, as
// root); skipped where there is none.
test('a database restored onto another file system (EXDEV) is copied into place, the previous one kept', { skip: process.platform !== 'linux', timeout: 60000 }, (t) => {
  const probe = spawnSync('unshare', ['-m', 'true'], { stdio: 'ignore' })
  if (probe.status !== 0) return t.skip('no private mount namespace here (unshare -m)')
  const dir = tempDir('exdev-')
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const root = path.join(dir, 'p')
  const set = path.join(root, 'backups', 'database', 'set')
  fs.mkdirSync(set, { recursive: true })
  fs.mkdirSync(path.join(root, 'mnt'))
  fs.mkdirSync(path.join(dir, 'tmp'))
  execFileSync('sqlite3', [path.join(set, 'app.db'), "CREATE TABLE t(v); INSERT INTO t VALUES ('new');"])
  const script = `const { resolveBackend } = require(${JSON.stringify(path.join(ROOT, 'lib', 'backend'))})
const out = {}
for (const backend of ['native', 'js']) {
  require('node:child_process').execFileSync('sqlite3', [${JSON.stringify(path.join(root, 'mnt'))} + '/' + backend + '.db', "CREATE TABLE t(v); INSERT INTO t VALUES ('old');"])
  out[backend] = resolveBackend(backend).binding.backupRestoreDatabase(${JSON.stringify(root)}, 'mnt/' + backend + '.db', ${JSON.stringify(path.join(set, 'app.db'))})
  out[backend].now = require('node:child_process').execFileSync('sqlite3', [out[backend].target, 'SELECT v FROM t'], { encoding: 'utf8' }).trim()
  out[backend].kept = require('node:child_process').execFileSync('sqlite3', [out[backend].previous, 'SELECT v FROM t'], { encoding: 'utf8' }).trim()
}
console.log(JSON.stringify(out))`
  const mounts = `mount -t tmpfs none ${JSON.stringify(path.join(root, 'mnt'))} && mount -t tmpfs none ${JSON.stringify(path.join(dir, 'tmp'))}`
  const r = spawnSync('unshare', ['-m', 'sh', '-c', `${mounts} && exec "$0" -e "$1"`, process.execPath, script], {
    encoding: 'utf8',
    env: { ...process.env, TMPDIR: path.join(dir, 'tmp') },
  })
  if (r.status !== 0 && /mount/.test(r.stderr)) return t.skip(`cannot mount here: ${r.stderr.trim()}`)
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop())
  for (const backend of ['native', 'js']) {
    assert.equal(out[backend].now, 'new', `${backend}: restored across the mount`)
    assert.equal(out[backend].kept, 'old', `${backend}: the previous database kept`)
    assert.ok(out[backend].previous.startsWith(path.join(root, 'backups', 'pre-restore')), out[backend].previous)
  }
  assert.deepEqual(fs.readdirSync(path.join(root, 'backups')).filter((n) => n.startsWith('sr-db-')), [], 'no scratch folder left')
})

test('the temps of contained writes (lib/js/temps.js): named after their writer; the sweep removes one only when its writer is gone (a dead pid, or a live pid started over a second after the temp was made); its own, a live writer\'s, a folder and other names are kept', { skip: process.platform !== 'linux', timeout: 30000 }, (t) => {
  const { tempName, tempWriter, sweepDeadTemps } = require('../lib/js/temps')
  const { liveness } = require('../lib/js/process')
  assert.deepEqual(tempWriter('.a.json.sr-4294967295-5999-0.tmp'), { pid: 0xffffffff, madeS: 5 })
  assert.equal(tempWriter('.a.json.sr-4294967296-5999-0.tmp'), null)
  assert.equal(tempWriter('a.json'), null)
  assert.equal(tempWriter(tempName('a.json', 3)).pid, process.pid)

  const live = liveProcess(t)
  const started = liveness(live.pid).startTimeS
  assert.ok(Number.isInteger(started), 'the live writer\'s start time is known (Linux /proc)')
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid
  const dir = tempDir()
  const names = {
    own: tempName('own'),
    live: `.live.sr-${live.pid}-${Date.now()}-0.tmp`,
    // made one second before its writer started (the slack of two start-time readings): kept
    edge: `.edge.sr-${live.pid}-${(started - 1) * 1000}-0.tmp`,
    reused: `.reused.sr-${live.pid}-1000-0.tmp`,
    dead: `.dead.sr-${deadPid}-${Date.now()}-0.tmp`,
    other: 'plain.tmp',
  }
  for (const name of Object.values(names)) fs.writeFileSync(path.join(dir, name), 'x')
  fs.mkdirSync(path.join(dir, `.folder.sr-${deadPid}-1000-0.tmp`))
  assert.equal(sweepDeadTemps(dir), 2)
  const left = [names.own, names.live, names.edge, names.other, `.folder.sr-${deadPid}-1000-0.tmp`].sort()
  assert.deepEqual(fs.readdirSync(dir).sort(), left)
  assert.equal(sweepDeadTemps(path.join(dir, 'missing')), 0)
})

test('the contained calls take the same relative paths on both backends: `.` and empty parts skipped, a root or `..` refused, nothing at all refused, a backslash a plain character on POSIX', { skip: !POSIX, timeout: 30000 }, () => {
  const rels = ['x', './x', 'a//x', 'a/./x/', '\\x', 'a\\b', '/x', '../x', 'a/../x', '..', '', '.']
  const results = {}
  for (const backend of ['native', 'js']) {
    const b = resolveBackend(backend).binding
    results[backend] = rels.map((rel) => {
      const dir = tempDir()
      fs.mkdirSync(path.join(dir, 'a'))
      let outcome
      try {
        b.containedWrite(dir, rel, 'w')
        outcome = 'ok'
      } catch (e) {
        outcome = e.code
      }
      const written = []
      const walk = (d, prefix) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) walk(path.join(d, e.name), `${prefix}${e.name}/`)
          else written.push(`${prefix}${e.name}`)
        }
      }
      walk(dir, '')
      return `${JSON.stringify(rel)}: ${outcome} ${written.join(',')}`
    })
  }
  assert.deepEqual(results.js, results.native)
  assert.deepEqual(results.native.slice(0, 6), ['"x": ok x', '"./x": ok x', '"a//x": ok a/x', '"a/./x/": ok a/x', '"\\\\x": ok \\x', '"a\\\\b": ok a\\b'])
  for (const line of results.native.slice(6, 10)) assert.match(line, /: EPATHESCAPE $/)
  for (const line of results.native.slice(10)) assert.match(line, /: EBADPATH $/)
})

test('the held-folder calls agree on both backends: sub-folders opened, created or made new (one plain name, owner-only), renames between held folders, errors that name the folder, a closed folder refused before anything else', { skip: !POSIX, timeout: 30000 }, () => {
  const results = {}
  for (const backend of ['native', 'js']) {
    const b = resolveBackend(backend).binding
    const dir = tempDir()
    const code = (fn) => {
      try {
        const v = fn()
        return v === true || v === false ? v : 'ok'
      } catch (e) {
        return e.code
      }
    }
    const r = {}
    r.openMissing = code(() => b.heldOpen(dir, 'top', false))
    const top = b.heldOpen(dir, 'top', true)
    r.created = fs.statSync(path.join(dir, 'top')).isDirectory()
    const fresh = b.heldSub(top, 'fresh', 'new')
    r.newMode = (fs.statSync(path.join(dir, 'top', 'fresh')).mode & 0o777).toString(8)
    r.newAgain = code(() => b.heldSub(top, 'fresh', 'new'))
    r.newNested = code(() => b.heldSub(top, 'a/b', 'new'))
    r.newDot = code(() => b.heldSub(top, './c', 'new'))
    // refused as a bad argument (the native binding says ERR_INVALID_ARG_TYPE, the JS one
    // ERR_INVALID_ARG_VALUE)
    r.badHow = /^ERR_INVALID_ARG_/.test(code(() => b.heldSub(top, 'fresh', 'sideways')))
    r.openMissingSub = code(() => b.heldSub(top, 'x/y', 'open'))
    r.createNested = code(() => b.heldSub(top, 'x/y', 'create'))
    r.createdNested = fs.statSync(path.join(dir, 'top', 'x', 'y')).isDirectory()
    r.escape = code(() => b.heldSub(top, '../out', 'create'))
    b.heldWrite(top, 'f', 'data')
    r.renamed = code(() => b.heldRename(top, 'f', fresh, 'g'))
    r.movedContent = fs.readFileSync(path.join(dir, 'top', 'fresh', 'g'), 'utf8')
    r.renameNested = code(() => b.heldRename(fresh, 'g', top, 'x/g'))
    r.renameMissing = code(() => b.heldRename(top, 'gone', fresh, 'h'))
    r.pinned = fs.readFileSync(b.heldPinnedPath(fresh, 'g'), 'utf8')
    try {
      b.heldRead(top, 'missing')
    } catch (e) {
      r.readMissing = e.code
      r.namesTheFolder = e.message.includes(path.join(dir, 'top')) && !e.message.includes('/proc/')
    }
    r.closed = b.heldClose(fresh)
    r.closedAgain = b.heldClose(fresh)
    r.useClosed = code(() => b.heldRead(fresh, 'g'))
    // a closed folder is refused first, whatever else is wrong with the call
    r.closedFirst = [
      code(() => b.heldSub(fresh, 'a/b', 'new')),
      code(() => b.heldSub(fresh, 'a', 'sideways')),
      code(() => b.heldWrite(fresh, '../a', 'x')),
      code(() => b.heldRename(fresh, 'a/b', top, 'c')),
      code(() => b.heldRename(top, 'a/b', fresh, 'c')),
    ]
    b.heldClose(top)
    results[backend] = r
  }
  assert.deepEqual(results.js, results.native)
  assert.deepEqual(results.native, {
    openMissing: 'ENOENT',
    created: true,
    newMode: '700',
    newAgain: 'EEXIST',
    newNested: 'EBADPATH',
    newDot: 'EBADPATH',
    badHow: true,
    openMissingSub: 'ENOENT',
    createNested: 'ok',
    createdNested: true,
    escape: 'EPATHESCAPE',
    renamed: true,
    movedContent: 'data',
    renameNested: 'EBADPATH',
    renameMissing: 'ENOENT',
    pinned: 'data',
    readMissing: 'ENOENT',
    namesTheFolder: true,
    closed: true,
    closedAgain: false,
    useClosed: 'EBADF',
    closedFirst: ['EBADF', 'EBADF', 'EBADF', 'EBADF', 'EBADF'],
  })
})

test('a held call given anything but a held folder refuses it on both backends before using any of its fields: a look-alike object (path, at(), close()) neither renames, writes, removes nor is closed', { skip: !POSIX, timeout: 30000 }, () => {
  for (const backend of ['native', 'js']) {
    const b = resolveBackend(backend).binding
    const dir = tempDir()
    fs.writeFileSync(path.join(dir, 'a'), 'kept')
    let closed = 0
    const fake = { path: dir, fd: null, at: () => dir, close: () => ++closed > 0 }
    const calls = {
      heldWrite: () => b.heldWrite(fake, 'w', 'x'),
      heldRead: () => b.heldRead(fake, 'a'),
      heldList: () => b.heldList(fake, ''),
      heldSub: () => b.heldSub(fake, 's', 'create'),
      heldCopyIn: () => b.heldCopyIn(fake, dir, 'a', 'c'),
      heldRemove: () => b.heldRemove(fake, 'a'),
      heldRenameFrom: () => b.heldRename(fake, 'a', fake, 'b'),
      heldPinnedPath: () => b.heldPinnedPath(fake, 'a'),
      heldClose: () => b.heldClose(fake),
    }
    // the native binding refuses what is not its handle (InvalidArg), the JS one by its code
    const expected = backend === 'native' ? 'InvalidArg' : 'ERR_INVALID_ARG_TYPE'
    for (const [name, call] of Object.entries(calls)) assert.throws(call, (e) => e.code === expected, `${backend} ${name}`)
    assert.deepEqual(fs.readdirSync(dir), ['a'], backend)
    assert.equal(fs.readFileSync(path.join(dir, 'a'), 'utf8'), 'kept')
    assert.equal(closed, 0, backend)
  }
})

test('heldWrite options on both backends: omitted or null is an atomic replace of an existing file, { exclusive: true } refuses an existing name (EEXIST) and creates a new one', { skip: !POSIX, timeout: 30000 }, () => {
  const results = {}
  for (const backend of ['native', 'js']) {
    const b = resolveBackend(backend).binding
    const dir = tempDir()
    const top = b.heldOpen(dir, 'top', true)
    try {
      const code = (fn) => {
        try {
          return fn()
        } catch (e) {
          return e.code
        }
      }
      const read = (name) => fs.readFileSync(path.join(dir, 'top', name), 'utf8')
      const r = {}
      r.first = code(() => b.heldWrite(top, 'f', 'one'))
      r.nullOptions = code(() => b.heldWrite(top, 'f', 'two', null))
      r.afterNull = read('f')
      r.exclusiveExisting = code(() => b.heldWrite(top, 'f', 'three', { exclusive: true }))
      r.afterExclusive = read('f')
      r.exclusiveNew = code(() => b.heldWrite(top, 'g', 'new', { exclusive: true, fsync: false }))
      r.created = read('g')
      results[backend] = r
    } finally {
      b.heldClose(top)
    }
  }
  assert.deepEqual(results.native, { first: true, nullOptions: true, afterNull: 'two', exclusiveExisting: 'EEXIST', afterExclusive: 'two', exclusiveNew: true, created: 'new' })
  assert.deepEqual(results.js, results.native)
})

// The temp-dir sweep of database scratch folders (lib/js/scratch.js, run by create and cleanup
// for both backends) removes a folder only when all of this holds: named like ours, a real
// folder (lstat), owned by this user, and its owner (pid, start time in the name) dead.
test('the scratch sweep removes only real folders named like ours, owned by this user, whose owner is dead: a live owner\'s folder, a file and a link of that name, other names and (as root) another user\'s folder are left', { skip: process.platform !== 'linux', timeout: 30000 }, () => {
  const { sweepScratch } = require('../lib/js/scratch')
  const { ownStartTimeS } = require('../lib/js/process')
  const dir = tempDir('sweep-')
  const dead = spawnSync('true').pid
  const name = (tag) => `sr-db-${dead}-1-${tag}`
  const kept = []
  fs.mkdirSync(path.join(dir, name('mineaa')), { mode: 0o700 })
  fs.writeFileSync(path.join(dir, name('mineaa'), 'db'), 'x')
  kept.push(`sr-db-${process.pid}-${ownStartTimeS()}-liveaa`, 'sr-db-notours', name('short'))
  for (const k of kept) fs.mkdirSync(path.join(dir, k), { mode: 0o700 })
  fs.writeFileSync(path.join(dir, name('fileaa')), 'x')
  fs.symlinkSync(dir, path.join(dir, name('linkaa')))
  kept.push(name('fileaa'), name('linkaa'))
  if (isRoot) {
    // another user's folder of our naming, its owner dead: not ours to remove
    fs.mkdirSync(path.join(dir, name('otheraa')), { mode: 0o700 })
    fs.chownSync(path.join(dir, name('otheraa')), 65534, 65534)
    kept.push(name('otheraa'))
  }
  assert.deepEqual(sweepScratch(dir), [name('mineaa')])
  assert.deepEqual(fs.readdirSync(dir).sort(), kept.sort())
  assert.deepEqual(sweepScratch(path.join(dir, 'missing')), [])
})

test('a link or a file on the way is refused the same on both backends, code and message: a held open or sub-folder through a link (EPATHESCAPE) or a file (ENOTDIR), a base that is a link (EUNSAFEDIR, also one named by digits alone, as a pinned /proc path ends), and nothing lands outside', { skip: process.platform !== 'linux', timeout: 30000 }, () => {
  const dir = tempDir('on-the-way-')
  fs.mkdirSync(path.join(dir, 'real'))
  fs.mkdirSync(path.join(dir, 'outside'))
  fs.symlinkSync(path.join(dir, 'outside'), path.join(dir, 'real', 'link'))
  fs.writeFileSync(path.join(dir, 'real', 'file'), 'x')
  fs.symlinkSync(path.join(dir, 'outside'), path.join(dir, 'linkbase'))
  // a relative base of digits only: the JS backend takes `/proc/<pid>/fd/<n>` (a held folder's
  // pinned path) as the folder itself, and must not take any other path ending in digits so
  const digits = '1'.repeat(40)
  fs.symlinkSync(path.join(dir, 'outside'), path.join(dir, digits))
  const results = {}
  const cwd = process.cwd()
  process.chdir(dir)
  try {
    for (const backend of ['native', 'js']) {
      const b = resolveBackend(backend).binding
      const outcome = (fn) => {
        try {
          fn()
          return 'ok'
        } catch (e) {
          return `${e.code} ${e.message.split(dir).join('<dir>')}`
        }
      }
      const top = b.heldOpen(dir, 'real', false)
      try {
        results[backend] = {
          openThroughLink: outcome(() => b.heldOpen(dir, 'real/link/x', true)),
          openLink: outcome(() => b.heldOpen(dir, 'real/link', false)),
          openFile: outcome(() => b.heldOpen(dir, 'real/file', false)),
          openThroughFile: outcome(() => b.heldOpen(dir, 'real/file/x', true)),
          subLink: outcome(() => b.heldSub(top, 'link', 'open')),
          subFile: outcome(() => b.heldSub(top, 'file', 'open')),
          subThroughLink: outcome(() => b.heldSub(top, 'link/y', 'create')),
          digitsBase: outcome(() => b.containedWrite(digits, 'w', 'x')),
          linkBase: outcome(() => b.containedWrite(path.join(dir, 'linkbase'), 'w', 'x')),
        }
      } finally {
        b.heldClose(top)
      }
    }
  } finally {
    process.chdir(cwd)
  }
  const link = 'EPATHESCAPE Refusing path <dir>/real/link: it goes through a symbolic link'
  const file = 'ENOTDIR Cannot open <dir>/real/file: ENOTDIR: not a directory'
  assert.deepEqual(results.native, {
    openThroughLink: link,
    openLink: link,
    openFile: file,
    openThroughFile: file,
    subLink: link,
    subFile: file,
    subThroughLink: link,
    digitsBase: `EUNSAFEDIR Refusing directory ${digits}: it is a symbolic link`,
    linkBase: 'EUNSAFEDIR Refusing directory <dir>/linkbase: it is a symbolic link',
  })
  assert.deepEqual(results.js, results.native)
  assert.deepEqual(fs.readdirSync(path.join(dir, 'outside')), [])
})

// A folder the caller may not write in: making a folder on the way fails with the OS's EACCES,
// reported as such ('Cannot create ...'), never mistaken for a lost race (EEXIST, which the walk
// takes as made) nor for a missing folder. A 0555 folder, written from a child: as root, one
// without CAP_DAC_OVERRIDE (setpriv), so that it still reads the tree wherever it lies.
test('a folder on the way that cannot be made is EACCES, the same on both backends: contained writes and mkdirs and held opens that create', { skip: process.platform !== 'linux' || (isRoot && !fs.existsSync('/usr/bin/setpriv')), timeout: 30000 }, () => {
  const base = tempDir('no-write-')
  fs.chmodSync(base, 0o555)
  const script = `const { resolveBackend } = require(${JSON.stringify(path.join(ROOT, 'lib', 'backend'))})
const base = ${JSON.stringify(base)}
const out = {}
for (const backend of ['native', 'js']) {
  const b = resolveBackend(backend).binding
  const outcome = (fn) => { try { fn(); return 'ok' } catch (e) { return e.code + ' ' + e.message.split(base).join('<base>') } }
  out[backend] = { write: outcome(() => b.containedWrite(base, 'sub/x', 'data')), mkdir: outcome(() => b.containedMkdir(base, 'sub/deeper', false)), held: outcome(() => b.heldOpen(base, 'sub', true)) }
}
process.stdout.write(JSON.stringify(out))`
  const [command, args] = isRoot ? ['setpriv', ['--bounding-set=-dac_override', process.execPath, '-e', script]] : [process.execPath, ['-e', script]]
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 20000 })
  assert.equal(r.status, 0, r.stderr)
  const results = JSON.parse(r.stdout)
  const refused = 'EACCES Cannot create <base>/sub: EACCES: permission denied'
  assert.deepEqual(results.native, { write: refused, mkdir: refused, held: refused })
  assert.deepEqual(results.js, results.native)
  assert.deepEqual(fs.readdirSync(base), [])
})

test('a bounded read takes a file of exactly maxBytes whole and refuses one byte more (EFBIG), the same on both backends', { timeout: 30000 }, () => {
  const results = {}
  for (const backend of ['native', 'js']) {
    const b = resolveBackend(backend).binding
    const dir = tempDir()
    fs.writeFileSync(path.join(dir, 'ten'), '0123456789')
    fs.writeFileSync(path.join(dir, 'empty'), '')
    const read = (rel, max) => {
      try {
        return Buffer.from(b.containedRead(dir, rel, max)).toString()
      } catch (e) {
        return e.code
      }
    }
    // a bound below 0 or NaN is 0, a fraction is rounded down (as napi hands the native one a u64)
    results[backend] = [read('ten', 10), read('ten', 11), read('ten', 9), read('empty', 0), read('ten', 0), read('ten', -1), read('empty', -1), read('ten', Number.NaN), read('ten', 10.9), read('ten', 9.9)]
    // the refusal as it is, not wrapped as a failed read
    assert.throws(() => b.containedRead(dir, 'ten', 9), { code: 'EFBIG', message: `Refusing ${path.join(dir, 'ten')}: larger than 9 bytes` })
  }
  assert.deepEqual(results.native, ['0123456789', '0123456789', 'EFBIG', '', 'EFBIG', 'EFBIG', '', 'EFBIG', '0123456789', 'EFBIG'])
  assert.deepEqual(results.js, results.native)
})

test('a contained write whose fsync or rename the OS refuses fails at once with that errno and leaves no temp file (strace injects EIO), the same on both backends', { skip: (process.platform !== 'linux' || !hasCommand('strace')) && 'needs strace on Linux', timeout: 60000 }, () => {
  const results = {}
  for (const backend of ['native', 'js']) {
    results[backend] = {}
    for (const call of ['fsync', 'rename']) {
      const dir = tempDir()
      fs.writeFileSync(path.join(dir, 'kept.json'), 'before\n')
      const log = path.join(tempDir(), 'strace.log')
      const script = `
        const b = require(${JSON.stringify(path.join(ROOT, 'lib/backend'))}).resolveBackend(${JSON.stringify(backend)}).binding
        try { b.containedWrite(${JSON.stringify(dir)}, 'kept.json', 'after\\n'); process.stdout.write('written') } catch (err) { process.stdout.write(err.code) }`
      const traced = call === 'fsync' ? 'fsync,fdatasync' : 'rename,renameat,renameat2'
      const r = spawnSync('strace', ['-f', '-qq', '-o', log, '-e', `trace=${traced}`, '-e', `inject=${traced}:error=EIO`, process.execPath, '-e', script], { encoding: 'utf8', ...SYNC_CHILD })
      assert.equal(r.status, 0, r.stderr)
      const attempts = fs.readFileSync(log, 'utf8').split('\n').filter((line) => line.includes('(INJECTED)')).length
      results[backend][call] = { code: r.stdout, attempts, left: fs.readdirSync(dir), kept: fs.readFileSync(path.join(dir, 'kept.json'), 'utf8') }
    }
  }
  const failed = { code: 'EIO', attempts: 1, left: ['kept.json'], kept: 'before\n' }
  assert.deepEqual(results.native, { fsync: failed, rename: failed })
  assert.deepEqual(results.js, results.native)
})

test('the JS contained write takes the next temp name while one is taken, 100 times at most, then fails with EEXIST, writing nothing (lib/js/contained.js; the clock held still so that its temp names can be taken first)', () => {
  const contained = require('../lib/js/contained')
  const { tempName } = require('../lib/js/temps')
  const dir = tempDir()
  const take = (attempts) => {
    for (let i = 0; i < attempts; i++) fs.writeFileSync(path.join(dir, tempName('t.json', i)), 'taken')
  }
  const now = Date.now
  Date.now = () => 1_000_000
  try {
    take(100) // the names of attempts 0-99: attempt 100 is free
    contained.containedWrite(dir, 't.json', 'one')
    take(101) // and 100 too
    assert.throws(() => contained.containedWrite(dir, 't.json', 'two'), { code: 'EEXIST' })
  } finally {
    Date.now = now
  }
  assert.equal(fs.readFileSync(path.join(dir, 't.json'), 'utf8'), 'one')
  assert.equal(fs.readdirSync(dir).length, 102)
})

test('a held folder\'s base must be a real folder: a link there is EUNSAFEDIR, none ENOENT, a file on the way ENOTDIR, each naming the base, the same on both backends', { timeout: 30000 }, () => {
  const results = onBoth((backend, dir) => {
    const b = resolveBackend(backend).binding
    fs.mkdirSync(path.join(dir, 'real'))
    fs.symlinkSync('real', path.join(dir, 'link'))
    fs.writeFileSync(path.join(dir, 'file'), 'x')
    const answers = ['link', 'missing', 'file/sub'].map((base) => {
      try {
        b.heldOpen(path.join(dir, base), 'x', true).close()
        return 'held'
      } catch (err) {
        return `${err.code} ${err.message.replace(dir, '<dir>')}`
      }
    })
    assert.deepEqual(fs.readdirSync(path.join(dir, 'real')), [])
    return answers
  })
  assert.deepEqual(results.native, [
    'EUNSAFEDIR Refusing directory <dir>/link: it is a symbolic link',
    'ENOENT Cannot use directory <dir>/missing: ENOENT: no such file or directory',
    'ENOTDIR Cannot use directory <dir>/file/sub: ENOTDIR: not a directory',
  ])
  assert.deepEqual(results.js, results.native)
})

test('a contained remove says whether it removed something: a file, a folder with its content, then nothing there, the same on both backends', { timeout: 30000 }, () => {
  const results = onBoth((backend, dir) => {
    const b = resolveBackend(backend).binding
    fs.writeFileSync(path.join(dir, 'f'), 'x')
    fs.mkdirSync(path.join(dir, 'sub/deep'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'sub/deep/g'), 'y')
    return [b.containedRemove(dir, 'missing'), b.containedRemove(dir, 'f'), b.containedRemove(dir, 'sub'), b.containedRemove(dir, 'f'), fs.readdirSync(dir)]
  })
  assert.deepEqual(results.native, [false, true, true, false, []])
  assert.deepEqual(results.js, results.native)
})

test('contained append, remove and copy make no missing parent folder of what they read or remove, and answer as they do on both backends (an append true, a copy its byte count, a copy onto a name that exists EEXIST with that file unchanged)', { timeout: 30000 }, () => {
  const outcome = (fn) => {
    try {
      return fn()
    } catch (err) {
      return err.code
    }
  }
  const results = onBoth((backend, dir) => {
    const b = resolveBackend(backend).binding
    fs.writeFileSync(path.join(dir, 'src'), 'data')
    fs.writeFileSync(path.join(dir, 'dest'), 'old')
    return {
      append: outcome(() => b.containedAppend(dir, 'log', 'x')),
      appendBelowNone: outcome(() => b.containedAppend(dir, 'none1/log', 'x')),
      removeBelowNone: outcome(() => b.containedRemove(dir, 'none2/x')),
      copyFromBelowNone: outcome(() => b.containedCopy(dir, 'none3/x', dir, 'y')),
      copyOntoExisting: outcome(() => b.containedCopy(dir, 'src', dir, 'dest')),
      copyIntoNewFolder: outcome(() => b.containedCopy(dir, 'src', dir, 'new/copy')),
      mkdirNotPrivate: outcome(() => b.containedMkdir(dir, 'made', false)),
      names: fs.readdirSync(dir).sort(),
      dest: fs.readFileSync(path.join(dir, 'dest'), 'utf8'),
    }
  })
  assert.deepEqual(results.native, {
    append: true,
    appendBelowNone: 'ENOENT',
    removeBelowNone: false,
    copyFromBelowNone: 'ENOENT',
    copyOntoExisting: 'EEXIST',
    copyIntoNewFolder: 4,
    mkdirNotPrivate: false,
    names: ['dest', 'log', 'made', 'new', 'src'],
    dest: 'old',
  })
  assert.deepEqual(results.js, results.native)
})

test('a held folder is the folder itself: renamed and its old name made a symlink to another folder after it was held, writes, lists and sub-folders still land in it, never through the link (Linux: the native handle and the JS /proc descriptor alike)', { skip: process.platform !== 'linux', timeout: 30000 }, () => {
  const results = {}
  for (const backend of ['native', 'js']) {
    const b = resolveBackend(backend).binding
    const dir = tempDir()
    const held = b.heldOpen(dir, 'top', true)
    try {
      fs.mkdirSync(path.join(dir, 'victim'))
      fs.renameSync(path.join(dir, 'top'), path.join(dir, 'moved'))
      fs.symlinkSync(path.join(dir, 'victim'), path.join(dir, 'top'))
      b.heldWrite(held, 'f', 'data')
      b.heldSub(held, 'sub', 'create')
      results[backend] = {
        listed: b.heldList(held, '').map((e) => `${e.name}:${e.type}`),
        read: Buffer.from(b.heldRead(held, 'f')).toString(),
        moved: fs.readdirSync(path.join(dir, 'moved')).sort(),
        victim: fs.readdirSync(path.join(dir, 'victim')),
      }
    } finally {
      b.heldClose(held)
    }
  }
  assert.deepEqual(results.native, { listed: ['f:file', 'sub:directory'], read: 'data', moved: ['f', 'sub'], victim: [] })
  assert.deepEqual(results.js, results.native)
})

test('liveness and isDead (lib/js/process.js, behind the JS lock and scratch sweeps): a live child is alive with its start time; a zombie and a reaped pid are not alive; pid 0, negative and fractional pids are never judged dead', { skip: process.platform !== 'linux', timeout: 30000 }, async (t) => {
  const { liveness, isDead } = require('../lib/js/process')
  const { spawn } = require('node:child_process')
  const reaped = spawnSync('true').pid
  // `sleep 0 &` exits at once; its parent then execs `sleep 30`, which never reaps it: a zombie
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] })
  t.after(() => parent.kill('SIGKILL'))
  const zombie = Number((await new Promise((resolve) => parent.stdout.once('data', resolve))).toString().trim())
  const state = () => fs.readFileSync(`/proc/${zombie}/stat`, 'utf8').split(') ')[1][0]
  for (let i = 0; i < 200 && state() !== 'Z'; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(state(), 'Z')
  const now = Date.now() / 1000
  const live = liveness(parent.pid)
  assert.equal(live.alive, true)
  assert.ok(live.startTimeS >= Math.floor(now) - 5 && live.startTimeS <= now + 1, `start ${live.startTimeS}, now ${now}`)
  // the scratch sweep's owner test: the same owner within the two seconds start times read
  // twice may differ by, another process past them, unknown (0) never another
  const { ownerDead } = require('../lib/js/scratch')
  const at = live.startTimeS
  assert.deepEqual([at - 3, at - 2, at, at + 2, at + 3, 0].map((start) => ownerDead(parent.pid, start)), [true, false, false, false, true, false])
  assert.equal(ownerDead(zombie, at), true)
  assert.equal(ownerDead(process.pid, 1), false)
  assert.deepEqual(liveness(zombie), { alive: false })
  assert.deepEqual(liveness(reaped), { alive: false })
  assert.equal(isDead(reaped), true)
  for (const pid of [0, -1, -reaped, 1.5]) {
    assert.deepEqual(liveness(pid), { alive: false }, `liveness(${pid})`)
    assert.equal(isDead(pid), false, `isDead(${pid})`)
  }
})
