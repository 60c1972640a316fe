'use strict'
// The recorded sets: the restore points (their parts looked up in the current backups
// folder, never at the recorded paths), listing, verifying a set against its manifest,
// the legacy integrity checks, and removing old sets (only inside backups/).
// Methods of BackupSystem, mixed in by lib/backup/backup-system.js.

const fs = require('node:fs')
const path = require('node:path')

const { updateTracker } = require('../tracker-store')
const { codedError } = require('../js/errors')
const { DAY_MS, KINDS, SAFE_ID, drainProgress } = require('./common')

class Catalog {
  /** The recorded restore points, their paths resolved in the current backups folder. */
  restorePoints(tracker = this.loadTracker()) {
    this.tracker = tracker
    const points = (this.tracker && this.tracker.backupStrategy && this.tracker.backupStrategy.restorePoints) || []
    return points
      .filter((p) => p && typeof p.id === 'string')
      .map((p) => {
        if (!SAFE_ID.test(p.id)) return { ...p, unsafeId: true }
        const parts = this.partsOf(p.id)
        const resolved = {
          ...p,
          git: p.git === null ? null : parts.git,
          database: parts.database,
          config: parts.config,
          state: parts.state,
          archive: this.isSnapshotPoint(p) ? null : parts.archive,
        }
        if (this.existsIn(this.relsOf(p.id).manifest)) resolved.manifest = parts.manifest
        return resolved
      })
  }

  listBackups() {
    if (!this.rootIsProject) {
      this.log(this.noProjectMessage())
      return []
    }
    const points = this.restorePoints()
    this.log('📦 AVAILABLE BACKUPS')
    this.log('═══════════════════')
    if (points.length === 0) {
      this.log('No backups found')
      return []
    }
    points.forEach((p, i) => {
      const rels = p.unsafeId ? null : this.relsOf(p.id)
      this.log(`${i + 1}. ${p.id}`)
      this.log(`   📅 ${p.timestamp}`)
      this.log(`   📍 Phase ${p.phase}, Week ${p.week}`)
      this.log(this.fullPartLine(p, rels))
      this.log(`   🗃️  Git: ${rels && p.git && this.existsIn(rels.git) ? '✅' : '❌'}`)
      this.log('')
    })
    return points
  }

  findPoint(backupId, tracker = undefined) {
    if (typeof backupId !== 'string' || !backupId) {
      throw codedError('ERR_INVALID_ARG_TYPE', 'The "backupId" argument must be a non-empty string')
    }
    return this.restorePoints(tracker).find((p) => p.id === backupId) || null
  }

  /**
   * Re-hash every file of a set against its manifest, then check its structure: the archive
   * read to its end, the SQLite copies' `PRAGMA integrity_check` (a digest only says the bytes
   * are those written, not that they are sound):
   * `{ id, valid, checked, bytes, missing: [paths], altered: [paths], damaged: [why],
   *   manifest, error? }`. `options.deep`: a snapshot's chunks each re-derived from their
   * plain bytes, its packs' digests not used (storeVerify's `deep`).
   */
  async verifyBackup(backupId, options = {}) {
    if (typeof backupId !== 'string' || !SAFE_ID.test(backupId)) {
      throw codedError('EBADLABEL', `Invalid backup id ${JSON.stringify(String(backupId))}`)
    }
    const manifestPath = this.partsOf(backupId).manifest
    const result = { id: backupId, valid: false, checked: 0, bytes: 0, missing: [], altered: [], damaged: [], manifest: manifestPath }
    if (!this.existsIn(this.relsOf(backupId).manifest)) {
      return { ...result, manifest: null, error: `Backup ${backupId} has no manifest (made before manifests existed)` }
    }
    const manifest = this.readJsonIn(this.relsOf(backupId).manifest)
    if (!manifest || manifest.id !== backupId || !Array.isArray(manifest.files)) {
      return { ...result, error: `Manifest ${manifestPath} is damaged` }
    }
    const entries = manifest.files.map((f) => ({ path: String(f.path), size: Number(f.size), sha256: String(f.sha256) }))
    const onProgress = this.progress(options.onProgress)
    const found = await this.binding.backupVerifyFiles(this.backupsDir, entries, onProgress)
    const unsound = new Set([...found.missing, ...found.altered])
    const damaged = await this.structuralDamage(backupId, entries.map((e) => e.path).filter((p) => !unsound.has(p)), onProgress, options.deep)
    await drainProgress()
    // a snapshot set's parts linked to store files: still linked? (snapshot.js; content checked above)
    const unlinked = this.linkWarnings(manifest)
    return { ...result, ...found, damaged, unlinked, valid: found.missing.length === 0 && found.altered.length === 0 && damaged.length === 0 }
  }

  /** `<path>: <why>` for each intact-looking part of the set that is not sound inside. */
  async structuralDamage(id, paths, onProgress, deep = false) {
    const damaged = []
    const archive = `full/${id}.tar.gz`
    // bad bytes (ECORRUPT) are damage; a check that could not read (EIO, ENOSPC...) is that
    // failure, not a verdict on the set
    const check = async (rel, fn) => {
      try {
        await fn(path.join(this.backupsDir, rel))
      } catch (err) {
        if (err.code !== 'ECORRUPT') throw err
        damaged.push(`${rel}: ${err.message}`)
      }
    }
    if (paths.includes(archive)) await check(archive, (file) => this.binding.backupCheckArchive(file, onProgress))
    damaged.push(...(await this.snapshotDamage(id, paths, deep)))
    damaged.push(...this.bundleDamage(id))
    const info = this.readJsonIn(`${this.relsOf(id).database}/db-info.json`)
    for (const f of (info && Array.isArray(info.files) && info.files) || []) {
      const rel = `database/${id}/${path.basename(String(f.backup || ''))}`
      if (f.method !== 'sqlite' || !paths.includes(rel)) continue
      await check(rel, (file) => {
        const answer = this.binding.backupIntegrityCheck(file)
        if (answer !== 'ok') throw codedError('ECORRUPT', `integrity_check: ${answer.split('\n')[0]}`)
      })
    }
    return damaged
  }

  /** Legacy checks (fields, paths, info files), plus the manifest when there is one. */
  async validateBackupIntegrity(backup) {
    const errors = []
    const warnings = []
    const point = typeof backup === 'string' ? this.findPoint(backup) : backup
    if (!point || typeof point !== 'object') return { valid: false, errors: ['Backup is not a valid object'], warnings }
    for (const field of ['id', 'timestamp']) if (!point[field]) errors.push(`Missing required field: ${field}`)
    if (errors.length) return { valid: false, errors, warnings }
    if (!SAFE_ID.test(point.id)) return { valid: false, errors: [`Invalid backup id: ${point.id}`], warnings }
    const rels = this.relsOf(point.id)
    if (![rels.git, rels.database, rels.config, rels.archive].some((p) => this.existsIn(p))) {
      errors.push('No backup files found')
    }
    const infos = [
      [rels.git, 'git-info.json'],
      [rels.database, 'db-info.json'],
      [rels.config, 'config-info.json'],
    ]
    for (const [dir, info] of infos) {
      if (this.existsIn(dir) && !this.existsIn(`${dir}/${info}`)) errors.push(`Missing ${info}`)
    }
    let verification = null
    if (this.existsIn(rels.manifest)) {
      verification = await this.verifyBackup(point.id)
      if (verification.error) errors.push(verification.error)
      for (const p of verification.missing) errors.push(`Missing file: ${p}`)
      for (const p of verification.altered) errors.push(`Altered file: ${p}`)
      for (const p of verification.damaged) errors.push(`Damaged: ${p}`)
      for (const line of verification.unlinked || []) warnings.push(line)
    } else warnings.push('No manifest: file contents not verified (legacy backup set)')
    return { valid: errors.length === 0, errors, warnings, verification }
  }

  /** Remove restore points older than `retentionDays` and their files (only inside backups/). */
  async cleanup(retentionDays = 30) {
    const days = typeof retentionDays === 'symbol' ? Number.NaN : Number(retentionDays)
    if (!Number.isFinite(days) || days < 0) throw codedError('ERR_INVALID_ARG_TYPE', `retentionDays must be a number >= 0, got ${String(retentionDays)}`)
    this.requireProject()
    this.log(`🧹 Cleaning backups older than ${retentionDays} days...`)
    const cutoff = Date.now() - days * DAY_MS
    // A symlinked backups/ or kind folder: refused before anything changes (EUNSAFEDIR),
    // also before dead staging folders are swept (their moved parts are removed by path)
    this.checkKindFolders()
    this.sweepStaging()
    if (!fs.existsSync(this.trackerPath)) {
      this.log('✅ Cleaned 0 old backups')
      return 0
    }
    let removed = []
    this.tracker = updateTracker(
      this.trackerPath,
      (tracker) => {
        const strategy = tracker.backupStrategy
        if (!strategy || !Array.isArray(strategy.restorePoints)) return
        const aged = (p) => p && Date.parse(p.timestamp) < cutoff
        // a set whose full git bundle a kept set builds on stays until that one goes too
        const bases = this.bundleBasesOf(strategy.restorePoints.filter((p) => !aged(p)))
        const old = (p) => aged(p) && !bases.has(p.id)
        removed = strategy.restorePoints.filter(old)
        strategy.restorePoints = strategy.restorePoints.filter((p) => !old(p))
      },
      { backend: this.backend, lockDir: this.options.lockDir },
    )
    for (const point of removed) {
      if (typeof point.id !== 'string' || !SAFE_ID.test(point.id)) continue // never a path of its own
      this.removeSet(point.id)
    }
    if (removed.length > 0) await this.collectStoreGarbage()
    this.log(`✅ Cleaned ${removed.length} old backups`)
    return removed.length
  }

  /**
   * Removing what cleanup may remove: only real folders and files named like a part of set
   * `id`, through the contained calls (never following a link on the way). A part that is a
   * symlink is left alone, with a warning: we never made one.
   */
  removeSet(id) {
    this.removeSnapshotRecord(id)
    for (const rel of Object.values(this.relsOf(id))) {
      const found = this.binding.containedStat(this.rootDir, this.inBackups(rel))
      if (found === null) continue
      if (found.type === 'symlink' || found.type === 'other') {
        this.warn(`⚠️  Not removed: ${path.join(this.backupsDir, rel)} is a ${found.type}, not a part this package made`)
        continue
      }
      this.binding.containedRemove(this.rootDir, this.inBackups(rel))
    }
  }

  /** backups/ and each kind folder, when present, must be real folders (EUNSAFEDIR). */
  checkKindFolders() {
    const backups = this.binding.containedStat(this.rootDir, 'backups')
    if (backups === null) return
    for (const kind of ['', ...KINDS, 'manifests']) {
      const found = kind ? this.binding.containedStat(this.rootDir, this.inBackups(kind)) : backups
      if (found !== null && found.type !== 'directory') {
        throw codedError('EUNSAFEDIR', `Refusing ${path.join(this.backupsDir, kind)}: a ${found.type}, not a folder this package made`)
      }
    }
  }
}

module.exports = Catalog
