'use strict'
// The twin of core/src/store/{mod,chunk,snapshot,tree}.rs: the on-disk format of the
// snapshot store (docs/store-format.md, version 4; versions 1-3 read as they are) — store.json,
// chunk ids (SHA-256) and encoding (a codec byte, then the bytes stored or as raw DEFLATE; where
// they are: ./pack.js), records,
// tree lines (long chunk lists in list chunks, ./list.js) — and the store's folders, reached
// through lib/js/contained.js (no symlink followed, 0600/0700).

const crypto = require('node:crypto')
const path = require('node:path')
const zlib = require('node:zlib')

const { codedError } = require('../errors')
const contained = require('../contained')
const { MIN, AVG, MAX, SMALL, SMALL_BELOW, DB_GROUP } = require('./chunker')
const list = require('./list')
const { Chunks } = require('./pack')

const FORMAT_VERSION = 4
const OLDEST_VERSION = 1
/** Most tree chunks a record may name (the bound a crafted record's list is resolved under). */
const MAX_TREE_CHUNKS = 2 ** 24
const CODEC_STORED = 0
const CODEC_DEFLATE = 1
const MAX_FILE = MAX + 1
const CONFIG = {
  format: 'session-resilience-store',
  version: FORMAT_VERSION,
  hash: 'sha256',
  chunker: {
    algorithm: 'fastcdc-ronomon',
    min: MIN,
    avg: AVG,
    max: MAX,
    small: { below: SMALL_BELOW, min: SMALL.min, avg: SMALL.avg, max: SMALL.max },
    sqliteGroup: DB_GROUP,
  },
  codecs: ['stored', 'deflate-raw'],
}

const chunkId = (data) => crypto.createHash('sha256').update(data).digest('hex')
const ID_RE = /^[0-9a-f]{64}$/

function checkChunkId(id) {
  if (typeof id !== 'string' || !ID_RE.test(id)) throw codedError('ECORRUPT', `Invalid chunk id ${JSON.stringify(id)} in the store`)
  return id
}

/** The file content for `data`: DEFLATE when it saves space, the plain bytes otherwise. */
function encode(data) {
  const deflated = zlib.deflateRawSync(data, { level: 1 })
  if (deflated.length < data.length) return Buffer.concat([Buffer.of(CODEC_DEFLATE), deflated])
  return Buffer.concat([Buffer.of(CODEC_STORED), data])
}

/**
 * The plain bytes of a chunk file, checked against its id (ECORRUPT otherwise) when `check`
 * is true; with `check` false, not hashed (a chunk this process checked already: a chunk file never changes).
 */
function decode(id, file, check) {
  const corrupt = (why) => codedError('ECORRUPT', `Chunk ${id} is damaged: ${why}`)
  if (file.length === 0) throw corrupt('empty file')
  let data
  if (file[0] === CODEC_STORED) data = file.subarray(1)
  else if (file[0] === CODEC_DEFLATE) {
    try {
      data = zlib.inflateRawSync(file.subarray(1), { maxOutputLength: MAX + 1 })
    } catch (err) {
      throw corrupt(err.message)
    }
  } else throw corrupt(`unknown codec ${file[0]}`)
  if (data.length > MAX || (check && chunkId(data) !== id)) throw corrupt('its content does not match its id')
  return data
}

/** A snapshot id is a plain file name: 1 to 128 of [A-Za-z0-9._-], not starting with '.'. */
function checkSnapshotId(id) {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(id)) {
    throw codedError('EBADLABEL', `Invalid snapshot id ${JSON.stringify(id)}: use 1 to 128 characters of A-Z, a-z, 0-9, _, - and .`)
  }
  return id
}

/** A path from a tree is used only when every component is a plain name. */
function checkTreePath(p) {
  const bad =
    typeof p !== 'string' || p === '' || p.includes('\0') || p.includes('\\') || p.split('/').some((c) => c === '' || c === '.' || c === '..')
  if (bad) throw codedError('EPATHESCAPE', `Refusing path ${JSON.stringify(p)} from a snapshot: only plain relative names stay inside`)
  return p
}

/** One tree line, fields in the format's order (equal trees are equal bytes). */
function entryLine(e) {
  const out = { path: e.path, type: e.type, mode: e.mode, size: e.size, mtime: e.mtime, ctime: e.ctime, ino: e.ino }
  if (typeof e.target === 'string') out.target = e.target // a symlink's
  if (e.chunks && e.chunks.length > 0) out.chunks = e.chunks
  if (e.depth) out.depth = e.depth // a list's levels (none: absent or 0)
  if (Array.isArray(e.sqlite)) out.sqlite = e.sqlite
  return `${JSON.stringify(out)}\n`
}

const TREE_MIN_LINES = 2
const TREE_RUN_BYTES = 64 * 1024

/**
 * The chunks of a tree (version 2, core/src/store/tree.rs `runs`): its lines in runs that end
 * after a line whose path's SHA-256 has a first byte with its low two bits clear, once the run
 * has TREE_MIN_LINES lines, or once it reaches TREE_RUN_BYTES; a longer run is cut every MAX
 * bytes. `lines`: [path, line] pairs, sorted, each line ending in a newline.
 */
function treeRuns(lines) {
  const out = []
  let run = []
  let bytes = 0
  const close = () => {
    const all = Buffer.concat(run)
    for (let at = 0; at < all.length; at += MAX) out.push(all.subarray(at, at + MAX))
    run = []
    bytes = 0
  }
  for (const [p, line] of lines) {
    const b = Buffer.from(line)
    run.push(b)
    bytes += b.length
    const ends = (crypto.createHash('sha256').update(p).digest()[0] & 0x03) === 0
    if ((run.length >= TREE_MIN_LINES && ends) || bytes >= TREE_RUN_BYTES) close()
  }
  close()
  return out
}

/** `[seconds, nanoseconds]` of a bigint nanosecond time. */
/** A sort comparator of two texts (ids, times, paths): -1, 1, or 0 when they are the same. */
const compareText = (a, b) => (a < b ? -1 : a > b ? 1 : 0)

const timePair = (ns) => [Number(ns / 1000000000n), Number(ns % 1000000000n)]

/** An open store: its folder, and the chunk / snapshot folders below it. */
class Store {
  constructor(dir) {
    this.dir = dir
    this.chunks = new Chunks(dir)
    this.snapshotsDir = path.join(dir, 'snapshots')
  }

  /**
   * Open `dir` (its last component must not be a link). With `create` (to write a snapshot):
   * created when missing, and a version 1 store's store.json turned to this version (its
   * records stay readable as they are).
   */
  static open(dir, create) {
    const parent = path.dirname(dir)
    const name = path.basename(dir)
    const st = contained.containedStat(parent, name)
    if (st === null && !create) throw codedError('ENOENT', `No snapshot store at ${dir}`)
    if (st !== null && st.type === 'symlink') throw codedError('EPATHESCAPE', `Refusing path ${dir}: it goes through a symbolic link`)
    if (st !== null && st.type !== 'directory') throw codedError('ENOTDIR', `${dir} is not a store folder`)
    if (create) contained.containedMkdir(parent, name, true)
    const store = new Store(dir)
    let text = null
    try {
      text = contained.containedRead(dir, 'store.json', 64 * 1024)
    } catch (err) {
      if (err.code !== 'ENOENT' || !create) throw err
    }
    const version = text === null ? 0 : checkConfig(dir, text)
    // before any chunk or record of the new version: an old reader then refuses the store
    if (create && version < FORMAT_VERSION) contained.containedWrite(dir, 'store.json', `${JSON.stringify(CONFIG, null, 2)}\n`)
    if (create) {
      contained.containedMkdir(dir, 'packs', true)
      contained.containedMkdir(dir, 'snapshots', true)
    }
    return store
  }

  has(id) {
    return this.chunks.has(id)
  }

  /** Append an encoded chunk to the open pack (made durable and present by `flush`). */
  put(id, file) {
    this.chunks.put(id, file)
  }

  getRaw(id) {
    return this.chunks.getRaw(checkChunkId(id))
  }

  get(id, check = true) {
    return decode(id, this.getRaw(id), check)
  }

  /** Every chunk id present. */
  listChunks() {
    return this.chunks.list()
  }

  chunkSize(id) {
    return this.chunks.size(checkChunkId(id))
  }

  /** Make every chunk put so far durable and present (./pack.js `flush`): before any record names them. */
  flush() {
    this.chunks.flush()
  }

  /** Drop a pack left open by a failed write (its temp file goes). */
  abandon() {
    this.chunks.abandon()
  }

  record(id) {
    checkSnapshotId(id)
    let text
    try {
      text = contained.containedRead(this.snapshotsDir, `${id}.json`, 1024 * 1024)
    } catch (err) {
      if (err.code === 'ENOENT') throw codedError('ENOENT', `No snapshot ${id} in the store`)
      throw err
    }
    let r
    try {
      r = JSON.parse(text)
    } catch (err) {
      throw codedError('ECORRUPT', `The record of snapshot ${id} is damaged: ${err.message}`)
    }
    const known = r && Number.isInteger(r.version) && r.version >= OLDEST_VERSION && r.version <= FORMAT_VERSION
    // a version 1 record has no lists: a depth there is damage, not something to follow
    if (!known || r.id !== id || !Array.isArray(r.tree) || (r.version === 1 && r.treeDepth > 0)) {
      throw codedError('ECORRUPT', `The record of snapshot ${id} is not a version ${OLDEST_VERSION} to ${FORMAT_VERSION} record of that id`)
    }
    return r
  }

  /** Snapshot ids with a record file, sorted. */
  ids() {
    let list = []
    try {
      list = contained.containedList(this.snapshotsDir, '')
    } catch (err) {
      if (err.code !== 'ENOENT') throw err
    }
    return list
      .filter((e) => e.type === 'file' && e.name.endsWith('.json'))
      .map((e) => e.name.slice(0, -5))
      .filter((id) => /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(id))
      .sort()
  }

  /** Readable records, oldest first (time, then id). */
  records() {
    const out = []
    for (const id of this.ids()) {
      try {
        out.push(this.record(id))
      } catch {
        // damaged: reported by verify
      }
    }
    return out.sort((a, b) => compareText(a.time, b.time) || compareText(a.id, b.id))
  }

  writeRecord(r) {
    checkSnapshotId(r.id)
    if (contained.containedStat(this.snapshotsDir, `${r.id}.json`) !== null) throw codedError('EEXIST', `Snapshot ${r.id} already exists`)
    contained.containedWrite(this.snapshotsDir, `${r.id}.json`, `${JSON.stringify(r, null, 2)}\n`)
  }

  removeRecord(id) {
    return contained.containedRemove(this.snapshotsDir, `${checkSnapshotId(id)}.json`)
  }

  /**
   * The entries of a record's tree, one chunk in memory at a time, each file's list resolved to
   * its data chunks. Every tree and list chunk is read by `fetch(id, role, below)` (default:
   * read and hashed; role 'tree' or 'list', `below` the list levels under a 'list' chunk; null
   * for a 'list' chunk: left out), so verify and gc see every chunk a snapshot references
   * (core/src/store/tree.rs `Fetch`). A boolean instead of `fetch`: read and hashed, or (false)
   * only decoded, for chunks checked before (see `decode`).
   */
  *tree(record, fetch = true) {
    if (typeof fetch === 'boolean') {
      const check = fetch
      fetch = (id) => this.get(id, check)
    }
    const cannot = (err, what) => codedError(err.code || 'EIO', `The tree of snapshot ${record.id}${what}: ${err.message}`)
    let ids
    try {
      ids = list.resolve(record.tree.map(checkChunkId), record.treeDepth || 0, MAX_TREE_CHUNKS, (id) => fetch(id, 'tree'))
    } catch (err) {
      throw cannot(err, ' cannot be read')
    }
    let rest = ''
    const parse = (line) => {
      let e
      try {
        e = JSON.parse(line)
      } catch (err) {
        throw codedError('ECORRUPT', `The tree of snapshot ${record.id} is damaged: ${err.message}`)
      }
      // a line that is no entry (the core's serde refuses it) is damage; a path, an escape
      if (e === null || typeof e !== 'object' || typeof e.path !== 'string') {
        throw codedError('ECORRUPT', `The tree of snapshot ${record.id} is damaged: a line without a path`)
      }
      checkTreePath(e.path)
      if (e.depth !== undefined && e.depth !== 0) {
        try {
          e.chunks = list.resolve((e.chunks || []).map(checkChunkId), e.depth, e.size, (id, below) => fetch(id, 'list', below))
        } catch (err) {
          throw cannot(err, `: the chunk list of ${e.path} cannot be read`)
        }
        delete e.depth
      }
      return e
    }
    // a tree is JSON lines, UTF-8 whichever backend wrote it: other bytes are damage
    const decoder = new TextDecoder('utf-8', { fatal: true })
    const text = (data, stream) => {
      try {
        return decoder.decode(data, { stream })
      } catch {
        throw codedError('ECORRUPT', `The tree of snapshot ${record.id} is damaged: a line is not UTF-8`)
      }
    }
    for (const id of ids) {
      let data
      try {
        data = fetch(id, 'tree') || Buffer.alloc(0)
      } catch (err) {
        throw cannot(err, ' cannot be read')
      }
      const lines = (rest + text(data, true)).split('\n')
      rest = lines.pop()
      for (const line of lines) yield parse(line)
    }
    rest += text(undefined, false)
    if (rest !== '') yield parse(rest)
  }

  /**
   * Every chunk snapshot `record` references, each handed to `each` (a chunk may come more than
   * once): the top of its tree's list, its tree's and lists' chunks (read and hashed on the way)
   * and its files' chunks; when the tree cannot be read whole, what was reached (the failing
   * chunk included) is still handed over before the error. The one enumeration gc and the log
   * rely on (core/src/store/mod.rs `references`).
   */
  references(record, each) {
    for (const c of record.tree) each(c)
    const structure = []
    const fetch = (id) => {
      structure.push(id)
      return this.get(id)
    }
    try {
      for (const e of this.tree(record, fetch)) for (const c of e.chunks || []) each(c)
    } finally {
      for (const c of structure) each(c)
    }
  }
}

function checkConfig(dir, text) {
  let c
  try {
    c = JSON.parse(text)
  } catch (err) {
    throw codedError('ECORRUPT', `${dir} is not a snapshot store: ${err.message}`)
  }
  const known = c && Number.isInteger(c.version) && c.version >= OLDEST_VERSION && c.version <= FORMAT_VERSION
  if (!known || c.format !== CONFIG.format || c.hash !== CONFIG.hash) {
    throw codedError('ECORRUPT', `${dir} is a ${c && c.format} store version ${c && c.version} (${c && c.hash}); this code reads versions ${OLDEST_VERSION} to ${FORMAT_VERSION}`)
  }
  return c.version
}

module.exports = {
  MAX_TREE_CHUNKS,
  FORMAT_VERSION,
  treeRuns,
  MAX_FILE,
  Store,
  chunkId,
  checkChunkId,
  encode,
  decode,
  checkSnapshotId,
  checkTreePath,
  entryLine,
  timePair,
  compareText,
}
