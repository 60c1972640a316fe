'use strict'
// The JS backend of the backup primitives: the same names, arguments, results and errors
// as the native ones (src/backup.rs, src/tasks/backup_*.rs; read core/src/backup/ for the
// why of each step), using Node's own APIs and the `git`, `tar` and `sqlite3` commands.
// Commands always run with argument lists (execFile/spawn, never a shell), and a missing
// command is a clear `ENOCOMMAND` error.

const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { spawn, spawnSync } = require('node:child_process')

const { codedError, osError, withContext, checkPath } = require('./errors')
const contained = require('./contained')

const DEFAULT_EXCLUDES = require('./defaults.json').backupExcludes
const REPORT_FILES = 200
const REPORT_BYTES = 32 * 1024 * 1024
const CHUNK = 256 * 1024
const BUSY_TIMEOUT_MS = 30000
const COMMAND_TIMEOUT_MS = 30 * 60 * 1000 // a stuck command fails instead of hanging the caller
const NEEDED_FOR = { git: 'the code backup', tar: 'the archive', sqlite3: 'database copies on the js backend' }

// ---- cancel ------------------------------------------------------------------------------
// The twin of core/src/backup/cancel.rs: work snapshots the generation when requested and
// stops once it moved on; `backupCancel()` also kills the commands running now (tar).

let generation = 0
const running = new Set()

function cancelToken() {
  const seen = generation
  return {
    cancelled: () => generation !== seen,
    check(what) {
      if (generation !== seen) throw codedError('ECANCELED', `${what}: cancelled`)
    },
  }
}

function backupCancel() {
  generation += 1
  for (const child of running) child.kill('SIGKILL')
}

// ---- commands ----------------------------------------------------------------------------

function missingCommand(cmd) {
  return codedError('ENOCOMMAND', `The ${cmd} command is not installed or not on PATH (needed for ${NEEDED_FOR[cmd]})`)
}

// What a failing command says, as the errno it means: the OS's own words (strerror, from
// tar, gzip, git) and SQLite's. A command that fails for one of these reasons fails with that
// code, as the native backend does, not with ECOMMAND.
const ERRNO_TEXT = [
  [/No space left on device|database or disk is full/, 'ENOSPC'],
  [/Disk quota exceeded/, 'EDQUOT'],
  [/Read-only file system|attempt to write a readonly database/, 'EROFS'],
  [/Permission denied/, 'EACCES'],
  [/Input\/output error|disk I\/O error/, 'EIO'],
  [/File too large/, 'EFBIG'],
]

/** The coded error of a command that ran and failed. */
function commandFailed(cmd, args, how, stderr) {
  const text = String(stderr).trim()
  const errno = ERRNO_TEXT.find(([re]) => re.test(text))
  if (!errno) return codedError('ECOMMAND', `${cmd} ${args.join(' ')} failed (${how}): ${text}`)
  return codedError(errno[1], `${cmd} ${args.join(' ')} failed (${how}): ${errno[1]}: ${text}`)
}

/** Run `cmd args` in `cwd`; stdout, or a coded error (ENOCOMMAND, ECOMMAND, or the errno it reports). */
function runCommand(cmd, args, cwd) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: COMMAND_TIMEOUT_MS,
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  })
  if (r.error) {
    if (r.error.code === 'ENOENT') throw missingCommand(cmd)
    throw osError(`Cannot run ${cmd}`, r.error)
  }
  if (r.status !== 0) {
    throw commandFailed(cmd, args, r.signal ? `signal: ${r.signal}` : `exit status: ${r.status}`, r.stderr)
  }
  return r.stdout
}

/**
 * The same, off the event loop: `{ stdout, stderr }` (stdout only when `keepStdout`). A
 * command killed by `backupCancel()` fails with ECANCELED.
 */
function runCommandAsync(cmd, args, cwd, { tolerated = () => false, keepStdout = false } = {}) {
  const token = cancelToken()
  return new Promise((resolve, reject) => {
    token.check(`${cmd} ${args[0]}`)
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'] })
    running.add(child)
    let stderr = ''
    const stdout = []
    child.stderr.on('data', (d) => {
      if (stderr.length < 65536) stderr += d
    })
    if (keepStdout) child.stdout.on('data', (d) => stdout.push(d))
    child.on('error', (err) => reject(err.code === 'ENOENT' ? missingCommand(cmd) : osError(`Cannot run ${cmd}`, err)))
    child.on('close', (status, signal) => {
      running.delete(child)
      if (token.cancelled()) return reject(codedError('ECANCELED', `${cmd} ${args[0]}: cancelled`))
      if (status === 0 || (status !== null && tolerated(status, stderr))) {
        return resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr })
      }
      reject(commandFailed(cmd, args, signal ? `signal: ${signal}` : `exit status: ${status}`, stderr))
    })
  })
}

// ---- progress ----------------------------------------------------------------------------

function meter(phase, onProgress) {
  const state = { files: 0, bytes: 0, lastFiles: 0, lastBytes: 0 }
  const emit = () => {
    state.lastFiles = state.files
    state.lastBytes = state.bytes
    if (typeof onProgress === 'function') onProgress({ phase, files: state.files, bytes: state.bytes })
  }
  return {
    add(bytes) {
      state.files += 1
      state.bytes += bytes
      if (state.files - state.lastFiles >= REPORT_FILES || state.bytes - state.lastBytes >= REPORT_BYTES) emit()
    },
    finish() {
      emit()
      return { files: state.files, bytes: state.bytes }
    },
  }
}

// ---- git ---------------------------------------------------------------------------------

function backupIsGitRepo(root) {
  checkPath('root', root)
  const r = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: root, encoding: 'utf8' })
  if (r.error && r.error.code === 'ENOENT' && fs.existsSync(root)) throw missingCommand('git')
  return r.status === 0 && String(r.stdout).trim() === 'true'
}

function backupGitBundle(root, dest) {
  checkPath('root', root)
  checkPath('dest', dest)
  runCommand('git', ['bundle', 'create', dest, '--all'], root)
  // git creates it with the umask's mode: owner-only like everything under backups/ (the
  // file itself, never through a link at its name)
  const fd = contained.openRegular(dest, fs.constants.O_RDONLY)
  try {
    if (process.platform !== 'win32') fs.fchmodSync(fd, 0o600)
  } finally {
    fs.closeSync(fd)
  }
  return true
}

// ---- SQLite ------------------------------------------------------------------------------

function isSqlite(file) {
  let fd = null
  try {
    fd = fs.openSync(file, 'r')
    const header = Buffer.alloc(16)
    return fs.readSync(fd, header, 0, 16, 0) === 16 && header.toString('latin1') === 'SQLite format 3\0'
  } catch {
    return false
  } finally {
    if (fd !== null) fs.closeSync(fd)
  }
}

/** A name in `dir` that sqlite3's dot-command parser takes as one plain argument. */
function plainTempName(dir, prefix) {
  return path.join(dir, `${prefix}${crypto.randomBytes(8).toString('hex')}`)
}

function removeQuietly(file) {
  try {
    fs.rmSync(file, { force: true })
  } catch {
    // best effort: a temp we could not remove is named as ours
  }
}

function backupCopyDatabase(src, dest) {
  checkPath('src', src)
  checkPath('dest', dest)
  const context = `Database backup of ${src} failed`
  const dir = path.dirname(dest)
  const temp = plainTempName(dir, '.db-copy-')
  try {
    let kind = 'bytes'
    if (isSqlite(src)) {
      // VACUUM INTO copies the database as of one read transaction (the shell's `.backup`
      // steps 100 pages at a time and restarts at every concurrent write: under a steady
      // writer it never ends). The temp name needs no quoting (cwd = its dir). Not
      // -readonly: a hot journal left by a crashed writer must be rolled back first, which
      // needs a connection that may write (core/src/backup/sqlite.rs says why this way).
      runCommand('sqlite3', ['-cmd', `.timeout ${BUSY_TIMEOUT_MS}`, src, `VACUUM INTO '${path.basename(temp)}';`], dir)
      runCommand('sqlite3', [temp, 'PRAGMA journal_mode=DELETE;'], dir)
      kind = 'sqlite'
    } else {
      fs.copyFileSync(src, temp)
    }
    const fd = fs.openSync(temp, 'r+')
    if (process.platform !== 'win32') fs.fchmodSync(fd, 0o600) // owner-only, like everything under backups/
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fs.renameSync(temp, dest)
    return kind
  } catch (err) {
    removeQuietly(temp)
    // a command's failure (no syscall: ours) keeps its whole text; an fs error is wrapped
    if (!err.syscall) throw codedError(err.code || 'EIO', `${context}: ${err.message}`)
    throw osError(context, err)
  }
}

function backupIntegrityCheck(db) {
  checkPath('db', db)
  try {
    return runCommand('sqlite3', ['-readonly', db, 'PRAGMA integrity_check;'], path.dirname(db)).trim()
  } catch (err) {
    throw codedError(err.code, `Integrity check of ${db} failed: ${err.message}`)
  }
}

// ---- containment and restore -------------------------------------------------------------
// As core/src/backup/restore.rs, with lib/js/contained.js for every path (lstat walks,
// O_NOFOLLOW): no symlink anywhere on the way, `.git/` and `backups/` never targets, the
// previous file kept in backups/pre-restore/<ms>-<pid>-<n>/. The race the JS backend cannot
// close is described in lib/js/contained.js.

const PREVIOUS_DIR = 'backups/pre-restore'
let previousSeq = 0

function pathEscape(text, why) {
  return codedError('EPATHESCAPE', `Refusing path ${text}: ${why}`)
}

function checkRelative(text) {
  checkPath('path', text)
  if (path.isAbsolute(text) || text.startsWith('/') || text.startsWith('\\')) {
    throw pathEscape(text, 'absolute paths are not restored')
  }
  const parts = process.platform === 'win32' ? text.split(/[\\/]/) : text.split('/')
  if (parts.includes('..')) throw pathEscape(text, "it leads out with '..'")
}

/** A name as Windows and macOS compare it: case-folded, trailing dots and spaces dropped. */
const folded = (name) => name.replace(/[. ]+$/, '').toLowerCase()

function checkTarget(text) {
  checkRelative(text)
  const names = text
    .split(process.platform === 'win32' ? /[\\/]+/ : /\/+/)
    .filter((p) => p !== '' && p !== '.')
    .map(folded)
  if (names.includes('.git')) throw pathEscape(text, 'files in .git/ are never restored')
  if (names[0] === 'backups') throw pathEscape(text, 'files in backups/ are never restored')
  if (names.length === 0) throw pathEscape(text, 'it names the root itself')
}

function backupContainedPath(root, original) {
  checkPath('root', root)
  checkTarget(original)
  const parts = original.split(process.platform === 'win32' ? /[\\/]+/ : /\/+/).filter((p) => p !== '' && p !== '.')
  for (let i = 1; i <= parts.length; i++) {
    const found = contained.containedStat(root, parts.slice(0, i).join('/'))
    if (found === null) break
    if (found.type === 'symlink') throw pathEscape(original, 'it goes through a symbolic link')
  }
  return path.join(root, original)
}

/** `[base, rel]` to read the backup `source` through: below the root when it is inside it. */
function sourceBase(root, source) {
  const rel = path.relative(root, source)
  if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return [root, rel]
  return [path.dirname(source), path.basename(source)]
}

/** The target's kind: null when missing; refused when a link or not a regular file. */
function targetKind(root, original) {
  backupContainedPath(root, original)
  const found = contained.containedStat(root, original)
  if (found === null) return null
  if (found.type === 'symlink') throw pathEscape(original, 'it is a symbolic link')
  if (found.type !== 'file') throw pathEscape(original, `it is a ${found.type}, not a regular file`)
  return found
}

/** A new `backups/pre-restore/<ms>-<pid>-<n>` folder (0700); its path relative to the root. */
function previousDir(root) {
  contained.containedMkdir(root, 'backups', true)
  // one new folder per kept file: two restores of one file in one ms must not collide
  const rel = `${PREVIOUS_DIR}/${Date.now()}-${process.pid}-${previousSeq++}`
  contained.containedMkdir(root, rel, false)
  return rel
}

function backupRestoreFile(root, original, source) {
  checkPath('root', root)
  checkPath('source', source)
  checkTarget(original)
  const [base, rel] = sourceBase(root, source)
  let data
  try {
    data = contained.containedRead(base, rel)
  } catch (err) {
    throw withContext(`Cannot read backup ${source}`, err)
  }
  const existing = targetKind(root, original)
  let previous = null
  if (existing !== null) {
    const keep = `${previousDir(root)}/${original}`
    try {
      contained.containedCopy(root, original, root, keep)
    } catch (err) {
      throw withContext(`Cannot keep ${path.join(root, original)}`, err)
    }
    previous = path.join(root, keep)
  }
  contained.containedWrite(root, original, data, { fsync: true })
  return { target: path.join(root, original), previous }
}

function backupRestoreDatabase(root, original, source) {
  checkPath('root', root)
  checkPath('source', source)
  checkTarget(original)
  const [base, rel] = sourceBase(root, source)
  const found = contained.containedStat(base, rel)
  if (found === null) throw codedError('ENOENT', `Cannot read backup ${source}: ENOENT: no such file or directory`)
  if (found.type !== 'file') throw pathEscape(source, `it is a ${found.type}, not a regular file`)
  const existing = targetKind(root, original)
  const target = path.join(root, original)
  const sqliteBoth = isSqlite(source) && (existing === null || isSqlite(target))
  if (!sqliteBoth) return backupRestoreFile(root, original, source)
  const dir = path.dirname(target)
  contained.containedMkdir(root, path.dirname(original) === '.' ? '' : path.dirname(original), false)
  let previous = null
  if (existing !== null) {
    const keep = `${previousDir(root)}/${original}`
    contained.containedMkdir(root, path.dirname(keep), false)
    backupCopyDatabase(target, path.join(root, keep))
    previous = path.join(root, keep)
  }
  // `.restore` reads the backup through SQLite; a plain temp name avoids any quoting.
  const staged = plainTempName(dir, '.db-restore-')
  try {
    contained.containedCopy(base, rel, dir, path.basename(staged))
    runCommand('sqlite3', ['-cmd', `.timeout ${BUSY_TIMEOUT_MS}`, target, `.restore ${path.basename(staged)}`], dir)
  } catch (err) {
    throw codedError(err.code || 'EIO', `Database restore of ${target} failed: ${err.message}`)
  } finally {
    removeQuietly(staged)
  }
  return { target, previous }
}

// ---- archive -----------------------------------------------------------------------------

function isExcluded(name, patterns) {
  return patterns.some((p) => (p.startsWith('*') ? name.endsWith(p.slice(1)) : name === p))
}

/** Count what the archive holds, with the same rules as GNU tar's --exclude on names. */
function countTree(root, excludes, m) {
  const pending = ['']
  while (pending.length) {
    const rel = pending.pop()
    const full = path.join(root, rel)
    const names = fs.readdirSync(full).sort()
    for (const name of names) {
      if (isExcluded(name, excludes)) continue
      let st
      try {
        st = fs.lstatSync(path.join(full, name))
      } catch {
        continue
      }
      if (st.isDirectory()) pending.push(path.join(rel, name))
      else if (st.isFile()) m.add(st.size)
      else if (st.isSymbolicLink()) m.add(0)
    }
  }
}

/**
 * GNU tar exits 1 when a file changed while it read it (a log being written): it wrote the
 * member with its header's size anyway (cut, or padded with zeros when it shrank), so the
 * archive is valid, as the native one. Any other complaint is a failure.
 */
const CHANGED_LINE = /^tar: (.*): (?:file changed as we read it|File shrank by \d+ bytes; padding with zeros|File removed before we read it)$/

function onlyChangedWhileRead(status, stderr) {
  const lines = stderr.split('\n').filter((l) => l.trim())
  return status === 1 && lines.every((l) => CHANGED_LINE.test(l) || /socket ignored/.test(l))
}

/** The files tar named as changed, relative to root with `/`. */
function changedFiles(stderr) {
  const names = new Set()
  for (const line of stderr.split('\n')) {
    const m = CHANGED_LINE.exec(line)
    if (m) names.add(m[1].replace(/^\.\//, ''))
  }
  return [...names].sort()
}

/** Patterns tar matches literally. */
const literal = (rel) => rel.replace(/[\\*?[\]]/g, '\\$&')

/**
 * The tar arguments that archive each substitute (a database's consistent copy) under its
 * project path, and leave the live file and its SQLite side files out: the copies are
 * hard-linked (copied when links fail) under `linkDir` and renamed back by --transform.
 */
function substituteArgs(substitutes, linkDir) {
  if (substitutes.length === 0) return { leaveOut: [], add: [] }
  const leaveOut = ['--anchored', '--no-wildcards']
  const members = []
  for (const { path: rel, source } of substitutes) {
    for (const side of ['', '-journal', '-wal', '-shm']) leaveOut.push(`--exclude=./${literal(rel)}${side}`)
    const linked = path.join(linkDir, ...rel.split('/'))
    fs.mkdirSync(path.dirname(linked), { recursive: true })
    try {
      fs.linkSync(source, linked)
    } catch {
      fs.copyFileSync(source, linked)
    }
    members.push(`${path.basename(linkDir)}/${rel}`)
  }
  leaveOut.push('--no-anchored', '--wildcards')
  const add = ['-C', path.dirname(linkDir), `--transform=s,^${path.basename(linkDir)}/,./,`, ...members]
  return { leaveOut, add }
}

async function backupCreateArchive(root, dest, excludes, onProgress, substitutes = []) {
  checkPath('root', root)
  checkPath('dest', dest)
  const patterns = Array.isArray(excludes) ? excludes : DEFAULT_EXCLUDES
  const subs = Array.isArray(substitutes) ? substitutes : []
  const context = `Archive of ${root} failed`
  const m = meter('archive', onProgress)
  try {
    countTree(root, patterns, m)
  } catch (err) {
    throw osError(context, err)
  }
  const temp = plainTempName(path.dirname(dest), '.archive-')
  const linkDir = plainTempName(path.dirname(dest), '.archive-db-')
  let archive
  try {
    const { leaveOut, add } = substituteArgs(subs, linkDir)
    const args = ['-czf', temp, ...patterns.map((p) => `--exclude=${p}`), ...leaveOut, '-C', root, '.', ...add]
    const { stderr } = await runCommandAsync('tar', args, root, { tolerated: onlyChangedWhileRead })
    // tar wrote the file: its size and digest (the manifest entry) are read back here,
    // where the native backend hashes while writing
    archive = { size: fs.statSync(temp).size, sha256: await sha256File(temp), changed: changedFiles(stderr) }
    const fd = fs.openSync(temp, 'r+')
    if (process.platform !== 'win32') fs.fchmodSync(fd, 0o600) // owner-only, like everything under backups/
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fs.renameSync(temp, dest)
  } catch (err) {
    removeQuietly(temp)
    if (!err.syscall) throw codedError(err.code || 'EIO', `${context}: ${err.message}`)
    throw osError(context, err)
  } finally {
    fs.rmSync(linkDir, { recursive: true, force: true })
  }
  return { ...m.finish(), ...archive }
}

/** Read a .tar.gz to its end with GNU tar (every header, every member, the gzip trailer). */
async function backupCheckArchive(file, onProgress) {
  checkPath('path', file)
  try {
    fs.accessSync(file, fs.constants.R_OK)
  } catch (err) {
    throw osError(`Cannot read archive ${file}`, err)
  }
  let listing
  try {
    listing = await runCommandAsync('tar', ['-tvzf', file], path.dirname(file), { keepStdout: true })
  } catch (err) {
    if (err.code !== 'ECOMMAND') throw err
    throw codedError('ECORRUPT', `Archive ${file} is damaged: ${err.message}`)
  }
  const m = meter('verify', onProgress)
  for (const line of listing.stdout.split('\n')) {
    const size = Number(line.trim().split(/\s+/)[2])
    if (line.trim()) m.add(Number.isFinite(size) ? size : 0)
  }
  const done = m.finish()
  return { entries: done.files, bytes: done.bytes }
}

// ---- manifest ----------------------------------------------------------------------------
// Read through lib/js/contained.js below `backupsDir`: a symlinked backups/, kind folder or
// member is never followed (no hash oracle on files outside).

async function sha256File(file) {
  const hash = crypto.createHash('sha256')
  for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK })) hash.update(chunk)
  return hash.digest('hex')
}

/** SHA-256 and size of the regular file `rel` below `base`, opened O_NOFOLLOW | O_NONBLOCK. */
async function sha256Contained(base, rel) {
  const full = path.join(base, rel)
  if (contained.containedStat(base, rel) === null) throw codedError('ENOENT', `Cannot hash ${full}: ENOENT: no such file or directory`)
  const fd = contained.openRegular(full, fs.constants.O_RDONLY)
  const hash = crypto.createHash('sha256')
  let size = 0
  try {
    const stream = fs.createReadStream(null, { fd, highWaterMark: CHUNK, autoClose: false })
    for await (const chunk of stream) {
      hash.update(chunk)
      size += chunk.length
    }
  } finally {
    fs.closeSync(fd)
  }
  return { size, sha256: hash.digest('hex') }
}

function collectFiles(base, rel, out) {
  const found = contained.containedStat(base, rel)
  if (found === null) return
  if (found.type === 'directory') {
    for (const e of contained.containedList(base, rel)) collectFiles(base, `${rel}/${e.name}`, out)
  } else if (found.type === 'file') out.push(rel)
  else throw pathEscape(path.join(base, rel), `a ${found.type} in a backup set, not a file this package wrote`)
}

const byBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))

async function backupHashFiles(backupsDir, parts, onProgress) {
  checkPath('backupsDir', backupsDir)
  const files = []
  for (const part of parts) {
    checkRelative(part)
    try {
      collectFiles(backupsDir, part.split(/[\\/]+/).filter(Boolean).join('/'), files)
    } catch (err) {
      throw err.syscall ? osError(`Cannot list backup part ${part}`, err) : withContext(`Cannot list backup part ${part}`, err)
    }
  }
  files.sort(byBytes)
  const m = meter('hash', onProgress)
  const entries = []
  const token = cancelToken()
  for (const rel of files) {
    const full = path.join(backupsDir, rel)
    token.check(`Hashing ${full}`)
    try {
      const { size, sha256 } = await sha256Contained(backupsDir, rel)
      m.add(size)
      entries.push({ path: rel, size, sha256 })
    } catch (err) {
      const full = path.join(backupsDir, rel)
      throw err.syscall ? osError(`Cannot hash ${full}`, err) : withContext(`Cannot hash ${full}`, err)
    }
  }
  m.finish()
  return entries
}

async function backupVerifyFiles(backupsDir, entries, onProgress) {
  checkPath('backupsDir', backupsDir)
  contained.containedList(backupsDir, '') // a symlinked backups/ is refused (EUNSAFEDIR)
  const result = { checked: 0, bytes: 0, missing: [], altered: [] }
  const m = meter('verify', onProgress)
  for (const entry of entries) {
    checkRelative(entry.path)
    // missing, altered (also a symlink on the way or at the member, a FIFO, a device: never
    // read), or a regular file whose read failed: that failure is the answer (EIO, EACCES...)
    const full = path.join(backupsDir, entry.path)
    const refused = (err) => err.code === 'EPATHESCAPE' || err.code === 'EINVAL'
    let found = null
    let unsafe = false
    try {
      found = contained.containedStat(backupsDir, entry.path)
    } catch (err) {
      if (!refused(err)) throw withContext(`Cannot verify ${full}`, err)
      unsafe = true
    }
    if (unsafe || (found && found.type !== 'file')) result.altered.push(entry.path)
    else if (found === null) result.missing.push(entry.path)
    else {
      let got = null
      try {
        got = await sha256Contained(backupsDir, entry.path)
      } catch (err) {
        if (!refused(err)) throw err.syscall ? osError(`Cannot verify ${full}`, err) : withContext(`Cannot verify ${full}`, err)
      }
      const same = got !== null && got.size === entry.size && found.size === entry.size && got.sha256 === entry.sha256
      if (!same) result.altered.push(entry.path)
      result.bytes += found.size
      m.add(found.size)
    }
    result.checked += 1
  }
  m.finish()
  return result
}

module.exports = {
  backupIsGitRepo,
  backupGitBundle,
  backupCopyDatabase,
  backupIntegrityCheck,
  backupContainedPath,
  backupRestoreFile,
  backupRestoreDatabase,
  backupCreateArchive,
  backupCheckArchive,
  backupCancel,
  backupHashFiles,
  backupVerifyFiles,
}
