'use strict'
// Drop-in for the legacy `backup-system.js`: `module.exports` is the class `BackupSystem`
// (legacy methods, arguments and result shapes), with `run(argv)` / `main()` for its CLI
// attached as static members. The heavy parts (archive, database copies, hashing, restore
// containment) come from the backend (native addon or lib/js/backup.js); the orchestration
// here is shared, so both backends write the same layout, manifest and restore points.
//
// Layout under <root>/backups (the legacy one, so legacy readers list our sets):
//   code/<id>/{repo.bundle,git-info.json}   database/<id>/{<db>,<db>.sql,db-info.json}
//   config/<id>/{<path with / -> _>,config-info.json}   state/<id>/system-info.json
//   full/<id>.tar.gz   and new: manifests/<id>.json (size + SHA-256 of every file), .gitignore

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const { resolveBackend } = require('./backend')
const { findRoot, trackerPathOf } = require('./root')
const { updateTracker, readTracker } = require('./tracker-store')
const { checkLabel } = require('./js/names')
const { codedError } = require('./js/errors')
const cli = require('./cli')
const { addMethods } = require('./mixin')
const legacyParts = require('./backup-legacy')

const { SAFE_ID } = legacyParts
const { parseArgs, printJson, main: runMain } = cli

const DEFAULT_DATABASES = ['database.sqlite', 'packages/user-api/database.sqlite', 'packages/system-api/database.sqlite']
const DEFAULT_CONFIG_FILES = [
  '.env',
  'package.json',
  'packages/system-api/package.json',
  'packages/user-api/package.json',
  'packages/web/package.json',
  'packages/cli/package.json',
  'packages/system-api/phase-tracker.json',
  'agents-data.json',
]
const DEFAULT_EXCLUDES = ['node_modules', 'dist', 'build', '.next', '*.log', 'backups', '.git']
const KINDS = ['code', 'database', 'config', 'state', 'full']
const MAX_RESTORE_POINTS = 10
const DAY_MS = 24 * 3600 * 1000
const SECRET_NAME = /secret|token|passw|pwd|key|credential|auth|private|cookie|session|signature|salt/i
const SHOWN_ENV = ['NODE_ENV', 'USER', 'LOGNAME', 'HOME', 'SHELL', 'LANG', 'TERM', 'PATH', 'PWD', 'npm_lifecycle_event']

// ---- small helpers -------------------------------------------------------------------------

function stampOf(ms) {
  return new Date(ms).toISOString().replace(/[:.]/g, '-')
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch {
    return null
  }
}

function writeJson(binding, file, value) {
  binding.atomicWrite(file, `${JSON.stringify(value, null, 2)}\n`, { fsync: false })
}

/** git with an argument list in `cwd`: stdout, or null when git fails or is missing. */
function gitText(cwd, args) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  return r.status === 0 ? r.stdout : null
}

function gitOrThrow(cwd, args) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.error) throw codedError(r.error.code === 'ENOENT' ? 'ENOCOMMAND' : 'EIO', `Cannot run git: ${r.error.message}`)
  if (r.status !== 0) throw codedError('ECOMMAND', `git ${args.join(' ')} failed: ${String(r.stderr).trim()}`)
  return r.stdout
}

function hasCommand(cmd) {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' })
  return !r.error && r.status === 0
}

/** A value that looks like a credential: long random-looking text, or a URL with a password. */
function looksSecret(value) {
  const v = String(value)
  if (/:\/\/[^/\s:@]+:[^/\s@]+@/.test(v)) return true
  return /^[A-Za-z0-9+/_=.-]{24,}$/.test(v) && /\d/.test(v) && /[A-Za-z]/.test(v) && !v.includes('/')
}

function redactArgs(command) {
  return command
    .replace(/((?:--?|\b)[\w-]*(?:secret|token|passw|key|credential|auth)[\w-]*[=\s]+)(\S+)/gi, '$1***')
    .replace(/(:\/\/[^/\s:@]+:)[^/\s@]+@/g, '$1***@')
}

/** The user's own processes (`ps -u <uid>`), arguments with credentials masked. */
function ownProcesses() {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return []
  const r = spawnSync('ps', ['-u', String(process.getuid()), '-o', 'pid=,ppid=,etime=,args='], { encoding: 'utf8' })
  if (r.status !== 0) return []
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [pid, ppid, elapsed, ...cmd] = line.trim().split(/\s+/)
      return { pid: Number(pid), ppid: Number(ppid), elapsed, command: redactArgs(cmd.join(' ')) }
    })
}

function listeningPorts() {
  const r = spawnSync('ss', ['-ltnH'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) return []
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[3])
    .filter(Boolean)
}

/**
 * Let progress events queued by a native task reach their callback before going on: they
 * travel through a threadsafe function, whose queue may still hold the last ones when the
 * task's promise settles.
 */
function drainProgress() {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Manifest order: by the bytes of the `/` path, as `backupHashFiles` sorts. */
function byPathBytes(a, b) {
  return Buffer.compare(Buffer.from(a.path), Buffer.from(b.path))
}

function progressLine(ev) {
  return `${ev.phase}: ${ev.files} files, ${(ev.bytes / 1048576).toFixed(1)} MiB`
}

// ---- the class -----------------------------------------------------------------------------

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

  /** backups/ is owner-only and ignored by git: it holds a copy of `.env`. */
  ensureBackupsDir() {
    fs.mkdirSync(this.backupsDir, { recursive: true, mode: 0o700 })
    const st = fs.lstatSync(this.backupsDir)
    if (!st.isDirectory()) throw codedError('EUNSAFEDIR', `Refusing ${this.backupsDir}: not a directory`)
    if (process.platform !== 'win32') fs.chmodSync(this.backupsDir, 0o700)
    const ignore = path.join(this.backupsDir, '.gitignore')
    if (!fs.existsSync(ignore)) fs.writeFileSync(ignore, '*\n', { mode: 0o600 })
    for (const kind of [...KINDS, 'manifests']) fs.mkdirSync(path.join(this.backupsDir, kind), { recursive: true, mode: 0o700 })
  }

  /** Where each part of set `id` is in the current backups folder (never the recorded paths). */
  partsOf(id) {
    const b = this.backupsDir
    return {
      git: path.join(b, 'code', id),
      database: path.join(b, 'database', id),
      config: path.join(b, 'config', id),
      state: path.join(b, 'state', id),
      archive: path.join(b, 'full', `${id}.tar.gz`),
      manifest: path.join(b, 'manifests', `${id}.json`),
    }
  }

  newBackupId(label) {
    for (;;) {
      const id = `${label}-${stampOf(Date.now())}`
      const parts = this.partsOf(id)
      if (![parts.git, parts.database, parts.config, parts.manifest].some((p) => fs.existsSync(p))) return id
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2)
    }
  }

  progress(onProgress) {
    const cb = onProgress || this.onProgress
    return typeof cb === 'function' ? cb : undefined
  }

  // ---- create -------------------------------------------------------------------------------

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

  /** Legacy fields, without other users' processes and without secret-looking values. */
  backupState(id) {
    const dir = this.partsOf(id).state
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const environment = {}
    for (const name of SHOWN_ENV) {
      const value = process.env[name]
      if (value !== undefined && !SECRET_NAME.test(name) && !looksSecret(value)) environment[name] = value
    }
    writeJson(this.binding, path.join(dir, 'system-info.json'), {
      timestamp: new Date().toISOString(),
      nodeVersion: process.version,
      platform: process.platform,
      arch: process.arch,
      cwd: process.cwd(),
      hostname: os.hostname(),
      environment,
      processes: ownProcesses(),
      ports: listeningPorts(),
    })
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

  // ---- list and verify ----------------------------------------------------------------------

  /** The recorded restore points, their paths resolved in the current backups folder. */
  restorePoints() {
    this.tracker = this.loadTracker()
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
          archive: parts.archive,
        }
        if (fs.existsSync(parts.manifest)) resolved.manifest = parts.manifest
        return resolved
      })
  }

  listBackups() {
    const points = this.restorePoints()
    if (points.length === 0) {
      this.log('No backups found')
      return []
    }
    this.log('\n📦 AVAILABLE BACKUPS\n')
    points.forEach((p, i) => {
      this.log(`${i + 1}. ${p.id}`)
      this.log(`   📅 ${p.timestamp}`)
      this.log(`   📍 Phase ${p.phase}, Week ${p.week}`)
      this.log(`   💾 Archive: ${p.archive && fs.existsSync(p.archive) ? '✅' : '❌'}`)
      this.log(`   🗃️  Git: ${p.git && fs.existsSync(p.git) ? '✅' : '❌'}`)
      this.log('')
    })
    return points
  }

  findPoint(backupId) {
    if (typeof backupId !== 'string' || !backupId) {
      throw codedError('ERR_INVALID_ARG_TYPE', 'The "backupId" argument must be a non-empty string')
    }
    return this.restorePoints().find((p) => p.id === backupId) || null
  }

  /**
   * Re-hash every file of a set against its manifest:
   * `{ id, valid, checked, bytes, missing: [paths], altered: [paths], manifest, error? }`.
   */
  async verifyBackup(backupId, options = {}) {
    if (typeof backupId !== 'string' || !SAFE_ID.test(backupId)) {
      throw codedError('EBADLABEL', `Invalid backup id ${JSON.stringify(String(backupId))}`)
    }
    const manifestPath = this.partsOf(backupId).manifest
    const result = { id: backupId, valid: false, checked: 0, bytes: 0, missing: [], altered: [], manifest: manifestPath }
    if (!fs.existsSync(manifestPath)) {
      return { ...result, manifest: null, error: `Backup ${backupId} has no manifest (made before manifests existed)` }
    }
    const manifest = readJson(manifestPath)
    if (!manifest || manifest.id !== backupId || !Array.isArray(manifest.files)) {
      return { ...result, error: `Manifest ${manifestPath} is damaged` }
    }
    const entries = manifest.files.map((f) => ({ path: String(f.path), size: Number(f.size), sha256: String(f.sha256) }))
    const found = await this.binding.backupVerifyFiles(this.backupsDir, entries, this.progress(options.onProgress))
    await drainProgress()
    return { ...result, ...found, valid: found.missing.length === 0 && found.altered.length === 0 }
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
    const parts = this.partsOf(point.id)
    if (![parts.git, parts.database, parts.config, parts.archive].some((p) => fs.existsSync(p))) {
      errors.push('No backup files found')
    }
    const infos = [
      [parts.git, 'git-info.json'],
      [parts.database, 'db-info.json'],
      [parts.config, 'config-info.json'],
    ]
    for (const [dir, info] of infos) {
      if (fs.existsSync(dir) && !fs.existsSync(path.join(dir, info))) errors.push(`Missing ${info}`)
    }
    let verification = null
    if (fs.existsSync(parts.manifest)) {
      verification = await this.verifyBackup(point.id)
      if (verification.error) errors.push(verification.error)
      for (const p of verification.missing) errors.push(`Missing file: ${p}`)
      for (const p of verification.altered) errors.push(`Altered file: ${p}`)
    } else warnings.push('No manifest: file contents not verified (legacy backup set)')
    return { valid: errors.length === 0, errors, warnings, verification }
  }

  // ---- restore ------------------------------------------------------------------------------

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

  // ---- cleanup ------------------------------------------------------------------------------

  /** Remove restore points older than `retentionDays` and their files (only inside backups/). */
  async cleanup(retentionDays = 30) {
    const days = Number(retentionDays)
    if (!Number.isFinite(days) || days < 0) throw codedError('ERR_INVALID_ARG_TYPE', `retentionDays must be a number >= 0, got ${retentionDays}`)
    const cutoff = Date.now() - days * DAY_MS
    if (!fs.existsSync(this.trackerPath)) return 0
    let removed = []
    this.tracker = updateTracker(
      this.trackerPath,
      (tracker) => {
        const strategy = tracker.backupStrategy
        if (!strategy || !Array.isArray(strategy.restorePoints)) return
        const old = (p) => p && Date.parse(p.timestamp) < cutoff
        removed = strategy.restorePoints.filter(old)
        strategy.restorePoints = strategy.restorePoints.filter((p) => !old(p))
      },
      { backend: this.backend, lockDir: this.options.lockDir },
    )
    for (const point of removed) {
      if (typeof point.id !== 'string' || !SAFE_ID.test(point.id)) continue // never a path of its own
      for (const p of Object.values(this.partsOf(point.id))) fs.rmSync(p, { recursive: true, force: true })
    }
    this.log(`🧹 Cleaned up ${removed.length} old backup(s)`)
    return removed.length
  }
}

// The legacy part-by-part methods (createGitBackup, restoreGit, saveTracker, ...).
addMethods(BackupSystem, legacyParts.methods)

// ---- CLI ---------------------------------------------------------------------------------

const USAGE = `Backup System

Usage: node backup-system.js <command> [args] [--json]

Commands:
  create [label]     Create a full backup (label default: manual)
  list               List restore points
  verify <id>        Re-hash every file of a backup against its manifest
  restore <id>       Restore a backup; flags: --dry-run --force --auto-stash
                     --no-code --no-database --no-config --continue-on-error --skip-current-backup
  cleanup [days]     Remove backups older than <days> days (default 30)
  help               Show this help

The project root is $SESSION_RESILIENCE_ROOT, else the nearest folder above the current one
holding packages/system-api/phase-tracker.json, else the current folder.`

function ttyProgress(json) {
  if (json || !process.stderr.isTTY) return undefined
  return (ev) => process.stderr.write(`\r\x1b[K${progressLine(ev)}`)
}

function endProgress(json) {
  if (!json && process.stderr.isTTY) process.stderr.write('\r\x1b[K')
}

const usageError = (message) => cli.usageError(USAGE, message)

const commands = {
  async create(bs, [label = 'manual'], json) {
    const id = await bs.createFullBackup(label, { onProgress: ttyProgress(json) })
    endProgress(json)
    if (json) printJson({ ok: true, id })
    return 0
  },
  list(bs, _args, json) {
    const points = bs.listBackups()
    if (json) printJson(points)
    return 0
  },
  async verify(bs, [id], json) {
    if (!id) return usageError('verify needs a backup <id>')
    const result = await bs.verifyBackup(id, { onProgress: ttyProgress(json) })
    endProgress(json)
    if (json) printJson(result)
    else if (result.valid) console.log(`✅ ${id}: ${result.checked} files, ${result.bytes} bytes verified`)
    else {
      console.log(`❌ ${id}: ${result.error || 'verification failed'}`)
      for (const p of result.missing) console.log(`   missing: ${p}`)
      for (const p of result.altered) console.log(`   altered: ${p}`)
    }
    return result.valid ? 0 : 1
  },
  async restore(bs, [id], json, flags) {
    if (!id) return usageError('restore needs a backup <id>')
    const options = {
      dryRun: flags.has('dry-run'),
      force: flags.has('force'),
      autoStash: flags.has('auto-stash') ? true : flags.has('no-auto-stash') ? false : undefined,
      continueOnError: flags.has('continue-on-error'),
      skipCurrentBackup: flags.has('skip-current-backup'),
      restoreCode: !flags.has('no-code'),
      restoreDatabase: !flags.has('no-database'),
      restoreConfig: !flags.has('no-config'),
    }
    const result = await bs.restoreFromBackup(id, options)
    if (json) printJson({ ok: true, ...result })
    return result.errors && result.errors.length ? 1 : 0
  },
  async cleanup(bs, [days], json) {
    const n = days === undefined ? 30 : Number(days)
    if (!Number.isFinite(n) || n < 0) return usageError(`cleanup needs a number of days, got "${days}"`)
    const removed = await bs.cleanup(n)
    if (json) printJson({ ok: true, removed })
    return 0
  },
}

/** The CLI: `run(['create', 'nightly'])` resolves to the exit code. */
async function run(argv, context = {}) {
  const { positional, json, flags } = parseArgs(argv)
  const [command, ...rest] = positional
  if (command === undefined || command === 'help') {
    console.log(USAGE)
    return 0
  }
  if (!Object.prototype.hasOwnProperty.call(commands, command)) return usageError(`Unknown command: ${command}`)
  try {
    const bs = new BackupSystem({ quiet: json, root: context.root })
    return await commands[command](bs, rest, json, flags)
  } catch (err) {
    endProgress(json)
    if (json) printJson({ ok: false, error: err.message, code: err.code })
    else console.error(`❌ ${err.message}${err.code ? ` (${err.code})` : ''}`)
    return 1
  }
}

BackupSystem.run = run
BackupSystem.main = (arg) => runMain(run, arg)
BackupSystem.BackupSystem = BackupSystem
BackupSystem.DEFAULT_CONFIG_FILES = DEFAULT_CONFIG_FILES
BackupSystem.DEFAULT_DATABASES = DEFAULT_DATABASES

module.exports = BackupSystem
