#!/usr/bin/env node
'use strict'
// `npm run mutants`: mutation testing, and MUTANTS.md from its results.
//
//   Rust core: cargo-mutants (settings and exclusions in .cargo/mutants.toml) over
//              session-resilience-core, running the core's own unit tests.
//   lib/js:    scripts/mutants-js.js, a small runner of our own (see there why not Stryker).
//
// A whole run does not fit in one sitting on a 2-core machine, so runs are made per file set
// and each run's outcome is stored in mutants/results/<name>.json (with its date and command);
// MUTANTS.md is then written from every stored result (the newest outcome of each mutant) and
// from mutants/reasons.json, which says why each surviving mutant survives. Files that no
// stored run covered are listed as not run.
//
//   npm run mutants -- rust [cargo-mutants options, e.g. -f 'core/src/lock/*.rs', or --iterate
//                               to retest only what the last run did not catch]
//   npm run mutants -- js [lib/js files]
//   npm run mutants -- report          (only rewrite MUTANTS.md)
//   npm run mutants -- save-stopped <started ISO> <command>
//                                      (store what a cargo-mutants run stopped by hand got to)
//   npm run mutants                    (everything: hours here)

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const RESULTS = path.join(ROOT, 'mutants', 'results')
const REASONS = path.join(ROOT, 'mutants', 'reasons.json')
const REPORT = path.join(ROOT, 'MUTANTS.md')

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-')

function save(kind, stored) {
  fs.mkdirSync(RESULTS, { recursive: true })
  const file = path.join(RESULTS, `${kind}-${stamp()}.json`)
  fs.writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`)
  return file
}

const OUT = path.join(ROOT, 'target', 'mutants')

/** The outcome of each mutant listed in cargo-mutants' output folder. */
function rustOutcomes() {
  const dir = path.join(OUT, 'mutants.out')
  const outcomes = {}
  for (const status of ['caught', 'missed', 'timeout', 'unviable']) {
    const p = path.join(dir, `${status}.txt`)
    if (!fs.existsSync(p)) continue
    for (const line of fs.readFileSync(p, 'utf8').split('\n').filter(Boolean)) outcomes[line] = status
  }
  return outcomes
}

function saveRust(started, command, outcomes) {
  return save('rust', {
    kind: 'rust',
    started: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 1000),
    command,
    files: [...new Set(Object.keys(outcomes).map((n) => n.split(':')[0]))].sort(),
    outcomes,
  })
}

/** Run cargo-mutants with `args`; store its outcome lists. */
function runRust(args) {
  const cargoArgs = ['mutants', '-p', 'session-resilience-core', '--no-shuffle', '-o', OUT, ...args]
  const started = new Date()
  console.error(`▶ cargo ${cargoArgs.join(' ')}`)
  const r = spawnSync('cargo', cargoArgs, { cwd: ROOT, stdio: 'inherit' })
  if (r.error) throw r.error
  // cargo-mutants exits 2 when mutants were missed, 3 on timeouts: outcomes, not failures.
  if (![0, 2, 3].includes(r.status)) throw new Error(`cargo mutants failed (exit ${r.status})`)
  return saveRust(started, `npm run mutants -- rust ${args.join(' ')}`.trim(), rustOutcomes())
}

/**
 * A run stopped before its end (a whole run does not fit in one sitting here): store what
 * its output folder holds, saying so. `started` is when it began, `command` what ran.
 */
function saveStopped(startedIso, command) {
  const outcomes = rustOutcomes()
  const n = Object.keys(outcomes).length
  return saveRust(new Date(startedIso), `${command} (stopped by hand after ${n} mutants)`, outcomes)
}

function runJs(files) {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'mutants-js.js'), ...files], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`mutants-js failed (exit ${r.status})`)
  return save('js', JSON.parse(r.stdout))
}

// ---- the report ----------------------------------------------------------------------------

/** Every file mutation testing is meant to cover. */
function allFiles() {
  const walk = (dir) =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = `${dir}/${e.name}`
      if (e.isDirectory()) return walk(rel)
      return rel.endsWith('.rs') || rel.endsWith('.js') ? [rel] : []
    })
  return { rust: walk('core/src').filter((f) => !f.endsWith('testutil.rs')), js: walk('lib/js') }
}

/** The exclude_re patterns of .cargo/mutants.toml (single-quoted strings in its array). */
function excludedPatterns() {
  const p = path.join(ROOT, '.cargo', 'mutants.toml')
  if (!fs.existsSync(p)) return []
  const text = fs.readFileSync(p, 'utf8')
  const block = /exclude_re\s*=\s*\[([\s\S]*?)\n\]/.exec(text)
  if (!block) return []
  const rust = [...block[1].matchAll(/^\s*'([^']*)'/gm)].map((m) => new RegExp(m[1].replace(/\\\\/g, '\\')))
  return [...rust, ...require('../mutants/js-exclude').map(([re]) => re)]
}

function render() {
  const stored = fs.existsSync(RESULTS)
    ? fs
        .readdirSync(RESULTS)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => ({ file: f, ...JSON.parse(fs.readFileSync(path.join(RESULTS, f), 'utf8')) }))
        // in the order the runs started (a run saves when it ends: a long run started before a
        // shorter one saves after it, yet the shorter one ran the newer tests)
        .sort((a, b) => a.started.localeCompare(b.started))
    : []
  const reasons = fs.existsSync(REASONS) ? JSON.parse(fs.readFileSync(REASONS, 'utf8')) : {}
  // The newest run decides each mutant: a later run (e.g. `--iterate`, which retests only
  // the mutants not caught before) updates the outcomes of the mutants it tested.
  // A mutant the exclusions now leave out (a run made before the exclusion) is not counted.
  // A run over whole files (not `--iterate` or `--re`, which retest some mutants only)
  // replaces what older runs said of those files: mutants of code since changed go with it.
  const excluded = excludedPatterns()
  const byFile = new Map()
  // A partial run also supersedes older outcomes of the same mutant moved to another line
  // (code added above it): same file, same mutation in the same function, other position.
  const moved = (name) => name.replace(/^([^:]+):\d+:\d+: /, '$1: ')
  for (const run of stored) {
    if (!/--iterate|--re\b/.test(run.command)) for (const f of run.files) byFile.delete(f)
    const retested = new Set(Object.keys(run.outcomes).map(moved))
    for (const entry of byFile.values()) {
      for (const name of Object.keys(entry.outcomes)) if (retested.has(moved(name))) delete entry.outcomes[name]
    }
    for (const [name, status] of Object.entries(run.outcomes)) {
      if (excluded.some((re) => re.test(name))) continue
      const file = name.split(':')[0]
      if (!byFile.has(file)) byFile.set(file, { run, outcomes: {} })
      const entry = byFile.get(file)
      entry.run = run
      entry.outcomes[name] = status
    }
  }
  const lines = [
    '# Mutation testing',
    '',
    'Written by `npm run mutants` (scripts/mutants.js) from the stored runs in mutants/results/ and the reasons in ' +
      'mutants/reasons.json; not edited by hand. Rust: cargo-mutants over the core, with its own unit tests ' +
      '(exclusions in .cargo/mutants.toml, each with its reason). lib/js: scripts/mutants-js.js (why not Stryker: see there; ' +
      'exclusions in mutants/js-exclude.js, each with its reason). ' +
      'A mutant is caught when a test fails (or times out) with it; missed when every test passes; unviable when it does not build.',
    '',
  ]
  const scoreRows = []
  const survivors = []
  const totals = { rust: { caught: 0, scored: 0 }, js: { caught: 0, scored: 0 } }
  const files = allFiles()
  const notRun = []
  for (const [kind, list] of Object.entries(files)) {
    for (const f of list) {
      const entry = byFile.get(f)
      if (!entry) {
        notRun.push(f)
        continue
      }
      const values = Object.values(entry.outcomes)
      const caught = values.filter((v) => v === 'caught' || v === 'timeout').length
      const missed = values.filter((v) => v === 'missed').length
      const unviable = values.filter((v) => v === 'unviable').length
      totals[kind].caught += caught
      totals[kind].scored += caught + missed
      const score = caught + missed ? `${((100 * caught) / (caught + missed)).toFixed(1)} %` : 'n/a'
      scoreRows.push([f, caught + missed + unviable, caught, missed, unviable, score, entry.run.started.slice(0, 16).replace('T', ' ')])
      for (const [name, status] of Object.entries(entry.outcomes)) {
        if (status === 'missed') survivors.push(`- \`${name}\`: ${reasons[name] || '**no reason recorded yet: a test is still to be written**'}`)
      }
    }
  }
  const pct = (t) => (t.scored ? `${((100 * t.caught) / t.scored).toFixed(1)} %` : 'n/a')
  lines.push(
    `Killed (caught or timed out) among the mutants that built, over the files run: Rust core ${totals.rust.caught} of ${totals.rust.scored} (${pct(totals.rust)}), ` +
      `lib/js ${totals.js.caught} of ${totals.js.scored} (${pct(totals.js)}).`,
    '',
    '## Score per file',
    '',
    '| file | mutants | caught | missed | unviable | killed | run (UTC) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...scoreRows.map((r) => `| ${r.join(' | ')} |`),
    '',
    '## Surviving mutants',
    '',
    survivors.length ? survivors.join('\n') : 'None in the files run.',
    '',
    '## Runs',
    '',
    ...stored.map((run) => `- ${run.started.slice(0, 16).replace('T', ' ')} UTC, ${run.seconds} s: \`${run.command}\` (${run.files.length} files, ${Object.keys(run.outcomes).length} mutants)`),
    '',
    '## Not run yet',
    '',
    notRun.length ? `${notRun.length} files: ${notRun.map((f) => `\`${f}\``).join(', ')}.` : 'Every file has a run.',
    '',
  )
  fs.writeFileSync(REPORT, lines.join('\n'))
}

function main() {
  const [what = 'all', ...rest] = process.argv.slice(2)
  if (what === 'rust' || what === 'all') runRust(what === 'rust' ? rest : [])
  if (what === 'js' || what === 'all') runJs(what === 'js' ? rest : [])
  if (what === 'save-stopped') saveStopped(rest[0], rest[1])
  if (!['rust', 'js', 'all', 'report', 'save-stopped'].includes(what)) throw new Error('usage: npm run mutants -- [rust|js|report|save-stopped] ...')
  render()
  console.error(`written ${path.relative(ROOT, REPORT)}`)
}

main()
