'use strict'
// The twin of core/src/store/restore.rs: put a snapshot (or the entries at or below some
// paths) back into a target folder, byte-identical, with modes, mtimes and symlinks (created
// as links, never followed). Every parent folder is walked with lstat through
// lib/js/contained.js; a file is streamed chunk by chunk into a temp file beside its target
// and renamed over it (the temps a killed restore left are swept from each folder it restores
// into, once); all-zero chunks become holes; `.git/` and `backups/` are refused.

const fs = require('node:fs')
const path = require('node:path')

const { codedError, osError } = require('../errors')
const contained = require('../contained')
const { tempName, sweepDeadTemps } = require('../temps')

const { lstatOrNull } = contained
const { Store, checkChunkId, compareText } = require('./format')

const NEVER = new Set(['.git', 'backups'])
const C = fs.constants

function selected(p, only) {
  if (only.length === 0) return true
  return only.some((o) => {
    const x = o.replace(/\/+$/, '')
    return p === x || p.startsWith(`${x}/`)
  })
}

/** Before anything is written: every path of `only` names something in the snapshot. */
function checkSelection(store, record, only) {
  if (only.length === 0) return
  const matched = only.map(() => false)
  for (const e of store.tree(record)) only.forEach((o, i) => (matched[i] ||= selected(e.path, [o])))
  const missing = only.find((_, i) => !matched[i])
  if (missing !== undefined) throw codedError('ENOENT', `${missing} is not in snapshot ${record.id}`)
}

/** The folder `rel` below `target`, created (no link followed on the way); its path. */
function mkdirContained(target, rel) {
  if (rel === '') return target
  contained.containedMkdir(target, rel, false)
  return path.join(target, ...rel.split('/'))
}

/** Clear the place of an entry: a folder where a non-folder goes, or the reverse. */
function clear(full, type) {
  const st = lstatOrNull(full)
  if (st === null) return
  if (st.isDirectory() !== (type === 'dir')) fs.rmSync(full, { recursive: true, force: true })
  else if (type === 'symlink') fs.unlinkSync(full)
}

const isZero = (buf) => {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false
  return true
}

function restoreFile(store, full, e) {
  const temp = path.join(path.dirname(full), tempName(path.basename(full)))
  const fd = fs.openSync(temp, C.O_RDWR | C.O_CREAT | C.O_EXCL | (C.O_NOFOLLOW || 0), 0o600)
  let ok = false
  try {
    let pos = 0
    // a run of the same chunk (zeros of a sparse file, repeated blocks) is read once
    let last = { id: null }
    for (const id of e.chunks || []) {
      if (id !== last.id) {
        try {
          const data = store.get(checkChunkId(id))
          last = { id, data, zero: isZero(data) }
        } catch (err) {
          throw codedError(err.code || 'EIO', `Cannot restore ${e.path}: ${err.message}`)
        }
      }
      const { data } = last
      if (!last.zero) {
        let off = 0
        while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off, pos + off)
      }
      pos += data.length
    }
    if (pos !== e.size) throw codedError('ECORRUPT', `${e.path}: its chunks hold ${pos} bytes, its entry says ${e.size}`)
    fs.ftruncateSync(fd, pos)
    fs.fchmodSync(fd, e.mode & 0o7777)
    const mtime = e.mtime[0] + e.mtime[1] / 1e9
    fs.futimesSync(fd, mtime, mtime)
    ok = true
  } finally {
    fs.closeSync(fd)
    if (!ok) fs.rmSync(temp, { force: true })
  }
  try {
    fs.renameSync(temp, full)
  } catch (err) {
    fs.rmSync(temp, { force: true })
    throw osError(`Cannot restore ${full}`, err)
  }
}

/** Restore snapshot `id` of the store folder `storeDir` into `target` (all, or `only`). */
function restoreSnapshot(storeDir, id, target, only, cancel) {
  const store = Store.open(storeDir, false)
  const record = store.record(id)
  contained.containedList(target, '') // a real folder, not a link
  checkSelection(store, record, only)
  const stats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 }
  const dirModes = []
  const swept = new Set()
  for (const e of store.tree(record)) {
    if (!selected(e.path, only)) continue
    cancel.check('Restore')
    const top = e.path.split('/')[0]
    if (NEVER.has(top)) throw codedError('EPATHESCAPE', `Refusing to restore ${e.path}: ${top}/ is never a restore target`)
    const slash = e.path.lastIndexOf('/')
    // the folder part of the path: '' at the top (no slash: -1)
    const parentRel = e.path.slice(0, Math.max(0, slash))
    const parent = mkdirContained(target, parentRel)
    if (!swept.has(parentRel)) {
      swept.add(parentRel)
      sweepDeadTemps(parent)
    }
    const full = path.join(parent, e.path.slice(slash + 1))
    clear(full, e.type)
    if (e.type === 'dir') {
      if (lstatOrNull(full) === null) fs.mkdirSync(full, { mode: 0o700 })
      dirModes.push([full, e.mode])
      stats.dirs += 1
    } else if (e.type === 'symlink') {
      if (typeof e.target !== 'string') throw codedError('ECORRUPT', `Symlink ${e.path} has no target`)
      fs.symlinkSync(e.target, full)
      stats.symlinks += 1
    } else if (e.type === 'file') {
      restoreFile(store, full, e)
      stats.files += 1
      stats.bytes += e.size
    } else throw codedError('ECORRUPT', `Entry ${e.path} has an unknown type ${JSON.stringify(e.type)}`)
  }
  // deepest first: a folder's mode goes back after everything below it is written
  dirModes.sort((a, b) => compareText(b[0], a[0]))
  if (process.platform !== 'win32') for (const [full, mode] of dirModes) fs.chmodSync(full, mode & 0o7777)
  return stats
}

module.exports = { restoreSnapshot, selected }
