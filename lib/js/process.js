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
