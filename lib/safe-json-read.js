'use strict'
// The legacy `safeJsonRead` flow, once for both backends: read and `JSON.parse` the file; a
// missing, empty or unreadable file gives the default; a file that does not parse is handed
// to the backend's `recoverJsonFile` (damaged bytes kept aside, newest parsable backup
// restored); then the caller's validator decides. Every legacy console line is printed here.

const fs = require('node:fs')
const { checkPath, osError } = require('./js/errors')

/** What a validator threw, as text: the message of an error, else the value itself. */
function describeThrown(value) {
  if (value !== null && typeof value === 'object' && typeof value.message === 'string') return value.message
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/** Parse the damaged file's restored backup, or undefined when nothing usable came back. */
function recover(binding, filePath, options) {
  let recovery
  try {
    recovery = binding.recoverJsonFile(filePath, options)
  } catch (err) {
    console.error(`Recovery of ${filePath} failed: ${err.message}`)
    return undefined
  }
  if (recovery.restoredFrom === undefined) {
    console.warn(`No usable backup of ${filePath}; damaged file kept as ${recovery.keptAs}`)
    return undefined
  }
  console.warn(`Restored ${filePath} from backup ${recovery.restoredFrom} (damaged file kept as ${recovery.keptAs})`)
  try {
    return JSON.parse(recovery.text)
  } catch {
    return undefined
  }
}

/**
 * The legacy validator protocol: `validator(data)` returns `{ valid, error, repair? }`;
 * invalid data is replaced by `repair(data)` when given, else by the default. A validator
 * that throws (any value) or returns no object is a bug in the validator: logged, and the
 * default returned, the file untouched.
 */
function applyValidator(filePath, data, fallback, validator) {
  if (typeof validator !== 'function') return data
  let verdict
  try {
    verdict = validator(data)
  } catch (err) {
    console.error(`Validator failed for ${filePath}: ${describeThrown(err)}`)
    return fallback
  }
  if (verdict === null || typeof verdict !== 'object') {
    console.error(`Validator failed for ${filePath}: it returned ${describeThrown(verdict)}, not { valid, error }`)
    return fallback
  }
  if (verdict.valid) return data
  console.warn(`Validation failed for ${filePath}: ${verdict.error}`)
  if (typeof verdict.repair === 'function') return verdict.repair(data)
  return fallback
}

/** `safeJsonRead(filePath, defaultValue, validator)` on `binding`, with `options.backupDir`. */
function safeJsonRead(binding, filePath, defaultValue, validator, options) {
  checkPath('filePath', filePath)
  const fallback = defaultValue === undefined ? null : defaultValue
  let text
  try {
    text = fs.readFileSync(filePath, 'utf8')
  } catch (err) {
    if (err.code === 'ENOENT') console.warn(`File ${filePath} does not exist, using default value`)
    else console.error(`Failed to read JSON from ${filePath}: ${osError(filePath, err).message}`)
    return fallback
  }
  if (text.trim() === '') {
    console.warn(`File ${filePath} is empty, using default value`)
    return fallback
  }
  let data
  try {
    data = JSON.parse(text)
  } catch (err) {
    console.error(`Failed to read JSON from ${filePath}: ${err.message}`)
    data = recover(binding, filePath, options)
    if (data === undefined) return fallback
  }
  return applyValidator(filePath, data, fallback, validator)
}

module.exports = { safeJsonRead }
