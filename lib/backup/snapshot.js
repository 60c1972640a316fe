'use strict'
// The full part of a set as a snapshot in backups/store/ (docs/store-format.md) instead of
// full/<id>.tar.gz, chosen by the tracker's `backupStrategy.backupTypes.fullSystem.method`
// ("snapshot"; "tar_gz", the default, writes the archive as before). The other parts (git,
// database, config, state) are made the same way for both methods, so every path a restore
// point names is a real file a user can open. Also: restoring some paths of a snapshot
// (`restore <id> --only <path>...`), exporting a snapshot as the legacy archive, and the
// store's share of verify, list and cleanup.
// Methods of BackupSystem, mixed in by lib/backup/backup-system.js.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const { codedError } = require('../js/errors')
const { SafeFileOperations } = require('../safe-file-operations')
const { SAFE_ID, stampOf } = require('./common')

const METHODS = new Set(['snapshot', 'tar_gz'])
/** A snapshot or a collection of a large store takes seconds; wait that long for the other. */
const STORE_LOCK_MS = 10 * 60 * 1000

class Snapshots {
  /** backups/store: the snapshot store. */
  get storeDir() {
    return path.join(this.backupsDir, 'store')
  }

  /** `snapshot` or `tar_gz`: the option, else the tracker's fullSystem method, else tar_gz. */
  fullMethod() {
    const given = this.options.fullMethod
    if (given !== undefined) {
      if (!METHODS.has(given)) throw codedError('ERR_INVALID_ARG_VALUE', `fullMethod must be "snapshot" or "tar_gz", got ${JSON.stringify(given)}`)
      return given
    }
    const types = this.tracker && this.tracker.backupStrategy && this.tracker.backupStrategy.backupTypes
    const method = types && types.fullSystem && types.fullSystem.method
    return method === 'snapshot' ? 'snapshot' : 'tar_gz'
  }

  /** The record file of snapshot `id`, relative to backups/. */
  snapshotRel(id) {
    return `store/snapshots/${id}.json`
  }

  /**
   * Start the full part of set `id`: resolves to `{ entry, point, changed, size, report }`:
   * its manifest entry, its restore point fields, the files that changed while read, its size
   * and the path to report.
   */
  async makeFullPart(id, at, onProgress, substitutes) {
    if (this.fullMethod() === 'tar_gz') {
      const archive = await this.binding.backupCreateArchive(this.rootDir, at.pinned('archive'), this.excludes, onProgress, substitutes)
      const entry = { path: `full/${id}.tar.gz`, size: archive.size, sha256: archive.sha256 }
      return { entry, point: {}, changed: archive.changed, size: archive.size, report: this.partsOf(id).archive }
    }
    const label = id.slice(0, -(stampOf(0).length + 1)) // ids are <label>-<stamp>
    // the databases' live files: the store copies one only when SQLite says it changed
    const options = { label, excludes: this.excludes, databases: substitutes.map((s) => s.path) }
    const made = await this.withStoreLock(() => this.binding.storeCreateSnapshot(this.rootDir, this.storeDir, id, options, onProgress))
    const rel = this.snapshotRel(id)
    const record = this.binding.containedRead(this.rootDir, this.inBackups(rel), 1024 * 1024)
    const entry = { path: rel, size: record.length, sha256: crypto.createHash('sha256').update(record).digest('hex') }
    const s = made.snapshot
    const point = { archive: null, method: 'snapshot', snapshot: { id, files: s.files, bytes: s.bytes, newBytes: s.newBytes } }
    return { entry, point, changed: [], size: s.newBytes, report: path.join(this.backupsDir, rel) }
  }

  /**
   * `fn()` under the store's lock (`store-<hash of its path>` in the lock folder): a snapshot
   * being taken reuses chunks its record does not name yet, so garbage collection and
   * snapshots never run at the same time (a dead holder's lock is taken over as any other).
   */
  async withStoreLock(fn) {
    const ops = new SafeFileOperations({ backend: this.backend, lockDir: this.options.lockDir })
    const id = `store-${crypto.createHash('sha256').update(path.resolve(this.storeDir)).digest('hex').slice(0, 16)}`
    return ops.withLockAsync(id, fn, { timeout: STORE_LOCK_MS })
  }

  /** For `cleanup`: remove the chunks no snapshot references any more (when there is a store). */
  async collectStoreGarbage() {
    if (!this.existsIn('store/store.json')) return null
    const stats = await this.withStoreLock(() => this.binding.storeGc(this.storeDir))
    if (stats.removed > 0) this.log(`🧹 Removed ${stats.removed} unreferenced chunks (${stats.removedBytes} bytes) from ${this.storeDir}`)
    return stats
  }

  /** Is restore point `p` a snapshot? */
  isSnapshotPoint(p) {
    return Boolean(p && p.method === 'snapshot')
  }

  /** `💾 Archive: ✅` or `💾 Snapshot: ✅` for `listBackups`. */
  fullPartLine(p, rels) {
    if (this.isSnapshotPoint(p)) return `   💾 Snapshot: ${rels && this.existsIn(this.snapshotRel(p.id)) ? '✅' : '❌'}`
    return `   💾 Archive: ${rels && this.existsIn(rels.archive) ? '✅' : '❌'}`
  }

  /** For `verifyBackup`: `<what>: <why>` for each chunk of snapshot `id` that is bad. */
  async snapshotDamage(id, paths) {
    if (!paths.includes(this.snapshotRel(id))) return []
    const report = await this.binding.storeVerify(this.storeDir, [id])
    const damaged = report.badChunks.map((c) => `store/chunks/${c.id.slice(0, 2)}/${c.id}: ${c.reason}`)
    for (const b of report.broken) if (damaged.length === 0) damaged.push(`snapshot ${b.id}: ${b.reason}`)
    return damaged
  }

  /** For `cleanup`: the record of snapshot `id` (its chunks go at the garbage collection after). */
  removeSnapshotRecord(id) {
    if (this.existsIn('store/store.json')) this.binding.storeRemoveSnapshot(this.storeDir, id)
  }

  /** The snapshot point `backupId`, or a clear error. */
  snapshotPoint(backupId) {
    if (typeof backupId !== 'string' || !SAFE_ID.test(backupId)) throw codedError('EBADLABEL', `Invalid backup id ${JSON.stringify(String(backupId))}`)
    const point = this.findPoint(backupId)
    if (!point) throw codedError('ENOENT', `Backup ${backupId} not found`)
    if (!this.isSnapshotPoint(point)) {
      throw codedError('ENOTSNAPSHOT', `Backup ${backupId} is a tar.gz set, not a snapshot: its archive is ${point.archive}`)
    }
    return point
  }

  /**
   * Restore the paths `only` (relative to the root, '/'-separated: files or folders) of
   * snapshot set `backupId` into the project, after a pre-restore backup unless
   * `options.skipCurrentBackup`. Returns `{ files, dirs, symlinks, bytes }`.
   */
  async restorePaths(backupId, only, options = {}) {
    this.requireProject()
    const point = this.snapshotPoint(backupId)
    if (!Array.isArray(only) || only.length === 0 || only.some((p) => typeof p !== 'string' || p === '')) {
      throw codedError('ERR_INVALID_ARG_VALUE', 'restore --only needs one or more paths')
    }
    const rels = only.map((p) => p.split(path.sep).join('/').replace(/^\.\//, ''))
    if (!options.skipCurrentBackup) {
      this.log('📦 Creating pre-restore backup...')
      const pre = await this.createFullBackup('pre-restore')
      this.log(`✅ Current state saved as ${pre}`)
    }
    this.log(`🔄 Restoring ${rels.join(', ')} from ${point.id}...`)
    const stats = await this.binding.storeRestoreSnapshot(this.storeDir, point.id, this.rootDir, rels)
    this.log(`✅ Restored ${stats.files} files, ${stats.dirs} folders, ${stats.symlinks} symlinks (${stats.bytes} bytes)`)
    return stats
  }

  /**
   * Write snapshot set `backupId` as the legacy archive: `dest`, by default
   * backups/full/<id>.tar.gz. The snapshot is restored into a private folder inside
   * backups/ and archived from there (bounded memory both ways). Returns `{ file, size, sha256 }`.
   */
  async exportBackup(backupId, dest, options = {}) {
    this.requireProject()
    const point = this.snapshotPoint(backupId)
    const rel = `.export-${point.id}-${process.pid}-${Date.now()}`
    this.ensureBackupsDir()
    this.binding.containedMkdir(this.rootDir, this.inBackups(rel), true)
    const tree = path.join(this.backupsDir, rel)
    const file = dest ? path.resolve(dest) : this.partsOf(point.id).archive
    try {
      await this.binding.storeRestoreSnapshot(this.storeDir, point.id, tree)
      // the archive's `./` entry has the project's mode, as in a tar.gz set (tar records it)
      fs.chmodSync(tree, fs.statSync(this.rootDir).mode & 0o7777)
      const archive = await this.binding.backupCreateArchive(tree, file, [], this.progress(options.onProgress))
      this.log(`✅ Exported ${point.id} to ${file} (${archive.size} bytes)`)
      return { file, size: archive.size, sha256: archive.sha256 }
    } finally {
      this.binding.containedRemove(this.rootDir, this.inBackups(rel))
    }
  }
}

module.exports = Snapshots
