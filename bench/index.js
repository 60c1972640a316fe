#!/usr/bin/env node
'use strict'
// `npm run bench`: runs every bench/*.bench.js in its own process (one at a time, so they do
// not disturb each other), prints their tables and writes them to bench/RESULTS.md with the
// machine and the date. Pass file names to run only some: `npm run bench -- fsx`.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const only = process.argv.slice(2)
const files = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()

const header = [
  '# Benchmark results',
  '',
  `Measured ${new Date().toISOString()} on ${os.cpus().length} x ${os.cpus()[0].model.trim()}, ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}. ` +
    'Produced by `npm run bench`; every figure below comes from that one run.',
  '',
]
const sections = []
for (const file of files) {
  console.error(`▶ ${file}`)
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, file)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  })
  process.stdout.write(r.stdout)
  sections.push(r.status === 0 ? r.stdout : `${r.stdout}\n(${file} failed with exit ${r.status})\n`)
}
if (only.length === 0) fs.writeFileSync(path.join(__dirname, 'RESULTS.md'), header.concat(sections).join('\n'))
