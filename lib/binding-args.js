'use strict'
// The arguments of every function of the two backends (the addon's index.js and lib/js, the
// same contract), checked by lib/args.js before either runs: the same wrong call throws the
// same `code` on both, and a message naming the path (the first argument, once it is one),
// never napi's code-less `InvalidArg` "Value is none of these types ...".

const { checkArgs } = require('./args')

const path = (name) => [name, 'path']
const rel = (name) => [name, 'string']
const id = ['identifier', 'string']
const options = ['options', 'optOptions']
const progress = ['onProgress', 'optFunction']
const held = (name) => [name, 'held']
// The lock options both backends read: a string `staleMs` was napi's NumberExpected natively
// and the default on js; now the same ERR_INVALID_ARG_TYPE on both.
// (The drop-in safe-file-operations checks its own lock options with this entry too.)
const lockOptions = ['options', 'optOptions', { lockDir: 'optString', timeout: 'optNumber', staleMs: 'optNumber', pollMs: 'optNumber' }]

/** `name -> [[parameter, kind], ...]` (lib/args.js kinds), in index.d.ts order. */
const SPECS = {
  acquireLock: [id, ['timeout', 'optNumber'], lockOptions],
  acquireLockAsync: [id, lockOptions],
  atomicWrite: [path('filePath'), ['content', 'content'], options],
  atomicWriteAsync: [path('filePath'), ['content', 'content'], options],
  backupCancel: [],
  backupCheckArchive: [path('path'), progress],
  backupContainedPath: [path('root'), path('original')],
  backupCopyDatabase: [path('src'), path('dest'), ['root', 'optString']],
  backupCreateArchive: [path('root'), path('dest'), ['excludes', 'optArray'], progress, ['substitutes', 'optArray']],
  backupFile: [path('filePath'), ['label', 'optString'], options],
  backupGitBundle: [path('root'), path('dest'), ['exclude', 'optArray']],
  backupHashFiles: [path('backupsDir'), ['parts', 'array'], progress],
  backupIntegrityCheck: [path('db')],
  backupIsGitRepo: [path('root')],
  backupRestoreDatabase: [path('root'), path('original'), path('source')],
  backupRestoreFile: [path('root'), path('original'), path('source')],
  backupVerifyFiles: [path('backupsDir'), ['entries', 'array'], progress],
  cleanupOldBackups: [['maxAge', 'optNumber'], options],
  containedAppend: [path('base'), rel('rel'), ['data', 'string']],
  containedCopy: [path('srcBase'), rel('srcRel'), path('destBase'), rel('destRel')],
  containedList: [path('base'), rel('rel')],
  containedMkdir: [path('base'), rel('rel'), ['private', 'optBoolean']],
  containedRead: [path('base'), rel('rel'), ['maxBytes', 'optNumber']],
  containedRemove: [path('base'), rel('rel')],
  containedStat: [path('base'), rel('rel')],
  containedWrite: [path('base'), rel('rel'), ['data', 'content'], options],
  getLockInfo: [id, lockOptions],
  heldClose: [held('dir')],
  heldCopyIn: [held('dir'), path('srcBase'), rel('srcRel'), rel('destRel')],
  heldList: [held('dir'), rel('rel')],
  heldLocks: [],
  heldOpen: [path('base'), rel('rel'), ['create', 'optBoolean']],
  heldPinnedPath: [held('dir'), rel('name')],
  heldRead: [held('dir'), rel('rel'), ['maxBytes', 'optNumber']],
  heldRemove: [held('dir'), rel('rel')],
  heldRename: [held('dir'), rel('name'), held('dest'), rel('destName')],
  heldSub: [held('dir'), rel('rel'), ['how', 'optString']],
  heldWrite: [held('dir'), rel('rel'), ['data', 'content'], options],
  listLocks: [lockOptions],
  recoverJsonFile: [path('filePath'), options],
  releaseAllLocks: [],
  releaseLock: [id, lockOptions],
  storeCreateSnapshot: [path('root'), path('store'), ['id', 'string'], options, progress],
  storeDiff: [path('store'), ['from', 'string'], ['to', 'optString'], options],
  storeGc: [path('store')],
  storeLog: [path('store')],
  storeListSnapshots: [path('store')],
  storeRemoveSnapshot: [path('store'), ['id', 'string']],
  storeRestoreSnapshot: [path('store'), ['id', 'string'], path('target'), ['only', 'optArray']],
  storeVerify: [path('store'), ['ids', 'optArray'], ['options', 'optOptions', { deep: 'optBoolean' }]],
  validateTrackerFile: [path('trackerPath')],
  verifyChecksum: [path('filePath'), ['expectedChecksum', 'optString']],
  verifyChecksumAsync: [path('filePath'), ['expectedChecksum', 'optString']],
}

/** `fn` (the backend's `name`) checking its arguments first; the same name and arity. */
function guard(name, fn) {
  const spec = SPECS[name]
  const context = spec[0] && spec[0][1] === 'path' ? (p) => `${name} failed for ${p}` : undefined
  const checked = {
    [name](...args) {
      checkArgs(spec, args, context)
      return fn(...args)
    },
  }[name]
  Object.defineProperties(checked, { length: { value: spec.length }, unchecked: { value: fn } })
  return checked
}

/** A copy of `backend` with every function of SPECS guarded; the rest (napi-rs's Task classes, the loader's stamp) as is. */
function guardAll(backend) {
  const out = {}
  for (const [name, value] of Object.entries(backend)) out[name] = name in SPECS ? guard(name, value) : value
  return out
}

module.exports = { SPECS, guard, guardAll, lockOptions }
