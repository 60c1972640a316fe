// Syscall fault injection with strace: every openat, write, fsync, rename, link and unlink
// that an operation makes on a file or folder is failed in turn with ENOSPC, EIO,
// EACCES and EROFS (`-e inject=SYSCALL:error=ERRNO:when=N`). The operation runs in a process
// of its own; strace attaches to that process's threads by thread id, without -f, so a
// program the operation starts (git, sqlite3, ps) is never traced and no fault lands in it.
// strace counts `when=N` per thread: the probe run notes whether the call was the main
// thread's or a worker's, and the injection traces only that kind of thread. Calls on the
// event loop's pipes and eventfds (seen with -y) are not injected. The injection run's own trace must show exactly
// one injected call, on the same file or folder as the probe's, else it is run again (up to
// three times) and then counted as missed, not as an outcome. Each landed injection is
// classified:
//   failed cleanly   the error's code is the errno, the target is unchanged, nothing is left
//   unaffected       the operation succeeded with the right result anyway (the faulted call
//                    was a best-effort step, such as a sweep); also when it left a temp that
//                    the next call sweeps
//   committed        the fault hit the open or fsync of a folder after the rename: the new
//                    state is whole and in place and the fault is still reported as the
//                    error (durability unconfirmed)
//   VIOLATION        anything else
// and the next call, without faults, must succeed.
const fs = require('node:fs')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { BACKENDS, tempDir, table, listing, ROOT } = require('../lib')

const SYSCALLS = ['openat', 'write', 'fsync', 'rename', 'renameat', 'renameat2', 'link', 'linkat', 'unlink', 'unlinkat']
const ERRNOS = ['ENOSPC', 'EIO', 'EACCES', 'EROFS']
const HANG_MS = 60000
const lib = (name) => JSON.stringify(path.join(ROOT, 'lib', name))

/** The operations under test. `code` runs between the markers, in a child under strace. */
const OPERATIONS = [
  {
    name: 'atomicWrite',
    prepare(dir) {
      const target = path.join(dir, 'tracker.json')
      fs.writeFileSync(target, '{"old":true}')
      return { target, watch: dir }
    },
    code: (c) => `ops.atomicWrite(${JSON.stringify(c.target)}, '{"new":true}')`,
    state: (c) => ({ content: fs.readFileSync(c.target, 'utf8'), files: listing(c.watch) }),
    isOld: (s) => s.content === '{"old":true}' && s.files.join() === 'tracker.json',
    isNew: (s) => s.content === '{"new":true}' && s.files.join() === 'tracker.json',
    again: (ops, c) => ops.atomicWrite(c.target, '{"again":true}') === true,
  },
  {
    name: 'atomicWriteAsync',
    env: { UV_THREADPOOL_SIZE: '1' },
    prepare(dir) {
      const target = path.join(dir, 'tracker.json')
      fs.writeFileSync(target, '{"old":true}')
      return { target, watch: dir }
    },
    code: (c) => `await ops.atomicWriteAsync(${JSON.stringify(c.target)}, '{"new":true}')`,
    state: (c) => ({ content: fs.readFileSync(c.target, 'utf8'), files: listing(c.watch) }),
    isOld: (s) => s.content === '{"old":true}' && s.files.join() === 'tracker.json',
    isNew: (s) => s.content === '{"new":true}' && s.files.join() === 'tracker.json',
    again: (ops, c) => ops.atomicWrite(c.target, '{"again":true}') === true,
  },
  {
    name: 'backupFile',
    prepare(dir) {
      const source = path.join(dir, 'tracker.json')
      fs.writeFileSync(source, '{"v":1}')
      const backupDir = path.join(dir, 'backups')
      fs.mkdirSync(backupDir, { mode: 0o700 })
      return { source, backupDir, watch: backupDir }
    },
    options: (c) => ({ backupDir: c.backupDir }),
    code: (c) => `ops.backupFile(${JSON.stringify(c.source)}, 'torture')`,
    state: (c) => ({
      source: fs.readFileSync(c.source, 'utf8'),
      files: listing(c.backupDir),
      complete: listing(c.backupDir).every((f) => fs.readFileSync(path.join(c.backupDir, f), 'utf8') === '{"v":1}'),
    }),
    isOld: (s) => s.source === '{"v":1}' && s.files.length === 0,
    isNew: (s) => s.source === '{"v":1}' && s.files.length === 1 && /\.torture\..*\.bak$/.test(s.files[0]) && s.complete,
    // backupFile reports an OS failure the legacy way: null and a logged message.
    failedValue: (value) => value === null,
    again: (ops, c) => typeof ops.backupFile(c.source, 'again') === 'string',
  },
  ...['free', 'dead holder'].map((variant) => ({
    name: `acquireLock (${variant})`,
    prepare(dir) {
      const lockDir = path.join(dir, 'locks')
      fs.mkdirSync(lockDir, { mode: 0o700 })
      let dead = null
      if (variant === 'dead holder') {
        // a legacy-format record of a process that has exited: taken over at once
        dead = JSON.stringify({ pid: spawnSync('true').pid, timestamp: new Date().toISOString(), identifier: 'job' }, null, 2)
        fs.writeFileSync(path.join(lockDir, 'job.lock'), dead)
      }
      return { lockDir, dead, watch: lockDir }
    },
    options: (c) => ({ lockDir: c.lockDir }),
    // the child releases every lock at exit: the value is the record it held
    code: () => `fs.readFileSync(ops.acquireLock('job', 2000), 'utf8')`,
    state: (c) => ({
      files: listing(c.lockDir),
      lock: fs.existsSync(path.join(c.lockDir, 'job.lock')) ? fs.readFileSync(path.join(c.lockDir, 'job.lock'), 'utf8') : null,
    }),
    // unchanged, or (a failure after the takeover) the dead holder's lock gone and no other file
    isOld: (s, c) => s.files.length === 0 || (s.files.join() === 'job.lock' && s.lock === c.dead),
    isNew: (s) => s.files.length === 0,
    heldValue: (value) => typeof value === 'string' && JSON.parse(value).identifier === 'job',
    // the removal of the takeover marker is best-effort once the lock is ours: a failed unlink
    // leaves it, and later takeovers skip a dead marker (the next generation)
    markerLeft: (f) => f.startsWith('.job.lock.takeover.'),
    again: (ops) => typeof ops.acquireLock('job', 2000) === 'string' && ops.releaseLock('job') === true,
  })),
  {
    // restoreFromBackup of a small set (database and config; the code part runs git, whose
    // syscalls are not ours), without the pre-restore backup, after the files changed
    name: 'restoreFromBackup',
    errnos: (process.env.TORTURE_RESTORE_ERRNOS || 'ENOSPC,EIO').split(','),
    // a restore makes many calls (hashing the set, the lock, each file): an even sample of them
    sample: Number(process.env.TORTURE_RESTORE_POSITIONS || 16),
    prepare(dir) {
      const { root, id } = restoreTemplate()
      const copy = path.join(dir, 'project')
      fs.cpSync(root, copy, { recursive: true, verbatimSymlinks: true })
      for (const [rel, text] of RESTORE_CHANGES) fs.writeFileSync(path.join(copy, rel), text)
      return { root: copy, id, lockDir: path.join(dir, 'locks'), watch: copy }
    },
    setup: (c, backend) => restoreSetup(c, backend),
    code: (c) => `await bs.restoreFromBackup(${JSON.stringify(c.id)}, { restoreCode: false, skipCurrentBackup: true })`,
    state: (c) => ({
      files: Object.fromEntries(RESTORE_CHANGES.map(([rel]) => [rel, fs.readFileSync(path.join(c.root, rel), 'utf8')])),
      temps: restoreTemps(c.root),
      tracker: (() => {
        try {
          return JSON.parse(fs.readFileSync(path.join(c.root, RESTORE_TRACKER), 'utf8')).backupStrategy.restorePoints.length
        } catch {
          return -1
        }
      })(),
    }),
    // every file whole (changed = before the restore, else the backed-up content), no temp,
    // the tracker parses with its restore point
    isOld: (s) => s.tracker >= 1 && s.temps.length === 0 && RESTORE_CHANGES.every(([rel, text]) => s.files[rel] === text),
    isNew: (s) => s.tracker >= 1 && s.temps.length === 0 && RESTORE_CHANGES.every(([rel]) => s.files[rel] === restoreTemplate().original[rel]),
    isPartial: (s) => s.tracker >= 1 && s.temps.length === 0 && RESTORE_CHANGES.every(([rel, text]) => s.files[rel] === text || s.files[rel] === restoreTemplate().original[rel]),
    again: (ops, c) => {
      const script = `${restoreSetup(c, ops.backend)}; bs.restoreFromBackup(${JSON.stringify(c.id)}, { restoreCode: false, skipCurrentBackup: true }).catch(() => process.exit(1))`
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
      return r.status === 0 && RESTORE_CHANGES.every(([rel]) => fs.readFileSync(path.join(c.root, rel), 'utf8') === restoreTemplate().original[rel])
    },
  },
]

// ---- the restore's small set, made once and copied for each injection --------------------

const RESTORE_TRACKER = 'packages/system-api/phase-tracker.json'
const RESTORE_CHANGES = [
  ['package.json', '{"name":"changed"}\n'],
  ['.env', 'TOKEN=changed\n'],
]
const restoreSetup = (c, backend) =>
  `const BackupSystem = require(${lib('backup-system')}); const bs = new BackupSystem({ backend: ${JSON.stringify(backend)}, root: ${JSON.stringify(c.root)}, lockDir: ${JSON.stringify(c.lockDir)}, quiet: true })`
let template = null
function restoreTemplate() {
  if (template) return template
  const dir = tempDir('restore-template')
  const root = path.join(dir, 'project')
  fs.mkdirSync(path.join(root, 'packages/system-api'), { recursive: true })
  const tracker = { sessionInfo: { sessionId: 's', currentPhase: 2, currentWeek: 1, lastUpdate: '2025-01-01T00:00:00.000Z' }, baselineStatus: { phase1Complete: true, testsPassingBaseline: '9/9', agentsLoaded: 1 }, phases: {}, backupStrategy: { restorePoints: [] } }
  fs.writeFileSync(path.join(root, RESTORE_TRACKER), JSON.stringify(tracker, null, 2))
  fs.writeFileSync(path.join(root, 'package.json'), '{"name":"demo"}\n')
  fs.writeFileSync(path.join(root, '.env'), 'TOKEN=original\n')
  spawnSync('sqlite3', [path.join(root, 'database.sqlite'), "CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('one');"])
  const script = `const BackupSystem = require(${lib('backup-system')})
    new BackupSystem({ root: ${JSON.stringify(root)}, lockDir: ${JSON.stringify(path.join(dir, 'locks'))}, quiet: true })
      .createFullBackup('set').then((id) => process.stdout.write(id))`
  const made = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  if (made.status !== 0) throw new Error(`cannot make the restore set: ${made.stderr}`)
  const original = Object.fromEntries(RESTORE_CHANGES.map(([rel]) => [rel, fs.readFileSync(path.join(root, rel), 'utf8')]))
  template = { root, id: made.stdout.trim(), original }
  return template
}

/** Temp files of ours anywhere under the project (the `.pre-restore.<ms>` copies are kept on purpose). */
function restoreTemps(root) {
  const found = []
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (/\.sr-tmp-|\.tmp\.\d/.test(e.name)) found.push(path.relative(root, p))
    }
  }
  walk(root)
  return found
}

// The child loads everything, prints "ready", and waits for "go" on stdin: strace attaches
// in between, so each thread's syscall count starts at the operation, not at Node's start-up.
// The result leaves through symlink(2), a syscall no injection touches.
function childScript(op, ctx, backend, resultLink) {
  const options = op.options ? JSON.stringify(op.options(ctx)) : '{}'
  return `
const fs = require('fs')
const { SafeFileOperations } = require(${lib('safe-file-operations')})
const ops = new SafeFileOperations({ backend: ${JSON.stringify(backend)}, ...${options} })
${op.setup ? op.setup(ctx, backend) : ''}
console.error = () => {}
// start the thread pool's threads now, so that strace finds every thread when it attaches
Promise.all(Array.from({ length: 4 }, () => fs.promises.stat('/'))).then(() => process.stdout.write('ready\\n'))
process.stdin.once('data', async () => {
  process.stdin.pause()
  try { fs.statSync('/__sr_marker_begin__') } catch {}
  let out
  try { out = { ok: true, value: ${op.code(ctx)} } } catch (err) { out = { ok: false, code: err.code, message: err.message } }
  try { fs.statSync('/__sr_marker_end__') } catch {}
  fs.symlinkSync(JSON.stringify(out).slice(0, 4000), ${JSON.stringify(resultLink)})
  process.exit(0)
})`
}

/** The thread ids of process `pid`: the main thread is the one whose id is `pid`. */
function threadsOf(pid) {
  return fs.readdirSync(`/proc/${pid}/task`).map(Number)
}

/**
 * Run the child; once it is ready attach strace with `straceArgs` to its threads of `role`
 * ('main', 'worker' or 'all'), each by id and without -f (nothing it starts is traced), and
 * return its result.
 */
function underStrace(op, ctx, backend, straceArgs, role = 'all') {
  const resultLink = path.join(ctx.scratch, `result-${Date.now()}-${Math.random()}`)
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', childScript(op, ctx, backend, resultLink)], {
      env: { ...process.env, ...op.env },
      stdio: ['pipe', 'pipe', 'ignore'],
    })
    let tracer = null
    child.stdout.once('data', () => {
      const tids = threadsOf(child.pid).filter((t) => role === 'all' || (role === 'main') === (t === child.pid))
      tracer = spawn('strace', [...tids.flatMap((t) => ['-p', String(t)]), ...straceArgs], { stdio: ['ignore', 'ignore', 'pipe'] })
      let said = ''
      let started = false
      tracer.stderr.on('data', (d) => {
        said += d
        // strace says "Process N attached" for each thread: go once all of them are in
        if (!started && (said.match(/attached/g) || []).length >= tids.length) {
          started = true
          setTimeout(() => child.stdin.write('go\n'), 50)
        }
      })
    })
    // a child that hangs under a fault is killed and counted (a deadlock is a violation)
    const watchdog = setTimeout(() => {
      hung = true
      child.kill('SIGKILL')
    }, HANG_MS)
    let hung = false
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog)
      const finish = () => {
        let out
        try {
          out = JSON.parse(fs.readlinkSync(resultLink))
        } catch {
          out = { crashed: true, hung, code, signal }
        }
        resolve({ out, pid: child.pid })
      }
      if (tracer && tracer.exitCode === null) tracer.on('exit', finish)
      else finish()
    })
  })
}

/**
 * Trace once and list the calls between the markers: each as (syscall, N-th call of its
 * thread since attach, whether that thread is the main one).
 */
async function positions(op, backend) {
  const dir = tempDir('strace-probe')
  const ctx = { ...op.prepare(dir), scratch: tempDir('strace-scratch') }
  const log = path.join(ctx.scratch, 'trace.log')
  const { pid } = await underStrace(op, ctx, backend, ['-y', '-o', log, '-e', `trace=${SYSCALLS.join(',')},statx,newfstatat`])
  const counts = new Map()
  const found = []
  let elsewhere = 0
  let inside = false
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    const m = /^(\d+)\s+(\w+)\(/.exec(line)
    if (!m) continue
    const [, tid, name] = m
    if (line.includes('__sr_marker_begin__')) inside = true
    if (line.includes('__sr_marker_end__')) inside = false
    if (!SYSCALLS.includes(name)) continue
    const key = `${tid}:${name}`
    counts.set(key, (counts.get(key) || 0) + 1)
    if (!inside) continue
    // calls on files and folders only, not on the event loop's pipes and eventfds
    if (!signature(line, dir)) {
      elsewhere++
      continue
    }
    found.push({ syscall: name, when: counts.get(key), role: Number(tid) === pid ? 'main' : 'worker', line: line.slice(0, 140), signature: signature(line, dir) })
  }
  fs.rmSync(dir, { recursive: true, force: true })
  fs.rmSync(ctx.scratch, { recursive: true, force: true })
  return { found, elsewhere }
}

/** The calls that name their file by descriptor only (the others by path, maybe below a dirfd). */
const BY_FD = ['write', 'fsync']

/**
 * The files and folders a traced call (`strace -y` line) touches: the paths of its
 * descriptors (`5</a/b>`; not AT_FDCWD's), and for path calls the names it passes.
 */
function touchedBy(line) {
  // the call without its result (`= 18</a/b>` names the descriptor an openat returned)
  const end = line.lastIndexOf(') = ')
  const m = /^(?:\d+\s+)?(\w+)\((.*)$/.exec(end > 0 ? line.slice(0, end) : line)
  if (!m) return null
  const [, name, rest] = m
  const fds = [...rest.matchAll(/\b\d+<([^>]*)>/g)].map((t) => t[1])
  const names = BY_FD.includes(name) ? [] : [...rest.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((t) => t[1])
  return { name, paths: [...fds, ...names] }
}

/** A part of a name that differs between runs: it holds a digit (pids, times, ids), or mixes cases (random letters). */
const RANDOM_WORD = /\d|[a-z][A-Z]|[A-Z]{2}[a-z]/

/**
 * What a traced call touches, with the run's own folder and every random or numeric part of
 * a name made generic, so that the same call of two runs compares equal; null for a call on
 * the event loop's own descriptors (pipes, eventfds, sockets: their writes cannot fail with
 * ENOSPC or EIO, and Node aborts when they fail, whatever the operation does).
 */
function signature(line, dir) {
  const t = touchedBy(line)
  if (!t || t.paths.length === 0 || t.paths.some((p) => /^(pipe|socket|anon_inode):/.test(p))) return null
  const generic = t.paths.map((p) => (p.startsWith(dir) ? p.slice(dir.length) : p).replace(/[^./]+/g, (word) => (RANDOM_WORD.test(word) ? '#' : word)))
  return `${t.name} ${generic.join(' ')}`
}

async function injectOnce(op, backend, pos, errno) {
  const dir = tempDir('strace')
  const ctx = { ...op.prepare(dir), scratch: tempDir('strace-scratch') }
  const log = path.join(ctx.scratch, 'inject.log')
  const { out } = await underStrace(
    op,
    ctx,
    backend,
    ['-y', '-o', log, '-e', `trace=${pos.syscall}`, '-e', `inject=${pos.syscall}:error=${errno}:when=${pos.when}`],
    pos.role,
  )
  const injected = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('(INJECTED)'))
  const state = op.state(ctx)
  // the call that failed must be the probe's (same syscall on the same file or folder): when
  // the numbering of this run differed, the fault hit another call, and says nothing
  const landed = injected.length === 1 && signature(injected[0], dir) === pos.signature
  // the directory sync after the commit (the open or fsync of the folder, not of a file)
  const dirSync = landed && ['openat', 'fsync'].includes(pos.syscall) && isDirectory(injected[0])
  const failedAsExpected = out.ok === false ? out.code === errno : Boolean(op.failedValue && out.ok && op.failedValue(out.value))
  let outcome
  if (!landed) outcome = 'missed'
  else if (out.crashed) outcome = 'VIOLATION'
  else if (out.ok && op.heldValue && !op.heldValue(out.value)) outcome = 'VIOLATION'
  else if (failedAsExpected && op.isOld(state, ctx)) outcome = 'failed cleanly'
  else if (out.ok && !failedAsExpected && op.isNew(state, ctx)) outcome = 'unaffected'
  else if (failedAsExpected && dirSync && op.isNew(state, ctx)) outcome = 'committed'
  else if (failedAsExpected && op.isPartial && op.isPartial(state, ctx)) outcome = 'failed, in part done'
  else if (out.ok && !failedAsExpected && op.isNew({ ...state, files: state.files.filter((f) => !f.includes('.sr-tmp-')) }, ctx)) {
    outcome = 'temp left, swept by the next call'
  } else if (out.ok && !failedAsExpected && op.markerLeft && op.isNew({ ...state, files: state.files.filter((f) => !op.markerLeft(f)) }, ctx)) {
    outcome = 'marker left'
  } else outcome = 'VIOLATION'
  const { SafeFileOperations } = require('../../lib/safe-file-operations')
  const opts = op.options ? op.options(ctx) : {}
  let nextOk = false
  try {
    nextOk = op.again(new SafeFileOperations({ backend, ...opts }), ctx) && listing(ctx.watch).every((f) => !f.includes('.sr-tmp-'))
  } catch {
    nextOk = false
  }
  fs.rmSync(dir, { recursive: true, force: true })
  fs.rmSync(ctx.scratch, { recursive: true, force: true })
  return { outcome, nextOk, out, state, injected: injected.map((l) => l.slice(0, 160)) }
}

/** Is what the traced call touched (its last path, resolved below its dirfd) a directory, now? */
function isDirectory(line) {
  const t = touchedBy(line)
  if (!t || t.paths.length === 0) return false
  const last = t.paths[t.paths.length - 1]
  const full = last.startsWith('/') ? last : path.join(t.paths[0], last)
  try {
    return fs.statSync(full).isDirectory()
  } catch {
    return false
  }
}

/** `injectOnce`, again while the fault missed its call (the numbering of a run can differ). */
async function inject(op, backend, pos, errno, attempts = 3) {
  let r
  for (let i = 0; i < attempts; i++) {
    r = await injectOnce(op, backend, pos, errno)
    if (r.outcome !== 'missed') break
  }
  return r
}

module.exports = {
  title: 'Syscall fault injection (strace)',
  async run() {
    const rows = []
    const violations = []
    const missed = []
    let injections = 0
    const only = process.env.TORTURE_STRACE_OPS // e.g. "acquireLock": a subset while developing
    for (const op of OPERATIONS.filter((o) => !only || only.split(',').some((n) => o.name.includes(n)))) {
      for (const backend of BACKENDS) {
        const { found: all, elsewhere } = await positions(op, backend)
        const found = op.sample && all.length > op.sample ? all.filter((_, i) => i % Math.ceil(all.length / op.sample) === 0) : all
        const sampled = found.length < all.length ? ` (an even sample of ${found.length} of ${all.length})` : ''
        const tally = { missed: 0, 'failed cleanly': 0, unaffected: 0, committed: 0, 'temp left, swept by the next call': 0, 'marker left': 0, 'failed, in part done': 0, VIOLATION: 0 }
        let nextFailed = 0
        const committedAt = new Set()
        for (const pos of found) {
          for (const errno of op.errnos || ERRNOS) {
            const r = await inject(op, backend, pos, errno)
            tally[r.outcome]++
            if (r.outcome === 'missed') {
              missed.push(`${op.name}/${backend}: ${errno} at ${pos.syscall} #${pos.when} of the ${pos.role} thread (probe: \`${pos.line}\`): ${r.injected.length} calls injected${r.injected[0] ? `, the last attempt's: \`${r.injected[0]}\`` : ''}`)
              continue
            }
            injections++
            if (r.outcome === 'committed') committedAt.add(pos.syscall)
            if (!r.nextOk) nextFailed++
            if (r.outcome === 'VIOLATION' || !r.nextOk) {
              violations.push(`${op.name}/${backend}: ${errno} at ${pos.syscall} #${pos.when} of the ${pos.role} thread (\`${r.injected[0]}\`): ${JSON.stringify(r.out)} state ${JSON.stringify(r.state).slice(0, 200)}`)
            }
          }
        }
        const sites = [...new Set(found.map((p) => p.syscall))].map((s) => `${s} x${found.filter((p) => p.syscall === s).length}`)
        if (elsewhere) sites.push(`not injected: ${elsewhere} on the event loop's pipes and eventfds`)
        rows.push([op.name, backend, sites.join(', ') + sampled, found.length * (op.errnos || ERRNOS).length - tally.missed, tally.missed, tally['failed cleanly'], tally.unaffected + tally['temp left, swept by the next call'], tally['marker left'], tally['failed, in part done'], `${tally.committed}${committedAt.size ? ` (${[...committedAt].join(', ')})` : ''}`, tally.VIOLATION, nextFailed])
      }
    }
    const text =
      `${injections} injections landed. Each operation runs in a process of its own and is traced once to find its syscalls ` +
      '(strace -y attached to its threads by id, without -f: no program it starts is traced); every call on a file or folder ' +
      '(its own, and /proc or /dev when it reads them) is injected, not those on the event loop\'s pipes and eventfds (their ' +
      'writes cannot fail with ENOSPC or EIO, and Node aborts when they fail, whatever the operation does). Each such call is then failed in turn with ' +
      `${ERRNOS.join(', ')} (restoreFromBackup: ENOSPC and EIO), in the same kind of thread (main or worker). Columns: ` +
      '"injections": those that landed, i.e. the injection run failed exactly one call and it was the probe\'s (the same syscall on ' +
      'the same file or folder); "missed": three runs in a row failed another call (the numbering of calls differed from the probe ' +
      'run), not classified; "failed cleanly": the error is the injected errno and nothing changed; "unaffected": the operation ' +
      'succeeded with the right result anyway (a best-effort step failed; a temp it left is swept by the next call); "takeover ' +
      'marker left": the lock was taken over and is held, but the unlink of the takeover marker failed; the marker is left, and the ' +
      'next takeover judges it dead and uses the next generation (up to 64) instead of removing it (removing it could race with a ' +
      'breaker re-creating it); "failed after some files were restored": the error is the injected errno and each file is whole, ' +
      'old or restored; "committed, folder sync failed": the fault hit the open or the fsync of a folder (not of a file) after the ' +
      'rename, the new state is whole and in place, and the error is still reported (durability unconfirmed); "next call failed": ' +
      'the same call without a fault then failed.\n\n' +
      table(['operation', 'backend', 'syscalls in the operation', 'injections', 'missed', 'failed cleanly', 'unaffected', 'lock taken, takeover marker left', 'failed after some files were restored (each whole)', 'committed, folder sync failed', 'violations', 'next call failed'], rows) +
      (violations.length ? `\n\nViolations:\n\n${violations.map((v) => `- ${v}`).join('\n')}` : '') +
      (missed.length ? `\n\nMissed injections:\n\n${missed.map((v) => `- ${v}`).join('\n')}` : '')
    return { ok: violations.length === 0, text }
  },
}
