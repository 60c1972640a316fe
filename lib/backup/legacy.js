'use strict'
// The legacy BackupSystem's part-by-part public methods (scripts call them, subclasses
// override them), mixed into the class (backup-system.js) under their legacy names, with
// their legacy return values (a part's folder, the archive's path, a boolean) and console
// lines. Each does the sound thing (COMPATIBILITY.md): the parts are made by the same code
// as `createFullBackup`, ids are checked before they become paths, the tracker is written
// under its lock, and a direct `restoreGit` refuses a dirty work tree unless forced.

const fs = require('node:fs')
const { codedError } = require('../js/errors')
const { updateTracker } = require('../tracker-store')
const { SAFE_ID } = require('./common')

function checkId(backupId) {
  if (typeof backupId !== 'string' || !SAFE_ID.test(backupId)) {
    throw codedError('EBADLABEL', `Invalid backup id ${JSON.stringify(String(backupId))}: use A-Z a-z 0-9 _ . - (not starting with .)`)
  }
  return backupId
}

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(2)

class LegacyParts {
  /** Legacy: make backups/ (owner-only, git-ignored), its part folders and checkpoints/. */
  ensureDirectories() {
    this.ensureBackupsDir()
    fs.mkdirSync(this.checkpointsDir, { recursive: true })
  }

  /**
   * Legacy: write `this.tracker`. Under the tracker lock and atomic; it replaces what others
   * wrote since this object read the tracker (prefer the methods that record one change).
   */
  saveTracker() {
    if (!this.tracker) return
    const mine = structuredClone(this.tracker)
    this.tracker = this.updateTrackerFile((tracker) => {
      for (const key of Object.keys(tracker)) delete tracker[key]
      Object.assign(tracker, mine)
    })
  }

  /** Legacy: record restore point `{ id: backupId, ...backupInfo }` (newest first, 10 kept). */
  updateBackupTracker(backupId, backupInfo = {}) {
    checkId(backupId)
    if (!fs.existsSync(this.trackerPath)) return
    this.recordRestorePoint({ timestamp: new Date().toISOString(), ...backupInfo, id: backupId })
  }

  /** Legacy: `git status --porcelain` is not empty (false outside a git repository). */
  async checkUncommittedChanges() {
    return this.uncommittedChanges().length > 0
  }

  /** Legacy: the git bundle and git-info.json of set `backupId`; its folder, or null when skipped. */
  async createGitBackup(backupId) {
    this.ensureBackupsDir()
    const code = await this.inBackupsDir(checkId(backupId), (at) => this.backupCode(backupId, at))
    this.reportPart('git', code)
    return code.skipped ? null : code.dir
  }

  /** Legacy: consistent copies (and `.sql` dumps) of the project's SQLite databases; their folder. */
  async createDatabaseBackup(backupId) {
    this.ensureBackupsDir()
    return this.inBackupsDir(checkId(backupId), async (at) => this.reportPart('database', await this.backupDatabases(backupId, at), 0, at))
  }

  /** Legacy: copies of the configuration files; their folder. */
  async createConfigBackup(backupId) {
    this.ensureBackupsDir()
    return this.inBackupsDir(checkId(backupId), (at) => this.reportPart('config', this.backupConfig(backupId, at), 0, at))
  }

  /** Legacy: system-info.json (no other users' processes, no secret-looking values); its folder. */
  async createStateBackup(backupId) {
    this.ensureBackupsDir()
    return this.reportPart('state', await this.inBackupsDir(checkId(backupId), (at) => this.backupState(backupId, at)))
  }

  /** Legacy: `backups/full/<id>.tar.gz` of the project (same excludes); its path. */
  async createFullArchive(backupId) {
    this.ensureBackupsDir()
    const archive = await this.inBackupsDir(checkId(backupId), (at) =>
      this.binding.backupCreateArchive(this.rootDir, at.pinned('archive'), this.excludes, this.progress()),
    )
    return this.reportPart('archive', this.partsOf(backupId).archive, archive.size)
  }

  /**
   * Legacy: reset the code to restore point `backup` (a point or its id). A dirty work tree
   * is refused (EDIRTY) unless `options.force`: legacy reset it without asking when called
   * directly. The restore points recorded now are kept (the reset may restore an older tracker).
   */
  async restoreGit(backup, options = {}) {
    const point = this.pointOf(backup)
    if (!options.force && this.uncommittedChanges()) {
      throw codedError('EDIRTY', 'Uncommitted changes in the work tree: commit or stash them, or restore with force')
    }
    const points = this.recordedPoints() // the reset may bring back an older tracker
    this.restoreCode(point)
    this.putBackRestorePoints(points)
    this.log('✅ Git repository restored successfully')
  }

  /** Legacy: put back the databases of restore point `backup` (a point or its id). */
  async restoreDatabase(backup) {
    this.restoreDatabases(this.pointOf(backup))
  }

  // ---- helpers of the above ----

  /** Read-modify-write of the tracker under its lock; the tracker as written. */
  updateTrackerFile(mutate) {
    return updateTracker(this.trackerPath, mutate, { backend: this.backend, lockDir: this.options.lockDir })
  }

  /** The recorded restore point for a point object or an id (ENOENT when there is none). */
  pointOf(backup) {
    const id = backup && typeof backup === 'object' ? backup.id : backup
    const point = this.findPoint(checkId(id))
    if (!point) throw codedError('ENOENT', `Backup ${id} not found`)
    return point
  }

  /**
   * The legacy line of one part of a set (`  ✅ Git backup: <dir>`, ...); returns `what`.
   * `what` is the part's folder (the archive's path; for git, `{ dir }` or `backupCode`'s
   * `{ skipped }`); the counts come from its info file, read through `at`'s held folder.
   */
  reportPart(kind, what, size, at) {
    if (kind === 'git') {
      if (what.skipped) this.warn(`  ⚠️  Git backup skipped: ${what.skipped}`)
      else this.log(`  ✅ Git backup: ${what.dir}`)
    } else if (kind === 'database') this.log(`  ✅ Database backup: ${at.filesListed('database', 'db-info.json')} databases backed up`)
    else if (kind === 'config') this.log(`  ✅ Config backup: ${at.filesListed('config', 'config-info.json')} files backed up`)
    else if (kind === 'state') this.log(`  ✅ System state backup: ${what}`)
    else this.log(`  ✅ Full archive: ${what} (${mb(size)}MB)`)
    return what
  }
}

module.exports = LegacyParts
