#!/usr/bin/env node
'use strict'
// `npm test`: works on a fresh clone with only Node and a Rust toolchain.
//   1. installs the dev dependencies if they are missing;
//   2. builds the addon (release) when it is missing or older than its sources;
//   3. runs `cargo test` for the Rust core, the type test (`tsc -p __test__`), then the Node
//      suites (node:test) in __test__/.
// Extra arguments are passed to `node --test` (e.g. a single file).
// `--suites-only` skips 1, 2 and cargo test: the type test and the Node suites run against the
// binary already there (the CI test jobs, which test the release binary built by another job,
// with no Rust; `.ci/run`, once per supported Node version).

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const { root, addonIsStale } = require('./addon')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function step(title, cmd, args, options = {}) {
  console.log(`\n▶ ${title}: ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: false, ...options })
  if (r.error) throw r.error
  if (r.status !== 0) {
    console.error(`✖ ${title} failed (exit ${r.status})`)
    process.exit(r.status || 1)
  }
}

const args = process.argv.slice(2)
const suitesOnly = args.includes('--suites-only')

if (!suitesOnly && !fs.existsSync(path.join(root, 'node_modules', '@napi-rs', 'cli'))) {
  step('install dev dependencies', npm, ['ci', '--no-audit', '--no-fund'], { shell: process.platform === 'win32' })
}

if (!suitesOnly && (addonIsStale() || process.env.SESSION_RESILIENCE_REBUILD)) {
  step('build the addon', npm, ['run', 'build'], { shell: process.platform === 'win32' })
}

if (!suitesOnly) step('Rust core tests', 'cargo', ['test', '--workspace', '--quiet'])

const files = args.filter((a) => a !== '--suites-only')
const suites = files.length
  ? files
  : fs
      .readdirSync(path.join(root, '__test__'))
      .filter((f) => f.endsWith('.test.js'))
      .sort()
      .map((f) => path.join('__test__', f))
// The type test: every .d.ts compiles under --strict and serves its subpath as a TypeScript
// user imports it (__test__/types.test-d.ts, compiled only).
if (!files.length) step('Type test', process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '__test__'])
// The files are listed (Node 22+ reads a folder argument as a pattern), one at a time: the
// suites share the default lock and backup directories.
step('Node suites', process.execPath, ['--test', '--test-concurrency=1', ...suites])
