'use strict'
// The parts of lib/js/store/verify.js, run on its thread for a small store or in worker
// threads (this file is also the workers' script): the packs hashed whole (SHA-256 digests,
// those this backend writes; Node has no BLAKE3, so a native pack is checked chunk by chunk),
// the walk of the snapshots' trees, which lists each file chunk once, and the checker, which
// takes a chunk in a pack that matched as good and reads and hashes any other. A checker reads
// every chunk into one buffer of its own instead of allocating one per chunk, each batch in
// the order the chunks lie in their packs.
//
// A verdict is `[stored bytes, why or null, 1 when the chunk was read and hashed alone, else 0]`.

const { parentPort, workerData } = require('node:worker_threads')

const { codedError } = require('../errors')
const path = require('node:path')

const { MAX_FILE, MAX_TREE_CHUNKS, Store, checkChunkId, decode, compareText } = require('./format')
const list = require('./list')
const { digestFile } = require('./pack')

/** Why a chunk is bad: "missing", or the damage found. */
const reasonOf = (err) => (err.code === 'ENOENT' ? 'missing' : err.message)

/**
 * Hash every pack whose index records a digest this backend computes (SHA-256): `{ good, mismatched }`,
 * `good` a Map of the packs that match to their size, `mismatched` the names of those that do not. A
 * pack that cannot be read is left to the chunk-by-chunk check, which names what is wrong.
 */
function hashPacks(store) {
  const good = new Map()
  const mismatched = []
  const buf = Buffer.allocUnsafe(1024 * 1024)
  for (const p of store.chunks.current().packs) {
    if (p.digest === null) continue
    const got = digestFile(path.join(store.chunks.packsDir, `${p.name}.pack`), p.digest.hash, buf)
    if (got === null) continue
    if (got.digest.equals(p.digest.digest)) good.set(p.name, got.size)
    else mismatched.push(p.name)
  }
  return { good, mismatched: mismatched.sort() }
}

/** Chunk `loc`'s stored size when it lies (whole) in a pack of `good`, else null. */
function inGood(good, loc) {
  if (!loc) return null
  const size = good.get(loc.pack)
  return size !== undefined && loc.offset + loc.len <= size ? loc.len : null
}

class ChunkChecker {
  /** `good`: the packs that matched their digest (hashPacks), and their size. */
  constructor(store, good = new Map()) {
    this.chunks = store.chunks
    this.good = good
    this.buf = Buffer.allocUnsafe(MAX_FILE + 1)
    this.stored = 0
  }

  /** The verdict on chunk `id`, at `loc` (`Chunks#locate`'s answer) when given. */
  verdict(id, loc = this.chunks.locate(checkChunkId(id))) {
    const len = inGood(this.good, loc)
    if (len !== null) return [len, null, 0]
    try {
      // not in the map: looked up again (another process may have flushed packs since)
      const n = loc === undefined ? this.chunks.readRawInto(checkChunkId(id), this.buf) : this.chunks.readAtInto(checkChunkId(id), loc, this.buf)
      decode(id, this.buf.subarray(0, n), true)
      return [n, null, 1]
    } catch (err) {
      return [0, reasonOf(err), 1]
    }
  }

  /** Is chunk `id` in a pack that matched its digest? */
  inGoodPack(id) {
    return inGood(this.good, this.chunks.locate(id)) !== null
  }

  /**
   * Chunk `id`'s plain bytes, checked against its id when `check` (throws when bad); a view
   * of this checker's buffer when the chunk is stored uncompressed, valid until the next call.
   * `this.stored` is then its stored size.
   */
  plain(id, check) {
    const n = this.chunks.readRawInto(checkChunkId(id), this.buf)
    this.stored = n
    return decode(id, this.buf.subarray(0, n), check)
  }

  /**
   * The verdicts on a batch of `[id, place]` (place: `Chunks#locate`'s answer, from the walker),
   * in its order, the chunks read in the order they lie on disk.
   */
  verdicts(batch) {
    const order = batch.map((_, i) => i)
    const key = (i) => batch[i][1] || { pack: '~', offset: 0 }
    order.sort((a, b) => {
      const [x, y] = [key(a), key(b)]
      return compareText(x.pack, y.pack) || x.offset - y.offset
    })
    const out = new Array(batch.length)
    for (const i of order) out[i] = this.verdict(batch[i][0], batch[i][1])
    return out
  }
}

/**
 * Walk snapshots' records and trees: each tree chunk hashed the first time it is read (then
 * read unhashed), each file chunk handed to `onFile` the first time any tree lists it.
 */
class TreeWalker {
  constructor(store, onFile, good) {
    this.store = store
    this.onFile = onFile
    this.checker = new ChunkChecker(store, good)
    this.trees = new Map() // tree and list chunk id -> verdict
    this.seen = new Set()
    this.expanded = new Set() // "<id> <levels below>" of file list chunks expanded whole
    this.runs = new Set() // tree text runs a successful walk read whole
  }

  /**
   * Snapshot `id`: `{ id, record, broken, badTree }` (`broken`: why it cannot be restored). Tree
   * and list chunks (format version 2) are judged as the tree reader fetches them; a file list
   * chunk an earlier walk expanded whole is not read again (its data chunks are listed already).
   */
  walk(id) {
    const walk = { id, record: null, broken: null, badTree: [] }
    const expanded = []
    const runs = [] // text runs this walk reads whole (format 2 cuts trees between lines)
    let text = false
    let atLineStart = true
    const judge = (c, role, below) => {
      if (role === 'list') {
        if (this.expanded.has(`${c} ${below}`)) return null
        expanded.push(`${c} ${below}`)
      }
      // a run a successful walk read whole, again at the start of a line: its entries'
      // chunks are listed already, and the next run starts a line too
      if (role === 'tree' && text && atLineStart && this.runs.has(c)) return null
      let data = null
      if (!this.trees.has(checkChunkId(c))) {
        // hashed unless its pack matched its digest
        const hashed = this.checker.inGoodPack(c) ? 0 : 1
        try {
          data = Buffer.from(this.checker.plain(c, hashed === 1))
          this.trees.set(c, [this.checker.stored, null, hashed])
        } catch (err) {
          this.trees.set(c, [0, reasonOf(err), hashed])
        }
      }
      if (this.trees.get(c)[1] !== null) {
        walk.badTree.push(c)
        throw codedError('ECORRUPT', `a chunk of its tree (${c}) is bad`)
      }
      data ??= Buffer.from(this.checker.plain(c, false))
      if (role === 'tree' && text) {
        const newline = data[data.length - 1] === 10 // (none in an empty chunk)
        if (atLineStart && newline) runs.push(c)
        atLineStart = newline
      }
      return data
    }
    try {
      walk.record = this.store.record(id)
      // the tree's text chunks, its list chunks judged on the way, so that `judge` knows a
      // text chunk when the reader asks for one
      let chunks
      try {
        chunks = list.resolve(walk.record.tree.map(checkChunkId), walk.record.treeDepth || 0, MAX_TREE_CHUNKS, (c) => judge(c, 'tree'))
      } catch (err) {
        // the walk keeps the message alone (no code to carry)
        throw new Error(`The tree of snapshot ${id} cannot be read: ${err.message}`)
      }
      text = true
      for (const e of this.store.tree({ ...walk.record, tree: chunks, treeDepth: 0 }, judge)) {
        for (const c of e.chunks || []) {
          // only checked ids enter `seen`: one found there needs no second check
          if (!this.seen.has(c)) {
            this.seen.add(checkChunkId(c))
            this.onFile(c)
          }
        }
      }
      // the whole tree read: every list expanded on the way was expanded whole
      for (const key of expanded) this.expanded.add(key)
      for (const c of runs) this.runs.add(c)
    } catch (err) {
      walk.broken = err.message
    }
    return walk
  }
}

/** Ids a walker worker posts at a time. */
const BATCH = 256

// a worker of verify.js. "check": batches of [id, place] in, their verdicts out, in the same
// order. "walk": hashes the packs (unless `deep`) and posts { packs }, then { files } batches of
// new file chunks ([id, place]) not in a pack that matched, { walk } per snapshot, then { trees };
// with `checkHere`, it checks each batch itself and posts { checked } batches of [id, verdict]
// instead (no checker workers); chunks in packs that matched are posted { checked } either way.
if (workerData?.verify) {
  const { role, storeDir, ids, checkHere, deep } = workerData.verify
  if (role === 'check') {
    const checker = new ChunkChecker(Store.open(storeDir, false))
    parentPort.on('message', (batch) => parentPort.postMessage(checker.verdicts(batch)))
  } else {
    let files = []
    let checked = []
    const store = Store.open(storeDir, false)
    const packs = deep ? { good: new Map(), mismatched: [] } : hashPacks(store)
    parentPort.postMessage({ packs: { good: packs.good.size, mismatched: packs.mismatched } })
    const checker = new ChunkChecker(store, packs.good)
    const send = (kind, batch) => {
      if (batch.length > 0) parentPort.postMessage({ [kind]: batch })
    }
    const post = () => {
      if (checkHere) checker.verdicts(files).forEach((verdict, i) => checked.push([files[i][0], verdict]))
      else send('files', files)
      send('checked', checked)
      files = []
      checked = []
    }
    // each id with its place: the checkers read it there, holding no map of their own
    const walker = new TreeWalker(
      store,
      (c) => {
        const place = store.chunks.locate(c)
        if (inGood(packs.good, place) !== null) checked.push([c, checker.verdict(c, place)])
        else files.push([c, place])
        if (files.length + checked.length >= BATCH) post()
      },
      packs.good,
    )
    for (const id of ids) {
      const { record, ...walk } = walker.walk(id)
      post()
      parentPort.postMessage({ walk: { ...walk, record: walk.broken === null ? record : null } })
    }
    parentPort.postMessage({ trees: [...walker.trees] })
  }
}

module.exports = { BATCH, ChunkChecker, TreeWalker, hashPacks }
