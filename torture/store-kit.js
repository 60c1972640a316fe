'use strict'
// The snapshot store under real SIGKILLs, shared by __test__/store-gc-kill.test.js and
// torture section 80 (snapshot store): a project with snapshots that share chunks, garbage
// chunks for a collection to remove, a child process running one store operation (gc,
// create, restore) that says `start` when it begins and `done` when it ends, and a kill at a
// chosen moment in between that is counted as landed only when the child was still working.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const { resolveBackend } = require(path.join(ROOT, 'lib/backend'))
const { encode } = require(path.join(ROOT, 'lib/js/store/format'))
const { Chunks, locOf } = require(path.join(ROOT, 'lib/js/store/pack'))

const binding = (backend) => resolveBackend(backend).binding

/** A deterministic generator of numbers in [0, 1) (mulberry32), so a failing run can be replayed. */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Bytes of `n` that depend on `seed` only (compressible enough to look like source files). */
function content(seed, n) {
  const next = prng(seed)
  const out = Buffer.alloc(n)
  for (let i = 0; i < n; i++) out[i] = 32 + Math.floor(next() * 40)
  return out
}

/** A project of `files` files in a few folders, a symlink and an executable; its store folder. */
function makeProject(dir, { files = 60, size = 30_000, seed = 1 } = {}) {
  const root = path.join(dir, 'project')
  fs.mkdirSync(path.join(root, 'backups'), { recursive: true })
  for (let i = 0; i < files; i++) {
    const sub = path.join(root, `src/d${i % 6}`)
    fs.mkdirSync(sub, { recursive: true })
    fs.writeFileSync(path.join(sub, `f${i}.txt`), content(seed * 1000 + i, size + i))
  }
  fs.writeFileSync(path.join(root, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
  fs.chmodSync(path.join(root, 'run.sh'), 0o755)
  fs.symlinkSync('src/d0/f0.txt', path.join(root, 'link'))
  return { root, store: path.join(root, 'backups/store') }
}

/** Rewrite files `from` to `to` (exclusive) with content of generation `gen`. */
function rewrite(root, from, to, gen, size = 30_000) {
  for (let i = from; i < to; i++) fs.writeFileSync(path.join(root, `src/d${i % 6}`, `f${i}.txt`), content(gen * 100_000 + i, size + i))
}

/** Every entry below `root` (not followed), minus backups/: [path, kind, mode, sha256 or target]. */
function listing(root) {
  const out = []
  const walk = (d) => {
    for (const name of fs.readdirSync(d).sort()) {
      const full = path.join(d, name)
      const rel = path.relative(root, full)
      if (rel === 'backups') continue
      const st = fs.lstatSync(full)
      if (st.isSymbolicLink()) out.push([rel, 'link', 0, fs.readlinkSync(full)])
      else if (st.isDirectory()) {
        out.push([rel, 'dir', st.mode & 0o7777, ''])
        walk(full)
      } else out.push([rel, 'file', st.mode & 0o7777, crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')])
    }
  }
  walk(root)
  return out
}

/**
 * Write `n` unreferenced chunks (valid encodings of random bytes) into the store as packs of
 * 5 (format 3: a collection removes each pack, index then pack); each pack also holds a copy
 * of a chunk the store already has, so a pack may be repacked rather than dropped, and a
 * chunk may be listed by two indexes at once. Their ids.
 */
function addGarbage(store, n) {
  const chunks = new Chunks(store)
  const present = chunks.list()
  const ids = []
  for (let i = 0; i < n; i++) {
    if (i % 5 === 0 && present.length > 0) {
      const id = present[(i * 7919) % present.length]
      chunks.put(id, chunks.getRaw(id))
    }
    const data = crypto.randomBytes(64)
    const id = crypto.createHash('sha256').update(data).digest('hex')
    chunks.put(id, encode(data))
    ids.push(id)
    if (i % 5 === 4) chunks.seal()
  }
  chunks.flush()
  return ids
}

/** The chunk ids among `ids` the store still holds (as its indexes and loose files say). */
const present = (store, ids) => {
  const chunks = new Chunks(store)
  return ids.filter((id) => chunks.has(id))
}

/** Where chunk `id`'s encoded bytes are in the store: `{ file, offset, len }`. */
function chunkPlace(store, id) {
  const place = new Chunks(store).place(id)
  if (place === null) throw new Error(`No chunk ${id} in ${store}`)
  return place
}

/**
 * What a collection left that no record references: `{ packs: [[name, dead share of its
 * bytes]], loose }` (a pack's dead share below the repack threshold is kept on purpose).
 */
function leftDead(store) {
  const { Store } = require(path.join(ROOT, 'lib/js/store/format'))
  const s = Store.open(store, false)
  const live = new Set()
  for (const id of s.ids()) s.references(s.record(id), (c) => live.add(c))
  const index = s.chunks.load()
  const packs = []
  for (const pack of index.packs) {
    let dead = 0
    let total = 0
    for (const e of pack.entries) {
      const loc = locOf(index, e.id)
      total += e.len
      if (!live.has(e.id) || loc.pack !== pack.name || loc.offset !== e.offset) dead += e.len
    }
    if (dead > 0) packs.push([pack.name, dead / total])
  }
  return { packs, loose: index.loose.filter((id) => !live.has(id)).length }
}

/** The chunk ids of every file of snapshot `id` and of its tree (read through the js backend). */
function chunksOf(store, id) {
  const { Store } = require(path.join(ROOT, 'lib/js/store/format'))
  const s = Store.open(store, false)
  const record = s.record(id)
  const files = new Map()
  for (const e of s.tree(record)) if (e.chunks) files.set(e.path, e.chunks)
  return { tree: record.tree, files }
}

/** Flip one bit of the last byte of chunk `id`'s encoding (its payload: the check must catch it). */
function flipChunk(store, id) {
  const { file, offset, len } = chunkPlace(store, id)
  const bytes = fs.readFileSync(file)
  bytes[offset + len - 1] ^= 1
  fs.chmodSync(file, 0o600)
  fs.writeFileSync(file, bytes)
}

/** The script a child runs: `op` on the backend, `start` before, `done <ms>` after. */
function script(backend, op, args) {
  return `
const { binding } = require(${JSON.stringify(path.join(ROOT, 'lib/backend'))}).resolveBackend(${JSON.stringify(backend)})
const args = ${JSON.stringify(args)}
const ops = {
  gc: () => binding.storeGc(args.store),
  create: () => binding.storeCreateSnapshot(args.root, args.store, args.id),
  restore: () => binding.storeRestoreSnapshot(args.store, args.id, args.target),
}
process.stdout.write('start\\n')
const t0 = process.hrtime.bigint()
ops[${JSON.stringify(op)}]().then(() => {
  process.stdout.write('done ' + Number(process.hrtime.bigint() - t0) / 1e6 + '\\n')
  process.exit(0)
}, (err) => {
  process.stdout.write('failed ' + err.code + ' ' + err.message + '\\n')
  process.exit(1)
})
`
}

/**
 * Run `op` in a child; `delayMs` after it says `start`, SIGKILL it (null: let it finish).
 * Resolves `{ landed, ms, out }`: landed when the child died of the kill before `done`; ms the
 * operation's own time when it finished. `track(child)` lets a test kill it on teardown.
 */
function runKilled(backend, op, args, delayMs, track = () => {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script(backend, op, args)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    track(child)
    let out = ''
    let err = ''
    let timer = null
    child.stderr.on('data', (d) => (err += d))
    child.stdout.on('data', (d) => {
      out += d
      if (timer === null && delayMs !== null && out.startsWith('start\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs)
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      const done = /^done ([\d.]+)$/m.exec(out)
      if (code !== 0 && signal !== 'SIGKILL') return reject(new Error(`${op} child failed (${code}): ${out} ${err}`))
      resolve({ landed: signal === 'SIGKILL' && !done, ms: done ? Number(done[1]) : null, out })
    })
  })
}

/**
 * Collections of the store killed `kills` times at random moments (seeded), with snapshots
 * that share chunks surviving and a removed snapshot's own chunks plus `garbage` junk chunks
 * to remove. After every kill every surviving snapshot must verify (`check(v, survivors)`
 * asserts it); every 10 kills the survivors change (a new snapshot, an old record removed).
 * Resolves { planned, landed, finished (kills that came after the collection ended, not
 * counted, retried), midSweep (kills with part of the junk removed), gcMs, survivors, p }.
 */
async function gcUnderKills({ backend, dir, kills, seed, garbage = 1500, check, track }) {
  const b = binding(backend)
  const rnd = prng(seed)
  const p = makeProject(dir)
  const survivors = new Map() // id -> listing of the project when it was taken
  let gen = 0
  const snap = async (id) => {
    await b.storeCreateSnapshot(p.root, p.store, id)
    survivors.set(id, listing(p.root))
  }
  await snap('s0')
  rewrite(p.root, 0, 10, ++gen)
  await snap('s1')
  // a snapshot whose record goes: its own chunks become garbage, those it shares stay live;
  // files 20-24 are new in it and kept by the next snapshot, so its pack is part live, part
  // dead (repacked by a collection)
  rewrite(p.root, 10, 25, ++gen)
  await b.storeCreateSnapshot(p.root, p.store, 'gone')
  rewrite(p.root, 10, 20, gen - 1)
  await snap('kept')
  b.storeRemoveSnapshot(p.store, 'gone')
  // one collection to the end: how long one takes on this backend
  addGarbage(p.store, garbage)
  let gcMs = (await runKilled(backend, 'gc', { store: p.store }, null, track)).ms
  let junk = new Set(addGarbage(p.store, garbage))
  const out = { planned: kills, landed: 0, finished: 0, midSweep: 0, extraAimed: 0, gcMs, survivors, p }
  // Every other kill is aimed between the latest delay that still found all the junk there
  // and the earliest that found none of it: the sweep, however fast this machine runs it
  // (the sweep can be a few ms of a collection that is mostly reading records).
  let before = 0
  let after = gcMs
  const killOnce = async (aimed) => {
    if (before >= after) [before, after] = [0, gcMs] // timings moved: look across the whole run again
    const delay = aimed ? before + rnd() * (after - before) : rnd() * gcMs
    const r = await runKilled(backend, 'gc', { store: p.store }, delay, track)
    const left = present(p.store, [...junk]).length
    if (!r.landed) {
      out.finished += 1
      gcMs = Math.max(1, Math.min(gcMs, r.ms) * 0.8) // the machine got faster: aim earlier
      after = Math.min(after, delay)
    } else {
      if (left === junk.size) before = Math.max(before, delay)
      else if (left === 0) after = Math.min(after, delay)
      else out.midSweep += 1
    }
    check(await b.storeVerify(p.store), survivors)
    junk = new Set(present(p.store, [...junk]))
    for (const id of addGarbage(p.store, garbage - junk.size)) junk.add(id)
    return r.landed
  }
  while (out.landed < kills) {
    if (out.finished > kills * 3) throw new Error(`only ${out.landed} of ${kills} kills landed: ${out.finished} collections ended first`)
    if (!(await killOnce(out.landed % 2 === 1))) continue
    out.landed += 1
    if (out.landed % 10 === 0) {
      rewrite(p.root, 20 + (out.landed % 30), 30 + (out.landed % 30), ++gen)
      await snap(`s${gen}`)
      const old = [...survivors.keys()].find((id) => id !== 's0')
      b.storeRemoveSnapshot(p.store, old)
      survivors.delete(old)
    }
  }
  // On a loaded machine the sweep's window (a few ms) can be missed by every aimed kill, when
  // a child's start-up time varies by more than that: then aim more (up to as many again),
  // counted apart, until one lands in the sweep.
  for (let tries = 0; out.midSweep === 0 && out.extraAimed < kills && tries < kills * 3; tries++) {
    if (await killOnce(true)) out.extraAimed += 1
  }
  return out
}

module.exports = {
  gcUnderKills, ROOT, binding, prng, content, makeProject, rewrite, listing, addGarbage, chunkPlace, present, leftDead, chunksOf, flipChunk, runKilled }
