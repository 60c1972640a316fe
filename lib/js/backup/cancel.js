'use strict'
// The twin of core/src/backup/cancel.rs: work snapshots the generation when requested and
// stops once it moved on; `backupCancel()` also kills the commands running now (tar, git,
// sqlite3), each with what it started (`git bundle` runs `pack-objects`, `tar -z` gzip): they
// run in a process group of their own (command.js), which is killed whole.

const { codedError } = require('../errors')

let generation = 0
const running = new Set()

function cancelToken() {
  const seen = generation
  return {
    cancelled: () => generation !== seen,
    check(what) {
      if (generation !== seen) throw codedError('ECANCELED', `${what}: cancelled`)
    },
  }
}

function backupCancel() {
  generation += 1
  for (const child of running) killGroup(child)
}

function killGroup(child) {
  try {
    if (process.platform === 'win32') throw new Error('no process groups')
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    child.kill('SIGKILL')
  }
}

module.exports = { cancelToken, backupCancel, running }
