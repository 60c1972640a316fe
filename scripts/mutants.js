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
//                               to retest only what the last run did not catch; last,
//                               --only-tests <filter>...: only those tests run per mutant]
//   npm run mutants -- js [lib/js files]
//   npm run mutants -- report          (only rewrite MUTANTS.md)
//   npm run mutants -- save-stopped <started ISO> <command>
//                                      (store what a cargo-mutants run stopped by hand got to)
//   npm run mutants                    (everything: hours here)

const crypto = require('node:crypto')
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

// cargo-mutants' output folder; SR_MUTANTS_OUT names another one, so that a second run over
// other files can go on beside the first (each run reads back its own outcome lists).
const OUT = path.resolve(ROOT, process.env.SR_MUTANTS_OUT || path.join('target', 'mutants'))

/**
 * What a mutant's position depends on: the hash of the file's code, without its inline test
 * module (a Rust file's `#[cfg(test)] mod tests { ... }` comes last, clippy's items_after_test_module), so that a
 * test added to a file's own tests leaves its results standing, and a change to its code does not.
 */
function codeHash(rel, text = fs.readFileSync(path.join(ROOT, rel), 'utf8')) {
  const tests = rel.endsWith('.rs') ? /^#\[cfg\((all\()?test\b[^\n]*\n\s*mod \w+ \{/m.exec(text) : null
  return crypto.createHash('sha256').update(tests ? text.slice(0, tests.index) : text).digest('hex').slice(0, 16)
}

/** The code hash of each of `files` as they are now. */
const hashesOf = (files) => Object.fromEntries(files.filter((f) => fs.existsSync(path.join(ROOT, f))).map((f) => [f, codeHash(f)]))

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

function saveRust(started, command, outcomes, hashes) {
  const files = [...new Set(Object.keys(outcomes).map((n) => n.split(':')[0]))].sort()
  return save('rust', {
    kind: 'rust',
    started: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 1000),
    command,
    files,
    // null: not known (a stopped run stored afterwards: the tree may have changed meanwhile)
    hashes: hashes ? Object.fromEntries(files.map((f) => [f, hashes[f]])) : null,
    outcomes,
  })
}

/**
 * `--only-tests <filter>...` (last among the options): each mutant is tested by the unit tests
 * whose names contain one of the filters, not by all of them (the pure modules' own tests
 * take a second, the whole suite ten or more). cargo-mutants puts the config's test
 * arguments last, so the filters go there: a copy of .cargo/mutants.toml (same exclusions)
 * whose `additional_cargo_test_args` ends with `-- <filters>`. A mutant only another module's
 * tests would catch is then counted missed: the score is a lower bound.
 */
function onlyTests(args) {
  const at = args.indexOf('--only-tests')
  if (at < 0) return args
  const filters = args.slice(at + 1)
  const config = fs
    .readFileSync(path.join(ROOT, '.cargo', 'mutants.toml'), 'utf8')
    .replace(/^additional_cargo_test_args = \[(.*)\]$/m, (_, list) => `additional_cargo_test_args = [${list}, "--", ${filters.map((f) => JSON.stringify(f)).join(', ')}]`)
  const file = path.join(OUT, 'only-tests.toml')
  fs.mkdirSync(OUT, { recursive: true })
  fs.writeFileSync(file, config)
  return [...args.slice(0, at), '--config', file]
}

/** Run cargo-mutants with `args`; store its outcome lists. */
function runRust(args) {
  const cargoArgs = ['mutants', '-p', 'session-resilience-core', '--no-shuffle', '-o', OUT, ...onlyTests(args)]
  const started = new Date()
  // cargo-mutants copies the tree when it starts: the code it mutates is the code as it is now
  const hashes = hashesOf(allFiles().rust)
  console.error(`▶ cargo ${cargoArgs.join(' ')}`)
  const r = spawnSync('cargo', cargoArgs, { cwd: ROOT, stdio: 'inherit' })
  if (r.error) throw r.error
  // cargo-mutants exits 2 when mutants were missed, 3 on timeouts: outcomes, not failures.
  if (![0, 2, 3].includes(r.status)) throw new Error(`cargo mutants failed (exit ${r.status})`)
  return saveRust(started, `npm run mutants -- rust ${args.join(' ')}`.trim(), rustOutcomes(), hashes)
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
  // the runner copies the tree when it starts: the code it mutates is the code as it is now
  const hashes = hashesOf(allFiles().js)
  const r = spawnSync(process.execPath, [path.join(__dirname, 'mutants-js.js'), ...files], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`mutants-js failed (exit ${r.status})`)
  const result = JSON.parse(r.stdout)
  const { outcomes, ...run } = result
  return save('js', { ...run, hashes: Object.fromEntries(result.files.map((f) => [f, hashes[f]])), outcomes })
}

// ---- the report ----------------------------------------------------------------------------

const RULE =
  'Which outcomes stand: runs are taken in the order they started; a mutant\'s newest outcome replaces older ones of the ' +
  'same position (file:line:col and mutation). A run over whole files replaces all that older runs said of those files. ' +
  'A partial run (`--re`, `--iterate`) replaces only the positions it retested, so a fix retested alone leaves the ' +
  'other positions\' outcomes standing; but when the file\'s code changed between the two runs (each run stores a hash ' +
  'of the code it mutated, a Rust file without its test module), the older positions describe code that is gone and ' +
  'are dropped. The runs stored before runs recorded their hashes carry hashes reconstructed from git afterwards (each ' +
  'file as committed together with the stored run: `hashesFrom` in the result); a file without a known hash is taken as unchanged.'

/** Every file mutation testing is meant to cover. */
function allFiles() {
  const walk = (dir) =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = `${dir}/${e.name}`
      if (e.isDirectory()) return walk(rel)
      return rel.endsWith('.rs') || rel.endsWith('.js') ? [rel] : []
    })
  return { rust: walk('core/src').filter((f) => !/(^|\/)(testutil|tests)\.rs$/.test(f)), js: walk('lib/js') }
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
  // Which outcomes stand (the rule MUTANTS.md states, RULE below): runs are taken in the
  // order they started, and each run's outcome of a mutant replaces an older one of the same
  // name (file:line:col: mutation). A run over whole files (not `--iterate` or `--re`, which
  // retest some mutants only) replaces everything older runs said of those files. A partial
  // run replaces only the positions it retested, unless the file's code changed in between
  // (its code hash, stored with each run since these hashes exist, differs from the one the
  // kept outcomes were made on): then the older positions describe code that is gone and are
  // dropped. A file without a known hash is taken as unchanged.
  // A mutant the exclusions now leave out (a run made before the exclusion) is not counted.
  const excluded = excludedPatterns()
  const byFile = new Map()
  for (const run of stored) {
    const partial = /--iterate|--re\b/.test(run.command)
    const hashOf = (f) => run.hashes?.[f] ?? null
    for (const f of run.files) {
      const kept = byFile.get(f)
      const changed = kept && kept.hash && hashOf(f) && kept.hash !== hashOf(f)
      if (!partial || changed) byFile.delete(f)
    }
    for (const [name, status] of Object.entries(run.outcomes)) {
      const file = name.split(':')[0]
      if (excluded.some((re) => re.test(name))) {
        // not counted in the mutants the run planned for the file either
        run.excludedSince = { ...run.excludedSince, [file]: (run.excludedSince?.[file] || 0) + 1 }
        continue
      }
      if (!byFile.has(file)) byFile.set(file, { run, hash: null, outcomes: {} })
      const entry = byFile.get(file)
      entry.run = run
      entry.hash = hashOf(file) ?? entry.hash
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
      'A mutant is caught when a test fails (or times out) with it; missed when every test passes, or (lib/js) when no test ' +
      'executes its line at all ("no coverage", counted as missed); unviable when it does not build.',
    '',
    RULE,
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
      const missed = values.filter((v) => v === 'missed' || v === 'no coverage').length
      const unviable = values.filter((v) => v === 'unviable').length
      totals[kind].caught += caught
      totals[kind].scored += caught + missed
      const score = caught + missed ? `${((100 * caught) / (caught + missed)).toFixed(1)} %` : 'n/a'
      // whether the code is still the code these outcomes were made on
      const code = !entry.hash ? 'not recorded' : entry.hash === codeHash(f) ? 'as run' : '**changed since**'
      // a JS run stopped before its end says how many mutants the file has (planned)
      const ran = caught + missed + unviable
      const planned = entry.run.planned?.[f] - (entry.run.excludedSince?.[f] || 0)
      const count = planned > ran ? `${ran} of ${planned} (run stopped)` : ran
      scoreRows.push([f, count, caught, missed, unviable, score, entry.run.started.slice(0, 16).replace('T', ' '), code])
      for (const [name, status] of Object.entries(entry.outcomes)) {
        const why = status === 'no coverage' ? ' (no coverage: no test executes this line)' : ''
        if (status === 'missed' || status === 'no coverage') survivors.push(`- \`${name}\`${why}: ${reasons[name] || '**no reason recorded yet: a test is still to be written**'}`)
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
    'The last column compares the file\'s code now (without a Rust file\'s test module) with the code the outcomes were made on.',
    '',
    '| file | mutants | caught | missed | unviable | killed | last run (UTC) | code |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
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
