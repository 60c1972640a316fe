'use strict'
// The JS twin of src/held.rs: a folder opened once beneath a base without following any
// symlink, kept, and every later call resolved from it. On Linux the folder is a descriptor
// and every call below it goes through `/proc/<pid>/fd/<n>/...`, which the kernel resolves to
// the held folder itself: swapping its path (or a folder above it) for a symlink mid-way
// changes nothing, as with the native handle, and a child process of ours (git, tar,
// sqlite3) can be given such a path too. Each folder below is opened O_DIRECTORY|O_NOFOLLOW
// from the one above (the openat walk, spelled as paths through /proc). Without /proc (macOS,
// Windows) a held folder is its path, walked with lstat: the race lib/js/contained.js
// describes stays open there.

const fs = require('node:fs')
const path = require('node:path')

const contained = require('./contained')
const { codedError, osError } = require('./errors')

const { Held, holdDir, descend, namesOf } = contained

/**
 * `dir` if it is a held folder: anything else is refused, as the native binding refuses what is
 * not its handle (the argument check lets any object through), before any of its fields is used.
 */
function heldOf(dir) {
  if (!(dir instanceof Held)) throw codedError('ERR_INVALID_ARG_TYPE', 'The "dir" argument must be a held folder (heldOpen / heldSub)')
  return dir
}

/**
 * Run `fn` on the held folder `dir`: a closed folder is refused first (EBADF), whatever else
 * is wrong with the call, as the native handle is; error messages name the folder, not its
 * /proc alias.
 */
function shown(dir, fn) {
  const at = heldOf(dir).at()
  try {
    return fn()
  } catch (err) {
    if (typeof err.message === 'string') err.message = err.message.split(at).join(dir.path)
    throw err
  }
}

/** `rel` as exactly one plain name. */
function oneName(rel) {
  const parts = namesOf(rel)
  if (parts.length !== 1 || parts[0] !== rel) throw codedError('EBADPATH', `${rel} is not one plain name inside a folder`)
  return rel
}

function heldOpen(base, rel, create) {
  return holdDir(base, rel, Boolean(create))
}

function heldSub(dir, rel, how = 'open') {
  return shown(dir, () => {
    if (how === 'new') {
      const name = oneName(rel)
      try {
        fs.mkdirSync(path.join(dir.at(), name), { mode: 0o700 })
      } catch (err) {
        throw osError(`Cannot create ${path.join(dir.path, name)}`, err)
      }
      return descend(dir, [name]) // the folder just made, opened (not made again)
    }
    if (how !== 'open' && how !== 'create') throw codedError('ERR_INVALID_ARG_VALUE', `how must be open, create or new, not ${how}`)
    return descend(dir, namesOf(rel), how === 'create')
  })
}

function heldWrite(dir, rel, data, options) {
  return shown(dir, () => contained.containedWrite(dir, rel, data, options || {}))
}

function heldCopyIn(dir, srcBase, srcRel, destRel) {
  return shown(dir, () => contained.containedCopy(srcBase, srcRel, dir, destRel))
}

function heldRead(dir, rel, maxBytes) {
  return shown(dir, () => contained.containedRead(dir, rel, maxBytes))
}

function heldList(dir, rel) {
  return shown(dir, () => contained.containedList(dir, rel))
}

function heldRemove(dir, rel) {
  return shown(dir, () => contained.containedRemove(dir, rel))
}

function heldRename(dir, name, dest, destName) {
  const [fromAt, toAt] = [heldOf(dir).at(), heldOf(dest).at()] // a closed folder first, as in shown()
  const from = path.join(dir.path, oneName(name))
  const to = path.join(dest.path, oneName(destName))
  try {
    fs.renameSync(path.join(fromAt, name), path.join(toAt, destName))
  } catch (err) {
    throw err.syscall ? osError(`Cannot move ${from} to ${to}`, err) : err
  }
  return true
}

function heldPinnedPath(dir, name) {
  const at = heldOf(dir).at()
  return name ? path.join(at, name) : at
}

function heldClose(dir) {
  return heldOf(dir).close()
}

module.exports = { heldOpen, heldSub, heldWrite, heldCopyIn, heldRead, heldList, heldRemove, heldRename, heldPinnedPath, heldClose }
