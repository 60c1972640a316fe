'use strict'
// The arguments of every function of the two backends (the addon's index.js and lib/js, the
// same contract), checked by lib/args.js before either runs: the same wrong call throws the
// same `code` on both, and a message naming the path (the first argument, once it is one),
// never napi's code-less `InvalidArg` "Value is none of these types ...".

const { checkArgs, isPlainObject } = require('./args')

const path = (name) => [name, 'path']
const rel = (name) => [name, 'string']
const id = ['identifier', 'string']
const progress = ['onProgress', 'optFunction']
const held = (name) => [name, 'held']
// The lock options both backends read: a string `staleMs` was napi's NumberExpected natively
// and the default on js; now the same ERR_INVALID_ARG_TYPE on both.
// (The drop-in safe-file-operations checks its own lock options with this entry too.)
const lockOptions = ['options', 'optOptions', { lockDir: 'optString', timeout: 'optNumber', staleMs: 'optNumber', pollMs: 'optNumber' }]
// The other options objects, field by field as index.d.ts declares them: a wrong field is the
// same ERR_INVALID_ARG_TYPE on both backends (natively it was napi's BooleanExpected,
// ArrayExpected, ... when the JS backend went on), and a null field means absent on both.
const writeOptions = ['options', 'optOptions', { fsync: 'optBoolean' }]
const containedWriteOptions = ['options', 'optOptions', { exclusive: 'optBoolean', fsync: 'optBoolean' }]
const backupDirOptions = ['options', 'optOptions', { backupDir: 'optString' }]
const snapshotOptions = ['options', 'optOptions', { label: 'optString', excludes: 'optArray', substitutes: 'optArray', parent: 'optString', databases: 'optArray' }]
const diffOptions = ['options', 'optOptions', { root: 'optString', excludes: 'optArray', databases: 'optArray' }]

/** `name -> [[parameter, kind], ...]` (lib/args.js kinds), in index.d.ts order. */
const SPECS = {
  acquireLock: [id, ['timeout', 'optNumber'], lockOptions],
  acquireLockAsync: [id, lockOptions],
  atomicWrite: [path('filePath'), ['content', 'content'], writeOptions],
  atomicWriteAsync: [path('filePath'), ['content', 'content'], writeOptions],
  backupCancel: [],
  backupCheckArchive: [path('path'), progress],
  backupContainedPath: [path('root'), path('original')],
  backupCopyDatabase: [path('src'), path('dest'), ['root', 'optString']],
  backupCreateArchive: [path('root'), path('dest'), ['excludes', 'optArray'], progress, ['substitutes', 'optArray']],
  backupFile: [path('filePath'), ['label', 'optString'], backupDirOptions],
  backupGitBundle: [path('root'), path('dest'), ['exclude', 'optArray']],
  backupHashFiles: [path('backupsDir'), ['parts', 'array'], progress],
  backupIntegrityCheck: [path('db')],
  backupIsGitRepo: [path('root')],
  backupRestoreDatabase: [path('root'), path('original'), path('source')],
  backupRestoreFile: [path('root'), path('original'), path('source')],
  backupVerifyFiles: [path('backupsDir'), ['entries', 'array'], progress],
  cleanupOldBackups: [['maxAge', 'optNumber'], backupDirOptions],
  containedAppend: [path('base'), rel('rel'), ['data', 'string']],
  containedCopy: [path('srcBase'), rel('srcRel'), path('destBase'), rel('destRel')],
  containedList: [path('base'), rel('rel')],
  containedMkdir: [path('base'), rel('rel'), ['private', 'optBoolean']],
  containedRead: [path('base'), rel('rel'), ['maxBytes', 'optNumber']],
  containedRemove: [path('base'), rel('rel')],
  containedStat: [path('base'), rel('rel')],
  containedWrite: [path('base'), rel('rel'), ['data', 'content'], containedWriteOptions],
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
  heldWrite: [held('dir'), rel('rel'), ['data', 'content'], containedWriteOptions],
  listLocks: [lockOptions],
  recoverJsonFile: [path('filePath'), backupDirOptions],
  releaseAllLocks: [],
  releaseLock: [id, lockOptions],
  storeCreateSnapshot: [path('root'), path('store'), ['id', 'string'], snapshotOptions, progress],
  storeDiff: [path('store'), ['from', 'string'], ['to', 'optString'], diffOptions],
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

/**
 * `args` with the null fields of each options object left out: null means absent on both
 * backends (napi refuses a null where a field is a string, boolean or array). A copy, only
 * when there is such a field; the caller's object is never changed.
 */
function withoutNullFields(spec, args) {
  return args.map((value, i) => {
    const isOptions = spec[i] && spec[i][1] === 'optOptions' && isPlainObject(value)
    if (!isOptions || !Object.values(value).includes(null)) return value
    return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null))
  })
}

/** `fn` (the backend's `name`) checking its arguments first; the same name and arity. */
function guard(name, fn) {
  const spec = SPECS[name]
  const context = spec[0] && spec[0][1] === 'path' ? (p) => `${name} failed for ${p}` : undefined
  const checked = {
    [name](...args) {
      checkArgs(spec, args, context)
      return fn(...withoutNullFields(spec, args))
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
