'use strict'
// The twin of core/src/store/write.rs: take a snapshot. The tree is walked with lstat (no
// link followed; FIFOs, sockets, devices never opened), files opened O_NOFOLLOW through
// lib/js/contained.js; a file whose size, mtime, ctime and inode equal its entry in the
// parent snapshot is not read again. Chunks the store lacks are compressed and appended to
// packs, made durable and indexed in one go (./pack.js), and the record is written last.

const fs = require('node:fs')
const path = require('node:path')

const { codedError } = require('../errors')
const contained = require('../contained')
const { chunkFd, sqliteGroup } = require('./chunker')
const { backupCopyDatabase } = require('../backup/sqlite')
const { meter } = require('../backup/common')
const { newScratch } = require('../scratch')
const { Store, FORMAT_VERSION, chunkId, encode, checkSnapshotId, entryLine, timePair, treeRuns } = require('./format')
const list = require('./list')

const SIDE_FILES = ['-journal', '-wal', '-shm']
const YIELD_BYTES = 2 * 1024 * 1024

const isExcluded = (name, patterns) => patterns.some((p) => (p.startsWith('*') ? name.endsWith(p.slice(1)) : name === p))

/** A tree entry for `rel` as the snapshot records it, from its `lstat` (bigint); no chunks yet. */
function entryOf(rel, type, st) {
  return {
    path: rel,
    type,
    mode: Number(st.mode & 0o7777n),
    size: 0,
    mtime: timePair(st.mtimeNs),
    ctime: timePair(st.ctimeNs),
    ino: String(process.platform === 'win32' ? 0n : st.ino),
  }
}

/** Is `p` the journal, WAL or shared-memory file of one of `databases` (they go with it)? */
const isSideFile = (p, databases) => databases.some((db) => SIDE_FILES.some((side) => p === db + side))

/** Entries of a tree as a Map path -> entry (files only). */
function parentFiles(store, record) {
  const map = new Map()
  if (record) for (const e of store.tree(record)) if (e.type === 'file') map.set(e.path, e)
  return map
}

class Walker {
  constructor(store, spec, parent, cancel, meter) {
    Object.assign(this, { store, spec, parent, cancel, meter })
    this.seen = new Set()
    this.entries = []
    this.skipped = []
    this.filesRead = 0
    this.filesReused = 0
    this.newChunks = 0
    this.newBytes = 0
    this.steps = 0
    this.unyielded = 0 // bytes read since the event loop last ran
  }

  /** Store one chunk (if new); its id. */
  chunk(data) {
    const id = chunkId(data)
    if (!this.seen.has(id)) {
      this.seen.add(id)
      if (!this.store.has(id)) {
        const file = encode(data)
        this.store.put(id, file)
        this.newChunks += 1
        this.newBytes += file.length
      }
    }
    return id
  }

  storeFd(fd) {
    const ids = []
    const size = chunkFd(fd, (data) => ids.push(this.chunk(data)))
    return { ids, size }
  }

  /** Store a list of ids (./list.js): `{ top, depth }`. */
  storeList(ids) {
    return list.encode(ids, (bytes) => this.chunk(bytes))
  }

  /** The sorted tree stored (version 2: runs of lines, long lists in list chunks): `{ top, depth }` of its chunk list. */
  storeTree() {
    this.entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
    const lines = this.entries.map((e) => {
      if (!e.chunks || e.chunks.length <= list.INLINE) return [e.path, entryLine(e)]
      const { top, depth } = this.storeList(e.chunks)
      return [e.path, entryLine({ ...e, chunks: top, depth })]
    })
    return this.storeList(treeRuns(lines).map((run) => this.chunk(run)))
  }

  /** Async only to let the event loop run now and then: a SIGINT cancels within a few files. */
  async walk(dirFull, rel) {
    if (rel === '') this.root = dirFull // live databases are read below it, no link followed (backupCopyDatabase)
    const names = fs.readdirSync(dirFull).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    for (const name of names) {
      // every 20 entries or 2 MiB read (chunking is synchronous: 1 MB files at a time would
      // keep a SIGINT waiting for seconds on a loaded machine)
      if (++this.steps % 20 === 0 || this.unyielded >= YIELD_BYTES) {
        this.unyielded = 0
        await new Promise((resolve) => setImmediate(resolve))
      }
      this.cancel.check('Snapshot')
      if (isExcluded(name, this.spec.excludes)) continue
      const p = rel === '' ? name : `${rel}/${name}`
      const full = path.join(dirFull, name)
      let st
      try {
        st = fs.lstatSync(full, { bigint: true })
      } catch (err) {
        if (err.code === 'ENOENT') continue
        throw err
      }
      if (st.isFile() && this.isSideFile(p)) continue
      if (st.isDirectory()) {
        this.entries.push(entryOf(p, 'dir', st))
        await this.walk(full, p)
      } else if (st.isSymbolicLink()) {
        const e = entryOf(p, 'symlink', st)
        e.target = fs.readlinkSync(full)
        this.entries.push(e)
      } else if (st.isFile()) await this.file(full, p, st)
      else this.skipped.push(p)
    }
  }

  isSideFile(p) {
    return isSideFile(p, [...this.spec.substitutes.map((s) => s.path), ...this.spec.databases])
  }

  async file(full, p, st) {
    const e = entryOf(p, 'file', st)
    const sub = this.spec.substitutes.find((s) => s.path === p)
    const db = !sub && this.spec.databases.includes(p) ? dbState(full, st) : null
    const prev = this.parent.get(p)
    if (db) e.sqlite = db.key
    const reusable = db ? prev && db.reusable(prev, e, st) : !sub && prev && unchanged(prev, e, st)
    if (reusable) {
      e.chunks = prev.chunks || []
      e.size = prev.size
      this.filesReused += 1
    } else if (db) {
      // SQLite opens files by name and resolves links itself: its copy is made in a private
      // folder of the temp dir, never in the project or the store (named for its owner: one
      // a killed process left is swept, lib/js/scratch.js)
      const scratch = newScratch()
      try {
        const copy = path.join(scratch, 'copy.sqlite')
        await backupCopyDatabase(full, copy, this.root)
        this.read(e, copy)
      } finally {
        fs.rmSync(scratch, { recursive: true, force: true })
      }
    } else this.read(e, sub ? sub.source : full)
    this.meter(e.size)
    if (!reusable) this.unyielded += e.size
    this.entries.push(e)
  }

  /** Store the content of file `source` as entry `e`'s. */
  read(e, source) {
    const fd = contained.openRegular(source, fs.constants.O_RDONLY)
    try {
      const { ids, size } = this.storeFd(fd)
      e.chunks = ids
      e.size = size
    } finally {
      fs.closeSync(fd)
    }
    this.filesRead += 1
  }
}

/**
 * What SQLite's files say about the live database `full` (`st`: its lstat), as
 * core/src/store/database.rs (which says why): `{ key, reusable(prev, e, st) }`, or null when
 * it is not a SQLite database. `key` = [change counter, page count, file size].
 */
function dbState(full, st) {
  const head = Buffer.alloc(100)
  const fd = contained.openRegular(full, fs.constants.O_RDONLY)
  let n
  try {
    n = fs.readSync(fd, head, 0, 100, 0)
  } finally {
    fs.closeSync(fd)
  }
  if (n < 100 || sqliteGroup(head) === null) return null
  const wal = head[18] === 2
  let sideBusy = false
  try {
    const side = fs.lstatSync(full + (wal ? '-wal' : '-journal'))
    sideBusy = !side.isFile() || side.size > 0
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
  }
  const key = [head.readUInt32BE(24), head.readUInt32BE(28), Number(st.size)]
  const reusable = (prev, e, stNow) =>
    !sideBusy && Array.isArray(prev.sqlite) && prev.sqlite.length === 3 && prev.sqlite.every((v, i) => v === key[i]) && (!wal || unchanged(prev, e, stNow))
  return { key, reusable }
}

const same = (a, b) => a[0] === b[0] && a[1] === b[1]

function unchanged(prev, e, st) {
  return prev.size === Number(st.size) && same(prev.mtime, e.mtime) && same(prev.ctime, e.ctime) && prev.ino === e.ino
}

/**
 * Take snapshot `id` of `root` into the store folder `storeDir`. `spec`: label, excludes,
 * substitutes ([{ path, source }]), databases (live SQLite databases' paths: copied only when
 * SQLite says they changed), parent (default: the newest snapshot).
 */
async function createSnapshot(root, storeDir, id, spec, cancel, onProgress) {
  checkSnapshotId(id)
  contained.containedList(root, '') // the root: a real folder, not a link
  const store = Store.open(storeDir, true)
  if (store.ids().includes(id)) throw codedError('EEXIST', `Snapshot ${id} already exists`)
  const parent = spec.parent ? store.record(spec.parent) : store.records().pop() || null
  // every 200 files or 32 MiB, and once at the end (the core's Meter)
  const progress = meter('snapshot', onProgress)
  const w = new Walker(store, spec, parentFiles(store, parent), cancel, (size) => progress.add(size))
  let tree
  try {
    await w.walk(root, '')
    tree = w.storeTree()
    cancel.check('Snapshot')
    store.flush()
  } finally {
    // a failed or cancelled snapshot leaves no open pack behind (a flushed one is closed)
    store.abandon()
  }
  const count = (t) => w.entries.filter((e) => e.type === t).length
  const record = {
    version: FORMAT_VERSION,
    id,
    time: new Date().toISOString(),
    label: spec.label || '',
    parent: parent ? parent.id : null,
    tree: tree.top,
    ...(tree.depth > 0 ? { treeDepth: tree.depth } : {}),
    files: count('file'),
    dirs: count('dir'),
    symlinks: count('symlink'),
    bytes: w.entries.reduce((n, e) => n + e.size, 0),
    newChunks: w.newChunks,
    newBytes: w.newBytes,
  }
  store.writeRecord(record)
  progress.finish()
  return { record, filesRead: w.filesRead, filesReused: w.filesReused, skipped: w.skipped }
}

module.exports = { createSnapshot, isExcluded, entryOf, isSideFile }
