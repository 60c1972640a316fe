'use strict'
// The `full/<id>.tar.gz` archive of a project with GNU tar, and reading one to its end, as
// core/src/backup/archive.rs (same exclusions, same tolerance of files changed while read).

const fs = require('node:fs')
const path = require('node:path')

const { codedError, osError, checkPath } = require('../errors')
const { runCommandAsync } = require('./command')
const { meter, plainTempName, removeQuietly, SIDE_FILES } = require('./common')
const { sha256File } = require('./manifest')

const DEFAULT_EXCLUDES = require('../defaults.json').backupExcludes

function isExcluded(name, patterns) {
  return patterns.some((p) => (p.startsWith('*') ? name.endsWith(p.slice(1)) : name === p))
}

/**
 * Count what the archive holds, with the same rules as GNU tar's --exclude on names, as
 * core/src/backup/archive.rs counts: a substituted database at the size of its copy (when
 * the live file is there), its side files not at all.
 */
function countTree(root, excludes, m, substitutes) {
  const slashed = (rel) => rel.split('/').filter(Boolean).join('/')
  const copyOf = new Map(substitutes.map((s) => [slashed(s.path), s.source]))
  const leftOut = new Set(substitutes.flatMap((s) => SIDE_FILES.map((side) => slashed(`${s.path}${side}`))))
  const pending = ['']
  while (pending.length) {
    const rel = pending.pop()
    const full = path.join(root, rel)
    const names = fs.readdirSync(full).sort()
    for (const name of names) {
      const child = rel ? `${rel}/${name}` : name
      if (isExcluded(name, excludes) || leftOut.has(child)) continue
      let st
      try {
        st = fs.lstatSync(path.join(full, name))
      } catch {
        continue
      }
      if (st.isDirectory()) pending.push(child)
      else if (st.isFile()) m.add(copyOf.has(child) ? fs.statSync(copyOf.get(child)).size : st.size)
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
    for (const side of ['', ...SIDE_FILES]) leaveOut.push(`--exclude=./${literal(rel)}${side}`)
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
    countTree(root, patterns, m, subs)
    // the destination's folder: its own error (ENOENT, ENOTDIR) as natively, where tar
    // would only say "Cannot open" (ECOMMAND)
    fs.opendirSync(path.dirname(dest)).closeSync()
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

module.exports = { backupCreateArchive, backupCheckArchive }
