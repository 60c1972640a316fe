'use strict'
// The class BackupSystem: its options, the backups folder and where each part of a set lives
// there. Making, listing and restoring sets are in create.js, catalog.js and restore.js,
// mixed into the class here. The heavy parts (archive, database copies, hashing, restore
// containment) come from the backend (native addon or lib/js/backup.js); the orchestration
// is shared, so both backends write the same layout, manifest and restore points.

const fs = require('node:fs')
const path = require('node:path')

const { resolveBackend } = require('../backend')
const { findRoot, trackerPathOf } = require('../root')
const { readTracker } = require('../tracker-store')
const { codedError } = require('../js/errors')
const { DEFAULT_DATABASES, DEFAULT_CONFIG_FILES, DEFAULT_EXCLUDES, KINDS, stampOf } = require('./common')

class BackupSystem {
  /**
   * @param {{ root?: string, rootDir?: string, backend?: 'native'|'js', databases?: string[],
   *   configFiles?: string[], excludes?: string[], lockDir?: string, onProgress?: Function,
   *   quiet?: boolean }} [options]
   */
  constructor(options = {}) {
    const { name, binding } = resolveBackend(options.backend)
    this.backend = name
    this.binding = binding
    this.options = options
    this.rootDir = findRoot(options)
    this.backupsDir = path.join(this.rootDir, 'backups')
    this.checkpointsDir = path.join(this.rootDir, 'checkpoints')
    this.trackerPath = options.trackerPath || trackerPathOf(this.rootDir)
    this.databases = options.databases || DEFAULT_DATABASES
    this.configFiles = options.configFiles || DEFAULT_CONFIG_FILES
    this.excludes = options.excludes || DEFAULT_EXCLUDES
    this.onProgress = options.onProgress || null
    this.tracker = this.loadTracker()
  }

  log(...args) {
    if (!this.options.quiet) console.log(...args)
  }

  warn(...args) {
    if (!this.options.quiet) console.warn(...args)
  }

  loadTracker() {
    try {
      return readTracker(this.trackerPath)
    } catch {
      return null
    }
  }

  /** backups/ is owner-only and ignored by git: it holds a copy of `.env`. */
  ensureBackupsDir() {
    fs.mkdirSync(this.backupsDir, { recursive: true, mode: 0o700 })
    const st = fs.lstatSync(this.backupsDir)
    if (!st.isDirectory()) throw codedError('EUNSAFEDIR', `Refusing ${this.backupsDir}: not a directory`)
    if (process.platform !== 'win32') fs.chmodSync(this.backupsDir, 0o700)
    const ignore = path.join(this.backupsDir, '.gitignore')
    if (!fs.existsSync(ignore)) fs.writeFileSync(ignore, '*\n', { mode: 0o600 })
    for (const kind of [...KINDS, 'manifests']) fs.mkdirSync(path.join(this.backupsDir, kind), { recursive: true, mode: 0o700 })
  }

  /** Where each part of set `id` is in the current backups folder (never the recorded paths). */
  partsOf(id) {
    const b = this.backupsDir
    return {
      git: path.join(b, 'code', id),
      database: path.join(b, 'database', id),
      config: path.join(b, 'config', id),
      state: path.join(b, 'state', id),
      archive: path.join(b, 'full', `${id}.tar.gz`),
      manifest: path.join(b, 'manifests', `${id}.json`),
    }
  }

  newBackupId(label) {
    for (;;) {
      const id = `${label}-${stampOf(Date.now())}`
      const parts = this.partsOf(id)
      if (![parts.git, parts.database, parts.config, parts.manifest].some((p) => fs.existsSync(p))) return id
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2)
    }
  }

  progress(onProgress) {
    const cb = onProgress || this.onProgress
    return typeof cb === 'function' ? cb : undefined
  }
}

// The methods of each concern, non-enumerable as if written in the class body.
for (const part of [require('./create'), require('./catalog'), require('./restore')]) {
  const methods = Object.getOwnPropertyDescriptors(part.prototype)
  delete methods.constructor
  Object.defineProperties(BackupSystem.prototype, methods)
}

module.exports = BackupSystem
