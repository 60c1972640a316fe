'use strict'
// The pure-JS backend: the same exports, arguments and results as the native addon
// (index.js), so lib/backend.js can hand either one to the drop-in modules.
const fsx = require('./fsx')
const { validateTrackerFile } = require('./repair')
const lock = require('./lock')
const backup = require('./backup')
const contained = require('./contained')
const held = require('./held')
const { guardAll } = require('../binding-args')

// Behind the argument checks the root export has too (lib/binding-args.js).
module.exports = guardAll({
  atomicWrite: fsx.atomicWrite,
  atomicWriteAsync: fsx.atomicWriteAsync,
  recoverJsonFile: fsx.recoverJsonFile,
  backupFile: fsx.backupFile,
  verifyChecksum: fsx.verifyChecksum,
  verifyChecksumAsync: fsx.verifyChecksumAsync,
  cleanupOldBackups: fsx.cleanupOldBackups,
  validateTrackerFile,
  acquireLock: lock.acquireLock,
  acquireLockAsync: lock.acquireLockAsync,
  releaseLock: lock.releaseLock,
  getLockInfo: lock.getLockInfo,
  listLocks: lock.listLocks,
  releaseAllLocks: lock.releaseAllLocks,
  heldLocks: lock.heldLocks,
  ...backup,
  ...contained.exported,
  ...held,
})
