'use strict'
// The twin of core/src/store/diff.rs: what was added, removed and modified between two
// snapshots, or between a snapshot and the work tree. Both sides are path-sorted (bytewise)
// entry lists merged in one pass; an entry is modified when its type, mode, size, symlink
// target or chunk list differ (folders: type and mode). A work-tree file whose size, mtime,
// ctime and inode equal the snapshot's entry is not read; one whose metadata moved at the
// same size is cut and hashed as a snapshot would be. The walk uses lstat (no link followed,
// never leaving the root) and opens files O_NOFOLLOW through lib/js/contained.js.

const fs = require('node:fs')
const path = require('node:path')

const { codedError } = require('../errors')
const contained = require('../contained')
const { chunkFd } = require('./chunker')
const { Store, chunkId } = require('./format')
const { isExcluded, entryOf, isSideFile } = require('./write')

const byPath = (a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path))
const samePair = (a, b) => a[0] === b[0] && a[1] === b[1]

/** The work tree's entries as a snapshot would record them (no chunks), sorted. */
function walkTree(root, excludes, databases) {
  const entries = []
  const skipped = []
  const walk = (dirFull, rel) => {
    for (const name of fs.readdirSync(dirFull)) {
      if (isExcluded(name, excludes)) continue
      const p = rel === '' ? name : `${rel}/${name}`
      const full = path.join(dirFull, name)
      let st
      try {
        st = fs.lstatSync(full, { bigint: true })
      } catch (err) {
        if (err.code === 'ENOENT') continue // removed while we walked
        throw err
      }
      if (st.isDirectory()) {
        entries.push(entryOf(p, 'dir', st))
        walk(full, p)
      } else if (st.isSymbolicLink()) entries.push({ ...entryOf(p, 'symlink', st), target: fs.readlinkSync(full) })
      else if (st.isFile()) {
        if (!isSideFile(p, databases)) entries.push({ ...entryOf(p, 'file', st), size: Number(st.size) })
      } else skipped.push(p)
    }
  }
  walk(root, '')
  return { entries: entries.sort(byPath), skipped }
}

/** Which fields of two entries at the same path differ. */
function differences(old, now, sameContent) {
  if (old.type !== now.type) return ['type']
  const what = []
  if (old.mode !== now.mode) what.push('mode')
  if (old.type === 'symlink' && old.target !== now.target) what.push('target')
  if (old.type === 'file') {
    if (old.size !== now.size) what.push('size')
    else if (!sameContent(old, now)) what.push('content')
  }
  return what
}

/** Merge two path-sorted entry sequences into the differences between them. */
function merge(a, b, sameContent) {
  const changes = []
  const ia = a[Symbol.iterator]()
  const ib = b[Symbol.iterator]()
  let x = ia.next()
  let y = ib.next()
  const change = (e, kind, what) => changes.push({ path: e.path, change: kind, type: e.type, what })
  while (!x.done || !y.done) {
    const order = x.done ? 1 : y.done ? -1 : byPath(x.value, y.value)
    if (order < 0) {
      change(x.value, 'removed', [])
      x = ia.next()
    } else if (order > 0) {
      change(y.value, 'added', [])
      y = ib.next()
    } else {
      const what = differences(x.value, y.value, sameContent)
      if (what.length > 0) change(y.value, 'modified', what)
      x = ia.next()
      y = ib.next()
    }
  }
  return changes
}

/**
 * Compare snapshot `from` of the store folder `storeDir` with snapshot `to`, or with the
 * tree at `options.root` when `to` is null.
 */
function diffSnapshots(storeDir, from, to, options) {
  const store = Store.open(storeDir, false)
  const old = store.record(from)
  let hashed = 0
  let skipped = []
  let changes
  if (to !== null && to !== undefined) {
    const now = store.record(to)
    const same = (a, b) => (a.chunks || []).join() === (b.chunks || []).join()
    changes = merge(store.tree(old), store.tree(now), same)
  } else {
    if (!options.root) throw codedError('EBADPATH', 'A diff needs a second snapshot or the project\'s root')
    contained.containedList(options.root, '') // the root: a real folder, not a link
    const walked = walkTree(options.root, options.excludes, options.databases)
    skipped = walked.skipped
    const same = (a, b) => {
      if (samePair(a.mtime, b.mtime) && samePair(a.ctime, b.ctime) && a.ino === b.ino) return true
      hashed += 1
      const ids = []
      const fd = contained.openRegular(path.join(options.root, ...b.path.split('/')), fs.constants.O_RDONLY)
      try {
        chunkFd(fd, (data) => ids.push(chunkId(data)))
      } finally {
        fs.closeSync(fd)
      }
      return ids.join() === (a.chunks || []).join()
    }
    changes = merge(store.tree(old), walked.entries, same)
  }
  const count = (kind) => changes.filter((c) => c.change === kind).length
  return { changes, added: count('added'), removed: count('removed'), modified: count('modified'), hashed, skipped }
}

module.exports = { diffSnapshots }
