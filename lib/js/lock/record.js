'use strict'
// The JSON inside a lock file (core/src/lock/record.rs): the legacy fields first (`pid`,
// `timestamp`, `identifier`), then ours: `hostname`, the holder's `startTime`, the `token`
// of this one acquisition, the `backend`.

const os = require('node:os')
const { ownStartTimeS } = require('../process')

const HOSTNAME = os.hostname()
/** Seconds two readings of one process's start time may differ by. */
const START_SLACK_S = 2

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

/** A lock record is a few hundred bytes; anything longer than this is not one. */
const MAX_RECORD_BYTES = 64 * 1024

/** A record, or null for bytes that are empty, half-written, too long or not a lock record. */
function parseRecord(bytes) {
  if (bytes.length > MAX_RECORD_BYTES) return null
  let r
  try {
    r = JSON.parse(bytes.toString('utf8'))
  } catch {
    return null
  }
  // JSON null, a number, a string, an array: none has an integer pid, so the next line
  // refuses them all
  if (!Number.isInteger(r?.pid) || r.pid < 0 || r.pid > 0xffffffff || typeof r.timestamp !== 'string') return null
  if (r.hostname != null && typeof r.hostname !== 'string') return null
  if (r.token != null && typeof r.token !== 'string') return null
  if (r.startTime != null && !(Number.isInteger(r.startTime) && r.startTime >= 0)) return null
  return r
}

const isLocal = (r) => r.hostname == null || r.hostname === HOSTNAME

/** Was `r` written by this very process (pid and start time on this host)? */
function isOwn(r) {
  if (!isLocal(r) || r.pid !== process.pid) return false
  const mine = ownStartTimeS()
  return r.startTime == null || mine == null || Math.abs(r.startTime - mine) <= START_SLACK_S
}

function ageMs(r, now = Date.now()) {
  const t = Date.parse(r.timestamp)
  return Number.isFinite(t) ? Math.max(0, now - t) : 0
}

module.exports = { START_SLACK_S, MAX_RECORD_BYTES, newToken, ourRecord, recordText, parseRecord, isLocal, isOwn, ageMs }
