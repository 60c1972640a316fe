'use strict'
// `session-resilience/testing`: for a project's own test suite that compares the old and the
// new behaviour of its session-manager modules.
//
//   const { forEachBackend, diff } = require('session-resilience/testing')
//   const results = await forEachBackend(async ({ backend, project, load }) => {
//     const safeFileOps = load('safe-file-operations')
//     ...; return whatLegacyScriptsWouldSee
//   }, { project: 'test/fixture-project', legacy: __dirname + '/..' })
//   assert.deepStrictEqual(diff(results.native, results.legacy), [])
//
// Each backend (native, js, and `legacy` when `options.legacy` names the folder of the
// `<name>.legacy.js` files `migrate` kept) runs the body once, with a fresh copy of the
// project, its own lock folder and backup folder. `load(name)` gives that backend's module:
// ours, configured for the copy, or the original file with its hard-coded project, lock and
// backup paths pointed at the copy, loaded as if it lay in the copy (its own relative requires
// load the other originals). Legacy code calls process.exit on errors: during a legacy body
// that throws `ELEGACYEXIT` instead of ending the test run.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const Module = require('node:module')
const root = require('./root')

const LIB = __dirname
// Our modules that hold no per-configuration state, kept loaded between backends.
const KEEP = new Set(['backend.js', 'root.js', 'process-cleanup.js', 'testing.js', 'cli.js'].map((f) => path.join(LIB, f)))
const NAMES = ['safe-file-operations', 'validation-helpers', 'process-cleanup', 'backup-system', 'phase-gate-validator', 'session-manager', 'resilient-wrapper']
const realExit = process.exit
const ENV = { backend: 'SESSION_RESILIENCE_BACKEND', lockDir: 'SESSION_RESILIENCE_LOCK_DIR', backupDir: 'SESSION_RESILIENCE_BACKUP_DIR', root: root.ROOT_ENV }

function checkName(name) {
  if (!NAMES.includes(name)) {
    const err = new Error(`Unknown module "${name}" (one of ${NAMES.join(', ')})`)
    err.code = 'ERR_INVALID_ARG_VALUE'
    throw err
  }
}

/** Forget our configured modules (singletons read the environment when first used). */
function forgetOurModules() {
  for (const file of Object.keys(require.cache)) {
    if (file.startsWith(LIB + path.sep) && !file.startsWith(path.join(LIB, 'js') + path.sep) && !KEEP.has(file)) delete require.cache[file]
  }
}

/** The hard-coded paths of the legacy files (project root, lock and backup folders). */
function legacyPaths(files) {
  const found = {}
  for (const text of files.map((f) => fs.readFileSync(f, 'utf8'))) {
    for (const [key, re] of [
      ['root', /this\.rootDir\s*=\s*(['"])([^'"]+)\1/],
      ['lockDir', /this\.lockDir\s*=\s*(['"])([^'"]+)\1/],
      ['backupDir', /this\.backupDir\s*=\s*(['"])([^'"]+)\1/],
    ]) {
      const m = re.exec(text)
      if (m && !found[key]) found[key] = m[2]
    }
  }
  return found
}

/** A loader of `<dir>/**\/<name>.legacy.js` with its hard-coded paths replaced by `ctx`'s. */
function legacyLoader(dir, ctx) {
  const files = []
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== 'node_modules' && e.name !== '.git') walk(path.join(d, e.name))
      else if (e.isFile() && e.name.endsWith('.legacy.js')) files.push(path.join(d, e.name))
    }
  }
  walk(dir)
  const hard = legacyPaths(files)
  const swaps = [
    [hard.root, ctx.project],
    [hard.lockDir, ctx.lockDir],
    [hard.backupDir, ctx.backupDir],
  ].filter(([from]) => from)
  const loaded = new Map()
  const compile = (file) => {
    if (loaded.has(file)) return loaded.get(file).exports
    // Loaded as if it lay in the fresh project (legacy finds files from its own __dirname).
    const placed = path.join(ctx.project, path.relative(dir, file))
    const mod = new Module(placed, null)
    mod.filename = placed
    mod.paths = Module._nodeModulePaths(path.dirname(file))
    loaded.set(file, mod)
    const plain = mod.require.bind(mod)
    mod.require = (request) => {
      if (request.startsWith('.')) {
        const sibling = `${path.resolve(path.dirname(file), request).replace(/\.js$/, '')}.legacy.js`
        if (fs.existsSync(sibling)) return compile(sibling)
      }
      return plain(request)
    }
    let source = fs.readFileSync(file, 'utf8').replace(/^#!.*/, '')
    for (const [from, to] of swaps) source = source.split(from).join(to)
    mod._compile(source, placed)
    return mod.exports
  }
  return (name) => {
    checkName(name)
    const file = files.find((f) => path.basename(f) === `${name}.legacy.js`)
    if (!file) throw Object.assign(new Error(`No ${name}.legacy.js under ${dir}`), { code: 'ENOENT' })
    return compile(file)
  }
}

function copyProject(from, to) {
  fs.mkdirSync(to, { recursive: true })
  if (!from) return
  fs.cpSync(from, to, { recursive: true, filter: (src) => !['node_modules', '.git'].includes(path.basename(src)) })
}

/**
 * Run `fn(ctx)` once per backend, each with a fresh temp project (a copy of
 * `options.project`, if given), lock folder and backup folder. ctx: `{ backend, project,
 * lockDir, backupDir, load(name) }`. Options: `project`, `legacy` (folder of the
 * `.legacy.js` files; adds the `legacy` backend), `backends` (default native, js[, legacy]),
 * `t` (a node:test context: each backend becomes a subtest), `keep` (leave the temp folders).
 * Resolves `{ [backend]: what fn returned }`.
 */
async function forEachBackend(fn, options = {}) {
  if (typeof fn !== 'function') throw Object.assign(new TypeError('The "fn" argument must be of type function'), { code: 'ERR_INVALID_ARG_TYPE' })
  const legacyDir = options.legacy || process.env.SESSION_RESILIENCE_LEGACY_DIR
  const backends = options.backends || ['native', 'js', ...(legacyDir ? ['legacy'] : [])]
  const results = {}
  for (const backend of backends) {
    const body = async () => {
      const base = fs.mkdtempSync(path.join(os.tmpdir(), `sr-testing-${backend}-`))
      const ctx = { backend, project: path.join(base, 'project'), lockDir: path.join(base, 'locks'), backupDir: path.join(base, 'backups') }
      copyProject(options.project, ctx.project)
      const saved = Object.fromEntries(Object.values(ENV).map((k) => [k, process.env[k]]))
      try {
        if (backend === 'legacy') {
          if (!legacyDir) throw Object.assign(new Error('The legacy backend needs options.legacy (the folder of the .legacy.js files)'), { code: 'ENOENT' })
          ctx.load = legacyLoader(path.resolve(legacyDir), ctx)
          // legacy code exits the process on many errors: here that fails the body instead
          process.exit = (code) => {
            throw Object.assign(new Error(`legacy code called process.exit(${code === undefined ? '' : code})`), { code: 'ELEGACYEXIT', exitCode: code })
          }
        } else {
          Object.assign(process.env, { [ENV.backend]: backend, [ENV.lockDir]: ctx.lockDir, [ENV.backupDir]: ctx.backupDir, [ENV.root]: ctx.project })
          root.useRoot(ctx.project)
          forgetOurModules()
          ctx.load = (name) => {
            checkName(name)
            return require(path.join(LIB, `${name}.js`))
          }
        }
        results[backend] = await fn(ctx)
      } finally {
        process.exit = realExit
        root.useRoot(null)
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k]
          else process.env[k] = v
        }
        forgetOurModules()
        if (!options.keep) fs.rmSync(base, { recursive: true, force: true })
      }
    }
    if (options.t) await options.t.test(backend, body)
    else await body()
  }
  return results
}

// ---- diff --------------------------------------------------------------------------------

const MASKS = [
  [/\d{4}-\d\d-\d\dT\d\d[:-]\d\d[:-]\d\d(?:[.-]\d{3})?Z/g, '<time>'],
  [/\b\d{13}\b/g, '<ms>'],
  [/(?:[A-Za-z]:)?(?:[\\/][^\s'"`,;:()[\]{}]+)+/g, '<path>'],
]
const MASKED_KEYS = /^(pid|age|ppid|uptime|elapsed|duration|ms)$|time|stamp|date|update|validated|lastBackup|sessionId|^id$/i

function maskString(s) {
  return MASKS.reduce((acc, [re, to]) => acc.replace(re, to), s)
}

/** A copy of `value` with ids, times and paths masked (strings by pattern, numbers by key). */
function mask(value, key = '') {
  if (typeof value === 'string') return MASKED_KEYS.test(key) ? '<masked>' : maskString(value)
  if (typeof value === 'number') return MASKED_KEYS.test(key) ? '<masked>' : value
  if (Array.isArray(value)) return value.map((v) => mask(v, key))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, k)]))
  return value
}

/**
 * The differences between `a` and `b` once ids, times and paths are masked: `[]` when they
 * agree. Strings are compared as sets of lines (`- line` only in a, `+ line` only in b);
 * other values key by key (`<path>: <a> != <b>`).
 */
function diff(a, b) {
  if (typeof a === 'string' && typeof b === 'string') {
    const la = new Set(maskString(a).split('\n').map((l) => l.trimEnd()).filter(Boolean))
    const lb = new Set(maskString(b).split('\n').map((l) => l.trimEnd()).filter(Boolean))
    return [...[...la].filter((l) => !lb.has(l)).map((l) => `- ${l}`), ...[...lb].filter((l) => !la.has(l)).map((l) => `+ ${l}`)]
  }
  const out = []
  const walk = (x, y, where) => {
    if (x && y && typeof x === 'object' && typeof y === 'object' && Array.isArray(x) === Array.isArray(y)) {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk(x[k], y[k], where ? `${where}.${k}` : k)
    } else if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${where || '(value)'}: ${JSON.stringify(x)} != ${JSON.stringify(y)}`)
  }
  walk(mask(a), mask(b), '')
  return out
}

/** Console lines printed while `fn` runs (log, warn, error), and its result. */
async function captureOutput(fn) {
  const lines = []
  const saved = { log: console.log, warn: console.warn, error: console.error }
  for (const level of Object.keys(saved)) console[level] = (...args) => lines.push(args.map(String).join(' '))
  try {
    const result = await fn()
    return { result, output: lines.join('\n') }
  } finally {
    Object.assign(console, saved)
  }
}

const USAGE = `session-resilience/testing: a library for test suites (no commands).

  const { forEachBackend, diff } = require('session-resilience/testing')
  forEachBackend(fn, { project, legacy, t, backends })  runs fn({ backend, project, lockDir, backupDir, load })
                                                        on native, js (and legacy: <name>.legacy.js files)
  diff(a, b)                                            differences once ids, times and paths are masked`

/** As a command it only explains itself (every subpath has `run`/`main`). */
function run() {
  console.log(USAGE)
  return 0
}

module.exports = { forEachBackend, diff, mask, captureOutput, NAMES, run, main: (arg) => require('./cli').main(run, arg) }
