'use strict'
// The twin of core/src/store/{pack,chunks}.rs: pack files (format versions 3-4) and the chunks
// of a store. A pack is encoded chunks (codec byte + payload each) concatenated, written through
// a temp file and renamed to packs/<name>.pack once full; its index packs/<name>.idx (magic
// "SRIDX\0\0\x04", a u32 BE count, 16 bytes unique to the pack, per entry the 32-byte id and
// u32 BE offset and length, the digest of the whole pack file (an algorithm byte: 1 SHA-256,
// what this backend writes since Node has no BLAKE3, 2 BLAKE3, the native one's; and 32 bytes),
// then the SHA-256 of all that, whose hex is <name>: no two packs share a name) is written only
// once the pack is durable. A version 3 index (magic "...\x03") has no pack digest.
// Which chunks are present: an in-memory map loaded from the indexes and the loose files
// (chunks/<hh>/<id>, format versions 1-2: read and collected, never written), plus the chunks
// put and not flushed yet. Reads open the pack (no follow), pread, close.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const { codedError, osError } = require('../errors')
const contained = require('../contained')
const { tempName } = require('../temps')
const { MAX } = require('./chunker')

const MAX_FILE = MAX + 1
/** A pack is sealed once it holds this many bytes (restic's default pack size). */
const TARGET = 16 * 1024 * 1024
const MAGIC = Buffer.from('SRIDX\0\0\x04', 'latin1')
const MAGIC_V3 = Buffer.from('SRIDX\0\0\x03', 'latin1')
const HEAD = 28
/** The pack digest's field: the algorithm byte and 32 bytes. */
const PACK_DIGEST = 33
/** Pack digest algorithms (the index's byte). */
const PACK_SHA256 = 1
const PACK_BLAKE3 = 2
const ENTRY = 40
const DIGEST = 32
const MAX_INDEX = 64 * 1024 * 1024
const ID_RE = /^[0-9a-f]{64}$/
const C = fs.constants
const NOFOLLOW = C.O_NOFOLLOW || 0

let packCounter = 0

/**
 * `{ name, bytes }`: the index of `entries` ([{ id, offset, len }]) of a pack whose file hashes to
 * `digest` (`{ hash, digest }`: an algorithm byte and a Buffer of 32), and the pack's name. Without
 * `digest`, a version 3 index (tests forge those).
 */
function encodeIndex(entries, digest = null) {
  const tail = digest === null ? 0 : PACK_DIGEST
  const out = Buffer.alloc(HEAD + entries.length * ENTRY + tail + DIGEST)
  ;(digest === null ? MAGIC_V3 : MAGIC).copy(out, 0)
  out.writeUInt32BE(entries.length, 8)
  crypto.randomBytes(16).copy(out, 12)
  let at = HEAD
  for (const e of entries) {
    out.write(e.id, at, 'hex')
    out.writeUInt32BE(e.offset, at + 32)
    out.writeUInt32BE(e.len, at + 36)
    at += ENTRY
  }
  if (digest !== null) {
    out[at] = digest.hash
    digest.digest.copy(out, at + 1)
    at += PACK_DIGEST
  }
  const self = crypto.createHash('sha256').update(out.subarray(0, at)).digest()
  self.copy(out, at)
  return { name: self.toString('hex'), bytes: out }
}

/** The entries of index `name`; ECORRUPT unless it hashes to its name with entries a pack can hold. */
function parseIndex(name, bytes) {
  return readIndex(name, bytes).entries
}

/** `{ entries, digest }` of index `name` (`digest`: `{ hash, digest }`, null in a version 3 index). */
function readIndex(name, bytes) {
  const bad = (why) => codedError('ECORRUPT', `The index of pack ${name} is damaged: ${why}`)
  const magic = bytes.subarray(0, 8)
  const tail = magic.equals(MAGIC) ? PACK_DIGEST : magic.equals(MAGIC_V3) ? 0 : -1
  if (tail < 0 || bytes.length < HEAD + tail + DIGEST) throw bad('not a version 3 or 4 pack index')
  const body = bytes.subarray(0, bytes.length - DIGEST)
  const self = crypto.createHash('sha256').update(body).digest()
  if (self.toString('hex') !== name || !self.equals(bytes.subarray(body.length))) throw bad('its content does not match its name')
  const count = body.readUInt32BE(8)
  if (body.length !== HEAD + count * ENTRY + tail) throw bad('its length does not match its number of entries')
  const end = HEAD + count * ENTRY
  const digest = tail === 0 ? null : { hash: body[end], digest: Buffer.from(body.subarray(end + 1, end + PACK_DIGEST)) }
  const out = new Array(count)
  for (let i = 0, at = HEAD; i < count; i++, at += ENTRY) {
    const len = body.readUInt32BE(at + 36)
    if (len === 0 || len > MAX_FILE) throw bad(`an entry of ${len} bytes`)
    out[i] = { id: body.toString('hex', at, at + 32), offset: body.readUInt32BE(at + 32), len }
  }
  return { entries: out, digest }
}

/** Bytes read at a time when a pack file is hashed whole. */
const READ = 1024 * 1024

/**
 * `{ digest, size }` of the whole file `full` by algorithm `hash` (opened without following a
 * link), or null when this backend cannot compute it (BLAKE3: Node has none) or cannot read it.
 */
function digestFile(full, hash, buf = Buffer.allocUnsafe(READ)) {
  if (hash !== PACK_SHA256) return null
  let fd
  try {
    fd = contained.openRegular(full, C.O_RDONLY)
  } catch {
    return null
  }
  try {
    const h = crypto.createHash('sha256')
    let size = 0
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; size += n) h.update(buf.subarray(0, n))
    return { digest: h.digest(), size }
  } catch {
    return null
  } finally {
    fs.closeSync(fd)
  }
}

/** `<stem>` when `name` is `<64 hex digits><suffix>`, else null. */
function stem(name, suffix) {
  if (!name.endsWith(suffix)) return null
  const s = name.slice(0, -suffix.length)
  return ID_RE.test(s) ? s : null
}

const missing = (id) => codedError('ENOENT', `Chunk ${id} is not in the store`)

/** `n` bytes at `offset` of the open `fd` into `buf` (ECORRUPT when the file is shorter). */
function readAt(fd, buf, n, offset, what) {
  let got = 0
  while (got < n) {
    const r = fs.readSync(fd, buf, got, n - got, offset + got)
    if (r === 0) throw codedError('ECORRUPT', what())
    got += r
  }
}

/** The chunks of the store folder `dir`: in packs/ (version 3) and chunks/ (versions 1-2). */
class Chunks {
  constructor(dir) {
    this.dir = dir
    this.looseDir = path.join(dir, 'chunks')
    this.packsDir = path.join(dir, 'packs')
    this.index = null
    this.open = null // { temp, fd, size, entries }
    this.sealed = [] // { name, fd, entries, bytes }
    this.pending = new Map() // id -> { pack, offset, len }; pack: the building pack
  }

  /**
   * What the store holds now, read from disk: `{ packs: [{ name, entries }], map, loose: [ids],
   * damaged: [[name, why]] }`; `locOf(index, id)` says where a chunk is.
   */
  load() {
    const index = newIndex(this.stamp())
    for (const e of listOrEmpty(this.dir, 'packs')) {
      const name = stem(e.name, '.idx')
      if (name === null || e.type !== 'file') continue
      let read
      try {
        read = readIndex(name, contained.containedRead(this.dir, `packs/${e.name}`, MAX_INDEX))
      } catch (err) {
        if (err.code !== 'ENOENT') index.damaged.push([name, err.message])
        continue
      }
      addPack(index, name, read.entries, read.digest)
    }
    for (const fan of listOrEmpty(this.dir, 'chunks')) {
      if (fan.type !== 'directory') continue
      for (const e of contained.containedList(this.looseDir, fan.name)) {
        if (e.type !== 'file' || !ID_RE.test(e.name)) continue
        if (!index.map.has(e.name)) index.map.set(e.name, LOOSE)
        index.loose.push(e.name)
      }
    }
    return index
  }

  /** packs/'s modification time (not followed; only compared), or null when it is not there. */
  stamp() {
    const st = fs.lstatSync(this.packsDir, { throwIfNoEntry: false, bigint: true })
    return st ? st.mtimeNs : null
  }

  /** `locate`, the indexes read again first when packs/ changed since (another process flushed packs). */
  locateFresh(id) {
    const found = this.locate(id)
    if (found !== undefined || this.stamp() === this.current().stamp) return found
    this.index = null
    return this.locate(id)
  }

  current() {
    if (this.index === null) this.index = this.load()
    return this.index
  }

  /** Where chunk `id` is: null loose, `{ pack, offset, len }`, undefined when absent or unflushed. */
  locate(id) {
    return locOf(this.current(), id)
  }

  has(id) {
    return this.locate(id) !== undefined || this.pending.has(id)
  }

  /** Append an encoded chunk to the open pack; durable and visible after `flush`. */
  put(id, file) {
    if (this.pending.has(id)) return
    if (this.open === null) this.open = newPack(this.packsDir)
    const open = this.open
    const offset = open.size
    try {
      let off = 0
      while (off < file.length) off += fs.writeSync(open.fd, file, off, file.length - off, offset + off)
    } catch (err) {
      // the pack may hold part of this chunk: it is dropped, with its chunks
      this.abandon()
      throw osError(`Cannot write ${open.temp}`, err)
    }
    open.hash.update(file)
    open.size += file.length
    open.entries.push({ id, offset, len: file.length })
    this.pending.set(id, { pack: open, offset, len: file.length })
    if (open.size >= TARGET) this.seal()
  }

  /** Name the open pack by its index and rename it into place (indexed by `flush`). */
  seal() {
    const open = this.open
    if (open === null) return
    this.open = null
    if (open.entries.length === 0) {
      fs.closeSync(open.fd)
      fs.rmSync(open.temp, { force: true })
      return
    }
    const digest = { hash: PACK_SHA256, digest: open.hash.digest() }
    const { name, bytes } = encodeIndex(open.entries, digest)
    const full = path.join(this.packsDir, `${name}.pack`)
    try {
      fs.renameSync(open.temp, full)
    } catch (err) {
      fs.closeSync(open.fd)
      throw osError(`Cannot rename ${open.temp}`, err)
    }
    open.temp = full
    this.sealed.push({ name, pack: open, bytes, digest })
  }

  /**
   * Make every chunk put so far durable and present: the packs' bytes (`sync -f`, or an fsync
   * each), then each index (temp, fsync, rename), then the folder. Only then may a record name them.
   */
  flush() {
    this.seal()
    const sealed = this.sealed
    this.sealed = []
    if (sealed.length === 0) return
    try {
      let synced = false
      if (process.platform === 'linux') {
        try {
          execFileSync('sync', ['-f', this.packsDir], { stdio: 'ignore' })
          synced = true
        } catch {
          // no coreutils `sync -f`: one fsync per pack below
        }
      }
      if (!synced) for (const s of sealed) fs.fsyncSync(s.pack.fd)
    } finally {
      for (const s of sealed) fs.closeSync(s.pack.fd)
    }
    for (const s of sealed) contained.containedWrite(this.dir, `packs/${s.name}.idx`, s.bytes)
    syncFolder(this.packsDir)
    for (const s of sealed) {
      if (this.index !== null) addPack(this.index, s.name, s.pack.entries, s.digest)
      for (const e of s.pack.entries) this.pending.delete(e.id)
    }
  }

  /** Drop the open pack (an error, a cancel): its temp file goes, sealed ones wait for gc. */
  abandon() {
    const open = this.open
    this.open = null
    if (open === null) return
    for (const e of open.entries) this.pending.delete(e.id)
    try {
      fs.closeSync(open.fd)
    } finally {
      fs.rmSync(open.temp, { force: true })
    }
  }

  /** The encoded bytes of chunk `id` into `buf` (a Buffer of MAX_FILE + 1 bytes): their length. */
  readRawInto(id, buf) {
    const loc = this.pending.has(id) ? undefined : this.locateFresh(id)
    if (loc === null) {
      const full = path.join(this.looseDir, id.slice(0, 2), id)
      const st = contained.containedStat(this.looseDir, `${id.slice(0, 2)}/${id}`)
      if (st === null) throw missing(id)
      const fd = contained.openRegular(full, C.O_RDONLY)
      let n = 0
      try {
        for (let got = -1; got !== 0 && n < buf.length; n += got) got = fs.readSync(fd, buf, n, buf.length - n, null)
      } catch (err) {
        throw osError(`Cannot read ${full}`, err)
      } finally {
        fs.closeSync(fd)
      }
      if (n > MAX_FILE) throw codedError('EFBIG', `Refusing ${full}: larger than ${MAX_FILE} bytes`)
      return n
    }
    if (loc === undefined) {
      const p = this.pending.get(id)
      if (p === undefined) throw missing(id)
      const fd = p.pack.fd
      readAt(fd, buf, p.len, p.offset, () => `Chunk ${id} is damaged: its pack is short`)
      return p.len
    }
    try {
      return this.readPacked(id, loc, buf)
    } catch (err) {
      if (err.code !== 'ENOENT') throw err
      // the pack went (a collection repacked its chunks): look again, once
      this.index = null
      const again = this.locate(id)
      if (again === undefined) throw missing(id)
      if (again === null) return this.readRawInto(id, buf)
      return this.readPacked(id, again, buf)
    }
  }

  /**
   * `readRawInto` with the chunk's place given (`locate`'s answer, made by another thread that
   * holds the map: a verify checker then needs none of its own).
   */
  readAtInto(id, loc, buf) {
    if (loc === undefined) throw missing(id)
    if (loc === null) return this.readRawInto(id, buf)
    try {
      return this.readPacked(id, loc, buf)
    } catch (err) {
      // the pack went since the place was taken: look it up here
      if (err.code === 'ENOENT') return this.readRawInto(id, buf)
      throw err
    }
  }

  readPacked(id, loc, buf) {
    const full = path.join(this.packsDir, `${loc.pack}.pack`)
    const fd = contained.openRegular(full, C.O_RDONLY)
    try {
      readAt(fd, buf, loc.len, loc.offset, () => `Chunk ${id} is damaged: pack ${loc.pack} ends before its bytes ${loc.offset}..${loc.offset + loc.len}`)
    } catch (err) {
      throw err.code === 'ECORRUPT' ? err : osError(`Cannot read pack ${loc.pack}`, err)
    } finally {
      fs.closeSync(fd)
    }
    return loc.len
  }

  getRaw(id) {
    const buf = Buffer.allocUnsafe(MAX_FILE + 1)
    const n = this.readRawInto(id, buf)
    return Buffer.from(buf.subarray(0, n))
  }

  /** Every chunk id present. */
  list() {
    return [...this.current().map.keys()]
  }

  /** A chunk's encoded size in the store (0 when it is not there). */
  size(id) {
    const loc = this.locate(id)
    if (loc === null) {
      const st = contained.containedStat(this.looseDir, `${id.slice(0, 2)}/${id}`)
      return st === null ? 0 : st.size
    }
    if (loc === undefined) return this.pending.has(id) ? this.pending.get(id).len : 0
    return loc.len
  }

  /** Where chunk `id`'s encoded bytes are: `{ file, offset, len }` (its pack or loose file), or null. */
  place(id) {
    const loc = this.locate(id)
    if (loc === undefined) return null
    if (loc !== null) return { file: path.join(this.packsDir, `${loc.pack}.pack`), offset: loc.offset, len: loc.len }
    return { file: path.join(this.looseDir, id.slice(0, 2), id), offset: 0, len: this.size(id) }
  }

  removeLoose(id) {
    return contained.containedRemove(this.looseDir, `${id.slice(0, 2)}/${id}`)
  }
}

/** `map` values: LOOSE, or a slot of the arrays `slotPack` (an index into `packs`), `slotOffset`, `slotLen` (numbers, not one object per chunk: a verify worker holds the map of every chunk). */
const LOOSE = -1

function newIndex(stamp) {
  return { packs: [], map: new Map(), slotPack: [], slotOffset: [], slotLen: [], loose: [], damaged: [], stamp }
}

/** Where `index` says chunk `id` is: null loose, `{ pack, offset, len }`, undefined when absent. */
function locOf(index, id) {
  const slot = index.map.get(id)
  if (slot === undefined || slot === LOOSE) return slot === LOOSE ? null : undefined
  return { pack: index.packs[index.slotPack[slot]].name, offset: index.slotOffset[slot], len: index.slotLen[slot] }
}

function addPack(index, name, entries, digest = null) {
  const at = index.packs.length
  for (const e of entries) {
    if (index.map.has(e.id)) continue
    index.map.set(e.id, index.slotPack.length)
    index.slotPack.push(at)
    index.slotOffset.push(e.offset)
    index.slotLen.push(e.len)
  }
  index.packs.push({ name, entries, digest })
}

function listOrEmpty(dir, rel) {
  try {
    return contained.containedList(dir, rel)
  } catch (err) {
    if (err.code === 'ENOENT') return []
    throw err
  }
}

/** A new empty pack: a temp file `.pack.sr-<pid>-<ms>-<n>.tmp` in packs/ (0600, exclusive). */
function newPack(packsDir) {
  const temp = path.join(packsDir, tempName('pack', packCounter++))
  let fd
  try {
    fd = fs.openSync(temp, C.O_RDWR | C.O_CREAT | C.O_EXCL | NOFOLLOW, 0o600)
  } catch (err) {
    throw osError(`Cannot create ${temp}`, err)
  }
  return { temp, fd, size: 0, entries: [], hash: crypto.createHash('sha256') }
}

/** fsync a folder (its renames then survive a power loss); a no-op where folders cannot be. */
function syncFolder(full) {
  if (process.platform === 'win32') return
  const fd = fs.openSync(full, C.O_RDONLY | (C.O_DIRECTORY || 0) | NOFOLLOW)
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

module.exports = { Chunks, TARGET, MAX_FILE, PACK_SHA256, PACK_BLAKE3, encodeIndex, parseIndex, readIndex, digestFile, stem, locOf }
