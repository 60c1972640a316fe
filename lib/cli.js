'use strict'
// The one kit every CLI runs on. A CLI is a usage text and a table of commands; `runCommand`
// gives them all the same rules: no command (without a default) or `help`/`--help` prints
// the usage (exit 0); an unknown command, flag or option is a usage error (usage on stderr,
// exit 2); a thrown error is one `❌ message (CODE)` line, or `{ ok: false, error, code }`
// with `--json` (exit 1). With `--json`, console.log lines go to stderr so stdout holds one
// JSON document. `main(run)` is what bin/ and a user's shim call: it sets the exit code.

const { codedError } = require('./js/errors')
const { useRoot } = require('./root')

const EXIT_USAGE = 2

/** Split `--flags`, `--name=value` options and positional arguments (all after `--` positional). */
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

/** `parseArgs`, plus `--root <dir>` / `--root=<dir>` taken out as `root`. */
function parseWithRoot(argv) {
  const rest = []
  let root
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') {
      rest.push(...argv.slice(i))
      break
    }
    if (argv[i] === '--root') {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw codedError('EUSAGE', '--root needs a directory')
      root = argv[++i]
    } else rest.push(argv[i])
  }
  const parsed = parseArgs(rest)
  if (parsed.options.root !== undefined) root = parsed.options.root
  delete parsed.options.root
  return { ...parsed, root }
}

function printJson(value) {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/**
 * Run a CLI's `run(argv)` as the main program and set the exit code. `arg` is the argv
 * (default `process.argv.slice(2)`) or `{ argv, root }`: a shim may name its project
 * (`main({ root: __dirname })`, the root of the whole process); without it the root is found
 * from the shim's location (lib/root.js).
 */
function main(run, arg) {
  const { argv = process.argv.slice(2), root } = Array.isArray(arg) ? { argv: arg } : arg || {}
  if (root) useRoot(root)
  return Promise.resolve()
    .then(() => run(argv))
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
  return EXIT_USAGE
}

/** A usage error thrown from a command: `runCommand` prints it with the usage, exit 2. */
function usage(message) {
  return codedError('EUSAGE', message)
}

/** A non-negative integer argument (phase and week numbers), or EUSAGE. */
function toNumber(text, what) {
  if (text === undefined || !/^\d+$/.test(text)) throw usage(`${what} must be a number, got "${text === undefined ? '' : text}"`)
  return Number(text)
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

/** Send console.log lines to stderr until the returned function is called. */
function logToStderr() {
  const saved = console.log
  console.log = (...args) => console.error(...args)
  return () => {
    console.log = saved
  }
}

/**
 * Run one CLI invocation. `commands[name] = { flags?, run(ctx) }`, ctx being
 * `{ instance, args, flags, json }`. `run` returns either an exit code (it printed its own
 * output) or `{ code, data }` (with --json the kit prints `{ ok: code === 0, ...data }`).
 * `create({ root, quiet })` builds the instance (lazily: `help` needs none); `root: true`
 * accepts `--root <dir>`.
 */
async function runCommand(argv, { usage: usageText, commands, defaultCommand, create, root: takesRoot = false }) {
  let parsed
  try {
    parsed = takesRoot ? parseWithRoot(argv) : parseArgs(argv)
  } catch (err) {
    return usageError(usageText, err.message)
  }
  const { positional, flags, options, json, root } = parsed
  const [name = defaultCommand, ...args] = positional
  if (name === undefined || name === 'help' || flags.has('help')) {
    console.log(usageText)
    return 0
  }
  const command = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : null
  if (!command) return usageError(usageText, `Unknown command: ${name}`)
  const allowed = new Set(['json', ...(command.flags || [])])
  const unknown = [...flags].filter((f) => !allowed.has(f)).concat(Object.keys(options))
  if (unknown.length) return usageError(usageText, `Unknown option for ${name}: --${unknown[0]}`)

  const restoreLog = json ? logToStderr() : () => {}
  let outcome
  try {
    const instance = create({ root, quiet: json })
    outcome = await command.run({ instance, args, flags, json })
  } catch (err) {
    if (err.code === 'EUSAGE') return usageError(usageText, err.message)
    if (json) printJson({ ok: false, error: err.message, code: err.code })
    else console.error(`❌ ${err.message}${err.code && !String(err.code).startsWith('ENO') ? ` (${err.code})` : ''}`)
    return 1
  } finally {
    restoreLog()
  }
  if (typeof outcome === 'number') return outcome
  if (json) printJson({ ok: outcome.code === 0, ...(outcome.data || {}) })
  return outcome.code
}

module.exports = { parseArgs, printJson, main, usage, usageError, toNumber, quietly, runCommand, EXIT_USAGE }
