'use strict'
// All or nothing: a backup set is built in `backups/.staging-<id>/` (the same layout as
// `backups/` itself: code/<id>, database/<id>, config/<id>, state/<id>, full/<id>.tar.gz,
// manifests/<id>.json) and its parts are moved into place only once every part succeeded;
// the restore point is recorded after that. A backup that fails or is interrupted removes
// its staging folder; one that is killed leaves it, with an owner record (pid, process start
// time, host: a lock record, judged by the lock liveness code), and the next create or
// cleanup removes it once that owner is dead, together with any part it had already moved
// but never recorded. The staging folder appears with its owner record already inside: both
// are made in a claim folder whose name carries the owner (`.claim-<pid>-<start s>-<random>`,
// judged by that name, as lib/js/scratch.js judges its folders) and renamed into place, so a
// kill at any moment leaves nothing whose owner cannot be told at once.
//
// Every write, move and removal here goes through held folders (the backend's `held*`
// calls, src/held.rs and lib/js/held.js): `backups/` is opened once without following a
// link, the staging folder is made and opened from that handle, each part folder from the
// staging folder's, and the commit is a `renameat` between two held folders. A folder on
// the way swapped for a symlink after it was opened changes nothing: the handle is the
// folder. Writers that take only paths (git, tar, the sqlite3 dump) get `pinned()` paths.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const { SAFE_ID } = require('./common')
const { ourRecord, recordText, parseRecord, newToken } = require('../js/lock/record')
const { judge, DEAD } = require('../js/lock/liveness')
const { GARBLED_GRACE_MS } = require('../js/lock/options')
const { ownStartTimeS } = require('../js/process')
const { ownerDead } = require('../js/scratch')
const { codedError } = require('../js/errors')

const PREFIX = '.staging-'
/** A staging folder being made: `.claim-<pid>-<start time s>-<random>`. */
const CLAIM = /^\.claim-(\d+)-(\d+)-[0-9a-f]{8}$/
const OWNER = 'owner.json'
/** Another host's staging folder is judged dead only after this long (as stale locks). */
const FOREIGN_STALE_MS = 24 * 3600 * 1000
/** An owner record is a lock record: small. */
const MAX_OWNER_BYTES = 64 * 1024
/** Info files are ours and small. */
const MAX_INFO_BYTES = 64 * 1024 * 1024

/** The folder and the name of each part of set `id`, relative to `backups/` or a staging folder. */
function entriesOf(id) {
  return {
    git: ['code', id],
    database: ['database', id],
    config: ['config', id],
    state: ['state', id],
    archive: ['full', `${id}.tar.gz`],
    manifest: ['manifests', `${id}.json`],
  }
}

/** Where each part of set `id` lives under `base` (`backups/` or a staging folder). */
function partsIn(base, id) {
  const out = {}
  for (const [key, [kind, name]] of Object.entries(entriesOf(id))) out[key] = path.join(base, kind, name)
  return out
}

/** The order parts are moved in: the manifest last, so a set with a manifest is whole. */
const MOVE_ORDER = ['git', 'database', 'config', 'state', 'archive', 'manifest']

/**
 * Where the parts of set `id` are written: below the held folder `top` (a staging folder, or
 * `backups/` itself for the legacy part-by-part methods), each kind folder and part folder
 * held once opened (made 0700 when missing). `close()` when done.
 */
class PartDirs {
  constructor(binding, top, id, shownAt) {
    this.binding = binding
    this.top = top
    this.id = id
    this.shownAt = shownAt
    this.held = new Map()
  }

  hold(key, open) {
    if (!this.held.has(key)) this.held.set(key, open())
    return this.held.get(key)
  }

  /** The held kind folder (`code`, `full`, `manifests`, ...). */
  kindDir(kind) {
    return this.hold(kind, () => this.binding.heldSub(this.top, kind, 'create'))
  }

  /** The held folder of part `key` (`git`, `database`, `config`, `state`): `<kind>/<id>`. */
  dir(key) {
    const [kind, name] = entriesOf(this.id)[key]
    return this.hold(`${kind}/${name}`, () => this.binding.heldSub(this.kindDir(kind), name, 'create'))
  }

  /** The path where the part `key` shows (messages, and the paths the catalog records). */
  shown(key) {
    return partsIn(this.shownAt, this.id)[key]
  }

  /** A path for a writer that takes only paths: `name` in part `key`'s folder (a file part: the file). */
  pinned(key, name = '') {
    const [kind, file] = entriesOf(this.id)[key]
    if (key === 'archive' || key === 'manifest') return this.binding.heldPinnedPath(this.kindDir(kind), file)
    return this.binding.heldPinnedPath(this.dir(key), name)
  }

  /** Write `value` as JSON to `name` in part `key`'s folder (the manifest: its file). */
  writeJson(key, name, value) {
    const text = `${JSON.stringify(value, null, 2)}\n`
    if (key === 'manifest') return this.binding.heldWrite(this.kindDir('manifests'), `${this.id}.json`, text, { fsync: false })
    return this.binding.heldWrite(this.dir(key), name, text, { fsync: false })
  }

  /** Copy the project file `srcRel` (no link followed) to the new file `name` in part `key`'s folder. */
  copyIn(key, srcBase, srcRel, name) {
    return this.binding.heldCopyIn(this.dir(key), srcBase, srcRel, name)
  }

  /** How many files the info file `infoName` of part `key` lists (0 when unreadable). */
  filesListed(key, infoName) {
    try {
      const info = JSON.parse(this.binding.heldRead(this.dir(key), infoName, MAX_INFO_BYTES).toString('utf8'))
      return Array.isArray(info.files) ? info.files.length : 0
    } catch {
      return 0
    }
  }

  close() {
    for (const h of this.held.values()) this.binding.heldClose(h)
    this.held.clear()
  }
}

/** The held `backups/` of `rootDir` (made by ensureBackupsDir; a link there is refused). */
function holdBackups(binding, rootDir) {
  return binding.heldOpen(rootDir, 'backups', false)
}

/** The legacy part-by-part methods write straight into `backups/<kind>/<id>`. */
function directParts(binding, rootDir, id) {
  const backups = holdBackups(binding, rootDir)
  const parts = new PartDirs(binding, backups, id, path.join(rootDir, 'backups'))
  const close = parts.close.bind(parts)
  parts.close = () => {
    close()
    binding.heldClose(backups)
  }
  return parts
}

class Staging extends PartDirs {
  /** Make (the claim on `id`: EEXIST if another create has it) and hold the staging folder of `id`. */
  constructor(binding, rootDir, id) {
    const backups = holdBackups(binding, rootDir)
    const backupsDir = path.join(rootDir, 'backups')
    let top
    try {
      top = claim(binding, backups, id)
    } catch (err) {
      binding.heldClose(backups)
      throw err
    }
    super(binding, top, id, backupsDir)
    this.backups = backups
    this.backupsDir = backupsDir
    this.folder = path.join(backupsDir, `${PREFIX}${id}`)
    this.final = new PartDirs(binding, backups, id, backupsDir)
  }

  /** The staging folder's own pinned path (what the manifest hashing reads from). */
  pinnedTop() {
    return this.binding.heldPinnedPath(this.top, '')
  }

  /** Move every part that was made into place (renameat between held folders), the manifest last. */
  commit() {
    for (const key of MOVE_ORDER) {
      const [kind, name] = entriesOf(this.id)[key]
      try {
        this.binding.heldRename(this.kindDir(kind), name, this.final.kindDir(kind), name)
      } catch (err) {
        if (err.code === 'ENOENT') continue // a part this set does not have (no git, say)
        throw err
      }
    }
  }

  /** The staging folder is no longer needed (after commit), or the set is given up. Handles stay open: close(). */
  remove({ movedToo = false } = {}) {
    if (movedToo) removeParts(this.binding, this.backups, this.id)
    this.binding.heldRemove(this.backups, `${PREFIX}${this.id}`)
  }

  close() {
    super.close()
    this.final.close()
    this.binding.heldClose(this.top)
    this.binding.heldClose(this.backups)
  }
}

/**
 * Make and hold `.staging-<id>` with our owner record inside: the record is written in a new
 * claim folder, which is then renamed to the staging name (EEXIST when that name is taken:
 * another create's claim on the same id). The claim folder is closed before the rename
 * (Windows renames no folder with an open handle) and the staging folder opened after it,
 * then checked to hold our record.
 */
function claim(binding, backups, id) {
  const name = `.claim-${process.pid}-${ownStartTimeS()}-${crypto.randomBytes(4).toString('hex')}`
  const token = newToken()
  const dir = binding.heldSub(backups, name, 'new')
  try {
    binding.heldWrite(dir, OWNER, recordText({ ...ourRecord(`backup-${id}`, token, null), id }), { exclusive: true, fsync: false })
  } catch (err) {
    binding.heldClose(dir)
    binding.heldRemove(backups, name)
    throw err
  }
  binding.heldClose(dir)
  const staging = `${PREFIX}${id}`
  try {
    binding.heldRename(backups, name, backups, staging)
  } catch (err) {
    binding.heldRemove(backups, name)
    throw nameTaken(binding, backups, staging, err) ? codedError('EEXIST', `${staging} exists: another backup has this id`) : err
  }
  const top = binding.heldSub(backups, staging, 'open')
  const record = parseRecord(binding.heldRead(top, OWNER, MAX_OWNER_BYTES))
  if (record && record.token === token) return top
  binding.heldClose(top)
  throw codedError('EEXIST', `${staging} was taken by another backup as it was made`)
}

/** Did the rename fail because `name` exists? (A folder in use says ENOTEMPTY; Windows says EPERM.) */
function nameTaken(binding, backups, name, err) {
  if (err.code === 'EEXIST' || err.code === 'ENOTEMPTY' || err.code === 'ENOTDIR') return true
  try {
    fs.lstatSync(binding.heldPinnedPath(backups, name))
    return true
  } catch {
    return false
  }
}

function removeParts(binding, backups, id) {
  for (const [kind, name] of Object.values(entriesOf(id))) binding.heldRemove(backups, `${kind}/${name}`)
}

/** Is the owner of the staging folder `name` gone? (Only a regular owner file is read: never a FIFO.) */
function ownerIsDead(binding, backups, name) {
  let bytes = null
  try {
    bytes = binding.heldRead(backups, `${name}/${OWNER}`, MAX_OWNER_BYTES)
  } catch (err) {
    if (err.code !== 'ENOENT') return false
  }
  const record = bytes && parseRecord(bytes)
  if (record) return judge(record, FOREIGN_STALE_MS) === DEAD
  // no record (yet): being made right now, unless it has been like that for a while
  try {
    return Date.now() - fs.lstatSync(binding.heldPinnedPath(backups, name)).mtimeMs > GARBLED_GRACE_MS
  } catch {
    return false
  }
}

/**
 * Remove the staging folders of dead owners under `rootDir/backups`, and any part of their
 * set that was moved into place but is not a recorded restore point (`isRecorded(id)`), and
 * the claim folders of dead owners. Returns the ids of the sets swept.
 */
function sweepStaging(binding, rootDir, isRecorded) {
  let backups
  try {
    backups = holdBackups(binding, rootDir)
  } catch (err) {
    if (err.code === 'ENOENT') return []
    throw err
  }
  const swept = []
  try {
    for (const { name, type } of binding.heldList(backups, '')) {
      const claimed = CLAIM.exec(name)
      if (claimed !== null && type === 'directory') {
        if (ownerDead(Number(claimed[1]), Number(claimed[2]))) binding.heldRemove(backups, name)
        continue
      }
      const id = name.slice(PREFIX.length)
      if (!name.startsWith(PREFIX) || !SAFE_ID.test(id) || type !== 'directory') continue
      if (!ownerIsDead(binding, backups, name)) continue
      if (!isRecorded(id)) removeParts(binding, backups, id)
      binding.heldRemove(backups, name)
      swept.push(id)
    }
  } finally {
    binding.heldClose(backups)
  }
  return swept
}

module.exports = { Staging, directParts, sweepStaging, partsIn, PREFIX }
