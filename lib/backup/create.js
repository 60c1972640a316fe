'use strict'
// Making a backup set: the code (git bundle), the databases (consistent copies), the config
// files, the state snapshot, and the archive of the whole root written at the same time on
// the thread pool; then the manifest of every file and the restore point in the tracker.
// Methods of BackupSystem, mixed in by lib/backup/backup-system.js.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const { updateTracker } = require('../tracker-store')
const { checkLabel } = require('../js/names')
const { MAX_RESTORE_POINTS, drainProgress } = require('./common')

/** A new file, never opened through a link at its name. */
const WRITE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW || 0)
const { gitText, hasCommand, systemInfo } = require('./system-info')

/** Manifest order: by the bytes of the `/` path, as `backupHashFiles` sorts. */
function byPathBytes(a, b) {
  return Buffer.compare(Buffer.from(a.path), Buffer.from(b.path))
}

class Create {
  async backupCode(id) {
    const dir = this.partsOf(id).git
    if (!this.binding.backupIsGitRepo(this.rootDir)) return { skipped: 'not a git repository' }
    const commit = gitText(this.rootDir, ['rev-parse', 'HEAD'])
    if (commit === null) return { skipped: 'the git repository has no commit yet' }
    const rel = this.relsOf(id).git
    this.mkdirIn(rel)
    const bundlePath = path.join(dir, 'repo.bundle')
    this.binding.backupGitBundle(this.rootDir, bundlePath)
    const status = (gitText(this.rootDir, ['status', '--porcelain']) || '').trim()
    this.writeJsonIn(`${rel}/git-info.json`, {
      branch: (gitText(this.rootDir, ['rev-parse', '--abbrev-ref', 'HEAD']) || '').trim(),
      commit: commit.trim(),
      hasUncommitted: status.length > 0,
      status,
      bundlePath,
    })
    return { dir }
  }

  backupDatabases(id) {
    const dir = this.partsOf(id).database
    const setRel = this.relsOf(id).database
    this.mkdirIn(setRel)
    const canDump = hasCommand('sqlite3')
    const files = []
    for (const rel of this.databases) {
      if (!this.projectFile(rel)) continue
      const original = path.join(this.rootDir, rel)
      const backup = path.join(dir, path.basename(rel))
      const method = this.binding.backupCopyDatabase(original, backup)
      if (method === 'sqlite' && canDump) {
        // The text dump, as legacy, taken from the consistent copy and streamed to its file
        // (a new file: never through a link planted at its name).
        const fd = fs.openSync(`${backup}.sql`, WRITE_NEW, 0o600)
        try {
          spawnSync('sqlite3', ['-readonly', backup, '.dump'], { stdio: ['ignore', fd, 'ignore'] })
        } finally {
          fs.closeSync(fd)
        }
      }
      files.push({ original: rel, backup, method })
    }
    this.writeJsonIn(`${setRel}/db-info.json`, { files, timestamp: new Date().toISOString() })
    return dir
  }

  /**
   * Is the project file `rel` one to back up? A regular file reached without a symlink: a
   * link (to a key outside, say) or a FIFO is skipped with a warning, never read.
   */
  projectFile(rel) {
    let found
    try {
      found = this.binding.containedStat(this.rootDir, rel)
    } catch (err) {
      this.warn(`⚠️  Not backed up: ${rel}: ${err.message}`)
      return false
    }
    if (found === null) return false
    if (found.type === 'file') return true
    this.warn(`⚠️  Not backed up: ${rel} is a ${found.type}, not a regular file`)
    return false
  }

  backupConfig(id) {
    const dir = this.partsOf(id).config
    const setRel = this.relsOf(id).config
    this.mkdirIn(setRel)
    const files = []
    for (const rel of this.configFiles) {
      if (!this.projectFile(rel)) continue
      const name = rel.split(/[\\/]/).join('_')
      this.binding.containedCopy(this.rootDir, rel, this.rootDir, this.inBackups(`${setRel}/${name}`))
      files.push({ original: rel, backup: path.join(dir, name) })
    }
    this.writeJsonIn(`${setRel}/config-info.json`, { files, timestamp: new Date().toISOString() })
    return dir
  }

  /** The state snapshot: legacy fields, without other users' processes or secret-looking values. */
  backupState(id) {
    const dir = this.partsOf(id).state
    this.mkdirIn(this.relsOf(id).state)
    this.writeJsonIn(`${this.relsOf(id).state}/system-info.json`, systemInfo())
    return dir
  }

  /**
   * Make a full backup set and record its restore point; returns its id
   * (`<label>-<ISO time with : and . as ->`). `options.onProgress({ phase, files, bytes })`.
   */
  async createFullBackup(label = 'auto', options = {}) {
    checkLabel(label)
    this.ensureBackupsDir()
    const id = this.newBackupId(label)
    const parts = this.partsOf(id)
    const onProgress = this.progress(options.onProgress)
    this.log(`📦 Creating full backup: ${id}`)
    // The archive is written on the thread pool (tar, gzip) while the other parts are made
    // here, mostly by git and sqlite3 in their own processes: both cores work, where legacy
    // ran one step after the other. The other parts only write under backups/, which the
    // archive excludes: the archive holds the same files as when it was made last.
    const archiving = this.binding.backupCreateArchive(this.rootDir, parts.archive, this.excludes, onProgress)
    archiving.catch(() => {}) // awaited below, on every path: never an unhandled rejection
    let code
    try {
      code = await this.backupCode(id)
      if (code.skipped) this.warn(`⚠️  Code backup skipped: ${code.skipped}`)
      else this.log('✅ Code backed up (git bundle)')
      this.backupDatabases(id)
      this.log('✅ Databases backed up')
      this.backupConfig(id)
      this.log('✅ Configuration backed up')
      this.backupState(id)
      this.log('✅ System state recorded')
    } catch (err) {
      await archiving.catch(() => {}) // nothing left running behind a failed backup
      throw err
    }
    const archive = await archiving
    await drainProgress()
    this.log('✅ Full archive created')
    // The archive's size and digest were taken while it was written: only the other parts
    // are read back and hashed.
    const rels = ['code', 'database', 'config', 'state'].map((k) => `${k}/${id}`)
    const hashed = await this.binding.backupHashFiles(this.backupsDir, rels, onProgress)
    await drainProgress()
    const files = [...hashed, { path: `full/${id}.tar.gz`, size: archive.size, sha256: archive.sha256 }].sort(byPathBytes)
    this.writeJsonIn(this.relsOf(id).manifest, { version: 1, id, createdAt: new Date().toISOString(), files })
    const point = {
      id,
      timestamp: new Date().toISOString(),
      git: code.skipped ? null : parts.git,
      database: parts.database,
      config: parts.config,
      state: parts.state,
      archive: parts.archive,
      manifest: parts.manifest,
      ...(code.skipped ? { codeSkipped: code.skipped } : {}),
      phase: 0,
      week: 0,
    }
    this.recordRestorePoint(point)
    this.log(`✅ Full backup complete: ${id}`)
    return id
  }

  recordRestorePoint(point) {
    const stamp = point.timestamp
    this.tracker = updateTracker(
      this.trackerPath,
      (tracker) => {
        const info = tracker.sessionInfo || {}
        point.phase = typeof info.currentPhase === 'number' ? info.currentPhase : 2
        point.week = typeof info.currentWeek === 'number' ? info.currentWeek : 1
        const strategy = (tracker.backupStrategy = tracker.backupStrategy || { frequency: 'daily', retentionDays: 30 })
        strategy.restorePoints = [point, ...(strategy.restorePoints || [])].slice(0, MAX_RESTORE_POINTS)
        strategy.backupTypes = strategy.backupTypes || {}
        for (const kind of ['code', 'database', 'configuration', 'fullSystem']) {
          strategy.backupTypes[kind] = { ...(strategy.backupTypes[kind] || {}), lastBackup: stamp }
        }
      },
      { backend: this.backend, lockDir: this.options.lockDir },
    )
  }
}

module.exports = Create
