'use strict'
// The two halves of lib/js/store/verify.js, run on its thread for a small store or in worker
// threads (this file is also the workers' script): the walk of the snapshots' trees, which
// lists each file chunk once, and the checker, which reads and hashes chunks. A checker reads
// every chunk into one buffer of its own instead of allocating one per chunk, each batch in
// the order the chunks lie in their packs.

const { isMainThread, parentPort, workerData } = require('node:worker_threads')

const { codedError } = require('../errors')
const { MAX_FILE, MAX_TREE_CHUNKS, Store, checkChunkId, decode } = require('./format')
const list = require('./list')

/** Why a chunk is bad: "missing", or the damage found. */
const reasonOf = (err) => (err.code === 'ENOENT' ? 'missing' : err.message)

class ChunkChecker {
  constructor(store) {
    this.chunks = store.chunks
    this.buf = Buffer.allocUnsafe(MAX_FILE + 1)
  }

  /** `[plain bytes, null]` for a good chunk, `[0, why]` for a missing or damaged one. */
  verdict(id) {
    try {
      return [this.plain(id, true).length, null]
    } catch (err) {
      return [0, reasonOf(err)]
    }
  }

  /**
   * Chunk `id`'s plain bytes, checked against its id when `check` (throws when bad); a view
   * of this checker's buffer when the chunk is stored uncompressed, valid until the next call.
   */
  plain(id, check) {
    const n = this.chunks.readRawInto(checkChunkId(id), this.buf)
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
      return x.pack === y.pack ? x.offset - y.offset : x.pack < y.pack ? -1 : 1
    })
    const out = new Array(batch.length)
    for (const i of order) {
      const [id, place] = batch[i]
      try {
        const n = this.chunks.readAtInto(checkChunkId(id), place, this.buf)
        out[i] = [decode(id, this.buf.subarray(0, n), true).length, null]
      } catch (err) {
        out[i] = [0, reasonOf(err)]
      }
    }
    return out
  }
}

/**
 * Walk snapshots' records and trees: each tree chunk hashed the first time it is read (then
 * read unhashed), each file chunk handed to `onFile` the first time any tree lists it.
 */
class TreeWalker {
  constructor(store, onFile) {
    this.store = store
    this.onFile = onFile
    this.checker = new ChunkChecker(store)
    this.trees = new Map() // tree and list chunk id -> [bytes, why]
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
        try {
          data = Buffer.from(this.checker.plain(c, true))
          this.trees.set(c, [data.length, null])
        } catch (err) {
          this.trees.set(c, [0, reasonOf(err)])
        }
      }
      if (this.trees.get(c)[1] !== null) {
        walk.badTree.push(c)
        throw codedError('ECORRUPT', `a chunk of its tree (${c}) is bad`)
      }
      data ??= Buffer.from(this.checker.plain(c, false))
      if (role === 'tree' && text) {
        const newline = data.length > 0 && data[data.length - 1] === 10
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
        throw codedError(err.code || 'EIO', `The tree of snapshot ${id} cannot be read: ${err.message}`)
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
// order. "walk": posts { files } batches of new file chunks ([id, place]), { walk } per
// snapshot, then { trees }; with `checkHere`, it checks each batch itself and posts
// { checked } batches of [id, verdict] instead (no checker workers).
if (!isMainThread && workerData && workerData.verify) {
  const { role, storeDir, ids, checkHere } = workerData.verify
  if (role === 'check') {
    const checker = new ChunkChecker(Store.open(storeDir, false))
    parentPort.on('message', (batch) => parentPort.postMessage(checker.verdicts(batch)))
  } else {
    let files = []
    const store = Store.open(storeDir, false)
    const checker = checkHere ? new ChunkChecker(store) : null
    const post = () => {
      if (files.length === 0) return
      if (checker === null) parentPort.postMessage({ files })
      else {
        const verdicts = checker.verdicts(files)
        parentPort.postMessage({ checked: files.map(([id], i) => [id, verdicts[i]]) })
      }
      files = []
    }
    // each id with its place: the checkers read it there, holding no map of their own
    const walker = new TreeWalker(store, (c) => {
      files.push([c, store.chunks.locate(c)])
      if (files.length === BATCH) post()
    })
    for (const id of ids) {
      const { record, ...walk } = walker.walk(id)
      post()
      parentPort.postMessage({ walk: { ...walk, record: record && walk.broken === null ? record : null } })
    }
    parentPort.postMessage({ trees: [...walker.trees] })
  }
}

module.exports = { BATCH, ChunkChecker, TreeWalker }
