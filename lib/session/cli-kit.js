'use strict'
// What the three session CLIs share: `--root <dir>` / `--root=<dir>`, `--json` (the
// human lines go to stderr, one JSON document to stdout), help on `help`, `--help` and any
// unknown command or option (exit 2), and one error printer (exit 1).

const { parseArgs, printJson } = require('../cli')
const { codedError } = require('../js/errors')

const EXIT_USAGE = 2

/** Pull `--root <dir>` out of argv (lib/cli.js knows only `--name=value`), then parse the rest. */
function parseCommandLine(argv) {
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

function usageError(usage, message) {
  console.error(`❌ ${message}`)
  console.error(usage)
  return EXIT_USAGE
}

/** A positive integer argument (phase and week numbers), or EUSAGE. */
function toNumber(text, what) {
  if (text === undefined || !/^\d+$/.test(text)) throw codedError('EUSAGE', `${what} must be a number, got "${text === undefined ? '' : text}"`)
  return Number(text)
}

/** While `--json` runs, console.log lines go to stderr so stdout stays one JSON document. */
function logToStderr() {
  const saved = console.log
  console.log = (...args) => console.error(...args)
  return () => {
    console.log = saved
  }
}

/**
 * Run one CLI invocation. `commands[name] = { flags?, run(ctx) }` where ctx is
 * `{ instance, args, flags, json }` and `run` returns `{ code, data }` (or a number).
 * `create({ root, quiet })` builds the class instance (lazily: `help` needs none).
 */
async function runCommand(argv, { usage, commands, defaultCommand, create }, context = {}) {
  let parsed
  try {
    parsed = parseCommandLine(argv)
  } catch (err) {
    return usageError(usage, err.message)
  }
  const { positional, flags, options, json, root } = parsed
  const [name = defaultCommand, ...args] = positional
  if (name === 'help' || flags.has('help')) {
    console.log(usage)
    return 0
  }
  const command = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : null
  if (!command) return usageError(usage, `Unknown command: ${name}`)
  const allowed = new Set(['json', ...(command.flags || [])])
  const unknown = [...flags].filter((f) => !allowed.has(f)).concat(Object.keys(options))
  if (unknown.length) return usageError(usage, `Unknown option for ${name}: --${unknown[0]}`)

  const restoreLog = json ? logToStderr() : () => {}
  let outcome
  try {
    const instance = create({ root: root || context.root, quiet: json })
    const result = await command.run({ instance, args, flags, json })
    outcome = typeof result === 'number' ? { code: result } : result
  } catch (err) {
    restoreLog()
    if (err.code === 'EUSAGE') return usageError(usage, err.message)
    if (json) printJson({ ok: false, error: err.message, code: err.code })
    else console.error(`❌ ${err.message}${err.code && !String(err.code).startsWith('ENO') ? ` (${err.code})` : ''}`)
    return 1
  }
  restoreLog()
  if (json) printJson({ ok: outcome.code === 0, ...(outcome.data || {}) })
  return outcome.code
}

module.exports = { runCommand, parseCommandLine, toNumber, usageError, EXIT_USAGE }
