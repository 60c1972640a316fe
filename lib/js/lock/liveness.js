'use strict'
// Is the holder named in a lock record alive? (core/src/lock/liveness.rs, minus the OS lock
// probe: Node has none.) Another host: dead only beyond `staleMs`. Here: dead when the pid
// is gone, or was reused (its start time differs from the recorded one).

const { liveness } = require('../process')
const { GARBLED_GRACE_MS } = require('./options')
const { START_SLACK_S, isLocal, ageMs } = require('./record')

const ALIVE = 'alive'
const DEAD = 'dead'
const UNKNOWN = 'unknown'

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

/** The holder of a lock file read as `seen` (its parsed `record`, or null). */
function holderOf(record, seen, staleMs) {
  if (record) return judge(record, staleMs)
  // Empty or half-written: a legacy writer may be mid-write. Held for a grace period.
  return Date.now() - seen.mtimeMs > GARBLED_GRACE_MS ? DEAD : ALIVE
}

module.exports = { ALIVE, DEAD, UNKNOWN, judge, holderOf }
