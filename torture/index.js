#!/usr/bin/env node
'use strict'
// `npm run torture`: the long reliability suite (not part of `npm test`). Each section in
// torture/sections/ tries to break one guarantee for real (SIGKILLs, strace fault injection,
// lock stress, hostile input, fuzzing) and returns what it tried and what held.
//
// `npm run torture` runs every section; `npm run torture -- <part of a file name>...` runs
// some. Either way each section's result is stored in torture/results/<section>.json with its
// own date, machine and command, and RELIABILITY.md is then written whole from the stored
// results of every section: nothing in it is typed by hand, and a section run on its own says
// so next to its figures.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const sectionsDir = path.join(__dirname, 'sections')
const resultsDir = path.join(__dirname, 'results')
const REPORT = path.join(ROOT, 'RELIABILITY.md')

const sectionFiles = () =>
  fs
    .readdirSync(sectionsDir)
    .filter((f) => f.endsWith('.js'))
    .sort()

const resultPath = (file) => path.join(resultsDir, file.replace(/\.js$/, '.json'))

/** The command that reproduces this run: the torture settings in force, then npm's line. */
function command(only) {
  const settings = Object.keys(process.env)
    .filter((k) => k.startsWith('TORTURE_') && k !== 'TORTURE_KEEP')
    .sort()
    .map((k) => `${k}=${process.env[k]} `)
    .join('')
  return `${settings}npm run torture${only.length ? ` -- ${only.join(' ')}` : ''}`
}

function machine() {
  return `${os.cpus().length} x ${os.cpus()[0].model.trim()}, ${os.type()} ${os.release()}, Node ${process.version}`
}

async function runSection(file, only) {
  const section = require(path.join(sectionsDir, file))
  const started = new Date()
  console.error(`▶ ${section.title}`)
  let result
  try {
    result = await section.run()
  } catch (err) {
    result = { ok: false, text: `The section crashed: \`${err && err.stack}\`` }
  }
  const seconds = Math.round((Date.now() - started.getTime()) / 1000)
  console.error(`  ${result.ok ? 'held' : 'FAILED'} in ${seconds} s`)
  const stored = { title: section.title, ok: result.ok, started: started.toISOString(), seconds, command: command(only), machine: machine(), text: result.text }
  fs.mkdirSync(resultsDir, { recursive: true })
  fs.writeFileSync(resultPath(file), `${JSON.stringify(stored, null, 2)}\n`)
  return stored
}

/** RELIABILITY.md, from the stored result of every section (a section never run says so). */
function render() {
  const results = sectionFiles().map((file) => {
    const p = resultPath(file)
    return { file, result: fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, 'utf8')) : null }
  })
  const failed = results.filter((r) => r.result && !r.result.ok).map((r) => r.result.title)
  const missing = results.filter((r) => !r.result).map((r) => r.file)
  const summary = [
    `${results.length - missing.length} of ${results.length} sections have a result`,
    failed.length ? `**${failed.length} failed**: ${failed.join('; ')}` : 'every one of them held',
  ].join('; ')
  const parts = results.map(({ file, result }) => {
    if (!result) return `## ${file}\n\n**Not run yet.** Run \`npm run torture -- ${file.replace(/\.js$/, '')}\`.\n`
    return (
      `## ${result.title}\n\n${result.ok ? '**Held.**' : '**FAILED.**'} Run ${result.started.slice(0, 16).replace('T', ' ')} UTC ` +
      `with \`${result.command}\`, ${result.seconds} s, on ${result.machine}.\n\n${result.text}\n`
    )
  })
  const header = [
    '# Reliability report',
    '',
    'Written by `npm run torture` (torture/index.js) from the last stored result of each section ' +
      '(torture/results/); never edited by hand. Each section below names the date, command and ' +
      'machine of its own run, and every figure in it comes from that run.',
    '',
    `${summary}.`,
    '',
  ]
  fs.writeFileSync(REPORT, header.concat(parts).join('\n'))
  return { failed, missing }
}

async function main() {
  const only = process.argv.slice(2)
  if (only.includes('--render')) {
    render()
    return
  }
  const files = sectionFiles().filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  if (files.length === 0) throw new Error(`no section matches ${only.join(' ')}`)
  let failures = 0
  for (const file of files) if (!(await runSection(file, only)).ok) failures++
  render()
  console.error(`report written to ${path.relative(ROOT, REPORT)}`)
  process.exitCode = failures === 0 ? 0 : 1
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
