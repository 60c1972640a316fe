'use strict'
// The JS backend of the safe file operations: the same contract as the Rust core
// (core/src/fsx/), with Node's fs. Read core/src/fsx/atomic.rs for the why of each step.
// One file per module of core/src/fsx/: atomic, checksum, copies, dirs, json (beneath.rs's
// twin is lib/js/contained.js).

const { atomicWrite, atomicWriteAsync } = require('./atomic')
const { verifyChecksum, verifyChecksumAsync } = require('./checksum')
const { backupFile, cleanupOldBackups, backupsOf } = require('./copies')
const { backupDirOf, ensurePrivateDir } = require('./dirs')
const { recoverJsonFile, linkAside } = require('./json')

module.exports = {
  atomicWrite,
  atomicWriteAsync,
  recoverJsonFile,
  backupFile,
  verifyChecksum,
  verifyChecksumAsync,
  cleanupOldBackups,
  // shared with the other JS-backend modules and lib/safe-file-operations.js
  linkAside,
  backupsOf,
  backupDirOf,
  ensurePrivateDir,
}
