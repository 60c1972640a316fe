'use strict'
// The JS twin of src/contained.rs (core/src/fsx/beneath.rs): every path is `rel` below a
// `base` folder, walked one component at a time with `lstat`, never through a symlink; files
// are opened `O_NOFOLLOW | O_NONBLOCK` and `fstat`ed (regular files only, never a FIFO or a
// device), reads are bounded.
//
// The race it cannot close: Node has no `openat`, so each call re-resolves the path by name.
// A folder on the way swapped for a symlink between our `lstat` of it and the open/rename/
// unlink below it (a `renameat2(RENAME_EXCHANGE)` loop by someone who can write in the
// project) can still win. `O_NOFOLLOW` only protects the last component. The native backend
// resolves from a held directory handle and has no such window (README "Containment").
// Where Linux's /proc is there, lib/js/held.js holds folders as descriptors and every call
// below one starts at `/proc/<pid>/fd/<n>`, which closes that window for the held folder; a
// `Held` is accepted wherever these functions take a `base`.

const fs = require('node:fs')
const path = require('node:path')

const { codedError, osError, checkPath } = require('./errors')
const { tempName } = require('./temps')

const C = fs.constants
const NOFOLLOW = C.O_NOFOLLOW || 0
const NONBLOCK = C.O_NONBLOCK || 0
const DEFAULT_MAX = 1 << 30
const CHUNK = 256 * 1024

function kindOf(st) {
  if (st.isSymbolicLink()) return 'symlink'
  if (st.isFile()) return 'file'
  if (st.isDirectory()) return 'directory'
  return 'other'
}

const linkRefused = (full) => codedError('EPATHESCAPE', `Refusing path ${full}: it goes through a symbolic link`)
const notRegular = (full, kind) =>
  codedError('EINVAL', `Refusing ${full}: not a regular file (a ${kind === 'other' ? 'FIFO, socket or device' : kind})`)

/** The plain names of `rel`: no root, no `..` (what the native `names()` accepts). */
function namesOf(rel) {
  if (typeof rel !== 'string') throw codedError('ERR_INVALID_ARG_TYPE', 'The "rel" argument must be of type string')
  if (rel.includes('\0')) throw codedError('EBADPATH', 'rel must not contain a NUL byte')
  // a root (on Windows also `\\x`, which path.isAbsolute knows there); on POSIX a backslash
  // is a plain character of a name, as the native names() takes it
  if (path.isAbsolute(rel)) {
    throw codedError('EPATHESCAPE', `Refusing path ${rel}: only plain relative names stay inside`)
  }
  const parts = rel.split(process.platform === 'win32' ? /[\\/]+/ : /\/+/).filter((p) => p !== '' && p !== '.')
  if (parts.includes('..')) throw codedError('EPATHESCAPE', `Refusing path ${rel}: only plain relative names stay inside`)
  return parts
}

function lstatOrNull(full) {
  try {
    return fs.lstatSync(full)
  } catch (err) {
    if (err.code === 'ENOENT') return null
    throw osError(`Cannot stat ${full}`, err)
  }
}

const PROC_FD = `/proc/${process.pid}/fd`
let procUsable = null
/** Can folders be held as descriptors and named through /proc/<pid>/fd (Linux)? */
function viaProc() {
  if (procUsable === null) procUsable = process.platform === 'linux' && C.O_DIRECTORY !== undefined && fs.existsSync(PROC_FD)
  return procUsable
}
const DIR_OPEN = C.O_RDONLY | (C.O_DIRECTORY || 0) | NOFOLLOW

/**
 * A folder held by lib/js/held.js: a descriptor (named `/proc/<pid>/fd/<n>`, which the kernel
 * resolves to the folder itself whatever was renamed since) or, without /proc, its path.
 */
class Held {
  constructor(shown, fd) {
    this.path = shown
    this.fd = fd
  }

  /** Where every call below this folder starts. */
  at() {
    if (this.fd === -1) throw codedError('EBADF', `The held folder ${this.path} was closed`)
    return this.fd === null ? this.path : `${PROC_FD}/${this.fd}`
  }

  close() {
    if (this.fd === -1) return false
    if (this.fd !== null) fs.closeSync(this.fd)
    this.fd = -1
    return true
  }
}

/** Open the folder `at/name` as a descriptor, never through a link at the name. */
function openDirFd(at, name, shown) {
  const full = `${at}/${name}`
  try {
    return fs.openSync(full, DIR_OPEN)
  } catch (err) {
    if (err.code === 'ELOOP' || err.code === 'ENOTDIR') {
      const st = lstatOrNull(full)
      if (st !== null && st.isSymbolicLink()) throw linkRefused(shown)
    }
    throw osError(`Cannot open ${shown}`, err)
  }
}

/** The base folder: a real directory, not a symlink (EUNSAFEDIR); a Held is trusted as it is. */
function openBase(base) {
  if (base instanceof Held) return base.at()
  checkPath('base', base)
  // a pinned path of ours (heldPinnedPath of a held folder): that link is the folder itself
  if (viaProc() && base.startsWith(`${PROC_FD}/`) && /^\d+\/?$/.test(base.slice(PROC_FD.length + 1))) return base
  let st
  try {
    st = fs.lstatSync(base)
  } catch (err) {
    throw osError(`Cannot use directory ${base}`, err)
  }
  if (st.isSymbolicLink()) throw codedError('EUNSAFEDIR', `Refusing directory ${base}: it is a symbolic link`)
  if (!st.isDirectory()) throw codedError('ENOTDIR', `Cannot use directory ${base}: ENOTDIR: not a directory`)
  return base
}

/** Walk `parts` below `base`: each a real folder; missing ones made (0700) with `create`. */
function walk(base, parts, create) {
  let at = openBase(base)
  for (const name of parts) {
    at = path.join(at, name)
    let st = lstatOrNull(at)
    if (st === null && create) {
      try {
        fs.mkdirSync(at, { mode: 0o700 })
      } catch (err) {
        if (err.code !== 'EEXIST') throw osError(`Cannot create ${at}`, err)
      }
      st = lstatOrNull(at)
    }
    if (st === null) throw codedError('ENOENT', `Cannot open ${at}: ENOENT: no such file or directory`)
    if (st.isSymbolicLink()) throw linkRefused(at)
    if (!st.isDirectory()) throw codedError('ENOTDIR', `Cannot open ${at}: ENOTDIR: not a directory`)
  }
  return at
}

/** `[parent folder path, last name]` of `rel`. */
function parentOf(base, rel, create) {
  const parts = namesOf(rel)
  if (parts.length === 0) throw codedError('EBADPATH', `${rel} names no file`)
  return [walk(base, parts.slice(0, -1), create), parts[parts.length - 1]]
}

/** Open the regular file `full`: lstat first (a FIFO is never opened), O_NOFOLLOW, fstat. */
function openRegular(full, flags, mode) {
  const st = lstatOrNull(full)
  if (st !== null) {
    const kind = kindOf(st)
    if (kind === 'symlink') throw linkRefused(full)
    if (kind !== 'file') throw notRegular(full, kind)
  }
  let fd
  try {
    fd = fs.openSync(full, flags | NOFOLLOW | NONBLOCK, mode)
  } catch (err) {
    if (err.code === 'ELOOP') throw linkRefused(full)
    throw osError(`Cannot open ${full}`, err)
  }
  const kind = kindOf(fs.fstatSync(fd))
  if (kind !== 'file') {
    fs.closeSync(fd)
    throw notRegular(full, kind)
  }
  return fd
}

function containedStat(base, rel) {
  let dir
  let name
  try {
    ;[dir, name] = parentOf(base, rel, false)
  } catch (err) {
    if (err.code === 'ENOENT') return null
    throw err
  }
  const st = lstatOrNull(path.join(dir, name))
  return st === null ? null : { name, type: kindOf(st), size: st.size }
}

function readBounded(fd, full, max) {
  const chunks = []
  let total = 0
  const buf = Buffer.allocUnsafe(CHUNK)
  for (;;) {
    const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, max + 1 - total), null)
    if (n === 0) break
    chunks.push(Buffer.from(buf.subarray(0, n)))
    total += n
    if (total > max) throw codedError('EFBIG', `Refusing ${full}: larger than ${max} bytes`)
  }
  return Buffer.concat(chunks, total)
}

function containedRead(base, rel, maxBytes) {
  // as the native binding takes it: below 0 (or NaN) is 0, a fraction rounded down
  const max = typeof maxBytes === 'number' ? (maxBytes > 0 ? Math.floor(maxBytes) : 0) : DEFAULT_MAX
  const [dir, name] = parentOf(base, rel, false)
  const full = path.join(dir, name)
  const fd = openRegular(full, C.O_RDONLY)
  try {
    return readBounded(fd, full, max)
  } catch (err) {
    throw err.code === 'EFBIG' ? err : osError(`Cannot read ${full}`, err)
  } finally {
    fs.closeSync(fd)
  }
}

function writeAll(fd, data, fsync) {
  const buf = typeof data === 'string' ? Buffer.from(data) : data
  let off = 0
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off)
  if (fsync) fs.fsyncSync(fd)
}

function createNew(full) {
  try {
    return fs.openSync(full, C.O_RDWR | C.O_CREAT | C.O_EXCL | NOFOLLOW, 0o600)
  } catch (err) {
    throw osError(`Cannot create ${full}`, err)
  }
}

function containedWrite(base, rel, data, options = {}) {
  const fsync = options.fsync !== false
  const [dir, name] = parentOf(base, rel, true)
  const full = path.join(dir, name)
  if (options.exclusive) {
    const fd = createNew(full)
    try {
      writeAll(fd, data, fsync)
    } catch (err) {
      throw osError(`Cannot write ${full}`, err)
    } finally {
      fs.closeSync(fd)
    }
    return true
  }
  const context = `Atomic write failed for ${full}`
  let temp = null
  for (let attempt = 0; temp === null; attempt++) {
    const candidate = path.join(dir, tempName(name, attempt))
    try {
      const fd = fs.openSync(candidate, C.O_RDWR | C.O_CREAT | C.O_EXCL | NOFOLLOW, 0o600)
      temp = candidate
      try {
        writeAll(fd, data, fsync)
      } finally {
        fs.closeSync(fd)
      }
    } catch (err) {
      if (temp !== null) fs.rmSync(temp, { force: true })
      if (err.code !== 'EEXIST' || attempt >= 100) throw osError(context, err)
      temp = null
    }
  }
  try {
    // rename replaces a link at the name itself, never writes through it
    fs.renameSync(temp, full)
  } catch (err) {
    fs.rmSync(temp, { force: true })
    throw osError(context, err)
  }
  return true
}

function containedAppend(base, rel, data) {
  const [dir, name] = parentOf(base, rel, false)
  const full = path.join(dir, name)
  const fd = openRegular(full, C.O_WRONLY | C.O_APPEND | C.O_CREAT, 0o600)
  try {
    writeAll(fd, String(data), false)
  } catch (err) {
    throw osError(`Cannot append to ${full}`, err)
  } finally {
    fs.closeSync(fd)
  }
  return true
}

/** The folder `parts` below `from`, held: each opened without following a link (made 0700 when `create`). */
function descend(from, parts, create) {
  if (from.fd === null) return new Held(walk(from.path, parts, create), null)
  let fd = openDirFd(from.at(), '.', from.path)
  let at = from.path
  try {
    for (const name of parts) {
      at = path.join(at, name)
      if (create) {
        try {
          fs.mkdirSync(`${PROC_FD}/${fd}/${name}`, { mode: 0o700 })
        } catch (err) {
          if (err.code !== 'EEXIST') throw osError(`Cannot create ${at}`, err)
        }
      }
      const next = openDirFd(`${PROC_FD}/${fd}`, name, at)
      fs.closeSync(fd)
      fd = next
    }
  } catch (err) {
    fs.closeSync(fd)
    throw err
  }
  return new Held(at, fd)
}

/** Is `full` itself a symbolic link? False when nothing is there or a file is on the way. */
function isLink(full) {
  try {
    return fs.lstatSync(full).isSymbolicLink()
  } catch {
    return false
  }
}

/** Hold the folder `base/rel` (each component a real folder; made 0700 when `create`). */
function holdDir(base, rel, create) {
  checkPath('base', base)
  const parts = namesOf(rel)
  if (!viaProc()) return new Held(walk(base, parts, create), null)
  let fd
  try {
    fd = fs.openSync(base, DIR_OPEN)
  } catch (err) {
    if (['ELOOP', 'ENOTDIR'].includes(err.code) && isLink(base)) throw codedError('EUNSAFEDIR', `Refusing directory ${base}: it is a symbolic link`)
    throw osError(`Cannot use directory ${base}`, err)
  }
  const top = new Held(base, fd)
  try {
    return descend(top, parts, create)
  } finally {
    top.close()
  }
}

/**
 * Owner-only: refused when another user owns it; true when its mode was tightened. `st` is
 * the folder's stat, `chmod(mode)` changes it (through its descriptor where there is one).
 */
function ensurePrivate(full, st, chmod) {
  if (process.platform === 'win32') return false
  const me = process.geteuid()
  if (st.uid !== me) {
    const how = st.mode & 0o022 ? ' and writable by others' : ''
    throw codedError('EUNSAFEDIR', `Refusing directory ${full}: owned by uid ${st.uid}, not by this user (uid ${me})${how}`)
  }
  if ((st.mode & 0o777) === 0o700) return false
  chmod(0o700)
  return true
}

function containedMkdir(base, rel, priv) {
  if (viaProc() && !(base instanceof Held)) {
    // held as a descriptor: the mode is read and changed on the folder itself (fstat,
    // fchmod), never on whatever its path names by then
    const dir = holdDir(base, rel, true)
    try {
      return priv ? ensurePrivate(dir.path, fs.fstatSync(dir.fd), (mode) => fs.fchmodSync(dir.fd, mode)) : false
    } finally {
      dir.close()
    }
  }
  const full = walk(base, namesOf(rel), true)
  return priv ? ensurePrivate(full, fs.lstatSync(full), (mode) => fs.chmodSync(full, mode)) : false
}

function containedList(base, rel) {
  const full = walk(base, namesOf(rel), false)
  let names
  try {
    names = fs.readdirSync(full)
  } catch (err) {
    throw osError(`Cannot list ${full}`, err)
  }
  const out = []
  for (const name of names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
    const st = lstatOrNull(path.join(full, name))
    if (st !== null) out.push({ name, type: kindOf(st), size: 0 })
  }
  return out
}

function removeAt(full) {
  const st = lstatOrNull(full)
  if (st === null) return false
  try {
    if (st.isDirectory()) emptyDir(full)
    if (st.isDirectory()) fs.rmdirSync(full)
    else fs.unlinkSync(full)
  } catch (err) {
    if (err.code === 'ENOENT') return false
    throw err.syscall ? osError(`Cannot remove ${full}`, err) : err
  }
  return true
}

/**
 * Remove what is in the folder `full`. With /proc, it is opened once without following a
 * link (a folder swapped for one since the lstat is refused) and emptied through its
 * descriptor; without, by path (the race described at the top).
 */
function emptyDir(full) {
  if (!viaProc()) {
    for (const name of fs.readdirSync(full)) removeAt(path.join(full, name))
    return
  }
  const fd = openDirFd(path.dirname(full), path.basename(full), full)
  try {
    const at = `${PROC_FD}/${fd}`
    for (const name of fs.readdirSync(at)) removeAt(`${at}/${name}`)
  } finally {
    fs.closeSync(fd)
  }
}

function containedRemove(base, rel) {
  let dir
  let name
  try {
    ;[dir, name] = parentOf(base, rel, false)
  } catch (err) {
    if (err.code === 'ENOENT') return false
    throw err
  }
  return removeAt(path.join(dir, name))
}

function containedCopy(srcBase, srcRel, destBase, destRel) {
  const [srcDir, srcName] = parentOf(srcBase, srcRel, false)
  const from = path.join(srcDir, srcName)
  const [destDir, destName] = parentOf(destBase, destRel, true)
  const to = path.join(destDir, destName)
  const fdIn = openRegular(from, C.O_RDONLY)
  let fdOut = null
  let copied = 0
  try {
    fdOut = createNew(to)
    const buf = Buffer.allocUnsafe(CHUNK)
    for (;;) {
      const n = fs.readSync(fdIn, buf, 0, CHUNK, null)
      if (n === 0) break
      writeAll(fdOut, buf.subarray(0, n), false)
      copied += n
    }
    fs.fsyncSync(fdOut)
  } catch (err) {
    if (fdOut !== null) {
      fs.closeSync(fdOut)
      fdOut = null
      fs.rmSync(to, { force: true })
    }
    throw err.syscall ? osError(`Cannot copy to ${to}`, err) : err
  } finally {
    fs.closeSync(fdIn)
    if (fdOut !== null) fs.closeSync(fdOut)
  }
  return copied
}

/** What both backends export (src/contained.rs). */
const exported = {
  containedStat,
  containedRead,
  containedWrite,
  containedAppend,
  containedMkdir,
  containedList,
  containedRemove,
  containedCopy,
}

module.exports = { ...exported, exported, openRegular, readBounded, Held, viaProc, holdDir, descend, namesOf, lstatOrNull }
