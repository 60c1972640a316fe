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
//   npm run mutants -- rust-windows [the same options]
//                                      (the mutants only Windows compiles, built for
//                                      x86_64-pc-windows-gnu and tested under Wine)
//   npm run mutants -- js [lib/js files]
//   npm run mutants -- report          (only rewrite MUTANTS.md)
//   npm run mutants -- save-stopped <started ISO> <command>
//                                      (store what a cargo-mutants run stopped by hand got to)
//   npm run mutants                    (everything: hours here)

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { placeMutants } = require('./mutants-cfg')

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

function saveRust(started, command, outcomes, hashes, platform, extra = {}) {
  const files = [...new Set(Object.keys(outcomes).map((n) => n.split(':')[0]))].sort()
  return save(platform === 'windows' ? 'rust-windows' : 'rust', {
    kind: 'rust',
    // where the mutants were built and tested: 'windows' (under Wine) or, unsaid, Linux
    ...(platform === 'windows' ? { platform } : {}),
    started: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 1000),
    command,
    files,
    // null: not known (a stopped run stored afterwards: the tree may have changed meanwhile)
    hashes: hashes ? Object.fromEntries(files.map((f) => [f, hashes[f]])) : null,
    // planned: the mutants per file the run set out to test; skippedTests: tests left out
    // because they fail unmutated (under Wine)
    ...extra,
    outcomes,
  })
}

const CONFIG = path.join(ROOT, '.cargo', 'mutants.toml')

/** The single-quoted strings of the TOML array `key` of .cargo/mutants.toml. */
function configList(key) {
  if (!fs.existsSync(CONFIG)) return []
  const block = new RegExp(`^${key}\\s*=\\s*\\[([\\s\\S]*?)\\n\\]`, 'm').exec(fs.readFileSync(CONFIG, 'utf8'))
  return block ? [...block[1].matchAll(/^\s*'([^']*)'/gm)].map((m) => m[1]) : []
}

/** Whether `file` is matched by a glob of the config's `exclude_globs` (test code only: see there). */
function isTestFile(file) {
  const re = (glob) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\/?|\*/g, (m) => (m === '*' ? '[^/]*' : '(.*/)?'))}$`)
  return configList('exclude_globs').some((g) => re(g).test(file))
}

/**
 * Every mutant of the core as cargo-mutants lists it without the config (no exclusion), each
 * with where it runs (scripts/mutants-cfg.js): 'linux', 'windows' (under Wine), 'elsewhere'
 * (macOS and other Unixes only) or 'test' (test code: a file in the config's `exclude_globs`, or
 * lines under a cfg naming `test` that cargo-mutants does not recognise). null when
 * cargo-mutants is not installed.
 */
function listMutants() {
  const r = spawnSync('cargo', ['mutants', '--list', '--json', '--no-config', '-p', 'session-resilience-core'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  if (r.error || r.status !== 0) return null
  const list = JSON.parse(r.stdout)
  const place = placeMutants(list, (f) => fs.readFileSync(path.join(ROOT, f), 'utf8'))
  const wine = rustExclusions().filter((e) => e.wine)
  const where = (m) => (isTestFile(m.file) ? 'test' : place[m.name] === 'linux' && wine.some((e) => e.re.test(m.name)) ? 'windows' : place[m.name])
  return list.map((m) => ({ name: m.name, file: m.file, place: where(m) }))
}

/** A regex matching exactly the mutant names `names` (for examine_re / exclude_re). */
const exactly = (names) => names.map((n) => `^${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)

const WINDOWS_TARGET = 'x86_64-pc-windows-gnu'

/**
 * The environment of a run under Wine: the Wine prefix and toolchain of
 * scripts/test-windows.sh (made there if missing), Wine as the target's runner, and one build
 * folder for every run (cargo-mutants builds each copy of the tree from scratch otherwise:
 * minutes of SQLite and dependencies per run for this target, against seconds for the core).
 * The core built from the tree and from cargo-mutants' copy share one name there, so nothing
 * else may build into that folder while a run goes on (one Windows run at a time): a build
 * newer than a mutated file makes cargo take the mutant for built and test the wrong binary.
 */
function windowsEnv() {
  const r = spawnSync('bash', [path.join(__dirname, 'test-windows.sh'), 'prefix'], { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`scripts/test-windows.sh prefix failed (exit ${r.status})`)
  return {
    ...process.env,
    WINEPREFIX: process.env.WINEPREFIX || path.join(ROOT, 'target', 'windows', 'prefix'),
    WINEDEBUG: '-all',
    WINEARCH: 'win64',
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER: '/usr/lib/wine/wine64',
    CARGO_TARGET_DIR: path.join(ROOT, 'target', 'mutants-windows-build'),
  }
}

/**
 * The tests (among `filters`, or all) that fail under Wine before any mutation: a few tests
 * assume what Wine or Windows does not give (no git in the prefix, Wine's delete of an open
 * file; README "Windows under Wine" lists them). cargo-mutants needs a passing baseline, and a
 * test that fails unmutated says nothing of a mutant, so the run skips them and stores their
 * names.
 */
function failingUnderWine(env, filters) {
  const args = ['test', '-p', 'session-resilience-core', `--target=${WINDOWS_TARGET}`, '--profile', 'mutants', '--lib', '--', ...filters]
  console.error(`▶ cargo ${args.join(' ')} (the tests that fail under Wine unmutated)`)
  const r = spawnSync('cargo', args, { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 })
  if (r.error) throw r.error
  const failed = [...r.stdout.matchAll(/^test (\S+) \.\.\. FAILED$/gm)].map((m) => m[1])
  if (r.status !== 0 && !failed.length) throw new Error(`cargo test under Wine failed with no failing test named (exit ${r.status})`)
  return failed
}

/** `config` with `values` added at the end of its list `key` (a line `key = [...]` of its own). */
function appendTo(config, key, values) {
  const line = new RegExp(`^${key} = \\[(.*)\\]$`, 'm')
  if (!line.test(config)) throw new Error(`.cargo/mutants.toml has no line "${key} = [...]"`)
  return config.replace(line, (_, list) => `${key} = [${[list.trim(), ...values.map((v) => JSON.stringify(v))].filter(Boolean).join(', ')}]`)
}

/**
 * The config a run uses: .cargo/mutants.toml (its exclusions, test arguments and profile)
 * with the mutants of `platform` only, each on the platform that compiles it: a Linux run
 * leaves out the mutants of code Linux does not compile, a Windows run takes only those
 * Windows compiles and Linux does not (built for the Windows target: `additional_cargo_args`).
 * With `--only-tests <filter>...` (last among the options) each mutant is tested by the unit
 * tests whose names contain one of the filters, not by all of them (the pure modules' own
 * tests take a second, the whole suite ten or more): cargo-mutants puts the config's test
 * arguments last, so the filters go at the end of `additional_cargo_test_args`. A mutant only
 * another module's tests would catch is then counted missed: the score is a lower bound.
 * Returns cargo-mutants' arguments.
 */
function configFor(platform, args, skip = []) {
  const at = args.indexOf('--only-tests')
  const filters = at < 0 ? [] : args.slice(at + 1)
  const listed = listMutants()
  if (!listed) throw new Error('cargo mutants --list failed (cargo install --locked cargo-mutants)')
  const toml = (list) => list.map((re) => `  ${JSON.stringify(re)},`).join('\n')
  let config = fs.readFileSync(CONFIG, 'utf8')
  const testArgs = [...filters, ...skip.flatMap((t) => ['--skip', t])]
  if (testArgs.length) {
    config = appendTo(config, 'additional_cargo_test_args', ['--', ...testArgs])
  }
  // examine_re is a union (the config's and --re's): for a Windows run, --re narrows the
  // Windows mutants here instead, and is not passed on. cargo-mutants 27.1.0 applies neither
  // examine_re nor exclude_re to its "delete field ... from struct ... expression" mutants
  // (sourcefrog/cargo-mutants#632, open): such a mutant of the files given runs whatever the
  // lists say (in a Windows run, one of Linux code); the report drops an outcome from the
  // wrong platform, and an excluded one.
  const res = args.flatMap((a, i) => (a === '--re' || a === '-F' ? [new RegExp(args[i + 1])] : []))
  if (platform === 'windows') {
    const names = listed.filter((m) => m.place === 'windows' && (!res.length || res.some((re) => re.test(m.name)))).map((m) => m.name)
    args = args.filter((a, i) => !['--re', '-F'].includes(a) && !['--re', '-F'].includes(args[i - 1]))
    // the exclusions that hold on Linux only are examined here
    for (const e of rustExclusions().filter((r) => r.wine)) config = config.replace(`  '${e.source}',\n`, '')
    config += `\n# added by scripts/mutants.js: the mutants only Windows compiles, built for ${WINDOWS_TARGET}\nexamine_re = [\n${toml(exactly(names))}\n]\n`
    config = appendTo(config, 'additional_cargo_args', [`--target=${WINDOWS_TARGET}`])
  } else {
    const names = listed.filter((m) => m.place !== 'linux').map((m) => m.name)
    config = config.replace(/^exclude_re = \[$/m, `exclude_re = [\n  # added by scripts/mutants.js: code Linux does not compile, and test code\n${toml(exactly(names))}`)
  }
  const file = path.join(OUT, `${platform}.toml`)
  fs.mkdirSync(OUT, { recursive: true })
  fs.writeFileSync(file, config)
  const options = args.indexOf('--only-tests')
  return [...(options < 0 ? args : args.slice(0, options)), '--config', file]
}

/** Run cargo-mutants with `args` over the mutants of `platform`; store its outcome lists. */
function runRust(args, platform = 'linux') {
  const started = new Date()
  const env = platform === 'windows' ? windowsEnv() : process.env
  const at = args.indexOf('--only-tests')
  const skip = platform === 'windows' ? failingUnderWine(env, at < 0 ? [] : args.slice(at + 1)) : []
  const cargoArgs = ['mutants', '-p', 'session-resilience-core', '--no-shuffle', '-o', OUT, ...configFor(platform, args, skip)]
  // how many mutants of each file the run is to test (a run stopped before its end shows it)
  const list = spawnSync('cargo', [...cargoArgs, '--list', '--json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  const planned = {}
  for (const m of list.status === 0 ? JSON.parse(list.stdout) : []) planned[m.file] = (planned[m.file] || 0) + 1
  // kept beside the outcomes, for save-stopped if the run is stopped before its end
  fs.writeFileSync(path.join(OUT, 'planned.json'), `${JSON.stringify(planned)}\n`)
  // cargo-mutants copies the tree when it starts: the code it mutates is the code as it is now
  const hashes = hashesOf(allFiles().rust)
  console.error(`▶ cargo ${cargoArgs.join(' ')}`)
  const r = spawnSync('cargo', cargoArgs, { cwd: ROOT, stdio: 'inherit', env })
  if (r.error) throw r.error
  // cargo-mutants exits 2 when mutants were missed, 3 on timeouts: outcomes, not failures.
  if (![0, 2, 3].includes(r.status)) throw new Error(`cargo mutants failed (exit ${r.status})`)
  const what = platform === 'windows' ? 'rust-windows' : 'rust'
  const extra = { planned, ...(skip.length ? { skippedTests: skip } : {}) }
  return saveRust(started, `npm run mutants -- ${what} ${args.join(' ')}`.trim(), rustOutcomes(), hashes, platform, extra)
}

/**
 * A run stopped before its end (a whole run does not fit in one sitting here): store what
 * its output folder holds, saying so. `started` is when it began, `command` what ran.
 */
function saveStopped(startedIso, command) {
  const outcomes = rustOutcomes()
  const n = Object.keys(outcomes).length
  const platform = /\brust-windows\b/.test(command) ? 'windows' : 'linux'
  // how many mutants per file the run set out to test (written when it started)
  const plannedFile = path.join(OUT, 'planned.json')
  const planned = fs.existsSync(plannedFile) ? { planned: JSON.parse(fs.readFileSync(plannedFile, 'utf8')) } : {}
  return saveRust(new Date(startedIso), `${command} (stopped by hand after ${n} mutants)`, outcomes, null, platform, planned)
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

/** How many mutants scripts/mutants-js.js makes of the lib/js file `f` now, outside the exclusions. */
function jsMutantCount(f, excluded) {
  const { mutantsOf } = require('./mutants-js')
  const names = mutantsOf(fs.readFileSync(path.join(ROOT, f), 'utf8')).map((m) => `${f}:${m.line}:${m.col}: ${m.description}`)
  return names.filter((name) => !excluded.some((re) => re.test(name))).length
}

/**
 * How many mutants of the core's file `f` run on `platform` as the code is now, outside the
 * exclusions (`listed`: listMutants(); undefined without it).
 */
function rustMutantCount(listed, f, platform, excluded) {
  if (!listed) return undefined
  return listed.filter((m) => m.file === f && m.place === platform && !excluded.some((re) => re.test(m.name))).length
}

/** Every file mutation testing is meant to cover. */
function allFiles() {
  const walk = (dir) =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = `${dir}/${e.name}`
      if (e.isDirectory()) return walk(rel)
      return rel.endsWith('.rs') || rel.endsWith('.js') ? [rel] : []
    })
  return { rust: walk('core/src').filter((f) => !/(^|\/)(testutil|testkit|tests)\.rs$/.test(f)), js: walk('lib/js') }
}

/**
 * The exclude_re patterns of .cargo/mutants.toml (single-quoted strings in its array), each with
 * the first sentence of the comment above it (its reason).
 */
function rustExclusions() {
  if (!fs.existsSync(CONFIG)) return []
  const block = /^exclude_re\s*=\s*\[([\s\S]*?)\n\]/m.exec(fs.readFileSync(CONFIG, 'utf8'))
  if (!block) return []
  const found = []
  let comment = []
  let fresh = true
  for (const line of block[1].split('\n')) {
    const c = /^\s*#\s?(.*)$/.exec(line)
    const q = /^\s*'([^']*)'/.exec(line)
    if (c) {
      if (!fresh) comment = []
      fresh = true
      comment.push(c[1])
    } else if (q) {
      fresh = false
      const why = comment.join(' ').replace(/\s+/g, ' ')
      // "Runs under Wine": equivalent on Linux, where the code is compiled but has no effect
      // (behind `cfg!(windows)`), and run by the Windows run instead
      const wine = /\bRuns under Wine\b/.test(why)
      found.push({ source: q[1], re: new RegExp(q[1].replace(/\\\\/g, '\\')), why: /^.*?(\.(?=\s|$)|$)/.exec(why)[0], wine })
    }
  }
  return found
}

/** Every exclusion pattern: the Rust ones of .cargo/mutants.toml and the JS ones. */
const excludedPatterns = () => [...rustExclusions().filter((e) => !e.wine).map((e) => e.re), ...require('../mutants/js-exclude').map(([re]) => re)]

/**
 * The lines of MUTANTS.md that say how many of the core's mutants run where and how many are
 * excluded, and why (`listed`: listMutants()).
 */
function placementLines(listed) {
  if (!listed) return ['cargo-mutants is not installed here: the count of mutants per platform and of exclusions is not shown.', '']
  const rules = rustExclusions()
  const product = listed.filter((m) => m.place !== 'test')
  const count = (pred) => product.filter(pred).length
  // (a "Runs under Wine" rule excludes on Linux only: its mutants are Windows-placed)
  const ruled = (m) => m.place !== 'elsewhere' && rules.some((r) => !r.wine && r.re.test(m.name))
  const elsewhere = count((m) => m.place === 'elsewhere')
  const byRule = rules.filter((r) => !r.wine).map((r) => ({ ...r, n: count((m) => m.place !== 'elsewhere' && r.re.test(m.name)) }))
  const excluded = elsewhere + count(ruled)
  const pct = (n, of) => `${((100 * n) / of).toFixed(1)} %`
  const split = (pred) => {
    const store = product.filter((m) => pred(m) && m.file.startsWith('core/src/store/')).length
    return `${count(pred)} (outside core/src/store/: ${count(pred) - store})`
  }
  const outside = product.filter((m) => !m.file.startsWith('core/src/store/'))
  const outsideExcluded = outside.filter((m) => m.place === 'elsewhere' || ruled(m)).length
  return [
    '## Where the core\'s mutants run, and the exclusions',
    '',
    `\`cargo mutants --list --no-config\` lists ${listed.length} mutants of the core; ${listed.length - product.length} of them are test code ` +
      '(a file in `exclude_globs` of .cargo/mutants.toml, or lines under a cfg naming `test` that cargo-mutants does not take for tests) and are not counted. ' +
      'Of the other ' +
      `${product.length}: ${split((m) => m.place === 'linux' && !ruled(m))} run on Linux, ${split((m) => m.place === 'windows' && !ruled(m))} are Windows code, ` +
      'built for x86_64-pc-windows-gnu and run under Wine (`npm run mutants -- rust-windows`): code only Windows compiles (read from the ' +
      '`#[cfg]` attributes around each mutant, scripts/mutants-cfg.js) and code behind `cfg!(windows)`, equivalent on Linux ("Runs under Wine" in .cargo/mutants.toml); ' +
      `and ${excluded} are excluded: **${pct(excluded, product.length)}** of the core's mutants (outside core/src/store/: ${outsideExcluded} of ${outside.length}, ${pct(outsideExcluded, outside.length)}).`,
    '',
    '| excluded because | mutants |',
    '| --- | --- |',
    `| macOS and other Unixes only: neither Linux nor Windows compiles the code | ${elsewhere} |`,
    ...byRule.map((r) => `| ${r.why.replace(/\|/g, '\\|')} (\`${r.source.replace(/\|/g, '\\|')}\`) | ${r.n} |`),
    '',
  ]
}

/**
 * The lines of MUTANTS.md that say how many of lib/js's mutants mutants/js-exclude.js leaves
 * out, and why (the runner's own list of every file's mutants, as jsMutantCount).
 */
function jsExclusionLines() {
  const { mutantsOf } = require('./mutants-js')
  const rules = require('../mutants/js-exclude')
  const names = allFiles().js.flatMap((f) => mutantsOf(fs.readFileSync(path.join(ROOT, f), 'utf8')).map((m) => `${f}:${m.line}:${m.col}: ${m.description}`))
  const byRule = rules.map(([re, label]) => ({ re, label, n: names.filter((n) => re.test(n)).length }))
  const excluded = names.filter((n) => rules.some(([re]) => re.test(n))).length
  return [
    '## lib/js\'s exclusions',
    '',
    `scripts/mutants-js.js makes ${names.length} mutants of lib/js; mutants/js-exclude.js leaves out ${excluded} of them: ` +
      `**${((100 * excluded) / names.length).toFixed(1)} %** (the reason of each rule is the comment above it there).`,
    '',
    '| excluded because | mutants |',
    '| --- | --- |',
    ...byRule.map((r) => `| ${r.label} (\`${r.re.source.replace(/\|/g, '\\|')}\`) | ${r.n} |`),
    '',
  ]
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
  // where each mutant of the core runs now: an outcome from another platform (a Linux run of
  // Windows-only code before the runs were split by platform) is not counted
  const listed = listMutants()
  const placeOf = listed ? new Map(listed.map((m) => [m.name, m.place])) : null
  const byFile = new Map()
  for (const run of stored) {
    const partial = /--iterate|--re\b/.test(run.command)
    const platform = run.platform || (run.kind === 'rust' ? 'linux' : 'node')
    const key = (f) => (platform === 'windows' ? `${f} ${platform}` : f)
    const hashOf = (f) => run.hashes?.[f] ?? null
    for (const f of run.files) {
      const kept = byFile.get(key(f))
      const changed = kept && kept.hash && hashOf(f) && kept.hash !== hashOf(f)
      if (!partial || changed) byFile.delete(key(f))
    }
    for (const [name, status] of Object.entries(run.outcomes)) {
      const file = name.split(':')[0]
      if (excluded.some((re) => re.test(name))) {
        // not counted in the mutants the run planned for the file either
        run.excludedSince = { ...run.excludedSince, [file]: (run.excludedSince?.[file] || 0) + 1 }
        continue
      }
      if (run.kind === 'rust' && placeOf?.has(name) && placeOf.get(name) !== platform) continue
      if (!byFile.has(key(file))) byFile.set(key(file), { run, hash: null, outcomes: {} })
      const entry = byFile.get(key(file))
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
  // files with mutants only Windows compiles (outside the exclusions), whose Windows run is still to be made
  const windowsNotRun = new Set((listed || []).filter((m) => m.place === 'windows' && !excluded.some((re) => re.test(m.name))).map((m) => m.file))
  for (const [kind, list] of Object.entries(files)) {
    for (const f of list) {
      const platforms = kind === 'rust' ? ['linux', 'windows'] : ['node']
      const entries = platforms.map((p) => [p, byFile.get(p === 'windows' ? `${f} ${p}` : f)]).filter(([, e]) => e)
      // a Rust file cargo-mutants lists no mutant of (declarations only) has nothing to run, nor
      // has a lib/js file the runner makes none of outside the exclusions (re-exports, a table)
      const hasMutants = kind === 'rust' ? !listed || listed.some((m) => m.file === f) : jsMutantCount(f, excluded) > 0
      if (hasMutants && !entries.some(([p]) => p !== 'windows')) notRun.push(f)
      for (const [platform, entry] of entries) {
        if (platform === 'windows') windowsNotRun.delete(f)
        const values = Object.values(entry.outcomes)
        const caught = values.filter((v) => v === 'caught' || v === 'timeout').length
        const missed = values.filter((v) => v === 'missed' || v === 'no coverage').length
        const unviable = values.filter((v) => v === 'unviable').length
        totals[kind].caught += caught
        totals[kind].scored += caught + missed
        const score = caught + missed ? `${((100 * caught) / (caught + missed)).toFixed(1)} %` : 'n/a'
        // whether the code is still the code these outcomes were made on
        const code = !entry.hash ? 'not recorded' : entry.hash === codeHash(f) ? 'as run' : '**changed since**'
        // a run stopped before its end says how many mutants the file has (planned)
        const ran = caught + missed + unviable
        // (lib/js: the mutants the file has now, outside the exclusions: a partial run after a
        // stopped one planned only the few it retests)
        // (Rust, the same from the listing: the file's mutants placed on this platform)
        const planned = kind === 'js' ? jsMutantCount(f, excluded) : rustMutantCount(listed, f, platform, excluded) ?? entry.run.planned?.[f] - (entry.run.excludedSince?.[f] || 0)
        const count = planned > ran ? `${ran} of ${planned} (the rest not run)` : ran
        const label = platform === 'windows' ? `${f} (Windows, under Wine)` : f
        // a timeout is counted caught, but on a loaded machine a suite can outrun the limit
        // with no fault of the mutant: how many there are is shown
        const timeouts = values.filter((v) => v === 'timeout').length
        const caughtText = timeouts ? `${caught} (${timeouts} by timeout)` : caught
        scoreRows.push([label, count, caughtText, missed, unviable, score, entry.run.started.slice(0, 16).replace('T', ' '), code])
        for (const [name, status] of Object.entries(entry.outcomes)) {
          const why = status === 'no coverage' ? ' (no coverage: no test executes this line)' : platform === 'windows' ? ' (Windows, under Wine)' : ''
          if (status === 'missed' || status === 'no coverage') survivors.push(`- \`${name}\`${why}: ${reasons[name] || '**no reason recorded yet: a test is still to be written**'}`)
        }
      }
    }
  }
  const pct = (t) => (t.scored ? `${((100 * t.caught) / t.scored).toFixed(1)} %` : 'n/a')
  lines.push(
    `Killed (caught or timed out) among the mutants that built, over the files run: Rust core ${totals.rust.caught} of ${totals.rust.scored} (${pct(totals.rust)}), ` +
      `lib/js ${totals.js.caught} of ${totals.js.scored} (${pct(totals.js)}).`,
    '',
    ...placementLines(listed),
    ...jsExclusionLines(),
    '## Score per file',
    '',
    'The last column compares the file\'s code now (without a Rust file\'s test module) with the code the outcomes were made on. ' +
      '"N of M": M is how many mutants the file has now on that platform, outside the exclusions (lib/js: the runner\'s own list; the core: ' +
      '`cargo mutants --list`), N how many of them have a stored outcome (the others: a run stopped for time, a partial run, or code added since).',
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
    windowsNotRun.size
      ? `Under Wine (the mutants only Windows compiles), ${windowsNotRun.size} files: ${[...windowsNotRun].map((f) => `\`${f}\``).join(', ')}.`
      : 'Under Wine: every file with mutants only Windows compiles has a run.',
    '',
  )
  fs.writeFileSync(REPORT, lines.join('\n'))
}

function main() {
  const [what = 'all', ...rest] = process.argv.slice(2)
  if (what === 'rust' || what === 'all') runRust(what === 'rust' ? rest : [])
  if (what === 'rust-windows' || what === 'all') runRust(what === 'rust-windows' ? rest : [], 'windows')
  if (what === 'js' || what === 'all') runJs(what === 'js' ? rest : [])
  if (what === 'save-stopped') saveStopped(rest[0], rest[1])
  if (!['rust', 'rust-windows', 'js', 'all', 'report', 'save-stopped'].includes(what)) throw new Error('usage: npm run mutants -- [rust|rust-windows|js|report|save-stopped] ...')
  render()
  console.error(`written ${path.relative(ROOT, REPORT)}`)
}

if (require.main === module) main()
module.exports = { configFor, listMutants, render }
