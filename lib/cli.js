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

/** Run a CLI's `run(argv)` as the main program and set the exit code. */
function main(run, argv = process.argv.slice(2)) {
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

module.exports = { parseArgs, printJson, main }
