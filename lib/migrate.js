'use strict'
// `session-resilience migrate [project]`: switch a legacy project to this package in place.
//   1. find the seven legacy files by their content, wherever they are (not by name);
//   2. keep each original as `<name>.legacy.js` beside it and write the two-line shim;
//   3. add `session-resilience` to the project's package.json dependencies;
//   4. prove it: each shimmed CLI's `help`, then `session-manager status`, in the project;
//      a failure puts the originals back.
// `--dry-run` prints the plan and changes nothing; `--undo` puts the originals back (only
// where the shim is still ours); a second run changes nothing. A dirty git work tree is
// refused (EDIRTY) unless `--force`, so that the migration is one reviewable change.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const cli = require('./cli')
const { codedError } = require('./js/errors')

const PACKAGE_DIR = path.resolve(__dirname, '..')
const PACKAGE = require('../package.json')
const STATE_FILE = '.session-resilience-migrate.json'
const SKIP_DIRS = new Set(['node_modules', '.git', 'backups', 'checkpoints', 'dist', 'build', '.next'])
const MAX_SCAN_BYTES = 4 * 1024 * 1024

/** Each legacy module, the subpath that replaces it, and what its source says about itself. */
const MODULES = [
  { name: 'safe-file-operations', signature: /\bclass SafeFileOperations\b/ },
  { name: 'validation-helpers', signature: /\bclass ValidationHelpers\b/ },
  { name: 'process-cleanup', signature: /\bclass ProcessCleanup\b/ },
  { name: 'backup-system', signature: /\bclass BackupSystem\b/ },
  { name: 'phase-gate-validator', signature: /\bclass PhaseGateValidator\b/ },
  { name: 'session-manager', signature: /\bclass SessionManager\b/ },
  { name: 'resilient-wrapper', signature: /\bclass ResilientSessionManager\b/ },
]

/** The shim of module `name` (the README's two lines; a shebang kept when the original had one). */
function shimText(name, shebang = false) {
  return `${shebang ? '#!/usr/bin/env node\n' : ''}module.exports = require('session-resilience/${name}')\nif (require.main === module) module.exports.main()\n`
}

const isShim = (text, name) => text === shimText(name, false) || text === shimText(name, true)
const legacyPathOf = (file) => file.replace(/\.js$/, '.legacy.js')

function readText(file) {
  try {
    const st = fs.lstatSync(file)
    if (!st.isFile() || st.size > MAX_SCAN_BYTES) return null
    return fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

/** Every `.js` file of the project (no symlinks followed, no node_modules/.git/backups). */
function* jsFiles(dir) {
  let entries
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, e.name)
    if (e.isDirectory() && !SKIP_DIRS.has(e.name)) yield* jsFiles(full)
    else if (e.isFile() && e.name.endsWith('.js') && !e.name.endsWith('.legacy.js')) yield full
  }
}

/**
 * What the project holds: `[{ name, file, state }]` with state `legacy` (to migrate), `shim`
 * (done: its original kept beside it) or `shim-without-original`.
 */
function survey(project) {
  const found = []
  for (const file of jsFiles(project)) {
    const text = readText(file)
    if (text === null) continue
    for (const m of MODULES) {
      if (isShim(text, m.name)) found.push({ name: m.name, file, state: fs.existsSync(legacyPathOf(file)) ? 'shim' : 'shim-without-original' })
      else if (m.signature.test(text) && /module\.exports/.test(text)) found.push({ name: m.name, file, state: 'legacy', shebang: text.startsWith('#!') })
      else continue
      break
    }
  }
  return found
}

function gitDirty(project) {
  const r = spawnSync('git', ['status', '--porcelain'], { cwd: project, encoding: 'utf8' })
  if (r.error || r.status !== 0) return null // not a git work tree (or no git): nothing to protect
  return r.stdout.trim()
}

function readPackageJson(project) {
  const file = path.join(project, 'package.json')
  if (!fs.existsSync(file)) return { file, json: null, text: null }
  const text = fs.readFileSync(file, 'utf8')
  try {
    return { file, json: JSON.parse(text), text }
  } catch (err) {
    throw codedError('ECORRUPT', `${file} is not valid JSON (${err.message}): fix it, then migrate`)
  }
}

const dependencyRange = () => `^${PACKAGE.version}`
const hasDependency = (json) => Boolean(json && ((json.dependencies && json.dependencies[PACKAGE.name]) || (json.devDependencies && json.devDependencies[PACKAGE.name])))

function writeAtomic(file, text, mode) {
  const temp = `${file}.migrate-${process.pid}`
  fs.writeFileSync(temp, text, { mode: mode === undefined ? 0o644 : mode })
  fs.renameSync(temp, file)
}

function loadState(project) {
  try {
    return JSON.parse(fs.readFileSync(path.join(project, STATE_FILE), 'utf8'))
  } catch {
    return {}
  }
}

/** Node resolves `session-resilience` from the project, or through a temp NODE_PATH to this package. */
function resolutionEnv(project) {
  // (require.resolve would find this package by self-reference: look for it as Node will)
  for (let dir = project; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'node_modules', PACKAGE.name, 'package.json'))) return { env: {}, linked: null }
    if (path.dirname(dir) === dir) break
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-resilience-migrate-'))
  fs.symlinkSync(PACKAGE_DIR, path.join(dir, PACKAGE.name), 'junction')
  return { env: { NODE_PATH: dir }, linked: dir }
}

/** Run each shim's `help` and `session-manager status` in the project: `[{ command, ok, output }]`. */
function verify(project, shims, log) {
  const { env, linked } = resolutionEnv(project)
  const checks = shims.map((s) => [s.file, 'help'])
  const manager = shims.find((s) => s.name === 'session-manager')
  if (manager) checks.push([manager.file, 'status'])
  const results = []
  try {
    for (const [file, command] of checks) {
      const rel = path.relative(project, file)
      const r = spawnSync(process.execPath, [file, command], { cwd: project, encoding: 'utf8', timeout: 120000, env: { ...process.env, ...env } })
      const ok = r.status === 0
      results.push({ command: `node ${rel} ${command}`, ok, output: ok ? '' : `${r.stdout}${r.stderr}${r.error ? r.error.message : ''}`.trim() })
      log(`  ${ok ? '✅' : '❌'} node ${rel} ${command}`)
    }
  } finally {
    if (linked) fs.rmSync(linked, { recursive: true, force: true })
  }
  return { results, linked: Boolean(linked) }
}

/** Put the originals back where the shim is still ours; remove the dependency we added. */
function undo(project, log) {
  const restored = []
  for (const s of survey(project).filter((x) => x.state === 'shim')) {
    const legacy = legacyPathOf(s.file)
    fs.renameSync(legacy, s.file)
    restored.push(s.file)
    log(`  ↩️  ${path.relative(project, s.file)} (original back from ${path.basename(legacy)})`)
  }
  const state = loadState(project)
  if (state.dependencyAdded) {
    const pkg = readPackageJson(project)
    if (state.packageJsonCreated && pkg.json && Object.keys(pkg.json.dependencies || {}).length === 1 && hasDependency(pkg.json)) {
      fs.rmSync(pkg.file)
      log('  ↩️  package.json (created by migrate) removed')
    } else if (pkg.json && pkg.json.dependencies && pkg.json.dependencies[PACKAGE.name]) {
      delete pkg.json.dependencies[PACKAGE.name]
      writeAtomic(pkg.file, `${JSON.stringify(pkg.json, null, 2)}\n`)
      log(`  ↩️  package.json: ${PACKAGE.name} removed from dependencies`)
    }
  }
  fs.rmSync(path.join(project, STATE_FILE), { force: true })
  return { restored }
}

/**
 * Migrate `project`. Options: dryRun, undo, force, verify (default true), log (a line printer).
 * Returns `{ project, found, planned, changed, dependency, checks, undone }`.
 */
function migrate(project, options = {}) {
  const log = options.log || (() => {})
  const root = path.resolve(project || '.')
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw codedError('ENOENT', `No project folder at ${root}`)
  if (options.undo) {
    log(`↩️  Undoing the migration of ${root}`)
    const { restored } = undo(root, log)
    if (!restored.length) log('  nothing to undo (no shim of ours with its .legacy.js original beside it)')
    return { project: root, undone: restored }
  }
  const found = survey(root)
  const todo = found.filter((f) => f.state === 'legacy')
  const pkg = readPackageJson(root)
  const needDependency = !hasDependency(pkg.json)
  log(`🔎 ${root}: ${found.length} legacy module file(s) found`)
  for (const f of found) log(`  ${f.state === 'legacy' ? '•' : '✓'} ${path.relative(root, f.file)} (${f.name}${f.state === 'legacy' ? '' : ', already a shim'})`)
  if (!found.length) throw codedError('ENOLEGACY', `No legacy session-manager modules found under ${root} (looked for ${MODULES.map((m) => `${m.name}.js`).join(', ')} by content)`)
  const planned = [
    ...todo.map((f) => `keep ${path.relative(root, f.file)} as ${path.relative(root, legacyPathOf(f.file))}, write the shim (require('${PACKAGE.name}/${f.name}'))`),
    ...(needDependency ? [`add "${PACKAGE.name}": "${dependencyRange()}" to ${pkg.json ? '' : 'a new '}package.json`] : []),
  ]
  if (options.dryRun) {
    log(planned.length ? '📝 Plan (dry run, nothing changed):' : '📝 Nothing to change (dry run)')
    for (const p of planned) log(`  - ${p}`)
    const manager = found.find((f) => f.name === 'session-manager')
    const checks = [...found.map((f) => `node ${path.relative(root, f.file)} help`), ...(manager ? [`node ${path.relative(root, manager.file)} status`] : [])]
    log(`  - then run: ${checks.join('; ')}`)
    return { project: root, found, planned, changed: [], dependency: false, checks: [] }
  }
  if (planned.length && !options.force) {
    const dirty = gitDirty(root)
    if (dirty) {
      throw codedError('EDIRTY', `The git work tree of ${root} has uncommitted changes:\n${dirty}\nCommit or stash them first (so the migration is one change you can review), or pass --force`)
    }
  }
  const changed = []
  for (const f of todo) {
    const legacy = legacyPathOf(f.file)
    if (fs.existsSync(legacy)) throw codedError('EEXIST', `${legacy} already exists: move it away, then migrate`)
    const mode = fs.statSync(f.file).mode & 0o777
    fs.renameSync(f.file, legacy)
    writeAtomic(f.file, shimText(f.name, f.shebang), mode)
    changed.push(f.file)
    log(`  ✏️  ${path.relative(root, f.file)} -> shim (original: ${path.basename(legacy)})`)
  }
  if (needDependency) {
    const json = pkg.json || { name: path.basename(root), private: true }
    json.dependencies = { ...(json.dependencies || {}), [PACKAGE.name]: dependencyRange() }
    writeAtomic(pkg.file, `${JSON.stringify(json, null, 2)}\n`)
    writeAtomic(path.join(root, STATE_FILE), `${JSON.stringify({ dependencyAdded: true, packageJsonCreated: !pkg.json }, null, 2)}\n`)
    log(`  ✏️  package.json: "${PACKAGE.name}": "${dependencyRange()}"`)
  }
  let checks = []
  if (options.verify !== false) {
    log('🧪 Checking the shims:')
    const shims = survey(root).filter((f) => f.state !== 'legacy')
    const outcome = verify(root, shims, log)
    checks = outcome.results
    const failed = checks.filter((c) => !c.ok)
    if (failed.length) {
      if (changed.length) {
        log('❌ A check failed: putting the originals back')
        undo(root, log)
      }
      throw codedError('EVERIFY', `Check failed: ${failed[0].command}\n${failed[0].output}`)
    }
    if (outcome.linked) log(`ℹ️  ${PACKAGE.name} is not installed in the project yet: run \`npm install\` there`)
  }
  log(changed.length || needDependency ? '✅ Migrated' : '✅ Already migrated: nothing changed')
  return { project: root, found, planned, changed, dependency: needDependency, checks }
}

// ---- CLI ---------------------------------------------------------------------------------

const USAGE = `session-resilience

Usage: npx session-resilience migrate [project] [--dry-run] [--undo] [--force] [--json]

  migrate [project]   Replace the seven legacy session-manager modules of a project (found by
                      their content) with two-line shims of this package; each original is kept
                      as <name>.legacy.js; "session-resilience" is added to package.json; then
                      every shim's help and "session-manager status" are run to prove it works
                      (a failure puts the originals back). A second run changes nothing.
    --dry-run         print the plan, change nothing
    --undo            put the originals back (where the shim is still ours)
    --force           migrate although the git work tree has uncommitted changes
  help                Show this help`

const commands = {
  migrate: {
    flags: ['dry-run', 'undo', 'force'],
    run({ args: [project], flags }) {
      const result = migrate(project, {
        dryRun: flags.has('dry-run'),
        undo: flags.has('undo'),
        force: flags.has('force'),
        log: (line) => console.log(line),
      })
      return { code: 0, data: result }
    },
  },
}

/** The CLI: `run(['migrate', dir, '--dry-run'])` resolves to the exit code. */
function run(argv) {
  return cli.runCommand(argv, { usage: USAGE, commands, create: () => null })
}

module.exports = { migrate, survey, shimText, MODULES, run, main: (arg) => cli.main(run, arg) }
