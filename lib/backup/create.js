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
const { MAX_RESTORE_POINTS, writeJson, drainProgress } = require('./common')
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
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const bundlePath = path.join(dir, 'repo.bundle')
    this.binding.backupGitBundle(this.rootDir, bundlePath)
    const status = (gitText(this.rootDir, ['status', '--porcelain']) || '').trim()
    writeJson(this.binding, path.join(dir, 'git-info.json'), {
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
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const canDump = hasCommand('sqlite3')
    const files = []
    for (const rel of this.databases) {
      const original = path.join(this.rootDir, rel)
      if (!fs.existsSync(original)) continue
      const backup = path.join(dir, path.basename(rel))
      const method = this.binding.backupCopyDatabase(original, backup)
      if (method === 'sqlite' && canDump) {
        // The text dump, as legacy, taken from the consistent copy and streamed to its file.
        const fd = fs.openSync(`${backup}.sql`, 'w', 0o600)
        try {
          spawnSync('sqlite3', ['-readonly', backup, '.dump'], { stdio: ['ignore', fd, 'ignore'] })
        } finally {
          fs.closeSync(fd)
        }
      }
      files.push({ original: rel, backup, method })
    }
    writeJson(this.binding, path.join(dir, 'db-info.json'), { files, timestamp: new Date().toISOString() })
    return dir
  }

  backupConfig(id) {
    const dir = this.partsOf(id).config
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const files = []
    for (const rel of this.configFiles) {
      const original = path.join(this.rootDir, rel)
      if (!fs.existsSync(original)) continue
      const backup = path.join(dir, rel.split(/[\\/]/).join('_'))
      fs.copyFileSync(original, backup)
      files.push({ original: rel, backup })
    }
    writeJson(this.binding, path.join(dir, 'config-info.json'), { files, timestamp: new Date().toISOString() })
    return dir
  }

  /** The state snapshot: legacy fields, without other users' processes or secret-looking values. */
  backupState(id) {
    const dir = this.partsOf(id).state
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    writeJson(this.binding, path.join(dir, 'system-info.json'), systemInfo())
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
    writeJson(this.binding, parts.manifest, { version: 1, id, createdAt: new Date().toISOString(), files })
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
