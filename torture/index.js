#!/usr/bin/env node
'use strict'
// `npm run torture`: the long reliability suite (not part of `npm test`). Each section in
// torture/sections/ tries to break one guarantee for real (SIGKILLs, strace fault injection,
// lock stress, hostile input, fuzzing) and returns what it tried and what held. The report
// is written to RELIABILITY.md. `npm run torture -- <section>...` runs only some sections
// (and then writes torture/last-run.md instead, so a partial run never replaces the report).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const sectionsDir = path.join(__dirname, 'sections')
const only = process.argv.slice(2)
const files = fs
  .readdirSync(sectionsDir)
  .filter((f) => f.endsWith('.js'))
  .sort()
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))

async function main() {
  const started = Date.now()
  const parts = []
  let failures = 0
  for (const file of files) {
    const section = require(path.join(sectionsDir, file))
    const t0 = Date.now()
    console.error(`▶ ${section.title}`)
    let result
    try {
      result = await section.run()
    } catch (err) {
      result = { ok: false, text: `The section crashed: \`${err && err.stack}\`` }
    }
    const seconds = ((Date.now() - t0) / 1000).toFixed(0)
    if (!result.ok) failures++
    parts.push(`## ${section.title}\n\n${result.ok ? '**Held.**' : '**FAILED.**'} (${seconds} s)\n\n${result.text}\n`)
    console.error(`  ${result.ok ? 'held' : 'FAILED'} in ${seconds} s`)
  }
  const minutes = ((Date.now() - started) / 60000).toFixed(1)
  const header = [
    '# Reliability report',
    '',
    `Produced by \`npm run torture\` on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} x ` +
      `${os.cpus()[0].model.trim()}, ${os.type()} ${os.release()}, Node ${process.version}; ` +
      `${minutes} minutes in all. Every figure below comes from that run.`,
    '',
    failures === 0 ? 'Every section held.' : `**${failures} section(s) failed**: see below.`,
    '',
  ]
  const out = only.length === 0 ? path.join(ROOT, 'RELIABILITY.md') : path.join(__dirname, 'last-run.md')
  fs.writeFileSync(out, header.concat(parts).join('\n'))
  console.error(`report written to ${path.relative(ROOT, out)}`)
  process.exitCode = failures === 0 ? 0 : 1
}

main()
