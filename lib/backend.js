'use strict'
// Which implementation serves the drop-in modules: the native addon or the pure-JS backend.
//
//   SESSION_RESILIENCE_BACKEND=native  the addon, or a clear error naming the platform
//   SESSION_RESILIENCE_BACKEND=js      the pure-JS backend
//   (unset)                            the addon; if no binary loads, the JS backend with
//                                      one warning on stderr
//
// Both expose the same functions with the same arguments and results (see lib/js/index.js).

const { codedError } = require('./js/errors')

const ENV = require('./js/defaults.json').env.backend
const NAMES = ['native', 'js']

let native // the loaded addon, or the Error that stopped it loading
let warned = false

function loadNative() {
  if (native === undefined) {
    try {
      native = require('../index.js')
    } catch (err) {
      native = err
    }
  }
  return native
}

function platformName() {
  return `${process.platform}-${process.arch}`
}

function nativeUnavailable(cause) {
  return codedError(
    'ENATIVEUNAVAILABLE',
    `session-resilience: the native backend was requested (${ENV}=native) but no binary loads on ` +
      `${platformName()}: ${cause.message}. Install the matching session-resilience-${platformName()}-* ` +
      `package, or set ${ENV}=js.`,
    cause,
  )
}

/**
 * The backend for `requested` ('native' | 'js'), or for the environment when omitted.
 * @returns {{ name: 'native' | 'js', binding: object }}
 */
function resolveBackend(requested) {
  const wanted = requested || process.env[ENV] || ''
  if (wanted && !NAMES.includes(wanted)) {
    throw codedError('EBADBACKEND', `session-resilience: unknown backend "${wanted}" (${ENV} must be native or js)`)
  }
  if (wanted === 'js') return { name: 'js', binding: require('./js') }
  const loaded = loadNative()
  if (!(loaded instanceof Error)) return { name: 'native', binding: loaded }
  if (wanted === 'native') throw nativeUnavailable(loaded)
  if (!warned) {
    warned = true
    process.emitWarning(
      `session-resilience: no native binary for ${platformName()} (${loaded.message.split('\n')[0]}); using the JS backend`,
      { code: 'SESSION_RESILIENCE_FALLBACK' },
    )
  }
  return { name: 'js', binding: require('./js') }
}

module.exports = { resolveBackend, ENV }
