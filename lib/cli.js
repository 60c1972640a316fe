'use strict'
// The small printer every CLI shares: `--json` turns results into one JSON document on
// stdout, everything else prints the legacy lines. `main(run)` is what bin/ and a user's
// shim call: it runs `run(argv)` and sets the exit code.

/** Split `--json` (and other `--flags`) from positional arguments. */
function parseArgs(argv) {
  const flags = new Set()
  const options = {}
  const positional = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      positional.push(...argv.slice(i + 1))
      break
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      if (eq > 0) options[arg.slice(2, eq)] = arg.slice(eq + 1)
      else flags.add(arg.slice(2))
    } else positional.push(arg)
  }
  return { flags, options, positional, json: flags.has('json') }
}

function printJson(value) {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/**
 * Run a CLI's `run(argv, context)` as the main program and set the exit code. `arg` is the
 * argv (default `process.argv.slice(2)`) or `{ argv, root }`: a shim may name its project
 * (`main({ root: __dirname })`); without it the root is found from the shim's location
 * (lib/root.js).
 */
function main(run, arg) {
  const { argv = process.argv.slice(2), root } = Array.isArray(arg) ? { argv: arg } : arg || {}
  return Promise.resolve()
    .then(() => run(argv, { root }))
    .then(
      (code) => {
        process.exitCode = typeof code === 'number' ? code : 0
      },
      (err) => {
        console.error(`❌ ${err && err.message ? err.message : err}`)
        process.exitCode = 1
      },
    )
}

/** Print `message` and the usage text on stderr; the exit code of a usage error. */
function usageError(usage, message) {
  console.error(`❌ ${message}`)
  console.error(usage)
  return 2
}

/**
 * Run a command-table CLI: no command or `help` prints the usage (0), an unknown command is a
 * usage error (2), a handler that throws prints the error (or `{ ok: false }` with --json) and
 * gives 1. Handlers get `(target(), args(rest), json)` and return the exit code.
 */
async function dispatch(argv, { usage, commands, target, args = (rest) => rest }) {
  const { positional, json } = parseArgs(argv)
  const [command, ...rest] = positional
  if (command === undefined || command === 'help') {
    console.log(usage)
    return 0
  }
  const handler = Object.prototype.hasOwnProperty.call(commands, command) ? commands[command] : null
  if (!handler) return usageError(usage, `Unknown command: ${command}`)
  try {
    return await handler(target(), args(rest), json)
  } catch (err) {
    if (json) printJson({ ok: false, error: err.message, code: err.code })
    else console.error(`❌ ${err.message}${err.code ? ` (${err.code})` : ''}`)
    return 1
  }
}

/** Run `fn` with console.log silenced (for --json, whose stdout is one JSON document). */
function quietly(fn) {
  const saved = console.log
  console.log = () => {}
  try {
    return fn()
  } finally {
    console.log = saved
  }
}

module.exports = { parseArgs, printJson, main, usageError, dispatch, quietly }
