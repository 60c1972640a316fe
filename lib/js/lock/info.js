'use strict'
// What `getLockInfo` and `listLocks` report about a lock (core/src/lock/info.rs): the legacy
// shapes plus the holder's host and whether it is alive (`true`, `false`, or unknown).

const fs = require('node:fs')

const { osError } = require('../errors')
const { checkIdentifier, identifierProblem } = require('./id')
const { ALIVE, DEAD, UNKNOWN, judge } = require('./liveness')
const { lockDirOf, lockPathOf, staleMsOf } = require('./options')
const { parseRecord, ageMs } = require('./record')
const { readSeen } = require('./takeover')

function stateOf(lockPath, staleMs) {
  let seen
  try {
    seen = readSeen(lockPath)
  } catch (err) {
    if (err.code === 'ENOENT') return { locked: false }
    if (err.code === 'EBADLOCK') throw err
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
  return stateOf(lockPathOf(lockDirOf(options), identifier), staleMsOf(options))
}

function listLocks(options) {
  const dir = lockDirOf(options)
  const staleMs = staleMsOf(options)
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
    let state
    try {
      state = stateOf(lockPathOf(dir, id), staleMs)
    } catch (err) {
      // a FIFO or device among the lock files: listed as corrupt, never read
      if (err.code !== 'EBADLOCK') throw err
      state = { locked: true, corrupted: true, error: err.message }
    }
    if (state.locked) out.push({ ...state, identifier: id })
  }
  return out
}

module.exports = { getLockInfo, listLocks }
