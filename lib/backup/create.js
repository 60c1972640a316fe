'use strict'
// Making a backup set: the databases (consistent copies), then the archive of the whole root
// on the thread pool (the databases in it as those copies) while the code (git bundle), the
// config files and the state snapshot are made here; then the manifest of every file. All of
// it is built in a staging folder (staging.js) and moved into place only when every part
// succeeded; the restore point in the tracker is recorded last. A failed or cancelled
// backup leaves nothing behind; a killed one leaves its staging folder for the next create
// or cleanup to remove. Methods of BackupSystem, mixed in by lib/backup/backup-system.js.

const fs = require('node:fs')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')

const { updateTracker } = require('../tracker-store')
const { checkLabel } = require('../js/names')
const { codedError } = require('../js/errors')
const { MAX_RESTORE_POINTS, drainProgress } = require('./common')
const { gitTextAsync, hasCommand, systemInfo } = require('./system-info')
const { Staging, directParts } = require('./staging')
const { newScratch } = require('../js/scratch')

/** The backups being made in this process, for `cancelRunning()` (Ctrl+C). */
const running = new Set()

/**
 * Stop every backup this process is making: the archive and hashing stop within
 * milliseconds (ECANCELED), the JS steps at their next check; resolves once each has removed
 * its staging folder (or after `waitMs`).
 */
async function cancelRunning(waitMs = 150) {
  const jobs = [...running]
  for (const job of jobs) {
    job.cancelled = true
    job.abort.abort()
    job.binding.backupCancel()
  }
  if (jobs.length === 0) return
  await Promise.race([Promise.allSettled(jobs.map((j) => j.done)), new Promise((resolve) => setTimeout(resolve, waitMs).unref())])
  // One still busy (a slow machine, a step that blocks the event loop): its staging folder
  // goes now (and its databases' scratch folder), as the caller is about to exit; the job
  // itself fails with ECANCELED.
  for (const job of jobs) {
    if (!running.has(job)) continue
    job.staging.remove()
    if (job.scratch) fs.rmSync(job.scratch, { recursive: true, force: true })
  }
}

/** The text of a failed part: which part, why, the code kept. */
function partFailed(id, part, err) {
  if (err && err.code === 'ECANCELED') return codedError('ECANCELED', `Backup ${id} cancelled (during its ${part} part)`)
  return codedError((err && err.code) || 'EIO', `Backup ${id} failed in its ${part} part: ${err && err.message}`)
}

/** sqlite3's arguments for the `.dump` of a copy. */
const dumpArgs = (copy) => ['-readonly', copy, '.dump']

/** One line about files that changed while the archive read them. */
function changedLine(changed) {
  const shown = changed.slice(0, 5).join(', ')
  const more = changed.length > 5 ? ` and ${changed.length - 5} more` : ''
  return `⚠️  ${changed.length} file(s) changed while archived (saved at the size they had when read): ${shown}${more}`
}

/** A new file, never opened through a link at its name. */
const WRITE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW || 0)

/** Manifest order: by the bytes of the `/` path, as `backupHashFiles` sorts. */
function byPathBytes(a, b) {
  return Buffer.compare(Buffer.from(a.path), Buffer.from(b.path))
}

class Create {
  /**
   * Each part writes through `at` (held folders: the staging folder's, or backups/ itself for
   * the legacy part-by-part methods, see `inBackupsDir`) and records the final paths of `id`.
   * git runs off the event loop (the bundle and `status` of a large repository take seconds)
   * and is killed by a cancel (`signal`, `backupCancel()`).
   */
  async backupCode(id, at, signal = undefined) {
    if (!this.binding.backupIsGitRepo(this.rootDir)) return { skipped: 'not a git repository' }
    const git = (args) => gitTextAsync(this.rootDir, args, signal)
    const commit = await git(['rev-parse', 'HEAD'])
    if (commit === null) return { skipped: 'the git repository has no commit yet' }
    // the whole history, or (a snapshot set) only what is new since a base set: snapshot.js
    const bundled = await this.bundleCode(id, at, signal)
    const status = ((await git(['status', '--porcelain'])) || '').trim()
    at.writeJson('git', 'git-info.json', {
      branch: ((await git(['rev-parse', '--abbrev-ref', 'HEAD'])) || '').trim(),
      commit: commit.trim(),
      hasUncommitted: status.length > 0,
      status,
      ...bundled,
    })
    return { dir: at.shown('git') }
  }

  /** The database part through `at`: the databases' consistent copies and their dumps. */
  async backupDatabases(id, at) {
    const scratch = newScratch()
    try {
      for (const { copy, name } of (await this.copyDatabases(id, at, scratch)).dumps) {
        const fd = fs.openSync(at.pinned('database', `${name}.sql`), WRITE_NEW, 0o600)
        try {
          spawnSync('sqlite3', dumpArgs(copy), { stdio: ['ignore', fd, 'ignore'] })
        } finally {
          fs.closeSync(fd)
        }
      }
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true })
    }
    return at.shown('database')
  }

  /** Run `fn(at)` with `at` writing straight into `backups/<kind>/<id>` (the legacy part methods). */
  async inBackupsDir(id, fn) {
    const at = directParts(this.binding, this.rootDir, id)
    try {
      return await fn(at)
    } finally {
      at.close()
    }
  }

  /**
   * The databases' consistent copies, made in `scratch` (lib/js/scratch.js says why) and copied into
   * the part's held folder: `{ substitutes, dumps }`, the scratch copies as archive
   * substitutes (each goes into the archive under its project path) and the SQLite copies
   * to dump. Copies are named like config files (`/` -> `_`): the default list has three
   * `database.sqlite`, which one name would have overwritten.
   */
  async copyDatabases(id, at, scratch) {
    const finalDir = this.partsOf(id).database
    const canDump = hasCommand('sqlite3')
    const files = []
    const substitutes = []
    const dumps = []
    for (const rel of this.databases) {
      if (!this.projectFile(rel)) continue
      const original = path.join(this.rootDir, rel)
      const name = rel.split(/[\\/]/).join('_')
      const copy = path.join(scratch, name)
      // read below the root, never through a link on the way (a held folder on Linux, native)
      const method = await this.binding.backupCopyDatabase(original, copy, this.rootDir)
      at.copyIn('database', scratch, name, name)
      substitutes.push({ path: rel.split(/[\\/]/).join('/'), source: copy })
      if (method === 'sqlite' && canDump) dumps.push({ copy, name })
      files.push({ original: rel, backup: path.join(finalDir, name), method })
    }
    at.writeJson('database', 'db-info.json', { files, timestamp: new Date().toISOString() })
    return { substitutes, dumps }
  }

  /**
   * The text dumps, as legacy, taken from the consistent copies and streamed to their files
   * (new files: never through a link planted at their name), off the event loop (a large
   * database dumps for seconds: Ctrl+C must not wait for it); a cancel kills sqlite3.
   */
  async dumpDatabases(copies, at, signal) {
    for (const { copy, name } of copies) {
      const fd = fs.openSync(at.pinned('database', `${name}.sql`), WRITE_NEW, 0o600)
      try {
        await new Promise((resolve, reject) => {
          const child = spawn('sqlite3', dumpArgs(copy), { stdio: ['ignore', fd, 'ignore'], signal })
          child.on('error', (err) => (err.name === 'AbortError' ? reject(codedError('ECANCELED', 'dump cancelled')) : resolve()))
          child.on('close', resolve) // a failed dump is no failure of the backup (legacy ignored it too)
        })
      } finally {
        fs.closeSync(fd)
      }
    }
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

  backupConfig(id, at) {
    const files = []
    for (const rel of this.configFiles) {
      if (!this.projectFile(rel)) continue
      const name = rel.split(/[\\/]/).join('_')
      // read without following a link, written as a new file: never through a planted link
      at.copyIn('config', this.rootDir, rel, name)
      files.push({ original: rel, backup: path.join(this.partsOf(id).config, name) })
    }
    at.writeJson('config', 'config-info.json', { files, timestamp: new Date().toISOString() })
    return at.shown('config')
  }

  /** The state snapshot: legacy fields, without other users' processes or secret-looking values. */
  async backupState(_id, at, signal = undefined) {
    at.writeJson('state', 'system-info.json', await systemInfo(signal))
    return at.shown('state')
  }

  /**
   * Make a full backup set and record its restore point; returns its id
   * (`<label>-<ISO time with : and . as ->`). `options.onProgress({ phase, files, bytes })`.
   */
  async createFullBackup(label = 'auto', options = {}) {
    checkLabel(label)
    this.requireProject()
    this.ensureBackupsDir()
    this.sweepStaging()
    const staging = this.newStaging(label)
    const id = staging.id
    const job = { binding: this.binding, staging, abort: new AbortController(), cancelled: false, done: null }
    let finish
    job.done = new Promise((resolve) => {
      finish = resolve
    })
    running.add(job)
    this.log(`🔄 Creating full backup: ${id}`)
    try {
      const point = await this.buildSet(id, staging, job, this.progress(options.onProgress))
      try {
        staging.commit()
        this.recordRestorePoint(point)
      } catch (err) {
        staging.remove({ movedToo: true })
        throw partFailed(id, 'restore point', err)
      }
      staging.remove()
      this.log(`✅ Full backup created: ${id}`)
      return id
    } catch (err) {
      staging.remove()
      throw err
    } finally {
      staging.close()
      running.delete(job)
      finish()
    }
  }

  /** The staging folder of a new set: its creation is the claim on the id (another process may pick the same one). */
  newStaging(label) {
    for (;;) {
      try {
        return new Staging(this.binding, this.rootDir, this.newBackupId(label))
      } catch (err) {
        if (err.code !== 'EEXIST') throw err
      }
    }
  }

  /** Every part of set `id` in `staging`; the restore point to record once they are in place. */
  async buildSet(id, staging, job, onProgress) {
    const scratch = newScratch()
    job.scratch = scratch
    try {
      return await this.buildParts(id, staging, job, onProgress, scratch)
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true })
    }
  }

  async buildParts(id, at, job, onProgress, scratch) {
    const step = async (part, fn) => {
      if (job.cancelled) throw partFailed(id, part, codedError('ECANCELED', 'cancelled'))
      try {
        return await fn()
      } catch (err) {
        throw partFailed(id, part, job.cancelled ? codedError('ECANCELED', 'cancelled') : err)
      }
    }
    // The database copies come first: the archive holds them in place of the live files.
    const { substitutes, dumps } = await step('database', () => this.copyDatabases(id, at, scratch))
    // The archive is written on the thread pool (tar, gzip) while the other parts are made
    // here, mostly by git in its own process: both cores work, where legacy ran one step
    // after the other. The other parts only write under backups/, which the archive excludes.
    // (a cancel that came while the copies were made must not start it: work requested
    // after backupCancel() runs to its end)
    if (job.cancelled) throw partFailed(id, 'archive', codedError('ECANCELED', 'cancelled'))
    // (the archive, or a snapshot in backups/store/: lib/backup/snapshot.js)
    const archiving = this.makeFullPart(id, at, onProgress, substitutes)
    archiving.catch(() => {}) // awaited below, on every path: never an unhandled rejection
    let code
    try {
      // the legacy lines, in the legacy order (the databases were copied first), final paths
      code = await step('code', () => this.backupCode(id, at, job.abort.signal))
      this.reportPart('git', code.skipped ? code : { dir: this.partsOf(id).git })
      await step('database', () => this.dumpDatabases(dumps, at, job.abort.signal))
      this.reportPart('database', at.shown('database'), 0, at)
      this.reportPart('config', await step('config', () => this.backupConfig(id, at)), 0, at)
      await step('state', () => this.backupState(id, at, job.abort.signal))
      this.reportPart('state', this.partsOf(id).state)
    } catch (err) {
      await archiving.catch(() => {}) // nothing left running behind a failed backup
      throw err
    }
    const archive = await step('archive', () => archiving)
    await drainProgress()
    this.reportPart('archive', archive.report, archive.size)
    if (archive.changed.length > 0) this.warn(changedLine(archive.changed))
    // The archive's size and digest were taken while it was written: only the other parts
    // are read back and hashed. Paths are relative to the staging folder, which has the
    // layout of backups/: they are the paths the files will have once moved into place.
    const rels = ['code', 'database', 'config', 'state'].map((k) => `${k}/${id}`)
    const hashed = await step('manifest', () => this.binding.backupHashFiles(at.pinnedTop(), rels, onProgress))
    await drainProgress()
    // a snapshot set's part files: hard links to the store's copies where possible (snapshot.js)
    const linked = archive.point.method === 'snapshot' ? await step('manifest', () => this.linkParts(at, hashed)) : null
    const archiveEntry = archive.entry
    if (archive.changed.length > 0) Object.assign(archiveEntry, { changed: true, changedFiles: archive.changed })
    const files = [...hashed, archiveEntry].sort(byPathBytes)
    await step('manifest', () => at.writeJson('manifest', null, { version: 1, id, createdAt: new Date().toISOString(), files }))
    if (job.cancelled) throw partFailed(id, 'manifest', codedError('ECANCELED', 'cancelled'))
    const parts = this.partsOf(id)
    return {
      id,
      timestamp: new Date().toISOString(),
      git: code.skipped ? null : parts.git,
      database: parts.database,
      config: parts.config,
      state: parts.state,
      archive: parts.archive,
      manifest: parts.manifest,
      ...archive.point,
      ...(linked ? { partFiles: linked } : {}),
      ...(code.skipped ? { codeSkipped: code.skipped } : {}),
      ...(archive.changed.length > 0 ? { changed: archive.changed } : {}),
      phase: 0,
      week: 0,
    }
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

Create.cancelRunning = cancelRunning

module.exports = Create
