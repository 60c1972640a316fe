'use strict'
// Shared by every suite: both backends, fresh temp directories, and child processes.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')

const nodeTest = require('node:test')

const ROOT = path.resolve(__dirname, '..')

/** Every test has a timeout, so that a regression fails instead of hanging the suite. */
const TEST_TIMEOUT_MS = 180_000

/**
 * Options for every synchronous child that runs our code: a hung child would block the event
 * loop, so no test timeout could fire; it is killed after this instead.
 */
const SYNC_CHILD = { timeout: 120_000, killSignal: 'SIGKILL' }

/** `node:test`'s `test`, with a timeout unless the test sets its own. */
function test(name, options, fn) {
  if (typeof options === 'function') [fn, options] = [options, {}]
  return nodeTest(name, { timeout: TEST_TIMEOUT_MS, ...options }, fn)
}

// Every child spawned through these helpers is killed when its file's tests end, whatever
// happened: a child left running would keep the test file's process (and the suite) waiting.
const children = new Set()
nodeTest.after(() => {
  for (const child of children) child.kill('SIGKILL')
})

/**
 * `spawn`, with the child killed when test `t` ends (`t.after`), and in any case when this
 * file's tests end.
 */
function spawnChild(command, args, { t, ...options } = {}) {
  const child = spawn(command, args, options)
  children.add(child)
  child.once('exit', () => children.delete(child))
  t?.after(() => child.kill('SIGKILL'))
  return child
}
const BACKENDS = ['native', 'js']

let suiteRoot = null

/** A fresh directory under the OS temp dir; all of them are removed when the process exits. */
function tempDir(prefix = 'sr-test-') {
  if (!suiteRoot) {
    suiteRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-suite-'))
    process.on('exit', () => fs.rmSync(suiteRoot, { recursive: true, force: true }))
  }
  return fs.mkdtempSync(path.join(suiteRoot, prefix))
}

/**
 * Register `fn(backend)` once per backend, as subtests of `t` (node:test).
 * Each backend's run gets its own temp directory through `ctx.dir`.
 */
async function eachBackend(t, fn) {
  for (const backend of BACKENDS) {
    await t.test(backend, async (st) => fn({ backend, dir: tempDir(`sr-${backend}-`), t: st }))
  }
}

/** Run `fn(backend, dir)` on both backends and return both results, for parity asserts. */
function onBoth(fn) {
  return Object.fromEntries(BACKENDS.map((b) => [b, fn(b, tempDir(`sr-${b}-`))]))
}

/** Capture console.log/warn/error lines while running `fn`. */
function captureConsole(fn) {
  const lines = []
  const saved = {}
  for (const level of ['log', 'warn', 'error']) {
    saved[level] = console[level]
    console[level] = (...args) => lines.push(`${level}: ${args.join(' ')}`)
  }
  try {
    return { result: fn(), lines }
  } finally {
    Object.assign(console, saved)
  }
}

/** Spawn a CLI of bin/ synchronously. */
function runBin(name, args, { backend, env = {}, cwd = ROOT, input } = {}) {
  return spawnSync(process.execPath, [path.join(ROOT, 'bin', `${name}.js`), ...args], {
    cwd,
    input,
    encoding: 'utf8',
    ...SYNC_CHILD,
    env: { ...process.env, ...(backend ? { SESSION_RESILIENCE_BACKEND: backend } : {}), ...env },
  })
}

/** Start a node child running `script` (a string) with the given backend; killed when `t` ends. */
function spawnNode(script, { backend, env = {}, args = [], t } = {}) {
  return spawnChild(process.execPath, ['-e', script, ...args], {
    t,
    cwd: ROOT,
    env: { ...process.env, ...(backend ? { SESSION_RESILIENCE_BACKEND: backend } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Resolve with the first stdout line of `child` matching `re`; reject if it exits first. */
function waitForLine(child, re) {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.stdout.on('data', (d) => {
      out += d
      const m = out.split('\n').find((l) => re.test(l))
      if (m) resolve(m)
    })
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before "${re}": ${out} ${err}`)))
  })
}

/** A live process that does nothing, standing for another writer or holder; killed when `t` ends. */
function liveProcess(t, { command = process.execPath, args = ['-e', 'setInterval(() => {}, 1000)'] } = {}) {
  return spawnChild(command, args, { stdio: 'ignore', t })
}

/** Resolve with `{ code, signal }` once `child` has exited (at once if it already has). */
function exited(child) {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
    : new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

function hasCommand(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0
}

/** Damage the snapshot store's chunk `id`: the last byte of its encoding flipped, in its pack or loose file. */
function flipChunk(store, id) {
  const { Chunks } = require('../lib/js/store/pack')
  const place = new Chunks(store).place(id)
  if (place === null) throw new Error(`No chunk ${id} in ${store}`)
  const bytes = fs.readFileSync(place.file)
  bytes[place.offset + place.len - 1] ^= 1
  fs.chmodSync(place.file, 0o600)
  fs.writeFileSync(place.file, bytes)
}

/**
 * Make the snapshot store's chunk `id` missing: its pack's index rewritten without it (the
 * pack renamed after its new index; its bytes stay, unindexed), or its loose file removed.
 */
function dropChunk(store, id) {
  const { Chunks, encodeIndex, parseIndex } = require('../lib/js/store/pack')
  const loc = new Chunks(store).locate(id)
  if (loc === undefined) throw new Error(`No chunk ${id} in ${store}`)
  if (loc === null) return fs.rmSync(path.join(store, 'chunks', id.slice(0, 2), id))
  const packs = path.join(store, 'packs')
  const idx = path.join(packs, `${loc.pack}.idx`)
  const { name, bytes } = encodeIndex(parseIndex(loc.pack, fs.readFileSync(idx)).filter((e) => e.id !== id))
  fs.renameSync(path.join(packs, `${loc.pack}.pack`), path.join(packs, `${name}.pack`))
  fs.writeFileSync(path.join(packs, `${name}.idx`), bytes, { mode: 0o600 })
  fs.rmSync(idx)
}

/** Bytes of chunks on disk in a snapshot store: its packs and loose chunk files. */
function storedBytes(store) {
  const { Chunks } = require('../lib/js/store/pack')
  const chunks = new Chunks(store)
  return chunks.list().reduce((n, id) => n + chunks.size(id), 0)
}

/** The chunk ids a snapshot store holds (from its pack indexes and loose files), sorted. */
function chunkIds(store) {
  const { Chunks } = require('../lib/js/store/pack')
  return new Chunks(store).list().sort()
}

/** A snapshot store written by `backend` with snapshot 'base' of one small file: its paths and base's record. */
async function baseStore(dir, backend = 'native') {
  const { resolveBackend } = require('../lib/backend')
  const root = path.join(dir, 'root')
  fs.mkdirSync(root)
  fs.writeFileSync(path.join(root, 'a.txt'), 'alpha\n')
  const store = path.join(dir, 'store')
  await resolveBackend(backend).binding.storeCreateSnapshot(root, store, 'base')
  const record = JSON.parse(fs.readFileSync(path.join(store, 'snapshots', 'base.json'), 'utf8'))
  return { root, store, record }
}

/** Write a snapshot record file by hand (the text as given: it may be no record at all). */
function writeRecord(store, id, value) {
  fs.writeFileSync(path.join(store, 'snapshots', `${id}.json`), typeof value === 'string' ? value : JSON.stringify(value), { mode: 0o600 })
}

/** Put `bytes` into the snapshot store as one chunk (a pack of its own, as a writer flushes it): its id. */
function putTree(store, bytes) {
  const { Store, encode, chunkId } = require('../lib/js/store/format')
  const data = Buffer.from(bytes)
  const s = Store.open(store, true)
  const id = chunkId(data)
  s.put(id, encode(data))
  s.flush()
  return id
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0

module.exports = { flipChunk, chunkIds, dropChunk, storedBytes, baseStore, writeRecord, putTree, test, SYNC_CHILD, spawnChild, liveProcess, exited, waitForLine, ROOT, BACKENDS, tempDir, eachBackend, onBoth, captureConsole, runBin, spawnNode, hasCommand, isRoot }
