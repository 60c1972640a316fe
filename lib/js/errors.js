'use strict'
// Errors of the JS backend: plain `Error`s with a `code`, exactly like the native ones, and
// the same messages (the reason part of an OS error is `<CODE>: <description>`).

/**
 * The project codes of the Rust core (`Code::as_str` in core/src/error.rs, checked by
 * __test__/errors.test.js); any other code a backend throws is the errno name of an OS failure.
 */
const CORE_CODES = new Set([
  'EBADPATH',
  'EBADLABEL',
  'EBADLOCKID',
  'EBADLOCK',
  'ELOCKTIMEOUT',
  'EPATHESCAPE',
  'EUNSAFEDIR',
  'ECORRUPT',
  'ERR_INVALID_ARG_TYPE',
  'ENOCOMMAND',
  'ECOMMAND',
  'EINTERNAL',
])

/** Did the OS refuse something (an errno code), rather than our checks or a bug of ours? */
const isOsError = (err) => Boolean(err) && typeof err.code === 'string' && !CORE_CODES.has(err.code)

/**
 * The one way lib/ builds an error: a plain `Error` with a `code`, as the native binding
 * throws them. `cause` (optional) is kept as the standard `cause`.
 */
function codedError(code, message, cause) {
  const err = cause === undefined ? new Error(message) : new Error(message, { cause })
  err.code = code
  return err
}

/** An error Node's fs (libuv) threw: it names the system call that failed. */
const isNodeSystemError = (err) => Boolean(err) && typeof err.syscall === 'string'

/** `<context>: <CODE>: <description>` for an fs error, keeping its code. */
function osError(context, err) {
  if (!err || typeof err.code !== 'string' || !/^E[A-Z0-9]+$/.test(err.code)) {
    return codedError(err && err.code ? String(err.code) : 'EIO', `${context}: ${err && err.message}`)
  }
  // Node: "ENOENT: no such file or directory, open '/x'" -> "ENOENT: no such file or directory"
  const reason = String(err.message).split(', ')[0]
  return codedError(err.code, `${context}: ${reason}`, err)
}

/** The same error under `<context>: <old message>`, code kept. */
function withContext(context, err) {
  return codedError(err.code, `${context}: ${err.message}`)
}

function checkPath(name, value) {
  if (typeof value !== 'string') {
    throw codedError('ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type string`)
  }
  if (value.length === 0) throw codedError('EBADPATH', `${name} must not be empty`)
  if (value.includes('\0')) throw codedError('EBADPATH', `${name} must not contain a NUL byte`)
  return value
}

module.exports = { codedError, osError, withContext, checkPath, isOsError, isNodeSystemError, CORE_CODES }
