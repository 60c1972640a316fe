'use strict'
// What core/src/lock/mod.rs defines for every lock module: the lock directory (option, else
// the environment variable and default name of lib/js/defaults.json), the default timeout and stale age,
// the grace period of a half-written lock file, the wait options, the lock file path.

const os = require('node:os')
const path = require('node:path')

const DEFAULTS = require('../defaults.json')

const LOCK_DIR_ENV = DEFAULTS.env.lockDir
const DEFAULT_TIMEOUT_MS = 5000
const DEFAULT_STALE_MS = 30000
const GARBLED_GRACE_MS = 1000

// Without an OS lock to sleep on, JS waiters poll, and each look costs tens of µs of CPU
// (Atomics.wait alone costs 30-60 µs per wake-up here). So by default the longest sleep
// grows with the time already waited: 2 ms for the first 100 ms (a quick handoff of short
// holds), then waited/50, up to 20 ms after 1 s (in a long wait a few ms of handoff
// matter less than the CPU). Liveness is judged every 25 ms, every waited/10 (up to
// 100 ms) later on. `pollMs` fixes the sleep instead.
const ADAPTIVE = 0

function ms(value, fallback) {
  const v = typeof value === 'number' && Number.isFinite(value) ? value : fallback
  return Math.floor(Math.max(0, v))
}

function lockDirOf(options) {
  return (options && options.lockDir) || process.env[LOCK_DIR_ENV] || path.join(os.tmpdir(), DEFAULTS.dirNames.lockDir)
}

const staleMsOf = (options) => ms(options && options.staleMs, DEFAULT_STALE_MS)

function optionsOf(timeout, options = {}) {
  const pollMax = typeof options.pollMs === 'number' && options.pollMs > 0 ? Math.max(0.1, options.pollMs) : ADAPTIVE
  return {
    dir: lockDirOf(options),
    timeout: ms(timeout === undefined || timeout === null ? options.timeout : timeout, DEFAULT_TIMEOUT_MS),
    staleMs: staleMsOf(options),
    pollMin: pollMax === ADAPTIVE ? 0.1 : Math.min(0.1, pollMax),
    pollMax,
  }
}

const lockPathOf = (dir, id) => path.join(dir, `${id}.lock`)

module.exports = { LOCK_DIR_ENV, GARBLED_GRACE_MS, ADAPTIVE, lockDirOf, staleMsOf, optionsOf, lockPathOf }
