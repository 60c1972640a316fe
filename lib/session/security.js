'use strict'
// The checks behind the `securityValidation` phase gate (legacy: hard-wired to true):
//   - the lock directory is ours, a real directory, and closed to group and others;
//   - the backups folder is too, and git ignores it (backups hold .env copies);
//   - the newest state snapshot carries no secrets.
// POSIX ownership and modes do not exist on Windows: there those two checks only look at
// the kind of file.

const fs = require('node:fs')
const path = require('node:path')

const POSIX = process.platform !== 'win32'

const SECRET_PATTERNS = [
  { name: 'private key', re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { name: 'AWS access key', re: /\bAKIA[0-9A-Z]{16}\b/ },
  { name: 'GitHub token', re: /\bgh[pousr]_[A-Za-z0-9]{30,}\b/ },
  { name: 'API key', re: /\bsk-[A-Za-z0-9_-]{20,}\b/ },
  {
    name: 'secret-named value',
    re: /"[^"\n]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)[^"\n]*"\s*:\s*"[^"\n]+"/i,
  },
]

/** A private directory: not a symlink, a directory, owned by us, no group/other bits. */
function privateDirCheck(name, dir, { missingOk }) {
  let st
  try {
    st = fs.lstatSync(dir)
  } catch (err) {
    if (err.code === 'ENOENT') {
      return { name, passed: missingOk, detail: missingOk ? `${dir} not created yet` : `${dir} does not exist` }
    }
    return { name, passed: false, detail: `${dir}: ${err.code || err.message}` }
  }
  if (st.isSymbolicLink()) return { name, passed: false, detail: `${dir} is a symbolic link` }
  if (!st.isDirectory()) return { name, passed: false, detail: `${dir} is not a directory` }
  if (POSIX) {
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      return { name, passed: false, detail: `${dir} is owned by uid ${st.uid}, not by us` }
    }
    if ((st.mode & 0o077) !== 0) {
      return { name, passed: false, detail: `${dir} has mode ${(st.mode & 0o777).toString(8)} (group/others may enter it)` }
    }
  }
  return { name, passed: true, detail: `${dir} is private` }
}

/** Is `backups/` ignored by git: a root .gitignore line, or a `*` in backups/.gitignore. */
function gitignoreCheck(root) {
  const name = 'backups ignored by git'
  const lines = (file) => {
    try {
      return fs
        .readFileSync(file, 'utf8')
        .split(/\r?\n/)
        .map((l) => l.trim())
    } catch {
      return []
    }
  }
  if (lines(path.join(root, '.gitignore')).some((l) => /^\/?backups\/?(\*\*?)?$/.test(l))) {
    return { name, passed: true, detail: '.gitignore lists backups/' }
  }
  if (lines(path.join(root, 'backups', '.gitignore')).some((l) => l === '*')) {
    return { name, passed: true, detail: 'backups/.gitignore ignores everything' }
  }
  return { name, passed: false, detail: `add "backups/" to ${path.join(root, '.gitignore')}` }
}

/** The newest `backups/state/<id>/system-info.json`, or null. */
function newestStateSnapshot(root) {
  const stateDir = path.join(root, 'backups', 'state')
  let newest = null
  let ids = []
  try {
    ids = fs.readdirSync(stateDir)
  } catch {
    return null
  }
  for (const id of ids) {
    const file = path.join(stateDir, id, 'system-info.json')
    try {
      const mtime = fs.statSync(file).mtimeMs
      if (!newest || mtime > newest.mtime) newest = { file, mtime }
    } catch {
      // an incomplete backup: nothing to scan
    }
  }
  return newest && newest.file
}

function secretsCheck(root) {
  const name = 'no secrets in the state snapshot'
  const file = newestStateSnapshot(root)
  if (!file) return { name, passed: true, detail: 'no state snapshot yet' }
  let text
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    return { name, passed: false, detail: `${file}: ${err.code || err.message}` }
  }
  const found = SECRET_PATTERNS.filter((p) => p.re.test(text)).map((p) => p.name)
  return found.length
    ? { name, passed: false, detail: `${file} contains: ${found.join(', ')}` }
    : { name, passed: true, detail: `${file} is clean` }
}

/** `{ passed, checks: [{ name, passed, detail }] }` for the workspace `root`. */
function securityValidation(root, { lockDir }) {
  const checks = [
    privateDirCheck('lock directory private', lockDir, { missingOk: true }),
    privateDirCheck('backups folder private', path.join(root, 'backups'), { missingOk: true }),
    gitignoreCheck(root),
    secretsCheck(root),
  ]
  return { passed: checks.every((c) => c.passed), checks }
}

module.exports = { securityValidation, SECRET_PATTERNS }
