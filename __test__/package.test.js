'use strict'
// The package as its users and maintainers see it: one list of error codes (the core, lib/,
// the TypeScript ErrorCode union, the README table), the same exports with the same
// parameters on both backends, npm found for `session-manager test` however Node was
// installed, and the package metadata (LICENSE, engines, exports).
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, tempDir } = require('./helpers')

const read = (rel) => fs.readFileSync(path.join(ROOT, rel), 'utf8')
const sorted = (set) => [...set].sort()

/** Every file under `dir` (relative to ROOT) whose name ends with `ext`. */
function filesUnder(dir, ext) {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true })
    .filter((f) => f.endsWith(ext))
    .map((f) => path.join(dir, f))
}

// ---- one list of error codes ----------------------------------------------------------------

/**
 * The codes the Rust side can produce: `Code::as_str` and the errno names in
 * core/src/error.rs, plus every `Code::Os("X")` or `Code::Os(NAME)` (`const NAME: &str = "X"`).
 */
function coreCodes() {
  const codes = new Set()
  for (const m of read('core/src/error.rs').matchAll(/=>\s*"([A-Z][A-Z0-9_]+)"/g)) codes.add(m[1])
  const sources = [...filesUnder('core/src', '.rs'), ...filesUnder('src', '.rs')].map(read)
  const consts = new Map()
  for (const text of sources) {
    for (const m of text.matchAll(/const (\w+): &str = "([A-Z0-9_]+)"/g)) consts.set(m[1], m[2])
  }
  for (const text of sources) {
    for (const m of text.matchAll(/Code::Os\(("?)([A-Z][A-Z0-9_]*)\1\)/g)) {
      const code = m[1] ? m[2] : consts.get(m[2])
      assert.ok(code, `Code::Os(${m[2]}): a code or a const &str the scan can read`)
      codes.add(code)
    }
  }
  return codes
}

// String literals in lib/ that look like a code but are not one.
const NOT_CODES = new Map([
  ['ERROR', 'a session-log level (lib/resilient-wrapper.js)'],
  ['ENO', "a prefix test (`startsWith('ENO')`, lib/cli.js)"],
])

/** Every code-shaped string literal in lib/ and bin/: what the JS side throws or passes on. */
function jsCodes() {
  const codes = new Set()
  for (const file of [...filesUnder('lib', '.js'), ...filesUnder('bin', '.js')]) {
    for (const m of read(file).matchAll(/['"`]((?:E[A-Z][A-Z0-9]+)|(?:ERR_[A-Z_]+))['"`]/g)) {
      if (!NOT_CODES.has(m[1])) codes.add(m[1])
    }
  }
  return codes
}

/** The members of `export type ErrorCode = ...` in lib/types.d.ts. */
function unionCodes() {
  const text = read('lib/types.d.ts')
  const start = text.indexOf('export type ErrorCode =')
  assert.notEqual(start, -1, 'lib/types.d.ts declares ErrorCode')
  const end = text.indexOf('\n\n', start)
  return new Set([...text.slice(start, end).matchAll(/\|\s*'([A-Z0-9_]+)'/g)].map((m) => m[1]))
}

/** The backquoted codes in the first column of the README's "Error codes" table. */
function readmeCodes() {
  const text = read('README.md')
  const start = text.indexOf('## Error codes')
  assert.notEqual(start, -1, 'README.md has an "Error codes" section')
  const section = text.slice(start, text.indexOf('\n## ', start + 1))
  const codes = new Set()
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue
    const first = line.split('|')[1]
    for (const m of first.matchAll(/`([A-Z0-9_]+)`/g)) codes.add(m[1])
  }
  return codes
}

test('the README table and the ErrorCode union list exactly the codes the core and lib/ throw', { timeout: 30000 }, () => {
  const core = coreCodes()
  const js = jsCodes()
  // sanity: the scans see the lists they are meant to see
  for (const code of ['ELOCKTIMEOUT', 'EINTERNAL', 'ENOSPC', 'ERR_INVALID_ARG_TYPE']) assert.ok(core.has(code), `core scan finds ${code}`)
  for (const code of ['EUSAGE', 'ENOTRACKER', 'ECORRUPT']) assert.ok(js.has(code), `lib/ scan finds ${code}`)
  const all = new Set([...core, ...js])
  const fix = 'add it to lib/types.d.ts ErrorCode and to the README "Error codes" table (meaning, calls)'
  const union = unionCodes()
  const readme = readmeCodes()
  assert.deepEqual(sorted(all).filter((c) => !union.has(c)), [], `codes thrown but missing from ErrorCode: ${fix}`)
  assert.deepEqual(sorted(all).filter((c) => !readme.has(c)), [], `codes thrown but missing from the README table: ${fix}`)
  assert.deepEqual(sorted(union).filter((c) => !all.has(c)), [], 'ErrorCode lists codes nothing throws')
  assert.deepEqual(sorted(readme).filter((c) => !all.has(c)), [], 'the README table lists codes nothing throws')
})

// ---- export parity of the two backends -------------------------------------------------------

/** The number of declared parameters of a function, from its source (defaults and rest included). */
function declaredParams(fn) {
  const src = fn.toString()
  let i = src.indexOf('(')
  let depth = 0
  let count = 0
  let sawToken = false
  for (i += 1; i < src.length; i++) {
    const ch = src[i]
    if (ch === "'" || ch === '"' || ch === '`') {
      const close = src.indexOf(ch, i + 1)
      i = close
      sawToken = true
    } else if ('([{'.includes(ch)) {
      depth++
      sawToken = true
    } else if (')]}'.includes(ch)) {
      if (depth === 0) break
      depth--
    } else if (ch === ',' && depth === 0) count++
    else if (!/\s/.test(ch)) sawToken = true
  }
  return sawToken ? count + 1 : 0
}

/** `name -> parameter count` of every function in index.d.ts (the native signatures). */
function nativeSignatures() {
  const sigs = new Map()
  for (const m of read('index.d.ts').matchAll(/^export declare function (\w+)(?:<[^>]*>)?\((.*)\):/gm)) {
    const params = m[2].trim()
    let depth = 0
    let count = params ? 1 : 0
    for (let i = 0; i < params.length; i++) {
      const ch = params[i]
      if ('([{<'.includes(ch)) depth++
      else if (')]}'.includes(ch) || (ch === '>' && params[i - 1] !== '=')) depth--
      else if (ch === ',' && depth === 0) count++
    }
    sigs.set(m[1], count)
  }
  return sigs
}

/** The native exports that are not API: the loader's stamp and the empty classes napi-rs registers for `#[napi] impl Task`. */
function nativeNonApi() {
  const names = new Set(['__napiBindingTarget'])
  for (const file of filesUnder('src', '.rs')) {
    for (const m of read(file).matchAll(/#\[napi\]\s*impl Task for (\w+)/g)) names.add(m[1])
    // src/tasks/store.rs writes its `impl Task` through a macro: store_task!(Name, ...)
    for (const m of read(file).matchAll(/store_task!\(\s*(\w+),/g)) names.add(m[1])
  }
  return names
}

test('the native binding and lib/js export the same functions with the same parameters', { timeout: 30000 }, () => {
  const native = require('../index.js')
  const js = require('../lib/js')
  const skip = nativeNonApi()
  assert.ok(skip.size > 1, 'the Task structs are found in src/')
  const nativeNames = Object.keys(native).filter((k) => !skip.has(k))
  const jsNames = Object.keys(js)
  assert.deepEqual(nativeNames.filter((k) => !jsNames.includes(k)).sort(), [], 'native exports missing from lib/js')
  assert.deepEqual(jsNames.filter((k) => !nativeNames.includes(k)).sort(), [], 'lib/js exports missing from the native binding')
  const sigs = nativeSignatures()
  const mismatched = []
  for (const name of nativeNames) {
    assert.equal(typeof native[name], 'function', `${name} is a function natively`)
    assert.equal(typeof js[name], 'function', `${name} is a function in lib/js`)
    assert.ok(sigs.has(name), `index.d.ts declares ${name}`)
    if (sigs.get(name) !== declaredParams(js[name].unchecked)) mismatched.push(`${name}: native ${sigs.get(name)}, js ${declaredParams(js[name].unchecked)}`)
  }
  assert.deepEqual(mismatched, [], 'parameter counts differ')
})

test('declaredParams counts what a signature declares', { timeout: 5000 }, () => {
  assert.equal(declaredParams(() => {}), 0)
  assert.equal(declaredParams(function f(a, b = [1, 2], { c, d } = {}, ...rest) { return [a, b, c, d, rest] }), 4)
  assert.equal(declaredParams((a, b = ')', c = Math.max(1, 2)) => [a, b, c]), 3)
})

// ---- the subpath declarations keep up with the modules ---------------------------------------

// Methods on the prototypes that are implementation, not API: not declared on purpose.
const INTERNAL_METHODS = {
  'backup-system': [
    'log', 'warn', 'loadTracker', 'ensureBackupsDir', 'partsOf', 'newBackupId', 'progress', 'recordRestorePoint',
    'relativeOriginal', 'infoFiles', 'containAll', 'gitInfo', 'isTracker', 'restoreTracker', 'recordedPoints',
    'putBackRestorePoints', 'uncommittedChanges', 'requireProject', 'noProjectMessage', 'sweepStaging', 'buildSet',
    'copyDatabases', 'structuralDamage', 'newStaging', 'dumpDatabases', 'restoreWithLines', 'reportPart', 'pointOf',
    'updateTrackerFile',
    // contained access under backups/ (issue 11)
    'inBackups', 'existsIn', 'readJsonIn', 'inBackupsDir', 'buildParts', 'relsOf', 'projectFile', 'removeSet',
    'checkKindFolders', 'hasSource', 'keepPrevious',
    // the snapshot method (lib/backup/snapshot.js, issue 14)
    'storeDir', 'fullMethod', 'snapshotRel', 'makeFullPart', 'withStoreLock', 'collectStoreGarbage', 'isSnapshotPoint',
    'fullPartLine', 'snapshotDamage', 'removeSnapshotRecord', 'snapshotPoint',
    'bundleCode', 'gitRefs', 'bundleBase', 'bundlesOf', 'bundleBasesOf', 'linkParts', 'linkPart', 'removeUnlinkedFiles',
    'linkWarnings', 'gitInfoOf', 'bundleDamage',
  ],
  'process-cleanup': ['cancelBackups'],
  'phase-gate-validator': ['report', 'notFound'],
  'safe-file-operations': ['lockOptions'],
}

/** Own and inherited method names of a class, up to (not including) Object. */
function methodsOf(cls) {
  const names = new Set()
  for (let proto = cls.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor') names.add(name)
  }
  return names
}

test('every export, static member and public method of each subpath is declared in its .d.ts', { timeout: 30000 }, () => {
  const pkg = JSON.parse(read('package.json'))
  const missing = []
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string' || !target.types.startsWith('./lib/')) continue
    const name = subpath.slice(2)
    const mod = require(path.join(ROOT, target.default))
    // a subclass's .d.ts inherits what its base declares: read the whole chain's declarations
    let declared = read(target.types)
    for (let base = Object.getPrototypeOf(mod); typeof base === 'function' && base.name; base = Object.getPrototypeOf(base)) {
      const baseSubpath = Object.entries(pkg.exports).find(([, t]) => typeof t !== 'string' && require(path.join(ROOT, t.default)) === base)
      if (baseSubpath) declared += read(baseSubpath[1].types)
    }
    const isDeclared = (member) => new RegExp(`\\b${member}\\b`).test(declared)
    const members = typeof mod === 'function' ? Object.getOwnPropertyNames(mod).filter((k) => !['length', 'name', 'prototype'].includes(k)) : Object.keys(mod)
    for (const member of members) if (!isDeclared(member)) missing.push(`${subpath}: ${member}`)
    const classes = typeof mod === 'function' ? [mod] : Object.values(mod).filter((v) => typeof v === 'function' && /^class\b/.test(String(v)))
    for (const cls of classes) {
      for (const method of methodsOf(cls)) {
        if ((INTERNAL_METHODS[name] || []).includes(method) || method.startsWith('_')) continue
        if (!new RegExp(`\\b${method}(<[^(]*>)?\\(`).test(declared)) missing.push(`${subpath}: ${cls.name}#${method}`)
      }
    }
  }
  assert.deepEqual(missing, [], `declare these in lib/<subpath>.d.ts (or list an implementation-only method in INTERNAL_METHODS)`)
})

// ---- npm for `session-manager test` ---------------------------------------------------------

/** A Node binary alone in `<dir>/bin` (a hard link, else a copy): no npm beside it. */
function loneNode(dir) {
  const bin = path.join(dir, 'bin')
  fs.mkdirSync(bin, { recursive: true })
  const node = path.join(bin, path.basename(process.execPath))
  try {
    fs.linkSync(process.execPath, node)
  } catch {
    fs.copyFileSync(process.execPath, node)
    fs.chmodSync(node, 0o755)
  }
  return node
}

function npmCliFrom(node, PATH) {
  const env = { PATH }
  if (process.env.SYSTEMROOT) env.SYSTEMROOT = process.env.SYSTEMROOT
  const r = spawnSync(node, ['-e', `process.stdout.write(String(require(${JSON.stringify(path.join(ROOT, 'lib/session/runner.js'))}).npmCliPath()))`], {
    env,
    encoding: 'utf8',
    timeout: 20000,
  })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
}

test('npm is found on PATH when it is not beside the Node binary', { timeout: 60000 }, (t) => {
  const ours = require('../lib/session/runner').npmCliPath()
  if (!ours) return t.skip('no npm on this machine')
  const dir = tempDir('sr-lone-node-')
  const node = loneNode(dir)
  // npm's bin folder, as a version manager puts it on PATH: on POSIX a link named npm to
  // npm-cli.js; on Windows npm.cmd beside node_modules/npm (a junction: no privilege needed)
  const npmBin = path.join(dir, 'npm-bin')
  fs.mkdirSync(npmBin)
  let expected = ours
  if (process.platform === 'win32') {
    fs.mkdirSync(path.join(npmBin, 'node_modules'))
    fs.symlinkSync(path.dirname(path.dirname(ours)), path.join(npmBin, 'node_modules', 'npm'), 'junction')
    expected = path.join(npmBin, 'node_modules', 'npm', 'bin', 'npm-cli.js')
  } else fs.symlinkSync(ours, path.join(npmBin, 'npm'))
  const found = npmCliFrom(node, [path.join(dir, 'empty'), npmBin].join(path.delimiter))
  assert.equal(found, expected)
  assert.equal(npmCliFrom(node, path.join(dir, 'empty')), 'null', 'no npm anywhere: null (runNpmTest then answers null, "no npm")')
})

// ---- metadata ---------------------------------------------------------------------------------

test('LICENSE holds the license package.json names, and engines names the supported Node versions', { timeout: 5000 }, () => {
  const pkg = JSON.parse(read('package.json'))
  assert.equal(pkg.license, 'MIT')
  const license = read('LICENSE')
  assert.match(license, /^MIT License\n/)
  assert.match(license, /Permission is hereby granted, free of charge/)
  assert.equal(pkg.engines.node, '>=20')
  const major = Number(process.versions.node.split('.')[0])
  assert.ok(major >= 20, `this Node (${process.version}) is one the package supports`)
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue
    assert.ok(fs.existsSync(path.join(ROOT, target.types)), `${subpath}: ${target.types} exists`)
    assert.ok(fs.existsSync(path.join(ROOT, target.default)), `${subpath}: ${target.default} exists`)
  }
})
