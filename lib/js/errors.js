'use strict'
// Errors of the JS backend: plain `Error`s with a `code`, exactly like the native ones, and
// the same messages (the reason part of an OS error is `<CODE>: <description>`).

function codedError(code, message) {
  const err = new Error(message)
  err.code = code
  return err
}

/** `<context>: <CODE>: <description>` for an fs error, keeping its code. */
function osError(context, err) {
  if (!err || typeof err.code !== 'string' || !/^E[A-Z0-9]+$/.test(err.code)) {
    return codedError(err && err.code ? String(err.code) : 'EIO', `${context}: ${err && err.message}`)
  }
  // Node: "ENOENT: no such file or directory, open '/x'" -> "ENOENT: no such file or directory"
  const reason = String(err.message).split(', ')[0]
  const wrapped = codedError(err.code, `${context}: ${reason}`)
  wrapped.cause = err
  return wrapped
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

module.exports = { codedError, osError, withContext, checkPath }
