'use strict'
// The lock and backup directories, as core/src/fsx/dirs.rs: created owner-only, and refused
// when they are a symlink or belong to another user (a shared /tmp is where those attacks live).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { codedError, osError, checkPath } = require('../errors')

const DEFAULTS = require('../defaults.json')

/** The `backupFile` directory: `options.backupDir`, else the environment's, else `<tmpdir>/agenthive-backups`. */
function backupDirOf(options) {
  return (options && options.backupDir) || process.env[DEFAULTS.env.backupDir] || path.join(os.tmpdir(), DEFAULTS.dirNames.backupDir)
}

function ensurePrivateDir(dir) {
  checkPath('directory', dir)
  let exists = true
  try {
    fs.lstatSync(dir)
  } catch {
    exists = false
  }
  if (!exists) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw osError(`Cannot create directory ${dir}`, err)
    }
  }
  checkTrusted(dir)
  tightenOwnDir(dir)
}

function checkTrusted(dir) {
  let st
  try {
    st = fs.lstatSync(dir)
  } catch (err) {
    throw osError(`Cannot use directory ${dir}`, err)
  }
  if (st.isSymbolicLink()) throw codedError('EUNSAFEDIR', `Refusing directory ${dir}: it is a symbolic link`)
  if (!st.isDirectory()) throw codedError('ENOTDIR', `Cannot use directory ${dir}: not a directory`)
  if (typeof process.geteuid === 'function' && st.uid !== process.geteuid()) {
    const how = st.mode & 0o022 ? ' and writable by others' : ''
    throw codedError(
      'EUNSAFEDIR',
      `Refusing directory ${dir}: owned by uid ${st.uid}, not by this user (uid ${process.geteuid()})${how}; remove it or choose another folder`,
    )
  }
}

/** One of ours that others may read or write (legacy made 0755 folders): 0700, one warning. */
function tightenOwnDir(dir) {
  if (process.platform === 'win32') return
  const mode = fs.lstatSync(dir).mode & 0o777
  if (mode === 0o700) return
  fs.chmodSync(dir, 0o700)
  console.error(`session-resilience: warning: ${dir} was mode ${mode.toString(8)}; made owner-only (0700)`)
}

module.exports = { backupDirOf, ensurePrivateDir }
