'use strict'
// The class BackupSystem: its options, the backups folder and where each part of a set lives
// there. Making, listing and restoring sets are in create.js, catalog.js and restore.js,
// mixed into the class here, with the legacy part-by-part methods of legacy.js. The heavy parts (archive, database copies, hashing, restore
// containment) come from the backend (native addon or lib/js/backup/); the orchestration
// is shared, so both backends write the same layout, manifest and restore points.

const path = require('node:path')

const { resolveBackend } = require('../backend')
const { addMethods } = require('../mixin')
const { findRoot, trackerPathOf, isProjectRoot, noRootError } = require('../root')
const { readTracker } = require('../tracker-store')
const { codedError } = require('../js/errors')
const { DEFAULT_DATABASES, DEFAULT_CONFIG_FILES, DEFAULT_EXCLUDES, KINDS, stampOf, readJson } = require('./common')
const { partsIn, sweepStaging, PREFIX } = require('./staging')
const { sweepScratch, sweepScratchInBackups } = require('../js/scratch')

/** Info files and manifests are small; anything bigger was not written by us. */
const MAX_INFO_BYTES = 64 * 1024 * 1024
/** Codes that mean "refused for containment": never swallowed as "missing". */
/** What a read of a file that is not there fails with: any other failure is reported. */
const ABSENT = new Set(['ENOENT', 'ENOTDIR'])

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

  // ---- contained access: every file operation under backups/ goes through the backend's
  // contained calls from the root (no symlink followed anywhere on the way, regular files
  // only), so a symlinked backups/, kind folder, set or member is refused, never followed.

  /** `backups/<rel>`, relative to the root: what the contained calls take. */
  inBackups(rel) {
    return rel ? `backups/${rel}` : 'backups'
  }

  /** Is `backups/<rel>` there? A symlink at it or on the way is refused (EPATHESCAPE). */
  existsIn(rel) {
    const found = this.binding.containedStat(this.rootDir, this.inBackups(rel))
    if (found !== null && found.type === 'symlink') {
      throw codedError('EPATHESCAPE', `Refusing path ${path.join(this.backupsDir, rel)}: it is a symbolic link`)
    }
    return found !== null
  }

  /** The JSON of `backups/<rel>`, or null when missing or damaged; a link on the way, or a failed read, throws. */
  readJsonIn(rel) {
    let bytes
    try {
      bytes = this.binding.containedRead(this.rootDir, this.inBackups(rel), MAX_INFO_BYTES)
    } catch (err) {
      // missing is null; a read that failed (EIO, EACCES...) is that failure, not a missing
      // or damaged file (a restore must say what really failed)
      if (!ABSENT.has(err.code)) throw err
      return null
    }
    try {
      return JSON.parse(bytes.toString('utf8'))
    } catch {
      return null
    }
  }

  /** Each part of set `id`, relative to backups/. */
  relsOf(id) {
    return {
      git: `code/${id}`,
      database: `database/${id}`,
      config: `config/${id}`,
      state: `state/${id}`,
      archive: `full/${id}.tar.gz`,
      manifest: `manifests/${id}.json`,
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
    const swept = sweepStaging(this.binding, this.rootDir, (id) => recorded === null || recorded.has(id))
    if (swept.length) this.warn(`🧹 Removed ${swept.length} unfinished backup(s) left by a stopped process: ${swept.join(', ')}`)
    // and the database scratch folders (lib/js/scratch.js) such a process left in the temp dir
    // and in backups/ (a native restore's, on Linux)
    sweepScratch()
    sweepScratchInBackups(this.binding, this.rootDir)
    return swept
  }


  /**
   * backups/ is owner-only (one warning when an own folder was open to others; refused when
   * another user owns it) and ignored by git: it holds a copy of `.env`.
   */
  ensureBackupsDir() {
    if (this.binding.containedMkdir(this.rootDir, 'backups', true)) {
      this.warn(`⚠️  ${this.backupsDir} was open to other users: made owner-only (0700)`)
    }
    const backups = this.binding.heldOpen(this.rootDir, 'backups', false)
    try {
      try {
        this.binding.heldWrite(backups, '.gitignore', '*\n', { exclusive: true, fsync: false })
      } catch (err) {
        if (err.code !== 'EEXIST') throw err
      }
      for (const kind of [...KINDS, 'manifests']) this.binding.heldClose(this.binding.heldSub(backups, kind, 'create'))
    } finally {
      this.binding.heldClose(backups)
    }
  }

  /** Where each part of set `id` is in the current backups folder (never the recorded paths). */
  partsOf(id) {
    return partsIn(this.backupsDir, id)
  }

  newBackupId(label) {
    for (;;) {
      const id = `${label}-${stampOf(Date.now())}`
      const rels = this.relsOf(id)
      const taken = [rels.git, rels.database, rels.config, rels.manifest, `${PREFIX}${id}`]
      if (!taken.some((p) => this.existsIn(p))) return id
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2)
    }
  }

  progress(onProgress) {
    const cb = onProgress || this.onProgress
    return typeof cb === 'function' ? cb : undefined
  }
}

// The methods of each concern (and the legacy part-by-part ones), as if written in the class body.
addMethods(BackupSystem, require('./create'), require('./catalog'), require('./restore'), require('./legacy'), require('./snapshot'), require('./history'))

/** Stop every backup this process is making (Ctrl+C); resolves once they cleaned up. */
BackupSystem.cancelRunning = require('./create').cancelRunning

module.exports = BackupSystem
