'use strict'
// Lock identifiers become file names (`<lockDir>/<identifier>.lock`), so they are checked
// before they touch a path, by the rules of core/src/lock/id.rs.

const { codedError } = require('../errors')
const { nonPortable } = require('../names')

const MAX_IDENTIFIER_LEN = 128

/** Why `id` may not name a lock, or null when it may. */
function identifierProblem(id) {
  if (id.length === 0) return 'it must not be empty'
  if (Buffer.byteLength(id) > MAX_IDENTIFIER_LEN) return 'it is longer than 128 bytes'
  if (id.includes('\0')) return 'it must not contain a NUL byte'
  if (id.includes('/') || id.includes('\\')) return 'it must not contain a path separator'
  if (id.includes('..') || id === '.') return "it must not contain '..' or be '.'"
  if (id.startsWith('.')) return "it must not start with '.' (hidden names are reserved for lock internals)"
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f<>:"|?*]/.test(id)) return 'it must not contain control characters or any of <>:"|?*'
  // core/src/lock/id.rs: the native binding sees an unpaired surrogate as U+FFFD
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\ufffd/.test(id)) {
    return 'it must be well-formed Unicode (no unpaired surrogate or U+FFFD)'
  }
  return nonPortable(id)
}

function checkIdentifier(id) {
  if (typeof id !== 'string') throw codedError('ERR_INVALID_ARG_TYPE', 'The "identifier" argument must be of type string')
  const why = identifierProblem(id)
  if (why) throw codedError('EBADLOCKID', `Invalid lock identifier ${JSON.stringify(id)}: ${why}`)
  return id
}

module.exports = { identifierProblem, checkIdentifier }
