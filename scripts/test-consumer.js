#!/usr/bin/env node
'use strict'
// `npm run test:consumer`: install the package the way a consumer does, with no Rust anywhere.
//
//   1. builds the addon if it is missing or stale (the release build, as CI publishes);
//   2. packs the platform package of this machine (npm/<platform>/, e.g. linux-x64-gnu) with the
//      addon in it, and the main package with the optionalDependencies `napi prepublish` writes;
//   3. installs both tarballs into a fresh temporary project: cargo and rustc are taken off
//      PATH, npm runs --offline with an empty cache of its own, so nothing can be compiled and
//      nothing fetched from a registry;
//   4. in that project (scripts/consumer-check.js): requires every subpath of `exports` with
//      the native backend forced, runs one operation of each, and runs every bin's help;
//   5. compiles the type test (__test__/types.test-d.ts) there, against the installed types.
// New subpaths and bins are picked up from package.json; a subpath without an operation of its
// own in consumer-check.js is exercised through its CLI `run(['help'])`.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { root, addonPath, addonIsStale } = require('./addon')

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function run(title, cmd, args, options = {}) {
  console.log(`▶ ${title}: ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { encoding: 'utf8', shell: process.platform === 'win32', ...options })
  if (r.error) throw r.error
  if (r.status !== 0) {
    process.stderr.write(r.stdout || '')
    process.stderr.write(r.stderr || '')
    throw new Error(`${title} failed (exit ${r.status})`)
  }
  return r.stdout
}

/** Pack the package in `dir` into `dest`; returns the tarball's path. */
function pack(dir, dest) {
  const out = run(`npm pack ${path.basename(dir)}`, npm, ['pack', '--json', '--pack-destination', dest], { cwd: dir })
  return path.join(dest, JSON.parse(out)[0].filename)
}

/** The npm/<platform> folder matching the addon built here (`session-resilience.<platform>.node`). */
function platformOf(addon) {
  const platform = path.basename(addon).slice(`${pkg.napi.binaryName}.`.length, -'.node'.length)
  if (!fs.existsSync(path.join(root, 'npm', platform, 'package.json'))) {
    throw new Error(`no npm/${platform}/package.json for ${addon}: run \`npx napi create-npm-dirs\``)
  }
  return platform
}

/** What `napi prepublish` adds to the main package: every platform package, same version. */
function optionalDependencies() {
  const deps = {}
  for (const dir of fs.readdirSync(path.join(root, 'npm')).sort()) {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'npm', dir, 'package.json'), 'utf8'))
    deps[manifest.name] = pkg.version
  }
  return deps
}

/** The platform package as `napi artifacts` leaves it: its package.json plus the addon. */
function stagePlatformPackage(stage, platform, addon) {
  const dir = path.join(stage, platform)
  fs.mkdirSync(dir, { recursive: true })
  fs.copyFileSync(path.join(root, 'npm', platform, 'package.json'), path.join(dir, 'package.json'))
  fs.copyFileSync(addon, path.join(dir, path.basename(addon)))
  return dir
}

/** The main package's published files (what `npm pack` takes), with the prepublish manifest. */
function stageMainPackage(stage) {
  const dir = path.join(stage, 'main')
  const listing = JSON.parse(run('list the published files', npm, ['pack', '--dry-run', '--json'], { cwd: root }))
  for (const { path: file } of listing[0].files) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.copyFileSync(path.join(root, file), path.join(dir, file))
  }
  const published = fs.readdirSync(dir).filter((f) => f.endsWith('.node'))
  if (published.length) throw new Error(`the main package must not ship a binary: ${published.join(', ')}`)
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  manifest.optionalDependencies = optionalDependencies()
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  return dir
}

/** PATH without any directory that holds cargo or rustc, and no Rust toolchain variables. */
function envWithoutRust() {
  const exe = process.platform === 'win32' ? '.exe' : ''
  const hasRust = (dir) => ['cargo', 'rustc', 'rustup'].some((t) => fs.existsSync(path.join(dir, t + exe)))
  const env = { ...process.env }
  const removed = []
  env.PATH = (process.env.PATH || '')
    .split(path.delimiter)
    .filter((dir) => (hasRust(dir) ? removed.push(dir) && false : true))
    .join(path.delimiter)
  for (const name of ['CARGO_HOME', 'RUSTUP_HOME', 'RUSTUP_TOOLCHAIN', 'CARGO', 'RUSTC']) delete env[name]
  if (spawnSync('cargo', ['--version'], { env, stdio: 'ignore' }).status === 0) {
    throw new Error('cargo is still reachable on the reduced PATH')
  }
  console.log(`  PATH without Rust (removed: ${removed.join(', ') || 'nothing'})`)
  return env
}

function main() {
  if (addonIsStale()) run('build the addon', npm, ['run', 'build'], { cwd: root, stdio: 'inherit' })
  const addon = addonPath()
  const platform = platformOf(addon)

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-consumer-'))
  try {
    const tarballs = path.join(work, 'tarballs')
    fs.mkdirSync(tarballs)
    const platformTgz = pack(stagePlatformPackage(path.join(work, 'stage'), platform, addon), tarballs)
    const mainTgz = pack(stageMainPackage(path.join(work, 'stage')), tarballs)

    const project = path.join(work, 'consumer')
    fs.mkdirSync(project)
    fs.writeFileSync(
      path.join(project, 'package.json'),
      `${JSON.stringify({ name: 'sr-consumer', version: '1.0.0', private: true }, null, 2)}\n`,
    )
    const env = envWithoutRust()
    run(
      'install from the tarballs, offline, empty cache',
      npm,
      [
        'install',
        '--offline',
        '--no-audit',
        '--no-fund',
        '--cache',
        path.join(work, 'npm-cache'),
        '--registry',
        'http://127.0.0.1:9/', // nothing listens there: a fetch would fail, not reach a registry
        mainTgz,
        platformTgz,
      ],
      { cwd: project, env },
    )

    fs.copyFileSync(path.join(__dirname, 'consumer-check.js'), path.join(project, 'consumer-check.js'))
    const r = spawnSync(process.execPath, ['consumer-check.js'], {
      cwd: project,
      env: { ...env, SESSION_RESILIENCE_BACKEND: 'native', SR_CONSUMER_PLATFORM: platform },
      stdio: 'inherit',
    })
    if (r.status !== 0) throw new Error(`the consumer checks failed (exit ${r.status})`)

    // A TypeScript consumer: the type test, compiled against the installed package's .d.ts
    // files (--strict, skipLibCheck off), with this repository's dev TypeScript.
    for (const f of ['types.test-d.ts', 'tsconfig.json']) fs.copyFileSync(path.join(root, '__test__', f), path.join(project, f))
    run('tsc --strict over the type test in the consumer project', process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, env })
    console.log('  ✔ the installed types compile under tsc --strict')
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

try {
  main()
} catch (err) {
  console.error(`✖ test:consumer: ${err.message}`)
  process.exit(1)
}
