'use strict'
// The JS backend's locks: the same protocol, files and results as the Rust core
// (core/src/lock/; read its module docs for the why of each step), in pure Node.
//
// Differences forced by Node: no OS-level file lock exists in fs, so a JS holder is judged
// by pid + process start time only, and a JS waiter judges native holders the same way.
// Waiting sleeps: Atomics.wait in the sync API, timers in the async one. One algorithm
// (a generator yielding sleep durations) serves both.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { setTimeout: sleepAsync } = require('node:timers/promises')

const { codedError, osError } = require('./errors')
const { liveness, ownStartTimeS } = require('./process')
const { ensurePrivateDir } = require('./fsx')

const LOCK_DIR_ENV = 'SESSION_RESILIENCE_LOCK_DIR'
const DEFAULT_TIMEOUT_MS = 5000
const DEFAULT_STALE_MS = 30000
const GARBLED_GRACE_MS = 1000
const JUDGE_EVERY_MS = 25
const START_SLACK_S = 2
const MAX_GENERATIONS = 64
const MAX_IDENTIFIER_LEN = 128
const HOSTNAME = os.hostname()

const ALIVE = 'alive'
const DEAD = 'dead'
const UNKNOWN = 'unknown'

// ---- identifiers -------------------------------------------------------------------------

function identifierProblem(id) {
  if (id.length === 0) return 'it must not be empty'
  if (Buffer.byteLength(id) > MAX_IDENTIFIER_LEN) return 'it is longer than 128 bytes'
  if (id.includes('\0')) return 'it must not contain a NUL byte'
  if (id.includes('/') || id.includes('\\')) return 'it must not contain a path separator'
  if (id.includes('..') || id === '.') return "it must not contain '..' or be '.'"
  if (id.startsWith('.')) return "it must not start with '.' (hidden names are reserved for lock internals)"
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f<>:"|?*]/.test(id)) return 'it must not contain control characters or any of <>:"|?*'
  // core/src/lock/id.rs: the native binding sees an unpaired surrogate as U+FFFD
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\ufffd/.test(id)) {
    return 'it must be well-formed Unicode (no unpaired surrogate or U+FFFD)'
  }
  return null
}

function checkIdentifier(id) {
  if (typeof id !== 'string') throw codedError('ERR_INVALID_ARG_TYPE', 'The "identifier" argument must be of type string')
  const why = identifierProblem(id)
  if (why) throw codedError('EBADLOCKID', `Invalid lock identifier ${JSON.stringify(id)}: ${why}`)
  return id
}

// ---- options -----------------------------------------------------------------------------

function ms(value, fallback) {
  const v = typeof value === 'number' && Number.isFinite(value) ? value : fallback
  return Math.floor(Math.max(0, v))
}

function lockDirOf(options) {
  return (options && options.lockDir) || process.env[LOCK_DIR_ENV] || path.join(os.tmpdir(), 'agenthive-locks')
}

// Without an OS lock to sleep on, JS waiters poll, and each look costs tens of µs of CPU
// (Atomics.wait alone costs 30-60 µs per wake-up here). So by default the longest sleep
// grows with the time already waited: 2 ms for the first 100 ms (a quick handoff of short
// holds), then waited/50, up to 20 ms after 1 s (in a long wait a few ms of handoff
// matter less than the CPU). Liveness is judged every 25 ms, every waited/10 (up to
// 100 ms) later on. `pollMs` fixes the sleep instead.
const ADAPTIVE = 0

function optionsOf(timeout, options = {}) {
  const pollMax = typeof options.pollMs === 'number' && options.pollMs > 0 ? Math.max(0.1, options.pollMs) : ADAPTIVE
  return {
    dir: lockDirOf(options),
    timeout: ms(timeout === undefined || timeout === null ? options.timeout : timeout, DEFAULT_TIMEOUT_MS),
    staleMs: ms(options.staleMs, DEFAULT_STALE_MS),
    pollMin: pollMax === ADAPTIVE ? 0.1 : Math.min(0.1, pollMax),
    pollMax,
  }
}

// ---- records -----------------------------------------------------------------------------

let tokenCounter = 0
function newToken() {
  const nanos = process.hrtime.bigint() + BigInt(Date.now()) * 1000000n
  return `${process.pid.toString(16)}-${nanos.toString(16)}-${(tokenCounter++).toString(16)}`
}

function ourRecord(identifier, token, backend = 'js') {
  const r = { pid: process.pid, timestamp: new Date().toISOString(), identifier, hostname: HOSTNAME }
  const start = ownStartTimeS()
  if (start != null) r.startTime = start
  r.token = token
  if (backend) r.backend = backend
  return r
}

const recordText = (r) => JSON.stringify(r, null, 2)

/** A record, or null for bytes that are empty, half-written or not a lock record. */
function parseRecord(bytes) {
  let r
  try {
    r = JSON.parse(bytes.toString('utf8'))
  } catch {
    return null
  }
  if (!r || typeof r !== 'object' || Array.isArray(r)) return null
  if (!Number.isInteger(r.pid) || r.pid < 0 || r.pid > 0xffffffff || typeof r.timestamp !== 'string') return null
  if (r.hostname != null && typeof r.hostname !== 'string') return null
  if (r.token != null && typeof r.token !== 'string') return null
  if (r.startTime != null && !(Number.isInteger(r.startTime) && r.startTime >= 0)) return null
  return r
}

const isLocal = (r) => r.hostname == null || r.hostname === HOSTNAME

function isOwn(r) {
  if (!isLocal(r) || r.pid !== process.pid) return false
  const mine = ownStartTimeS()
  return r.startTime == null || mine == null || Math.abs(r.startTime - mine) <= START_SLACK_S
}

function ageMs(r, now = Date.now()) {
  const t = Date.parse(r.timestamp)
  return Number.isFinite(t) ? Math.max(0, now - t) : 0
}

// ---- liveness ----------------------------------------------------------------------------

/** Is the holder of `r` alive? (core/src/lock/liveness.rs, minus the OS lock probe.) */
function judge(r, staleMs) {
  if (!isLocal(r)) return ageMs(r) > staleMs ? DEAD : UNKNOWN
  const seen = liveness(r.pid)
  if (!seen.alive) return DEAD
  if (seen.startTimeS == null) return ALIVE
  let reused
  if (r.startTime != null) reused = Math.abs(seen.startTimeS - r.startTime) > START_SLACK_S
  else {
    const t = Date.parse(r.timestamp)
    reused = Number.isFinite(t) && seen.startTimeS > Math.floor(Math.max(0, t) / 1000) + START_SLACK_S
  }
  return reused ? DEAD : ALIVE
}

function holderOf(record, seen, staleMs) {
  if (record) return judge(record, staleMs)
  // Empty or half-written: a legacy writer may be mid-write. Held for a grace period.
  return Date.now() - seen.mtimeMs > GARBLED_GRACE_MS ? DEAD : ALIVE
}

// ---- files -------------------------------------------------------------------------------

const lockPathOf = (dir, id) => path.join(dir, `${id}.lock`)
const markerPath = (dir, id, gen) => path.join(dir, `.${id}.lock.takeover.${gen}`)

/** Read a file with the identity (device, inode) of what was read. */
function readSeen(file) {
  const fd = fs.openSync(file, 'r')
  try {
    const st = fs.fstatSync(fd)
    const bytes = fs.readFileSync(fd)
    return { identity: `${st.dev}:${st.ino}`, bytes, mtimeMs: st.mtimeMs }
  } finally {
    fs.closeSync(fd)
  }
}

function changed(file, seen) {
  const st = fs.statSync(file, { throwIfNoEntry: false })
  return !st || `${st.dev}:${st.ino}` !== seen.identity || st.size !== seen.bytes.length
}

const sameSeen = (a, b) => a.identity === b.identity && a.bytes.equals(b.bytes)

// ---- takeover (core/src/lock/takeover.rs) ------------------------------------------------

function markerIsDead(file, staleMs) {
  let seen
  try {
    seen = readSeen(file)
  } catch (err) {
    if (err.code === 'ENOENT') return false
    throw err
  }
  const r = parseRecord(seen.bytes)
  if (r) return judge(r, staleMs) === DEAD
  return Date.now() - seen.mtimeMs > GARBLED_GRACE_MS
}

/** Take the takeover marker for `id`: its path, or null when a live breaker is at work. */
function takeMarker(dir, id, staleMs) {
  for (let gen = 0; gen < MAX_GENERATIONS; gen++) {
    const file = markerPath(dir, id, gen)
    let fd
    try {
      fd = fs.openSync(file, 'wx')
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
      if (!markerIsDead(file, staleMs)) return null
      continue
    }
    try {
      fs.writeSync(fd, recordText(ourRecord(id, newToken(), null)))
    } catch (err) {
      // an empty marker would stall other breakers for the grace period: leave nothing
      fs.closeSync(fd)
      fd = null
      removeQuietly(file)
      throw err
    } finally {
      if (fd !== null) fs.closeSync(fd)
    }
    return file
  }
  throw new Error(`${MAX_GENERATIONS} dead takeover markers for ${id} in ${dir}`)
}

// Remove a lock file so that its name is free at once (core/src/lock/unlink.rs): on Windows
// a file another handle has open (a native waiter keeps one) is only "delete pending" and
// keeps its name, so it is renamed to a hidden unique name first, then deleted.
let removedSeq = 0
function removeLockFile(lockPath) {
  if (process.platform !== 'win32') return fs.unlinkSync(lockPath)
  const aside = path.join(path.dirname(lockPath), `.${path.basename(lockPath)}.removed-${process.pid}-${removedSeq++}`)
  try {
    fs.renameSync(lockPath, aside)
  } catch (err) {
    if (err.code === 'ENOENT') throw err
    return fs.unlinkSync(lockPath) // opened somewhere without delete sharing
  }
  try {
    fs.unlinkSync(aside)
  } catch {}
}

/** Remove the lock file if it is still exactly `seen`: 'broken', 'changed' or 'busy'. */
function breakDead(dir, id, lockPath, seen, staleMs) {
  const marker = takeMarker(dir, id, staleMs)
  if (!marker) return 'busy'
  try {
    let now
    try {
      now = readSeen(lockPath)
    } catch (err) {
      if (err.code === 'ENOENT') return 'changed'
      throw err
    }
    if (!sameSeen(now, seen)) return 'changed'
    try {
      removeLockFile(lockPath)
    } catch (err) {
      if (err.code === 'ENOENT') return 'changed'
      throw err
    }
    return 'broken'
  } finally {
    try {
      fs.unlinkSync(marker)
    } catch {}
  }
}

// ---- registry ----------------------------------------------------------------------------

const held = new Map() // lock path -> { token, identifier }
let exitHooked = false

function register(lockPath, entry) {
  held.set(lockPath, entry)
  if (!exitHooked) {
    exitHooked = true
    process.on('exit', releaseAllLocks)
  }
}

function removeIfOurs(lockPath, token) {
  try {
    const r = parseRecord(fs.readFileSync(lockPath))
    if (!r || r.token !== token) return false
    removeLockFile(lockPath)
    return true
  } catch {
    return false
  }
}

/** Release every lock this process holds through this backend; returns how many. */
function releaseAllLocks() {
  let n = 0
  for (const [lockPath, entry] of held) {
    held.delete(lockPath)
    if (removeIfOurs(lockPath, entry.token)) n++
  }
  return n
}

const heldLocks = () => [...held.keys()].sort()

// ---- acquire -----------------------------------------------------------------------------

const checkedDirs = new Set()
function ensureDirOnce(dir) {
  if (!checkedDirs.has(dir)) {
    ensurePrivateDir(dir)
    checkedDirs.add(dir)
  }
}

function removeQuietly(file) {
  try {
    fs.unlinkSync(file)
  } catch {}
}

/** Exclusive create of `file` holding `text`: false when it exists. A failed write removes it. */
function createWith(file, text) {
  let fd
  try {
    fd = fs.openSync(file, 'wx')
  } catch (err) {
    if (err.code === 'EEXIST') return false
    throw err
  }
  try {
    fs.writeSync(fd, text)
  } catch (err) {
    // an empty lock file would pass for a legacy writer mid-write: leave nothing behind
    fs.closeSync(fd)
    removeQuietly(file)
    throw err
  }
  fs.closeSync(fd)
  return true
}

/** Exclusive create of the lock file with our record: true when we hold the lock now. */
function publish(dir, lockPath, identifier, token) {
  const text = recordText(ourRecord(identifier, token))
  try {
    return createWith(lockPath, text)
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
    ensurePrivateDir(dir) // the directory was removed since we checked it
    return createWith(lockPath, text)
  }
}

/** Generator: yields ms to sleep; returns true to try again, false at the deadline. */
function* waitTurn(o, id, lockPath, deadline, broken) {
  let seen
  try {
    seen = readSeen(lockPath)
  } catch (err) {
    if (err.code === 'ENOENT') return true
    throw err
  }
  const record = parseRecord(seen.bytes)
  let nextJudgement = 0
  let sleep = o.pollMin
  const started = performance.now()
  for (;;) {
    const now = performance.now()
    if (changed(lockPath, seen)) return true
    if (now >= nextJudgement) {
      if (holderOf(record, seen, o.staleMs) === DEAD) {
        const outcome = breakDead(o.dir, id, lockPath, seen, o.staleMs)
        if (outcome === 'broken') {
          if (record) broken.push(record)
          return true
        }
        if (outcome === 'changed') return true
      }
      nextJudgement = now + Math.min(100, Math.max(JUDGE_EVERY_MS, (now - started) / 10))
    }
    if (now >= deadline) return false
    yield Math.min(sleep, deadline - now)
    const cap = o.pollMax === ADAPTIVE ? Math.min(20, Math.max(2, (now - started) / 50)) : o.pollMax
    sleep = Math.min(sleep * 2, cap)
  }
}

/** Generator: the whole acquisition; yields sleeps, returns `{ lockPath, broken }`. */
function* acquireSteps(identifier, o) {
  checkIdentifier(identifier)
  const deadline = performance.now() + o.timeout
  const lockPath = lockPathOf(o.dir, identifier)
  const token = newToken()
  const broken = []
  try {
    ensureDirOnce(o.dir)
    for (;;) {
      if (publish(o.dir, lockPath, identifier, token)) {
        register(lockPath, { token, identifier })
        return { lockPath, broken }
      }
      if (!(yield* waitTurn(o, identifier, lockPath, deadline, broken))) {
        throw codedError('ELOCKTIMEOUT', `Lock timeout for ${identifier} after ${o.timeout}ms`)
      }
    }
  } catch (err) {
    if (err.code === 'ELOCKTIMEOUT' || err.code === 'EUNSAFEDIR' || /^Cannot (create|use) directory/.test(err.message)) throw err
    throw osError(`Failed to acquire lock for ${identifier}`, err)
  }
}

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4))
const sleepSync = (msec) => Atomics.wait(SLEEP_CELL, 0, 0, msec)

function reportBroken(identifier, broken) {
  for (const r of broken) console.warn(`Removing stale lock for ${identifier} (process ${r.pid} not found)`)
}

/** Take the lock, waiting up to `timeout` ms (default 5000); returns the lock file path. */
function acquireLock(identifier, timeout, options) {
  const steps = acquireSteps(identifier, optionsOf(timeout, options))
  let step = steps.next()
  while (!step.done) {
    sleepSync(step.value)
    step = steps.next()
  }
  reportBroken(identifier, step.value.broken)
  return step.value.lockPath
}

/**
 * `acquireLock` that waits on timers: the event loop keeps running. Bad arguments throw at
 * once, as the native binding's do.
 */
function acquireLockAsync(identifier, options) {
  checkIdentifier(identifier)
  return acquireAsync(identifier, optionsOf(undefined, options))
}

async function acquireAsync(identifier, o) {
  const steps = acquireSteps(identifier, o)
  let step = steps.next()
  while (!step.done) {
    await sleepAsync(Math.max(1, step.value))
    step = steps.next()
  }
  reportBroken(identifier, step.value.broken)
  return step.value.lockPath
}

// ---- release and info --------------------------------------------------------------------

/** Legacy results: true when removed or absent; false (with its message) otherwise. */
function releaseLock(identifier, options) {
  checkIdentifier(identifier)
  const lockPath = lockPathOf(lockDirOf(options), identifier)
  held.delete(lockPath)
  let bytes
  try {
    bytes = fs.readFileSync(lockPath)
  } catch (err) {
    if (err.code === 'ENOENT') return true
    console.error(`Failed to release lock for ${identifier}: ${osError(lockPath, err).message}`)
    return false
  }
  const r = parseRecord(bytes)
  if (!r) {
    console.error(`Failed to release lock for ${identifier}: lock file is not a valid lock record`)
    return false
  }
  if (!isOwn(r)) {
    console.warn(`Attempted to release lock owned by PID ${r.pid}`)
    return false
  }
  try {
    removeLockFile(lockPath)
  } catch (err) {
    if (err.code !== 'ENOENT') {
      console.error(`Failed to release lock for ${identifier}: ${osError(lockPath, err).message}`)
      return false
    }
  }
  return true
}

function stateOf(lockPath, staleMs) {
  let seen
  try {
    seen = readSeen(lockPath)
  } catch (err) {
    if (err.code === 'ENOENT') return { locked: false }
    return { locked: true, corrupted: true, error: osError(lockPath, err).message }
  }
  const r = parseRecord(seen.bytes)
  if (!r) {
    const error = seen.bytes.toString('utf8').trim() === '' ? 'lock file is empty' : 'lock file is not a valid lock record'
    return { locked: true, corrupted: true, error }
  }
  const age = ageMs(r)
  const holder = judge(r, staleMs)
  return {
    locked: true,
    pid: r.pid,
    timestamp: r.timestamp,
    age,
    stale: holder === DEAD || (holder === UNKNOWN && age > staleMs),
    hostname: r.hostname == null ? null : r.hostname,
    alive: holder === ALIVE ? true : holder === DEAD ? false : null,
  }
}

function getLockInfo(identifier, options) {
  checkIdentifier(identifier)
  return stateOf(lockPathOf(lockDirOf(options), identifier), ms(options && options.staleMs, DEFAULT_STALE_MS))
}

function listLocks(options) {
  const dir = lockDirOf(options)
  const staleMs = ms(options && options.staleMs, DEFAULT_STALE_MS)
  let names
  try {
    names = fs.readdirSync(dir)
  } catch (err) {
    if (err.code === 'ENOENT') return []
    throw osError(`Cannot list locks in ${dir}`, err)
  }
  const ids = names
    .filter((n) => n.endsWith('.lock'))
    .map((n) => n.slice(0, -'.lock'.length))
    .filter((id) => identifierProblem(id) === null)
    .sort()
  const out = []
  for (const id of ids) {
    const state = stateOf(lockPathOf(dir, id), staleMs)
    if (state.locked) out.push({ ...state, identifier: id })
  }
  return out
}

module.exports = {
  acquireLock,
  acquireLockAsync,
  releaseLock,
  getLockInfo,
  listLocks,
  releaseAllLocks,
  heldLocks,
  // shared with tests and process-cleanup
  checkIdentifier,
  parseRecord,
  LOCK_DIR_ENV,
}
