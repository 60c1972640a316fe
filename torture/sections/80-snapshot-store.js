'use strict'
// The snapshot store (issue 14), both backends, real processes killed for real:
// - garbage collection SIGKILLed at random moments: every surviving snapshot verifies after
//   each kill and restores byte-identical at the end;
// - create SIGKILLed at random moments: no record of the killed snapshot (or a whole one),
//   every other snapshot verifies, the next collection removes what the kill left;
// - restore SIGKILLed at random moments: the store is untouched (verifies), and the next
//   whole restore into the same folder is byte-identical;
// - a flipped byte in a chunk of a file or of a tree: verify names exactly the snapshots that
//   reference that chunk, and a snapshot that does not still restores byte-identical.
const fs = require('node:fs')
const path = require('node:path')
const { BACKENDS, tempDir, table } = require('../lib')
const kit = require('../store-kit')

const GC_KILLS = Number(process.env.TORTURE_STORE_GC_KILLS || 50)
const CREATE_KILLS = Number(process.env.TORTURE_STORE_CREATE_KILLS || 20)
const RESTORE_KILLS = Number(process.env.TORTURE_STORE_RESTORE_KILLS || 20)
const FLIPS = Number(process.env.TORTURE_STORE_FLIPS || 12)
const SEED = Number(process.env.TORTURE_STORE_SEED || 80)

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)

async function gcKills(backend, problems) {
  const dir = tempDir(`store-gc-${backend}`)
  let verifyFailures = 0
  const check = (v, survivors) => {
    if (!v.ok || v.snapshots !== survivors.size) {
      verifyFailures += 1
      problems.push(`${backend} gc: after a kill verify said ${JSON.stringify({ ok: v.ok, broken: v.broken, bad: v.badChunks.slice(0, 2) })}`)
    }
  }
  const r = await kit.gcUnderKills({ backend, dir, kills: GC_KILLS, seed: SEED, garbage: 1500, check })
  const b = kit.binding(backend)
  let restored = 0
  for (const [id, expected] of r.survivors) {
    const out = path.join(dir, `restore-${id}`)
    fs.mkdirSync(out)
    await b.storeRestoreSnapshot(r.p.store, id, out)
    if (same(kit.listing(out), expected)) restored += 1
    else problems.push(`${backend} gc: survivor ${id} did not restore byte-identical`)
  }
  fs.rmSync(dir, { recursive: true, force: true })
  return { ...r, verifyFailures, restored }
}

async function createKills(backend, problems) {
  const dir = tempDir(`store-create-${backend}`)
  const b = kit.binding(backend)
  const rnd = kit.prng(SEED + 1)
  const p = kit.makeProject(dir, { files: 240, size: 40_000 })
  await b.storeCreateSnapshot(p.root, p.store, 'base')
  // one create of 60 rewritten files to the end: the kill window
  kit.rewrite(p.root, 0, 60, 1, 40_000)
  const span = (await kit.runKilled(backend, 'create', { root: p.root, store: p.store, id: 'whole' }, null)).ms
  const s = { planned: CREATE_KILLS, landed: 0, finished: 0, recordAfterKill: 0, verifyFailures: 0, span }
  for (let gen = 2; s.landed < CREATE_KILLS && s.finished <= CREATE_KILLS * 3; gen++) {
    kit.rewrite(p.root, 0, 60, gen, 40_000)
    const id = `k${gen}`
    const r = await kit.runKilled(backend, 'create', { root: p.root, store: p.store, id }, rnd() * span)
    if (!r.landed) s.finished += 1
    else {
      s.landed += 1
      if (fs.existsSync(path.join(p.store, 'snapshots', `${id}.json`))) s.recordAfterKill += 1
    }
    const v = await b.storeVerify(p.store)
    if (!v.ok) {
      s.verifyFailures += 1
      problems.push(`${backend} create: after a kill verify said ${JSON.stringify(v.broken)}`)
    }
  }
  if (s.landed < CREATE_KILLS) problems.push(`${backend} create: only ${s.landed} of ${CREATE_KILLS} kills landed`)
  // the chunks the killed creates wrote are garbage: the next collection removes them all
  const gc = await b.storeGc(p.store)
  const v = await b.storeVerify(p.store)
  s.gcRemoved = gc.removed
  s.leftUnreferenced = gc.chunks - gc.removed - v.chunks
  if (!v.ok || s.leftUnreferenced !== 0) problems.push(`${backend} create: after the collection ${JSON.stringify({ ok: v.ok, left: s.leftUnreferenced })}`)
  fs.rmSync(dir, { recursive: true, force: true })
  return s
}

async function restoreKills(backend, problems) {
  const dir = tempDir(`store-restore-${backend}`)
  const b = kit.binding(backend)
  const rnd = kit.prng(SEED + 2)
  const p = kit.makeProject(dir, { files: 240, size: 40_000 })
  await b.storeCreateSnapshot(p.root, p.store, 's1')
  const expected = kit.listing(p.root)
  const target = path.join(dir, 'target')
  fs.mkdirSync(target)
  fs.mkdirSync(path.join(dir, 'calibrate'))
  const span = (await kit.runKilled(backend, 'restore', { store: p.store, id: 's1', target: path.join(dir, 'calibrate') }, null)).ms
  const s = { planned: RESTORE_KILLS, landed: 0, finished: 0, verifyFailures: 0, span }
  while (s.landed < RESTORE_KILLS && s.finished <= RESTORE_KILLS * 3) {
    const r = await kit.runKilled(backend, 'restore', { store: p.store, id: 's1', target }, rnd() * span)
    if (r.landed) s.landed += 1
    else s.finished += 1
    if (!(await b.storeVerify(p.store)).ok) s.verifyFailures += 1
    if (r.landed && rnd() < 0.3) fs.rmSync(path.join(target, 'src'), { recursive: true, force: true })
  }
  if (s.landed < RESTORE_KILLS) problems.push(`${backend} restore: only ${s.landed} of ${RESTORE_KILLS} kills landed`)
  if (s.verifyFailures) problems.push(`${backend} restore: the store failed verify ${s.verifyFailures} times after a killed restore`)
  const before = kit.listing(target)
  s.tempsLeftByKills = before.filter(([p]) => /\.tmp$|\.sr-/.test(path.basename(p))).length
  await b.storeRestoreSnapshot(p.store, 's1', target)
  const after = kit.listing(target)
  const extra = after.filter(([p]) => !expected.some(([q]) => q === p)).map(([p]) => p)
  s.tempsAfterNext = extra.length
  s.identical = same(
    after.filter(([p]) => !extra.includes(p)),
    expected,
  )
  if (!s.identical) problems.push(`${backend} restore: the next whole restore was not byte-identical`)
  if (s.tempsAfterNext) problems.push(`${backend} restore: ${s.tempsAfterNext} file(s) the kills left were still there after the next restore: ${extra.join(', ')}`)
  fs.rmSync(dir, { recursive: true, force: true })
  return s
}

const RACE_ROUNDS = Number(process.env.TORTURE_STORE_RACE_ROUNDS || 12)

/**
 * GC racing create: a collector process loops while this process takes snapshots whose
 * content is that of the snapshot whose record was just removed (the garbage the collector
 * is after, which create finds present and reuses). `locked`: both through BackupSystem's
 * store lock (what cleanup and create do); otherwise the raw calls, to show what the lock
 * prevents. Resolves { rounds, broken, collections }.
 */
async function race(backend, locked) {
  const { spawn } = require('node:child_process')
  const BackupSystem = require('../../lib/backup-system')
  const dir = tempDir(`store-race-${backend}`)
  const { root, store } = kit.makeProject(dir, { files: 120, size: 20_000 })
  fs.mkdirSync(path.join(root, 'packages/system-api'), { recursive: true })
  const backupStrategy = { retentionDays: 30, restorePoints: [], backupTypes: { fullSystem: { method: 'snapshot' } } }
  fs.writeFileSync(path.join(root, 'packages/system-api/phase-tracker.json'), JSON.stringify({ sessionInfo: { sessionId: 's', currentPhase: 1 }, backupStrategy }))
  const options = { backend, root, quiet: true, lockDir: path.join(dir, 'locks'), databases: [], configFiles: [] }
  const bs = new BackupSystem(options)
  const b = kit.binding(backend)
  const take = (id) => (locked ? bs.createFullBackup(id) : b.storeCreateSnapshot(root, store, id).then(() => id))
  let last = await take('first')
  const collect = locked ? 'await bs.collectStoreGarbage()' : `await bs.binding.storeGc(${JSON.stringify(store)})`
  const script = `
const BackupSystem = require(${JSON.stringify(path.join(kit.ROOT, 'lib/backup-system'))})
const bs = new BackupSystem(${JSON.stringify(options)})
let n = 0
;(async () => { for (;;) { try { ${collect} } catch {} n += 1; process.stdout.write('gc ' + n + '\\n') } })()
`
  const child = spawn(process.execPath, ['-e', script], { cwd: kit.ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
  let collections = 0
  child.stdout.on('data', (d) => {
    const m = /gc (\d+)\s*$/.exec(String(d))
    if (m) collections = Number(m[1])
  })
  const s = { rounds: 0, broken: 0, collections: 0 }
  try {
    const deadline = Date.now() + 60_000
    while (collections === 0 && child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    if (collections === 0) throw new Error(`${backend} race: the collector never ran`)
    for (let round = 1; round <= RACE_ROUNDS; round++) {
      kit.rewrite(root, 0, 120, round % 2, 20_000)
      s.rounds += 1
      let id
      try {
        id = await take(`r${round}`)
      } catch {
        // without the lock a create can fail outright: the parent tree it reads was collected
        s.broken += 1
        continue
      }
      if (!(await b.storeVerify(store, [id])).ok) s.broken += 1
      b.storeRemoveSnapshot(store, last)
      last = id
    }
  } finally {
    child.kill('SIGKILL')
  }
  s.collections = collections
  fs.rmSync(dir, { recursive: true, force: true })
  return s
}

/** chunk id -> the snapshots that reference it (tree or file), from the intact store. */
function references(store, ids) {
  const refs = new Map()
  const add = (c, id, where) => {
    if (!refs.has(c)) refs.set(c, { snapshots: new Set(), where })
    refs.get(c).snapshots.add(id)
  }
  for (const id of ids) {
    const { tree, files } = kit.chunksOf(store, id)
    for (const c of tree) add(c, id, 'tree')
    for (const list of files.values()) for (const c of list) add(c, id, 'file')
  }
  return refs
}

async function flips(backend, problems) {
  const dir = tempDir(`store-flip-${backend}`)
  const b = kit.binding(backend)
  const rnd = kit.prng(SEED + 3)
  const p = kit.makeProject(dir, { files: 60 })
  const ids = ['s1', 's2', 's3', 's4']
  const listings = new Map()
  for (let i = 0; i < ids.length; i++) {
    kit.rewrite(p.root, i * 5, i * 5 + 5, i + 1)
    await b.storeCreateSnapshot(p.root, p.store, ids[i])
    listings.set(ids[i], kit.listing(p.root))
  }
  const refs = references(p.store, ids)
  const trees = [...refs].filter(([, r]) => r.where === 'tree')
  const files = [...refs].filter(([, r]) => r.where === 'file' && r.snapshots.size < ids.length)
  const s = { trials: 0, tree: 0, file: 0, exact: 0, intactRestored: 0, intactTried: 0, brokenRefused: 0 }
  for (let i = 0; i < FLIPS; i++) {
    const pool = i % 2 === 0 ? trees : files
    const [chunk, ref] = pool[Math.floor(rnd() * pool.length)]
    const copy = path.join(dir, `store-${i}`)
    fs.cpSync(p.store, copy, { recursive: true })
    // one byte anywhere in the chunk's encoding inside its pack (the codec byte included), one bit
    const { file, offset, len } = kit.chunkPlace(copy, chunk)
    const bytes = fs.readFileSync(file)
    bytes[offset + Math.floor(rnd() * len)] ^= 1 << Math.floor(rnd() * 8)
    fs.writeFileSync(file, bytes)
    s.trials += 1
    s[ref.where] += 1
    const v = await b.storeVerify(copy)
    const expected = [...ref.snapshots].sort()
    const named = v.broken.map((x) => x.id).sort()
    const bad = v.badChunks.map((c) => c.id)
    if (same(named, expected) && same(bad, [chunk]) && same([...v.badChunks[0].snapshots].sort(), expected)) s.exact += 1
    else problems.push(`${backend} flip in a ${ref.where} chunk: expected ${expected}, verify named ${named} (bad chunks ${bad.length})`)
    const intact = ids.filter((id) => !ref.snapshots.has(id))
    if (intact.length > 0) {
      const id = intact[Math.floor(rnd() * intact.length)]
      const out = path.join(dir, `out-${i}`)
      fs.mkdirSync(out)
      s.intactTried += 1
      await b.storeRestoreSnapshot(copy, id, out)
      if (same(kit.listing(out), listings.get(id))) s.intactRestored += 1
      else problems.push(`${backend} flip: intact snapshot ${id} did not restore byte-identical`)
    }
    const out = path.join(dir, `broken-${i}`)
    fs.mkdirSync(out)
    try {
      await b.storeRestoreSnapshot(copy, expected[0], out)
      problems.push(`${backend} flip: the broken snapshot ${expected[0]} restored without an error`)
    } catch (err) {
      if (err.code === 'ECORRUPT') s.brokenRefused += 1
      else problems.push(`${backend} flip: restoring the broken snapshot failed with ${err.code}, not ECORRUPT`)
    }
    fs.rmSync(copy, { recursive: true, force: true })
  }
  fs.rmSync(dir, { recursive: true, force: true })
  return s
}

module.exports = {
  title: 'Snapshot store: kills during create, GC and restore; flipped bytes in chunks and trees',
  async run() {
    const problems = []
    const rows = { gc: [], create: [], restore: [], flip: [], race: [] }
    for (const backend of BACKENDS) {
      const g = await gcKills(backend, problems)
      if (g.landed !== g.planned) problems.push(`${backend} gc: ${g.landed} of ${g.planned} kills landed`)
      rows.gc.push([
        backend,
        `${g.landed} of ${g.planned}`,
        g.finished,
        g.midSweep,
        `${Math.round(g.gcMs)} ms`,
        g.verifyFailures,
        `${g.restored} of ${g.survivors.size}`,
      ])
      const c = await createKills(backend, problems)
      rows.create.push([backend, `${c.landed} of ${c.planned}`, c.finished, `0-${Math.round(c.span)} ms`, c.recordAfterKill, c.verifyFailures, c.gcRemoved, c.leftUnreferenced])
      const r = await restoreKills(backend, problems)
      rows.restore.push([backend, `${r.landed} of ${r.planned}`, r.finished, `0-${Math.round(r.span)} ms`, r.verifyFailures, r.tempsLeftByKills, r.tempsAfterNext, r.identical ? 'yes' : '**no**'])
      const locked = await race(backend, true)
      const raw = await race(backend, false)
      if (locked.broken > 0) problems.push(`${backend} race: ${locked.broken} of ${locked.rounds} snapshots taken under the lock were broken by a collection`)
      rows.race.push([backend, `${locked.broken} of ${locked.rounds} (${locked.collections} collections)`, `${raw.broken} of ${raw.rounds} (${raw.collections} collections)`])
      const f = await flips(backend, problems)
      rows.flip.push([backend, `${f.trials} (${f.tree} tree, ${f.file} file)`, `${f.exact} of ${f.trials}`, `${f.intactRestored} of ${f.intactTried}`, `${f.brokenRefused} of ${f.trials}`])
    }
    const text =
      `**GC under SIGKILL**: a store with snapshots that share chunks, a removed snapshot whose own chunks are garbage and 1,500 junk chunks (topped up after each kill); ` +
      `a child runs \`storeGc\` and is SIGKILLed at a random moment (seed ${SEED}) between its start and the length of one whole collection here. ` +
      'A kill counts as landed only when the collection had not ended (otherwise it is run again, counted in "ended first"). After every kill `storeVerify` of the whole store must pass; every 10 kills the survivors change (a new snapshot, an old record removed); at the end every survivor is restored and compared byte for byte.\n\n' +
      table(['backend', 'kills landed', 'ended first', 'landed mid-sweep (part of the junk removed)', 'one collection', 'verify failures', 'survivors restored byte-identical'], rows.gc) +
      `\n\n**create under SIGKILL**: 240 files of ~40 KB, 60 of them rewritten before each create; the child is SIGKILLed at a random moment of one create's length. After each kill the store must verify (a record is written last: the killed snapshot is absent, or whole when the kill came after its record). Then one collection must leave exactly the chunks the snapshots reference.\n\n` +
      table(['backend', 'kills landed', 'ended first', 'kill window', 'record present after the kill', 'verify failures', 'chunks the next GC removed', 'unreferenced chunks left after it'], rows.create) +
      '\n\n**restore under SIGKILL**: the same project restored into one folder again and again, SIGKILLed at a random moment of one restore\'s length (sometimes with part of the folder removed between kills). The store must verify after each kill (a restore never writes into it); then one whole restore into the same folder must give the snapshot byte for byte.\n\n' +
      table(['backend', 'kills landed', 'ended first', 'kill window', 'store verify failures', 'temp files the kills left', 'extra files after the next restore', 'next restore byte-identical'], rows.restore) +
      `\n\n**GC racing create**: a collector process loops while this process takes ${RACE_ROUNDS} snapshots, each of the content of the snapshot whose record was just removed (the chunks the collector is about to remove, which create finds present and reuses); each new snapshot is verified. Under the store's lock (\`createFullBackup\` and \`cleanup\`'s collection, lib/backup/snapshot.js) none may break; the same race through the raw calls, without the lock, is shown for comparison (what the lock prevents; not a failure).\n\n` +
      table(['backend', 'broken under the lock', 'broken or failed without the lock (for comparison)'], rows.race) +
      `\n\n**Flipped bytes**: four snapshots of a project (5 files rewritten between each); in a copy of the store one bit of one byte (anywhere, the codec byte included) of one chunk is flipped, alternately a chunk of a tree and a chunk of a file not shared by all four. Verify must name exactly the snapshots that reference that chunk (as broken, and as the bad chunk's users) and nothing else; a snapshot that does not reference it must restore byte-identical; restoring a broken one must fail with ECORRUPT.\n\n` +
      table(['backend', 'flips', 'verify named exactly the broken snapshots', 'an intact snapshot restored byte-identical', 'a broken snapshot refused (ECORRUPT)'], rows.flip) +
      (problems.length ? `\n\nProblems:\n\n${problems.map((x) => `- ${x}`).join('\n')}` : '')
    return { ok: problems.length === 0, text }
  },
}
