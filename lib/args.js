'use strict'
// The argument checks every exported function makes before calling a backend, so a bad call
// throws the same `code` and message on both (the addon's own conversion errors had no code
// of ours and no path; the JS backend coerced some values). The async methods throw these
// synchronously too, as both backends always did for a bad argument. A message names the file when
// the path is known, in the legacy form (`Atomic write failed for <path>: ...`).

const { codedError, checkPath } = require('./js/errors')

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
const absent = (v) => v === undefined || v === null

/** What each kind of argument accepts, and how the message says it. */
const KINDS = {
  string: { ok: (v) => typeof v === 'string', what: 'of type string' },
  content: { ok: (v) => typeof v === 'string' || v instanceof Uint8Array, what: 'of type string or Uint8Array' },
  optString: { ok: (v) => absent(v) || typeof v === 'string', what: 'of type string (or null)' },
  optNumber: { ok: (v) => absent(v) || typeof v === 'number', what: 'of type number (or null)' },
  optOptions: { ok: (v) => absent(v) || isPlainObject(v), what: 'an options object (or null)' },
  function: { ok: (v) => typeof v === 'function', what: 'of type function' },
  optFunction: { ok: (v) => absent(v) || typeof v === 'function', what: 'of type function (or null)' },
  optBoolean: { ok: (v) => absent(v) || typeof v === 'boolean', what: 'of type boolean (or null)' },
  array: { ok: Array.isArray, what: 'an array' },
  optArray: { ok: (v) => absent(v) || Array.isArray(v), what: 'an array (or null)' },
  held: { ok: (v) => v !== null && typeof v === 'object' && !Array.isArray(v), what: 'a held folder (heldOpen / heldSub)' },
}

function describe(v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (v instanceof Uint8Array) return 'a Uint8Array'
  return typeof v === 'object' ? 'an object' : `${typeof v}${['number', 'boolean'].includes(typeof v) ? ` ${String(v)}` : ''}`
}

/**
 * Check `args` against `spec` (`[[name, kind, fields?], ...]`, kind `path` for a file path;
 * `fields`, `{ property: kind }`, for the properties of an options object). `context` is
 * `(path) => 'Atomic write failed for <path>'`, used once the path is known to be a string.
 */
function checkArgs(spec, args, context) {
  let prefix = ''
  spec.forEach(([name, kind, fields], i) => {
    const value = args[i]
    if (kind === 'path') {
      try {
        checkPath(name, value)
      } catch (err) {
        err.message = `${prefix}${err.message}` // a second path is checked under the first one's name
        throw err
      }
      if (context && !prefix) prefix = `${context(value)}: `
      return
    }
    if (!KINDS[kind].ok(value)) {
      throw codedError('ERR_INVALID_ARG_TYPE', `${prefix}The "${name}" argument must be ${KINDS[kind].what}, got ${describe(value)}`)
    }
    for (const [field, fieldKind] of Object.entries((isPlainObject(value) && fields) || {})) {
      if (!KINDS[fieldKind].ok(value[field])) {
        throw codedError('ERR_INVALID_ARG_TYPE', `${prefix}The "${name}.${field}" property must be ${KINDS[fieldKind].what}, got ${describe(value[field])}`)
      }
    }
  })
}

module.exports = { checkArgs, KINDS, isPlainObject }
