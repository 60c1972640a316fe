'use strict'
// The root export, `require('session-resilience')`: the addon (the generated index.js, never
// edited by hand) with every function behind the argument checks of lib/binding-args.js, which
// lib/js has too. The names are assigned one by one so that Node's CJS -> ESM detection sees
// them (`import { atomicWrite } from 'session-resilience'`), as it does in index.js.

const binding = require('../index.js')
const guarded = require('./binding-args').guardAll(binding)

exports.acquireLock = guarded.acquireLock
exports.acquireLockAsync = guarded.acquireLockAsync
exports.atomicWrite = guarded.atomicWrite
exports.atomicWriteAsync = guarded.atomicWriteAsync
exports.backupCancel = guarded.backupCancel
exports.backupCheckArchive = guarded.backupCheckArchive
exports.backupContainedPath = guarded.backupContainedPath
exports.backupCopyDatabase = guarded.backupCopyDatabase
exports.backupCreateArchive = guarded.backupCreateArchive
exports.backupFile = guarded.backupFile
exports.backupGitBundle = guarded.backupGitBundle
exports.backupHashFiles = guarded.backupHashFiles
exports.backupIntegrityCheck = guarded.backupIntegrityCheck
exports.backupIsGitRepo = guarded.backupIsGitRepo
exports.backupRestoreDatabase = guarded.backupRestoreDatabase
exports.backupRestoreFile = guarded.backupRestoreFile
exports.backupVerifyFiles = guarded.backupVerifyFiles
exports.cleanupOldBackups = guarded.cleanupOldBackups
exports.containedAppend = guarded.containedAppend
exports.containedCopy = guarded.containedCopy
exports.containedList = guarded.containedList
exports.containedMkdir = guarded.containedMkdir
exports.containedRead = guarded.containedRead
exports.containedRemove = guarded.containedRemove
exports.containedStat = guarded.containedStat
exports.containedWrite = guarded.containedWrite
exports.getLockInfo = guarded.getLockInfo
exports.heldClose = guarded.heldClose
exports.heldCopyIn = guarded.heldCopyIn
exports.heldList = guarded.heldList
exports.heldLocks = guarded.heldLocks
exports.heldOpen = guarded.heldOpen
exports.heldPinnedPath = guarded.heldPinnedPath
exports.heldRead = guarded.heldRead
exports.heldRemove = guarded.heldRemove
exports.heldRename = guarded.heldRename
exports.heldSub = guarded.heldSub
exports.heldWrite = guarded.heldWrite
exports.listLocks = guarded.listLocks
exports.recoverJsonFile = guarded.recoverJsonFile
exports.releaseAllLocks = guarded.releaseAllLocks
exports.releaseLock = guarded.releaseLock
exports.storeCreateSnapshot = guarded.storeCreateSnapshot
exports.storeDiff = guarded.storeDiff
exports.storeGc = guarded.storeGc
exports.storeLog = guarded.storeLog
exports.storeListSnapshots = guarded.storeListSnapshots
exports.storeRemoveSnapshot = guarded.storeRemoveSnapshot
exports.storeRestoreSnapshot = guarded.storeRestoreSnapshot
exports.storeVerify = guarded.storeVerify
exports.validateTrackerFile = guarded.validateTrackerFile
exports.verifyChecksum = guarded.verifyChecksum
exports.verifyChecksumAsync = guarded.verifyChecksumAsync
exports.__napiBindingTarget = guarded.__napiBindingTarget
// napi-rs's Task classes (not API), as generated.
for (const key of Object.keys(guarded)) if (!(key in exports)) exports[key] = guarded[key]
