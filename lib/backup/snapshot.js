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
const { execFile } = require('node:child_process')

const { codedError } = require('../js/errors')
const { SafeFileOperations } = require('../safe-file-operations')
const { updateTracker } = require('../tracker-store')
const { SAFE_ID, stampOf } = require('./common')
const { gitTextAsync } = require('./system-info')

const METHODS = new Set(['snapshot', 'tar_gz'])
/** The part folder of each kind, as the staging folder names its keys. */
const PART_KEY = { code: 'git', database: 'database', config: 'config', state: 'state' }
/** A link could not be made here: the part keeps its copy (no hard links, another device...). */
const NO_LINK = new Set('EXDEV EPERM ENOTSUP EOPNOTSUPP EMLINK ENOSYS EACCES'.split(' ')) // caught, never thrown
/** An increment as large as this share of its base's bundle: a new full bundle instead. */
const REBASE_SHARE = 0.5
/** A snapshot or a collection of a large store takes seconds; wait that long for the other. */
const STORE_LOCK_MS = 10 * 60 * 1000

/** Extract the archive `file` into the folder `dir` with `tar` (missing: ENOCOMMAND; failing: ECOMMAND). */
function untar(file, dir) {
  const args = ['-xzf', file, '-C', dir, '--no-same-owner', '-p']
  return new Promise((resolve, reject) => {
    execFile('tar', args, { maxBuffer: 16 * 1024 * 1024 }, (err, _out, stderr) => {
      if (!err) resolve()
      else if (err.code === 'ENOENT') reject(codedError('ENOCOMMAND', 'tar is not installed: it extracts the archive to import'))
      else reject(codedError('ECOMMAND', `tar ${args.join(' ')} failed: ${String(stderr).trim()}`))
    })
  })
}

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
    const stats = await this.withStoreLock(async () => ({ ...(await this.binding.storeGc(this.storeDir)), removedFiles: this.removeUnlinkedFiles() }))
    if (stats.removedFiles > 0) this.log(`🧹 Removed ${stats.removedFiles} store files no backup part links to`)
    if (stats.removed > 0) this.log(`🧹 Removed ${stats.removed} unreferenced chunks (${stats.removedBytes} bytes) from ${this.storeDir}`)
    return stats
  }

  /**
   * The git part's bundle, through `at`; resolves to git-info.json's fields saying what it
   * holds: `{ bundlePath, bundle, base, refs }`. A tar_gz set bundles the whole history
   * (`bundle: "full"`), as legacy did. A snapshot set bundles only what is new since a base:
   * the newest set with a full bundle whose recorded ref tips are all still in the
   * repository. Then `bundle` is `"incremental"` (`git bundle create --all ^<tip>...`: the
   * base's tips are its prerequisites; a restore fetches the base's bundle first) or
   * `"none"` (nothing new: the base's bundle has every commit). An increment that comes to
   * half its base's size or more is replaced by a full bundle, the next sets' base. `refs`
   * (every ref's commit) lets a later set take this one as its base.
   */
  async bundleCode(id, at, signal) {
    const refs = await this.gitRefs(signal)
    const file = at.pinned('git', 'repo.bundle')
    const bundlePath = path.join(this.partsOf(id).git, 'repo.bundle')
    const full = async () => {
      await this.binding.backupGitBundle(this.rootDir, file)
      return { bundlePath, bundle: 'full', base: null, refs }
    }
    const base = this.fullMethod() === 'snapshot' ? await this.bundleBase(signal) : null
    if (!base) return full()
    const tips = [...new Set(Object.values(base.refs))]
    const basePath = path.join(this.partsOf(base.id).git, 'repo.bundle')
    const fresh = await gitTextAsync(this.rootDir, ['rev-list', '-n', '1', '--all', ...tips.map((t) => `^${t}`)], signal)
    if (fresh !== null && fresh.trim() === '') return { bundlePath: basePath, bundle: 'none', base: base.id, refs }
    await this.binding.backupGitBundle(this.rootDir, file, tips)
    if (fs.statSync(file).size >= REBASE_SHARE * base.size) {
      fs.rmSync(file)
      return full()
    }
    return { bundlePath, bundle: 'incremental', base: base.id, baseBundlePath: basePath, refs }
  }

  /** `{ refs/...: commit }` of every ref (tags peeled to their commit). */
  async gitRefs(signal) {
    const text = (await gitTextAsync(this.rootDir, ['for-each-ref', '--format=%(refname) %(objectname) %(*objectname)'], signal)) || ''
    const refs = {}
    for (const line of text.split('\n').filter(Boolean)) {
      const [name, oid, peeled] = line.split(' ')
      refs[name] = peeled || oid
    }
    return refs
  }

  /**
   * The set a new snapshot set's bundle can build on: the newest restore point whose git
   * part is a full bundle with its refs recorded, still on disk, and whose ref tips are all in
   * the repository (history rewritten since: none). `{ id, refs, size }` or null.
   */
  async bundleBase(signal) {
    for (const p of this.restorePoints()) {
      const info = this.gitInfoOf(p)
      if (!info || info.bundle !== 'full' || !info.refs || typeof info.refs !== 'object') continue
      const rel = `${this.relsOf(p.id).git}/repo.bundle`
      const found = this.binding.containedStat(this.rootDir, this.inBackups(rel))
      if (found === null || found.type !== 'file') continue
      const tips = [...new Set(Object.values(info.refs))].filter((t) => typeof t === 'string' && /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(t))
      if (tips.length === 0) continue
      // fails when one of them is gone (history rewritten, or the base from another repository)
      if ((await gitTextAsync(this.rootDir, ['rev-list', '--no-walk', ...tips], signal)) === null) return null
      return { id: p.id, refs: info.refs, size: found.size }
    }
    return null
  }

  /**
   * The bundles a restore of set `id` (its git-info `info`) fetches, in order: a base's full
   * bundle, then the set's own (absent with `bundle: "none"`). With `strict`, a missing one
   * is an ENOENT naming it; otherwise only those present are listed.
   */
  bundlesOf(id, info, strict) {
    const wanted = []
    const base = typeof info.base === 'string' && SAFE_ID.test(info.base) ? info.base : null
    if (base) wanted.push(base)
    if (info.bundle !== 'none') wanted.push(id)
    const out = []
    for (const which of wanted) {
      const file = path.join(this.partsOf(which).git, 'repo.bundle')
      if (this.existsIn(`${this.relsOf(which).git}/repo.bundle`)) out.push(file)
      else if (strict) throw codedError('ENOENT', `Commit ${info.commit} is not in the repository and ${file} is missing`)
    }
    return out
  }

  /** The git-info.json of restore point `p`, or null (none, or not a point of ours). */
  gitInfoOf(p) {
    return p && typeof p.id === 'string' && SAFE_ID.test(p.id) ? this.readJsonIn(`${this.relsOf(p.id).git}/git-info.json`) : null
  }

  /** For `verifyBackup`: the git part of set `id` needs a base set's bundle that is gone. */
  bundleDamage(id) {
    const info = this.gitInfoOf({ id })
    if (!info || typeof info.base !== 'string' || !SAFE_ID.test(info.base)) return []
    if (this.existsIn(`${this.relsOf(info.base).git}/repo.bundle`)) return []
    return [`${this.relsOf(id).git}: its commits are bundled on top of set ${info.base}, whose ${this.relsOf(info.base).git}/repo.bundle is missing`]
  }

  /** For `cleanup`: the sets whose full bundle a set in `kept` builds on (kept with them). */
  bundleBasesOf(kept) {
    const bases = new Set()
    for (const p of kept) {
      const info = this.gitInfoOf(p)
      if (info && typeof info.base === 'string') bases.add(info.base)
    }
    return bases
  }

  /**
   * A snapshot set's part files (git, database, config, state: `hashed`, the manifest's
   * entries, paths relative to the staging folder) as hard links to the store's one copy of
   * each content, `store/files/<hh>/<sha256>` (read-only, 0400): the first set with a content
   * gives its file to the store, the next ones with the same content (an unchanged database
   * copy or dump, bundle, config file) link to it and cost nothing. Where the file system
   * refuses a link, the part keeps its copy. Each linked entry gets `store` (the store file,
   * relative to backups/) for verify; returns `{ hardlinks, copies }` for the restore point.
   * Under the store's lock: garbage collection removes the files no part links to.
   */
  async linkParts(at, hashed) {
    return this.withStoreLock(() => {
      const store = this.binding.heldOpen(this.rootDir, this.inBackups('store'), true)
      const files = this.binding.heldSub(store, 'files', 'create')
      const counts = { hardlinks: 0, copies: 0 }
      try {
        for (const entry of hashed) {
          const linked = this.linkPart(at, files, entry)
          counts[linked ? 'hardlinks' : 'copies'] += 1
          if (linked) entry.store = `store/files/${entry.sha256.slice(0, 2)}/${entry.sha256}`
        }
      } finally {
        this.binding.heldClose(files)
        this.binding.heldClose(store)
      }
      return counts
    })
  }

  /** One part file as a link to its store file (made from it when new); false: kept as a copy. */
  linkPart(at, files, entry) {
    const [kind, , name, ...deeper] = entry.path.split('/')
    if (!PART_KEY[kind] || !name || deeper.length > 0 || !/^[0-9a-f]{64}$/.test(entry.sha256)) return false
    const part = at.dir(PART_KEY[kind])
    const fan = this.binding.heldSub(files, entry.sha256.slice(0, 2), 'create')
    try {
      const stored = this.binding.heldPinnedPath(fan, entry.sha256)
      const staged = this.binding.heldPinnedPath(part, name)
      try {
        if (fs.existsSync(stored)) {
          // the store has this content: the part becomes a link to it (a temp link renamed
          // over the copy, so the part is whole at every instant)
          const temp = `.${name}.link-${process.pid}.tmp`
          fs.linkSync(stored, this.binding.heldPinnedPath(part, temp))
          this.binding.heldRename(part, temp, part, name)
        } else {
          fs.chmodSync(staged, 0o400) // our own new file in a held folder, never a link
          fs.linkSync(staged, stored)
        }
        return true
      } catch (err) {
        if (!NO_LINK.has(err.code)) throw err
        return false
      }
    } finally {
      this.binding.heldClose(fan)
    }
  }

  /** For `cleanup`, under the store's lock: the store files no part links to any more. */
  removeUnlinkedFiles() {
    if (!this.existsIn('store/files')) return 0
    const files = this.binding.heldOpen(this.rootDir, this.inBackups('store/files'), false)
    let removed = 0
    try {
      for (const { name: fanName, type } of this.binding.heldList(files, '')) {
        if (type !== 'directory' || !/^[0-9a-f]{2}$/.test(fanName)) continue
        const fan = this.binding.heldSub(files, fanName, 'open')
        try {
          for (const { name, type } of this.binding.heldList(fan, '')) {
            if (type !== 'file' || !/^[0-9a-f]{64}$/.test(name)) continue
            // one link left: the store's own; no part of any set is this file any more
            if (fs.lstatSync(this.binding.heldPinnedPath(fan, name)).nlink === 1) removed += this.binding.heldRemove(fan, name) ? 1 : 0
          }
        } finally {
          this.binding.heldClose(fan)
        }
      }
    } finally {
      this.binding.heldClose(files)
    }
    return removed
  }

  /**
   * For `verifyBackup`: each manifest entry said to be linked to a store file that is not
   * (the store file gone, or the part a separate file now): one line each. The content is
   * checked against the manifest anyway; this says what the link count no longer does.
   */
  linkWarnings(manifest) {
    const out = []
    for (const f of manifest.files || []) {
      if (typeof f.store !== 'string' || !/^store\/files\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(f.store)) continue
      const inode = (rel) => {
        try {
          const st = fs.lstatSync(path.join(this.backupsDir, rel), { bigint: true })
          return `${st.dev}:${st.ino}`
        } catch {
          return null
        }
      }
      const [a, b] = [inode(f.path), inode(f.store)]
      if (a !== null && a !== b) out.push(`${f.path} is no longer a hard link to ${f.store}`)
    }
    return out
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

  /**
   * For `verifyBackup`: `<what>: <why>` for each chunk of snapshot `id` that is bad (`deep`: every
   * chunk's id re-derived, pack digests not used).
   */
  async snapshotDamage(id, paths, deep = false) {
    if (!paths.includes(this.snapshotRel(id))) return []
    const report = await this.binding.storeVerify(this.storeDir, [id], { deep })
    const damaged = report.badChunks.map((c) => `store chunk ${c.id}: ${c.reason}`)
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
   * Import tar.gz set `backupId` into the store: its archive is extracted into a private
   * folder inside backups/ (by `tar`, which refuses members leaving it and sets dangerous
   * links last), taken as snapshot `backupId` (every file read: nothing to compare with),
   * then the manifest lists the snapshot's record instead of the archive, the restore point
   * becomes a snapshot point (`importedFrom` names the archive), and only then is the
   * archive removed. Returns the snapshot (`{ id, files, bytes, newBytes }`).
   */
  async importBackup(backupId) {
    this.requireProject()
    if (typeof backupId !== 'string' || !SAFE_ID.test(backupId)) throw codedError('EBADLABEL', `Invalid backup id ${JSON.stringify(String(backupId))}`)
    const point = this.findPoint(backupId)
    if (!point) throw codedError('ENOENT', `Backup ${backupId} not found`)
    if (this.isSnapshotPoint(point)) throw codedError('EEXIST', `Backup ${backupId} is a snapshot set already`)
    const rels = this.relsOf(backupId)
    const archive = this.binding.containedStat(this.rootDir, this.inBackups(rels.archive))
    if (archive === null || archive.type !== 'file') throw codedError('ENOENT', `Backup ${backupId} has no archive ${path.join(this.backupsDir, rels.archive)}`)
    const manifest = this.readJsonIn(rels.manifest)
    const tree = `.import-${backupId}-${process.pid}-${Date.now()}`
    this.ensureBackupsDir()
    this.binding.containedMkdir(this.rootDir, this.inBackups(tree), true)
    let made
    try {
      await untar(path.join(this.backupsDir, rels.archive), path.join(this.backupsDir, tree))
      const options = { label: backupId.slice(0, -(stampOf(0).length + 1)), excludes: ['.git', 'backups'] }
      made = await this.withStoreLock(() => this.binding.storeCreateSnapshot(path.join(this.backupsDir, tree), this.storeDir, backupId, options))
    } finally {
      this.binding.containedRemove(this.rootDir, this.inBackups(tree))
    }
    const s = made.snapshot
    const rel = this.snapshotRel(backupId)
    if (manifest && Array.isArray(manifest.files)) {
      const record = this.binding.containedRead(this.rootDir, this.inBackups(rel), 1024 * 1024)
      const entry = { path: rel, size: record.length, sha256: crypto.createHash('sha256').update(record).digest('hex') }
      manifest.files = [...manifest.files.filter((f) => f.path !== rels.archive), entry].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
      this.binding.containedWrite(this.rootDir, this.inBackups(rels.manifest), `${JSON.stringify(manifest, null, 2)}\n`)
    }
    const snapshot = { id: backupId, files: s.files, bytes: s.bytes, newBytes: s.newBytes }
    this.tracker = updateTracker(
      this.trackerPath,
      (tracker) => {
        const found = ((tracker.backupStrategy && tracker.backupStrategy.restorePoints) || []).find((p) => p && p.id === backupId)
        if (found) Object.assign(found, { archive: null, method: 'snapshot', snapshot, importedFrom: rels.archive })
      },
      { backend: this.backend, lockDir: this.options.lockDir },
    )
    this.binding.containedRemove(this.rootDir, this.inBackups(rels.archive))
    this.log(`✅ Imported ${backupId} into ${this.storeDir}: ${s.files} files, ${s.newBytes} new bytes (the archive, ${archive.size} bytes, removed)`)
    return snapshot
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
