'use strict'
// Is a pid alive? The JS backend's counterpart of core/src/process.rs (which also knows
// start times; here `process.kill(pid, 0)` is all Node offers portably).

function isDead(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return err.code === 'ESRCH'
  }
}

module.exports = { isDead }

// ---- start times (pid reuse detection), the JS side of core/src/process.rs ---------------

const fs = require('node:fs')

let bootTimeS // Linux: /proc/stat btime, read once (NaN if it is not there)
function linuxBootTimeS() {
  if (bootTimeS === undefined) {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))
    bootTimeS = m ? Number(m[1]) : Number.NaN
  }
  return bootTimeS
}

// USER_HZ: 100 on every Linux the kernel ABI allows user space to see (sysinfo assumes it too).
const CLOCK_TICKS = 100

/**
 * What we know about a pid right now: `{ alive: false }` for no such process or a zombie;
 * `{ alive: true, startTimeS }` with its start time (seconds since the epoch) when the OS
 * tells it (Linux: /proc, computed exactly as sysinfo does), else null.
 */
function liveness(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return { alive: false }
  if (process.platform === 'linux') {
    let stat
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch (err) {
      if (err.code === 'ENOENT' || err.code === 'ESRCH') return { alive: false }
      return { alive: true, startTimeS: null }
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so cut at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (fields[0] === 'Z' || fields[0] === 'X') return { alive: false }
    // a boot time or a field 22 that is not a number makes the sum NaN: no start time
    const startTimeS = linuxBootTimeS() + Math.floor(Number(fields[19]) / CLOCK_TICKS)
    return { alive: true, startTimeS: Number.isFinite(startTimeS) ? startTimeS : null }
  }
  return { alive: !isDead(pid), startTimeS: null }
}

let ownStart
/** This process's start time in seconds since the epoch. */
function ownStartTimeS() {
  if (ownStart === undefined) ownStart = liveness(process.pid).startTimeS ?? startFromUptimeS()
  return ownStart
}

/** Where the OS does not tell it: the clock less this process's uptime (the same second, give or take one). */
function startFromUptimeS() {
  return Math.floor(Date.now() / 1000 - process.uptime())
}

module.exports.liveness = liveness
module.exports.ownStartTimeS = ownStartTimeS
module.exports.startFromUptimeS = startFromUptimeS
