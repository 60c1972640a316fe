'use strict'
// Taking a lock (core/src/lock/acquire.rs): an exclusive create of `<id>.lock` with our
// whole record, else a wait that watches the file, judges its holder and breaks a dead
// holder's lock. One algorithm (a generator yielding sleep durations) serves the sync API
// (Atomics.wait) and the async one (timers).

const fs = require('node:fs')
const { setTimeout: sleepAsync } = require('node:timers/promises')

const { codedError, osError, isNodeSystemError } = require('../errors')
const { ensurePrivateDir } = require('../fsx')
const { checkIdentifier } = require('./id')
const { DEAD, holderOf } = require('./liveness')
const { ADAPTIVE, optionsOf, lockPathOf } = require('./options')
const { newToken, ourRecord, recordText, parseRecord } = require('./record')
const { register, wasLeft, cleared } = require('./registry')
const { readSeen, changed, breakDead, refusal } = require('./takeover')
const { removeQuietly } = require('./unlink')

const JUDGE_EVERY_MS = 25

const checkedDirs = new Set()
function ensureDirOnce(dir) {
  if (!checkedDirs.has(dir)) {
    ensurePrivateDir(dir)
    checkedDirs.add(dir)
  }
}

/** Exclusive create of `file` holding `text`: false when it exists. A failed write removes it. */
function createWith(file, text) {
  let fd
  try {
    fd = fs.openSync(file, 'wx', 0o600)
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
      if (judged(lockPath, record, seen, o.staleMs) === DEAD) {
        const outcome = breakDead(o.dir, id, lockPath, seen, o.staleMs)
        if (outcome === 'broken') {
          if (record && !cleared(lockPath, record.token)) broken.push(record)
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

/**
 * The holder of the lock file read as `seen` (its parsed `record`, or null); dead too when
 * the record is our own acquisition, released, whose file could not be removed
 * (registry.js `leave`): it names our live pid, but nobody holds it.
 */
function judged(lockPath, record, seen, staleMs) {
  return record !== null && wasLeft(lockPath, record.token) ? DEAD : holderOf(record, seen, staleMs)
}

/** Generator: the whole acquisition; yields sleeps, returns `{ lockPath, broken }`. */
function* acquireSteps(identifier, o) {
  checkIdentifier(identifier)
  const deadline = performance.now() + o.timeout
  const lockPath = lockPathOf(o.dir, identifier)
  const token = newToken()
  const broken = []
  // The directory checks throw their own coded errors; only what the lock steps' fs calls
  // throw gets the acquisition's context, as core/src/lock/acquire.rs does.
  ensureDirOnce(o.dir)
  for (;;) {
    if (attempt(identifier, () => publish(o.dir, lockPath, identifier, token))) {
      register(lockPath, { token, identifier })
      return { lockPath, broken }
    }
    const turn = waitTurn(o, identifier, lockPath, deadline, broken)
    let step = attempt(identifier, () => turn.next())
    while (!step.done) {
      yield step.value
      step = attempt(identifier, () => turn.next())
    }
    if (!step.value) throw codedError('ELOCKTIMEOUT', `Lock timeout for ${identifier} after ${o.timeout}ms`)
  }
}

/**
 * Run one lock step: a Node fs error (or one without a code) becomes `Failed to acquire lock
 * for <id>: ...`, and so does a refused lock file (EBADLOCK, its reason kept), as in
 * core/src/lock/acquire.rs; another coded error of ours (a refused directory: EUNSAFEDIR)
 * passes unchanged.
 */
function attempt(identifier, step) {
  try {
    return step()
  } catch (err) {
    const context = `Failed to acquire lock for ${identifier}`
    if (err && err.code === 'EBADLOCK') throw refusal(context, err.why)
    if (err && typeof err.code === 'string' && !isNodeSystemError(err)) throw err
    throw osError(context, err)
  }
}

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4))
const sleepSync = (msec) => Atomics.wait(SLEEP_CELL, 0, 0, msec)

/** `{ lockPath, brokenPids }`: the pids named in the dead holders' lock files removed. */
const taken = ({ lockPath, broken }) => ({ lockPath, brokenPids: broken.map((r) => r.pid) })

/** Take the lock, waiting up to `timeout` ms (default 5000): `{ lockPath, brokenPids }`. */
function acquireLock(identifier, timeout, options) {
  const steps = acquireSteps(identifier, optionsOf(timeout, options))
  let step = steps.next()
  while (!step.done) {
    sleepSync(step.value)
    step = steps.next()
  }
  return taken(step.value)
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
  return taken(step.value)
}

module.exports = { acquireLock, acquireLockAsync }
