'use strict'
// Restoring a set: every target checked inside the root before any is written, the code
// reset from the bundle, databases and config files put back atomically, the tracker's
// restore points kept; a pre-restore backup first, a dry run that changes nothing.
// Methods of BackupSystem, mixed in by lib/backup/backup-system.js.

const fs = require('node:fs')
const path = require('node:path')

const { updateTracker } = require('../tracker-store')
const { codedError } = require('../js/errors')
const { readJson } = require('./common')
const { gitText, gitOrThrow } = require('./system-info')

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

  /** The files of an info JSON, each with its source in the current set and its target. */
  infoFiles(dir, infoName, point) {
    const info = readJson(path.join(dir, infoName))
    if (!info || !Array.isArray(info.files)) throw codedError('ECORRUPT', `${infoName} of ${point.id} is missing or damaged`)
    return info.files.map((f) => ({
      original: this.relativeOriginal(f.original, point),
      // only the file name of the recorded path is trusted: the set may have moved, and a
      // crafted path must not make us read files from elsewhere
      source: path.join(dir, path.basename(String(f.backup || ''))),
    }))
  }

  /** Check every target of a part before writing any of them. */
  containAll(files) {
    return files.map((f) => ({ ...f, target: this.binding.backupContainedPath(this.rootDir, f.original) }))
  }

  gitInfo(point) {
    const info = readJson(path.join(this.partsOf(point.id).git, 'git-info.json'))
    if (!info) return null
    if (!/^[0-9a-f]{7,64}$/.test(String(info.commit))) throw codedError('ECORRUPT', `git-info.json of ${point.id} has an invalid commit`)
    return info
  }

  restoreCode(point) {
    const info = this.gitInfo(point)
    if (!info) throw codedError('ENOENT', `Backup ${point.id} has no code part`)
    const bundle = path.join(this.partsOf(point.id).git, 'repo.bundle')
    if (gitText(this.rootDir, ['cat-file', '-e', `${info.commit}^{commit}`]) === null) {
      if (!fs.existsSync(bundle)) throw codedError('ENOENT', `Commit ${info.commit} is not in the repository and ${bundle} is missing`)
      gitOrThrow(this.rootDir, ['fetch', '--quiet', bundle, '+refs/heads/*:refs/remotes/session-resilience-backup/*'])
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

  restoreDatabases(point) {
    const files = this.containAll(this.infoFiles(this.partsOf(point.id).database, 'db-info.json', point))
    for (const f of files) {
      this.binding.backupRestoreDatabase(this.rootDir, f.original, f.source)
      this.log(`✅ Database restored: ${f.original}`)
    }
    return true
  }

  restoreConfig(point, warnings) {
    const files = this.containAll(this.infoFiles(this.partsOf(point.id).config, 'config-info.json', point))
    for (const f of files) {
      if (!fs.existsSync(f.source)) {
        warnings.push(`Config backup missing: ${f.original}`)
        continue
      }
      if (this.isTracker(f.target)) this.restoreTracker(f.source)
      else this.binding.backupRestoreFile(this.rootDir, f.original, f.source)
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
   * kept. Written under the tracker lock, the previous file kept as `.pre-restore.<ms>`.
   */
  restoreTracker(source) {
    const saved = readJson(source)
    if (!saved || typeof saved !== 'object') throw codedError('ECORRUPT', `Backup of the tracker ${source} does not parse`)
    fs.copyFileSync(this.trackerPath, `${this.trackerPath}.pre-restore.${Date.now()}`)
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

  /** What a restore would do, without doing it: `{ code, database, config, warnings, errors }`. */
  simulateRestore(point, options = {}) {
    const result = { code: false, database: false, config: false, warnings: [], errors: [] }
    this.log(`\n🔍 DRY RUN: restore of ${point.id}\n`)
    const parts = this.partsOf(point.id)
    if (options.restoreCode !== false) {
      try {
        const info = this.gitInfo(point)
        if (!info) result.warnings.push('No code backup in this set')
        else {
          result.code = true
          this.log(`   Code: reset to ${info.commit} (${info.branch})`)
        }
      } catch (err) {
        result.errors.push(`code: ${err.message}`)
      }
    }
    const simulate = (kind, dir, infoName) => {
      try {
        for (const f of this.containAll(this.infoFiles(dir, infoName, point))) {
          if (!fs.existsSync(f.source)) result.warnings.push(`${kind} backup missing: ${f.original}`)
          else this.log(`   ${kind}: ${f.original} -> ${f.target}`)
        }
        return true
      } catch (err) {
        result.errors.push(`${kind}: ${err.message}`)
        return false
      }
    }
    if (options.restoreDatabase !== false && fs.existsSync(parts.database)) result.database = simulate('database', parts.database, 'db-info.json')
    if (options.restoreConfig !== false && fs.existsSync(parts.config)) result.config = simulate('config', parts.config, 'config-info.json')
    for (const w of result.warnings) this.log(`   ⚠️  ${w}`)
    for (const e of result.errors) this.log(`   ❌ ${e}`)
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
    const point = this.findPoint(backupId)
    if (!point) {
      const ids = this.restorePoints().map((p) => p.id)
      this.log(`Available backups: ${ids.length ? ids.join(', ') : '(none)'}`)
      throw codedError('ENOENT', `Backup ${backupId} not found`)
    }
    const integrity = await this.validateBackupIntegrity(point)
    if (!integrity.valid) throw codedError('ECORRUPT', `Backup integrity check failed: ${integrity.errors.join('; ')}`)
    if (options.dryRun) return this.simulateRestore(point, options)

    const wantCode = options.restoreCode !== false && point.git !== null && fs.existsSync(this.partsOf(point.id).git)
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
    const result = { code: false, database: false, config: false }
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
    const parts = this.partsOf(point.id)
    const attempted = []
    const plan = [
      ['code', wantCode, () => this.restoreCode(point)],
      ['database', options.restoreDatabase !== false && fs.existsSync(parts.database), () => this.restoreDatabases(point)],
      ['config', options.restoreConfig !== false && fs.existsSync(parts.config), () => this.restoreConfig(point, warnings)],
    ]
    for (const [part, wanted, fn] of plan) {
      if (!wanted) continue
      attempted.push(part)
      attempt(part, fn)
    }
    this.putBackRestorePoints(currentPoints)
    for (const w of warnings) if (!w.includes('restore failed')) this.warn(`⚠️  ${w}`)
    if (attempted.length > 0 && !attempted.some((p) => result[p])) throw codedError('ERESTORE', 'All restore operations failed')
    this.log(`✅ Restore of ${point.id} complete`)
    return result
  }
}

module.exports = Restore
