'use strict'
// All or nothing: a backup set is built in `backups/.staging-<id>/` (the same layout as
// `backups/` itself: code/<id>, database/<id>, config/<id>, state/<id>, full/<id>.tar.gz,
// manifests/<id>.json) and its parts are moved into place only once every part succeeded;
// the restore point is recorded after that. A backup that fails or is interrupted removes
// its staging folder; one that is killed leaves it, with an owner record (pid, process start
// time, host: a lock record, judged by the lock liveness code), and the next create or
// cleanup removes it once that owner is dead, together with any part it had already moved
// but never recorded.

const fs = require('node:fs')
const path = require('node:path')

const { codedError } = require('../js/errors')
const { SAFE_ID } = require('./common')
const { ourRecord, recordText, parseRecord, newToken } = require('../js/lock/record')
const { judge, DEAD } = require('../js/lock/liveness')
const { GARBLED_GRACE_MS } = require('../js/lock/options')

const PREFIX = '.staging-'
const OWNER = 'owner.json'
/** Another host's staging folder is judged dead only after this long (as stale locks). */
const FOREIGN_STALE_MS = 24 * 3600 * 1000

/** Where each part of set `id` lives under `base` (`backups/` or a staging folder). */
function partsIn(base, id) {
  return {
    git: path.join(base, 'code', id),
    database: path.join(base, 'database', id),
    config: path.join(base, 'config', id),
    state: path.join(base, 'state', id),
    archive: path.join(base, 'full', `${id}.tar.gz`),
    manifest: path.join(base, 'manifests', `${id}.json`),
  }
}

/** The order parts are moved in: the manifest last, so a set with a manifest is whole. */
const MOVE_ORDER = ['git', 'database', 'config', 'state', 'archive', 'manifest']

class Staging {
  /** Make the staging folder of `id` under `backupsDir`, owned by this process. */
  constructor(backupsDir, id) {
    this.backupsDir = backupsDir
    this.id = id
    this.dir = path.join(backupsDir, `${PREFIX}${id}`)
    fs.mkdirSync(this.dir, { mode: 0o700 }) // not recursive: EEXIST if another create has it
    const owner = { ...ourRecord(`backup-${id}`, newToken(), null), id }
    fs.writeFileSync(path.join(this.dir, OWNER), recordText(owner), { mode: 0o600 })
    this.parts = partsIn(this.dir, id)
    this.final = partsIn(backupsDir, id)
    for (const p of Object.values(this.parts)) fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 })
  }

  /** Move every part that was made into place, the manifest last. */
  commit() {
    for (const key of MOVE_ORDER) {
      const from = this.parts[key]
      if (!fs.existsSync(from)) continue
      try {
        fs.renameSync(from, this.final[key])
      } catch (err) {
        throw codedError(err.code || 'EIO', `Cannot move ${from} into place as ${this.final[key]}: ${err.message}`)
      }
    }
  }

  /** The staging folder is no longer needed (after commit), or the set is given up. */
  remove({ movedToo = false } = {}) {
    if (movedToo) removeParts(this.backupsDir, this.id)
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

function removeParts(backupsDir, id) {
  for (const p of Object.values(partsIn(backupsDir, id))) fs.rmSync(p, { recursive: true, force: true })
}

/** Is the owner of a staging folder gone? (Only a regular owner file is read: never a FIFO.) */
function ownerIsDead(dir) {
  let bytes = null
  try {
    if (fs.lstatSync(path.join(dir, OWNER)).isFile()) bytes = fs.readFileSync(path.join(dir, OWNER))
  } catch (err) {
    if (err.code !== 'ENOENT') return false
  }
  const record = bytes && parseRecord(bytes)
  if (record) return judge(record, FOREIGN_STALE_MS) === DEAD
  // no record (yet): being made right now, unless it has been like that for a while
  try {
    return Date.now() - fs.statSync(dir).mtimeMs > GARBLED_GRACE_MS
  } catch {
    return false
  }
}

/**
 * Remove the staging folders of dead owners under `backupsDir`, and any part of their set
 * that was moved into place but is not a recorded restore point (`isRecorded(id)`).
 * Returns the ids swept.
 */
function sweepStaging(backupsDir, isRecorded) {
  let names
  try {
    names = fs.readdirSync(backupsDir)
  } catch (err) {
    if (err.code === 'ENOENT') return []
    throw err
  }
  const swept = []
  for (const name of names) {
    const id = name.slice(PREFIX.length)
    if (!name.startsWith(PREFIX) || !SAFE_ID.test(id)) continue
    const dir = path.join(backupsDir, name)
    if (!fs.lstatSync(dir).isDirectory() || !ownerIsDead(dir)) continue
    if (!isRecorded(id)) removeParts(backupsDir, id)
    fs.rmSync(dir, { recursive: true, force: true })
    swept.push(id)
  }
  return swept
}

module.exports = { Staging, sweepStaging, partsIn, PREFIX }
