'use strict'
// The twin of core/src/store/verify.rs: check every chunk any snapshot references once,
// however many snapshots share it; report each bad chunk (missing or damaged) with the
// snapshots it breaks, and every snapshot that cannot be restored whole. Unless `deep`, each
// pack whose index records a SHA-256 digest (this backend's packs) is hashed whole first, and
// its chunks are good as stored when it matches; every other chunk (a native pack's BLAKE3
// digest: Node has no BLAKE3; a pack that does not match; a version 3 pack; a loose file) is
// read, inflated and hashed against its id.
//
// A store of more than a few MiB is verified by worker threads (verify-check.js): one walks
// the snapshots' trees (a tree chunk hashed the first time it is read, then read unhashed)
// and checks each file chunk the first time a tree lists it, or posts it to checker workers
// (`options.checkers`) that read and hash those chunks meanwhile. This thread only passes the batches on. Workers
// run with a small young generation: their garbage is collected often instead of piling up
// (peak RSS, bench/RESULTS.md). A small store is walked and checked here, with no worker
// started. Then, only when some file chunks are bad, the trees are walked again to name the
// snapshots each breaks.

const path = require('node:path')
const { Worker } = require('node:worker_threads')

const { Store, compareText } = require('./format')
const { ChunkChecker, TreeWalker, hashPacks } = require('./verify-check')

/** Below this many plain bytes in all the snapshots, no worker is started. */
const INLINE_BYTES = 32 * 1024 * 1024
/** Batches a checker may hold (it stays busy between this thread's turns). */
const IN_FLIGHT = 4
/**
 * Checker workers beside the walker by default: none, the walker checks what it finds. Each
 * worker is an isolate of its own: on a 101-snapshot store built like the bench's (2026-11-27, under a CI
 * run's load) the walker with one checker peaked at 166-173 MB in 3.1-3.4 s, the walker alone
 * at 125-141 MB in 2.4-2.7 s (issue 14: peak RSS under 150 MB). `options.checkers` adds some.
 */
const DEFAULT_CHECKERS = 0

/**
 * `options.deep`: every chunk re-hashed, pack digests not used. `options.inline` (true / false:
 * force where) and `options.checkers` are for tests and benchmarks.
 */
async function verifyStore(storeDir, only, cancel, options = {}) {
  const store = Store.open(storeDir, false)
  const ids = Array.isArray(only) ? only : store.ids()
  const inline = options.inline ?? logicalBytes(store, ids) < INLINE_BYTES
  const { walks, trees, files, packs } = inline ? walkHere(store, ids, cancel, options) : await walkInWorkers(store.dir, ids, cancel, options)
  const report = { snapshots: ids.length, chunks: 0, bytes: 0, chunksHashed: 0, packs: packs.good, packsMismatched: packs.mismatched, badChunks: [], broken: {} }
  const bad = new Map() // chunk id -> { id, reason, snapshots }
  // a file chunk that is also a tree chunk (the same bytes) counts once, as a tree chunk
  for (const [c, [bytes, why, hashed]] of [...trees, ...[...files].filter(([c]) => !trees.has(c))]) {
    report.chunksHashed += hashed
    if (why === null) {
      report.chunks += 1
      report.bytes += bytes
    } else bad.set(c, { id: c, reason: why, snapshots: [] })
  }
  const readable = []
  for (const walk of walks) {
    for (const c of walk.badTree) bad.get(c).snapshots.push(walk.id)
    if (walk.broken === null) readable.push(walk.record)
    else report.broken[walk.id] = walk.broken
  }
  if ([...bad.values()].some((b) => b.snapshots.length === 0)) attribute(store, readable, bad, report.broken)
  report.badChunks = [...bad.values()].sort((a, b) => compareText(a.id, b.id))
  report.ok = report.badChunks.length === 0 && Object.keys(report.broken).length === 0
  return report
}

/** The plain bytes the records say their snapshots hold (a damaged record counts 0). */
function logicalBytes(store, ids) {
  let total = 0
  for (const id of ids) {
    try {
      total += Number(store.record(id).bytes) || 0
    } catch {
      // the walk reports it
    }
  }
  return total
}

/** Walk and check on this thread: `{ walks, trees, files, packs }` (verify-check.js's verdicts). */
function walkHere(store, ids, cancel, options) {
  const files = new Map()
  const packs = options.deep ? { good: new Map(), mismatched: [] } : hashPacks(store)
  const checker = new ChunkChecker(store, packs.good)
  const walker = new TreeWalker(store, (c) => files.set(c, checker.verdict(c)), packs.good)
  const walks = ids.map((id) => {
    cancel.check('Verify')
    return walker.walk(id)
  })
  return { walks, trees: walker.trees, files, packs: { good: packs.good.size, mismatched: packs.mismatched } }
}

/** The same, by a walker worker and checker workers; every worker terminated at the end. */
async function walkInWorkers(storeDir, ids, cancel, options) {
  const count = options.checkers ?? DEFAULT_CHECKERS
  // MiB of young generation: the walker's garbage (parsed tree lines) and the checkers'
  // (inflated chunks) collected early; measured on the bench stores: format 1, peak RSS
  // 127 MB with 8 / 2 MiB, 192 MB with V8's defaults, for the same time; format 2 (79,267
  // chunks), 166 MB with 8 / 2, 138-141 MB with 2 / 2; format 3, a walker that checks too
  // (101 snapshots, 77,269 chunks): 146-148 MB with 1, 142-147 with 2, 139 with 4, 150-152 with 8
  const young = { walk: count === 0 ? 4 : 2, check: 2 }
  const spawn = (verify) =>
    new Worker(path.join(__dirname, 'verify-check.js'), { workerData: { verify }, resourceLimits: { maxYoungGenerationSizeMb: young[verify.role] } })
  const workers = []
  try {
    return await new Promise((resolve, reject) => {
      const walks = []
      const files = new Map()
      const queue = []
      let trees = null
      let packs = null
      const checkers = Array.from({ length: count }, () => ({ worker: spawn({ role: 'check', storeDir }), sent: [] }))
      const walker = spawn({ role: 'walk', storeDir, ids, checkHere: count === 0, deep: Boolean(options.deep) })
      workers.push(walker, ...checkers.map((c) => c.worker))
      // batches to the least busy checkers; done once the walk ended and every batch is back
      const pump = () => {
        while (queue.length > 0) {
          const slot = checkers.reduce((a, b) => (b.sent.length < a.sent.length ? b : a))
          if (slot.sent.length >= IN_FLIGHT) break
          const batch = queue.shift()
          slot.sent.push(batch)
          slot.worker.postMessage(batch)
        }
        if (trees !== null && queue.length === 0 && checkers.every((c) => c.sent.length === 0)) resolve({ walks, trees, files, packs })
      }
      const guarded = (fn) => (m) => {
        try {
          cancel.check('Verify')
          fn(m)
        } catch (err) {
          reject(err)
        }
      }
      walker.on(
        'message',
        guarded((m) => {
          if (m.packs) packs = m.packs
          else if (m.files) queue.push(m.files)
          else if (m.checked) for (const [id, verdict] of m.checked) files.set(id, verdict)
          else if (m.walk) walks.push(m.walk)
          else trees = new Map(m.trees)
          pump()
        }),
      )
      for (const slot of checkers) {
        slot.worker.on(
          'message',
          guarded((verdicts) => {
            slot.sent.shift().forEach(([id], j) => files.set(id, verdicts[j]))
            pump()
          }),
        )
      }
      for (const w of workers) {
        w.on('error', reject)
        w.on('exit', (code) => code !== 0 && reject(new Error(`A verify worker stopped with code ${code}`)))
      }
    })
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

/** The snapshots each bad file chunk breaks (each snapshot's first bad entry named). */
function attribute(store, records, bad, broken) {
  for (const record of records) {
    for (const e of store.tree(record, false)) {
      for (const c of e.chunks || []) {
        const b = bad.get(c)
        if (b === undefined) continue
        if (b.snapshots[b.snapshots.length - 1] !== record.id) b.snapshots.push(record.id)
        if (!(record.id in broken)) broken[record.id] = `${e.path}: chunk ${c} is bad`
      }
    }
  }
}

module.exports = { verifyStore }
