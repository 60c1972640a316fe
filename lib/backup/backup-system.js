'use strict'
// The class BackupSystem: its options, the backups folder and where each part of a set lives
// there. Making, listing and restoring sets are in create.js, catalog.js and restore.js,
// mixed into the class here, with the legacy part-by-part methods of legacy.js. The heavy parts (archive, database copies, hashing, restore
// containment) come from the backend (native addon or lib/js/backup.js); the orchestration
// is shared, so both backends write the same layout, manifest and restore points.

const fs = require('node:fs')
const path = require('node:path')

const { resolveBackend } = require('../backend')
const { addMethods } = require('../mixin')
const { findRoot, trackerPathOf, isProjectRoot, noRootError } = require('../root')
const { readTracker } = require('../tracker-store')
const { codedError } = require('../js/errors')
const { DEFAULT_DATABASES, DEFAULT_CONFIG_FILES, DEFAULT_EXCLUDES, KINDS, stampOf, readJson } = require('./common')
const { partsIn, sweepStaging, PREFIX } = require('./staging')

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
    // No project: the cwd was the last resort. Reading (list, verify) says so; writing
    // (create, restore, cleanup) refuses with ENOROOT.
    this.rootIsProject = isProjectRoot(this.rootDir, options)
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

  requireProject() {
    if (!this.rootIsProject) throw noRootError(this.options)
  }

  noProjectMessage() {
    return `No project found: ${noRootError(this.options).message.replace(/^No project found: /, '')}`
  }

  /** Remove what killed backups left (their staging folders, once their owner is dead). */
  sweepStaging() {
    // The tracker as it is on disk, never repaired here: when it does not parse, every id
    // counts as recorded (parts moved into place are kept; only staging folders go).
    const tracker = readJson(this.trackerPath)
    const points = tracker && tracker.backupStrategy && tracker.backupStrategy.restorePoints
    const recorded = Array.isArray(points) ? new Set(points.map((p) => p && p.id)) : null
    const swept = sweepStaging(this.backupsDir, (id) => recorded === null || recorded.has(id))
    if (swept.length) this.warn(`🧹 Removed ${swept.length} unfinished backup(s) left by a stopped process: ${swept.join(', ')}`)
    return swept
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
    return partsIn(this.backupsDir, id)
  }

  newBackupId(label) {
    for (;;) {
      const id = `${label}-${stampOf(Date.now())}`
      const parts = this.partsOf(id)
      const staging = path.join(this.backupsDir, `${PREFIX}${id}`)
      if (![parts.git, parts.database, parts.config, parts.manifest, staging].some((p) => fs.existsSync(p))) return id
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2)
    }
  }

  progress(onProgress) {
    const cb = onProgress || this.onProgress
    return typeof cb === 'function' ? cb : undefined
  }
}

// The methods of each concern (and the legacy part-by-part ones), as if written in the class body.
addMethods(BackupSystem, require('./create'), require('./catalog'), require('./restore'), require('./legacy'))

/** Stop every backup this process is making (Ctrl+C); resolves once they cleaned up. */
BackupSystem.cancelRunning = require('./create').cancelRunning

module.exports = BackupSystem
