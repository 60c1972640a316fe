'use strict'
// Restoring a set: every target checked inside the root before any is written, the code
// reset from the bundle, databases and config files put back atomically, the tracker's
// restore points kept; a pre-restore backup first, a dry run that changes nothing.
// Methods of BackupSystem, mixed in by lib/backup/backup-system.js.

const fs = require('node:fs')
const path = require('node:path')

const { updateTracker, readTracker } = require('../tracker-store')
const { codedError } = require('../js/errors')
const { lockDirOf } = require('../js/lock/options')
const { gitText, gitOrThrow } = require('./system-info')

/** Numbers the pre-restore folders this process makes (two in one ms must not collide). */
let keepSeq = 0

class Restore {
  /** A recorded `original` as a path relative to the root (legacy sets may hold absolute ones). */
  relativeOriginal(original, point) {
    if (typeof original !== 'string') return original
    if (!path.isAbsolute(original)) return original
    // An absolute path inside the root that made the set: re-root it; anything else stays
    // absolute and is refused by the containment check.
    const recorded = typeof point.config === 'string' ? point.config : ''
    const marker = `${path.sep}backups${path.sep}`
    const cut = recorded.lastIndexOf(marker)
    const recordedRoot = cut > 0 ? recorded.slice(0, cut) : null
    for (const root of [recordedRoot, this.rootDir]) {
      if (root && original.startsWith(root + path.sep)) return original.slice(root.length + 1)
    }
    return original
  }

  /** The files of an info JSON (`backups/<setRel>/<infoName>`), each with its source in the current set. */
  infoFiles(setRel, infoName, point) {
    const dir = path.join(this.backupsDir, setRel)
    const info = this.readJsonIn(`${setRel}/${infoName}`)
    if (!info || !Array.isArray(info.files)) throw codedError('ECORRUPT', `${infoName} of ${point.id} is missing or damaged`)
    return info.files.map((f) => ({
      original: this.relativeOriginal(f.original, point),
      // only the file name of the recorded path is trusted: the set may have moved, and a
      // crafted path must not make us read files from elsewhere
      source: path.join(dir, path.basename(String(f.backup || ''))),
    }))
  }

  /**
   * Check every target of a part before writing any of them: inside the root, no symlink on
   * the way, never in `.git/` or `backups/` (the backend refuses those), nor the lock folder.
   */
  containAll(files) {
    const locks = path.relative(this.rootDir, lockDirOf(this.options))
    const inLocks = (original) => {
      if (!locks || locks.startsWith('..') || path.isAbsolute(locks)) return false
      const rel = path.normalize(String(original))
      return rel === locks || rel.startsWith(locks + path.sep)
    }
    return files.map((f) => {
      if (inLocks(f.original)) throw codedError('EPATHESCAPE', `Refusing path ${f.original}: the lock folder is never restored`)
      return { ...f, target: this.binding.backupContainedPath(this.rootDir, f.original) }
    })
  }

  /** Is the set's `source` file there? A link or FIFO in its place is refused, never read. */
  hasSource(source) {
    return this.existsIn(path.relative(this.backupsDir, source).split(path.sep).join('/'))
  }

  /**
   * Keep the current `file` (outside the restore of config files: the tracker) in
   * backups/pre-restore/<ms>-<pid>-<n>/, created exclusively; its path.
   */
  keepPrevious(file) {
    const rel = path.relative(this.rootDir, file)
    const inside = rel && !rel.startsWith('..') && !path.isAbsolute(rel)
    const name = inside ? rel.split(path.sep).join('/') : path.basename(file)
    const keep = `pre-restore/${Date.now()}-${process.pid}-t${keepSeq++}/${name}`
    this.binding.containedMkdir(this.rootDir, 'backups', true)
    if (inside) this.binding.containedCopy(this.rootDir, name, this.rootDir, this.inBackups(keep))
    else this.binding.containedCopy(path.dirname(file), name, this.rootDir, this.inBackups(keep))
    return path.join(this.backupsDir, keep)
  }

  gitInfo(point) {
    const info = this.readJsonIn(`${this.relsOf(point.id).git}/git-info.json`)
    if (!info) return null
    if (!/^[0-9a-f]{7,64}$/.test(String(info.commit))) throw codedError('ECORRUPT', `git-info.json of ${point.id} has an invalid commit`)
    return info
  }

  restoreCode(point) {
    const info = this.gitInfo(point)
    if (!info) throw codedError('ENOENT', `Backup ${point.id} has no code part`)
    if (gitText(this.rootDir, ['cat-file', '-e', `${info.commit}^{commit}`]) === null) {
      // a base set's full bundle first, then this set's increment (lib/backup/snapshot.js)
      for (const bundle of this.bundlesOf(point.id, info, true)) {
        gitOrThrow(this.rootDir, ['fetch', '--quiet', bundle, '+refs/heads/*:refs/remotes/session-resilience-backup/*'])
      }
    }
    const branch = String(info.branch || '')
    const current = (gitText(this.rootDir, ['rev-parse', '--abbrev-ref', 'HEAD']) || '').trim()
    const validBranch = branch && branch !== 'HEAD' && gitText(this.rootDir, ['check-ref-format', '--branch', branch]) !== null
    if (validBranch && branch !== current && !['main', 'master'].includes(branch)) {
      gitOrThrow(this.rootDir, ['checkout', '--quiet', branch, '--'])
    }
    gitOrThrow(this.rootDir, ['reset', '--hard', '--quiet', info.commit])
    const head = (gitText(this.rootDir, ['rev-parse', 'HEAD']) || '').trim()
    if (!head.startsWith(info.commit)) throw codedError('ECOMMAND', `HEAD is ${head} after restore, expected ${info.commit}`)
    this.log(`✅ Code restored to ${info.commit.slice(0, 8)}`)
    return true
  }

  restoreDatabases(point, previous = []) {
    const files = this.containAll(this.infoFiles(this.relsOf(point.id).database, 'db-info.json', point))
    for (const f of files) {
      const done = this.binding.backupRestoreDatabase(this.rootDir, f.original, f.source)
      if (done.previous) previous.push(done.previous)
      this.log(`✅ Database restored: ${f.original}`)
    }
    return true
  }

  restoreConfig(point, warnings, previous = []) {
    const files = this.containAll(this.infoFiles(this.relsOf(point.id).config, 'config-info.json', point))
    for (const f of files) {
      if (!this.hasSource(f.source)) {
        warnings.push(`Config backup missing: ${f.original}`)
        continue
      }
      if (this.isTracker(f.target)) previous.push(this.restoreTracker(f.source))
      else {
        const done = this.binding.backupRestoreFile(this.rootDir, f.original, f.source)
        if (done.previous) previous.push(done.previous)
      }
      this.log(`✅ Config restored: ${f.original}`)
    }
    return true
  }

  isTracker(target) {
    try {
      return fs.realpathSync.native(target) === fs.realpathSync.native(this.trackerPath)
    } catch {
      return false
    }
  }

  /**
   * The tracker comes back like any config file, except its restore points: they describe
   * the backups that exist now (including the pre-restore one), so the current list is
   * kept. Written under the tracker lock, the previous file kept in backups/pre-restore/;
   * returns that copy's path.
   */
  restoreTracker(source) {
    const saved = this.readJsonIn(path.relative(this.backupsDir, source).split(path.sep).join('/'))
    if (!saved || typeof saved !== 'object') throw codedError('ECORRUPT', `Backup of the tracker ${source} does not parse`)
    const previous = this.keepPrevious(this.trackerPath)
    this.tracker = updateTracker(
      this.trackerPath,
      (current) => {
        const points = current.backupStrategy && current.backupStrategy.restorePoints
        if (Array.isArray(points)) {
          saved.backupStrategy = { ...(saved.backupStrategy || {}), restorePoints: points }
        }
        return saved
      },
      { backend: this.backend, lockDir: this.options.lockDir },
    )
    return previous
  }

  recordedPoints() {
    const tracker = this.loadTracker()
    const points = tracker && tracker.backupStrategy && tracker.backupStrategy.restorePoints
    return Array.isArray(points) ? points : null
  }

  putBackRestorePoints(points) {
    if (!points || !fs.existsSync(this.trackerPath)) return
    this.tracker = updateTracker(
      this.trackerPath,
      (tracker) => {
        tracker.backupStrategy = { ...(tracker.backupStrategy || {}), restorePoints: points }
      },
      { backend: this.backend, lockDir: this.options.lockDir },
    )
  }

  /**
   * What a restore would do, without doing it: `{ code, database, config, warnings, errors }`
   * (a part is true when it has something to restore), with the legacy simulation lines.
   */
  simulateRestore(point, options = {}) {
    const result = { code: false, database: false, config: false, warnings: [], errors: [] }
    this.log('📋 RESTORE SIMULATION')
    this.log('═══════════════════')
    const rels = this.relsOf(point.id)
    if (options.restoreCode !== false) {
      try {
        const info = this.gitInfo(point)
        if (!info) result.warnings.push('No code backup in this set')
        else {
          this.log('🔍 Code restore simulation:')
          this.log(`  📍 Target commit: ${info.commit.slice(0, 8)}`)
          this.log(`  🌿 Target branch: ${info.branch}`)
          const here = gitText(this.rootDir, ['cat-file', '-e', `${info.commit}^{commit}`]) !== null
          const bundled = this.bundlesOf(point.id, info, false).length > 0
          if (here || bundled) {
            this.log(here ? '  ✅ Target commit exists' : "  ✅ Target commit in the backup's git bundle")
            result.code = true
          } else {
            result.errors.push(`Target commit ${info.commit} not found`)
            this.log('  ❌ Target commit not found')
          }
        }
      } catch (err) {
        result.errors.push(`code: ${err.message}`)
      }
    }
    const simulate = (kind, title, icon, setRel, infoName) => {
      this.log(`🔍 ${title} restore simulation:`)
      try {
        const files = this.containAll(this.infoFiles(setRel, infoName, point))
        this.log(`  ${icon} ${files.length} ${kind} files to restore`)
        let available = 0
        for (const f of files) {
          if (this.hasSource(f.source)) available++
          else result.warnings.push(`${kind} backup missing: ${f.original}`)
        }
        this.log(`  ✅ ${available}/${files.length} backup files available`)
        return available > 0
      } catch (err) {
        result.errors.push(`${kind}: ${err.message}`)
        return false
      }
    }
    if (options.restoreDatabase !== false && this.existsIn(rels.database)) result.database = simulate('database', 'Database', '📊', rels.database, 'db-info.json')
    if (options.restoreConfig !== false && this.existsIn(rels.config)) result.config = simulate('config', 'Config', '📁', rels.config, 'config-info.json')
    this.log('\n📊 SIMULATION RESULTS:')
    this.log(`  Code: ${result.code ? '✅' : '❌'}`)
    this.log(`  Database: ${result.database ? '✅' : '❌'}`)
    this.log(`  Config: ${result.config ? '✅' : '❌'}`)
    if (result.warnings.length) this.log(`\n⚠️  Warnings:\n${result.warnings.map((w) => `  - ${w}`).join('\n')}`)
    if (result.errors.length) this.log(`\n❌ Errors:\n${result.errors.map((e) => `  - ${e}`).join('\n')}`)
    if (result.code || result.database || result.config) this.log(`\n🎯 Restore would ${result.errors.length ? 'partially' : 'fully'} succeed`)
    else this.log('\n💥 Restore would fail completely')
    return result
  }

  uncommittedChanges() {
    if (!this.binding.backupIsGitRepo(this.rootDir)) return ''
    return (gitText(this.rootDir, ['status', '--porcelain']) || '').trim()
  }

  /**
   * Restore a set. Options (legacy): dryRun, force, autoStash, continueOnError, restoreCode,
   * restoreDatabase, restoreConfig, skipCurrentBackup. Returns `{ code, database, config }`.
   */
  async restoreFromBackup(backupId, options = {}) {
    this.requireProject()
    this.log(`🔄 Restoring from backup: ${String(backupId)}`)
    try {
      return await this.restoreWithLines(backupId, options)
    } catch (err) {
      if (!this.options.quiet) console.error(`❌ Restore failed: ${err.message}`)
      throw err
    }
  }

  /** `restoreFromBackup` after its first line (legacy printed `❌ Restore failed` on any error). */
  async restoreWithLines(backupId, options) {
    // The tracker read for real, once: a failing read is that failure (EIO, EACCES...), not
    // "Backup not found" (restorePoints() alone reads leniently, for listing).
    let tracker
    try {
      tracker = readTracker(this.trackerPath)
    } catch (err) {
      throw codedError(err.code || 'EIO', `Restore of ${String(backupId)} failed reading the tracker ${this.trackerPath}: ${err.message}`)
    }
    const point = this.findPoint(backupId, tracker)
    if (!point) {
      if (!this.options.quiet) console.error(`❌ Backup ${backupId} not found`)
      this.log('Available backups:')
      for (const p of this.restorePoints()) this.log(`  - ${p.id} (${p.timestamp})`)
      throw codedError('ENOENT', `Backup ${backupId} not found`)
    }
    const integrity = await this.validateBackupIntegrity(point)
    if (!integrity.valid) throw codedError('ECORRUPT', `Backup integrity check failed: ${integrity.errors.join('; ')}`)
    if (options.dryRun) {
      this.log('🔍 DRY RUN - No changes will be made')
      return this.simulateRestore(point, options)
    }

    const rels = this.relsOf(point.id)
    const wantCode = options.restoreCode !== false && point.git !== null && this.existsIn(rels.git)
    if (wantCode && !options.force) {
      const dirty = this.uncommittedChanges()
      if (dirty) {
        if (options.autoStash === false) {
          throw codedError('EDIRTY', 'Uncommitted changes in the work tree: commit or stash them, or restore with force')
        }
        gitOrThrow(this.rootDir, ['stash', 'push', '--include-untracked', '-m', 'Auto-stash before restore'])
        this.log('📦 Uncommitted changes stashed (Auto-stash before restore)')
      }
    }
    if (!options.skipCurrentBackup) {
      this.log('📦 Creating pre-restore backup...')
      try {
        const pre = await this.createFullBackup('pre-restore')
        this.log(`✅ Current state saved as ${pre}`)
      } catch (err) {
        if (!options.force) throw codedError(err.code || 'EIO', `Pre-restore backup failed: ${err.message}`)
        this.warn(`⚠️  Pre-restore backup failed (continuing, force): ${err.message}`)
      }
    }
    // Restore points describe the backups that exist now (the pre-restore one included):
    // the code reset or the config restore may bring back an older tracker, so the current
    // list is put back once the parts are restored.
    const currentPoints = this.recordedPoints()
    // the copies of the files a restore replaced, all in backups/pre-restore/ (never beside
    // them in the work tree, where `git add -A` would commit a copy of `.env`)
    const previous = []
    const result = { code: false, database: false, config: false, previous }
    const warnings = []
    const attempt = (part, fn) => {
      try {
        result[part] = fn()
      } catch (err) {
        if (!options.continueOnError) throw err
        warnings.push(`${part} restore failed: ${err.message}`)
        this.warn(`⚠️  ${part} restore failed: ${err.message}`)
      }
    }
    const attempted = []
    const plan = [
      ['code', wantCode, () => this.restoreCode(point)],
      ['database', options.restoreDatabase !== false && this.existsIn(rels.database), () => this.restoreDatabases(point, previous)],
      ['config', options.restoreConfig !== false && this.existsIn(rels.config), () => this.restoreConfig(point, warnings, previous)],
    ]
    const titles = { code: 'code', database: 'database', config: 'configuration' }
    for (const [part, wanted, fn] of plan) {
      if (!wanted) continue
      attempted.push(part)
      this.log(`🔄 Restoring ${titles[part]}...`)
      attempt(part, fn)
    }
    this.putBackRestorePoints(currentPoints)
    for (const w of warnings) if (!w.includes('restore failed')) this.warn(`⚠️  ${w}`)
    this.log('\n📊 Restore Summary:')
    this.log(`  Code: ${result.code ? '✅' : '❌'}`)
    this.log(`  Database: ${result.database ? '✅' : '❌'}`)
    this.log(`  Config: ${result.config ? '✅' : '❌'}`)
    if (attempted.length > 0 && !attempted.some((p) => result[p])) throw codedError('ERESTORE', 'All restore operations failed')
    // legacy counted the parts not asked for as failures; only those attempted count here
    this.log(attempted.every((p) => result[p]) ? '\n✅ Restore completed successfully' : '\n⚠️  Restore completed with some failures')
    this.log('⚠️  Please restart services and run tests')
    this.log(`✅ Restore of ${point.id} complete`)
    return result
  }
}

module.exports = Restore
