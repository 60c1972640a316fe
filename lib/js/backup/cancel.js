'use strict'
// The twin of core/src/backup/cancel.rs: work snapshots the generation when requested and
// stops once it moved on; `backupCancel()` also kills the commands running now (tar).

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
  for (const child of running) child.kill('SIGKILL')
}

module.exports = { cancelToken, backupCancel, running }
