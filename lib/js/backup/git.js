'use strict'
// Git for the code backup: `git rev-parse` and `git bundle`, as core/src/backup/git.rs.

const fs = require('node:fs')
const { spawnSync } = require('node:child_process')

const { checkPath, codedError, osError } = require('../errors')
const contained = require('../contained')
const { runCommandAsync, missingCommand } = require('./command')

function isDirectory(p) {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

function backupIsGitRepo(root) {
  checkPath('root', root)
  const r = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: root, encoding: 'utf8' })
  if (r.error) {
    // git cannot start in a folder that is not there (or is a file): no work tree, not a
    // missing git (as core/src/backup/git.rs)
    if (!isDirectory(root)) return false
    if (r.error.code === 'ENOENT') throw missingCommand('git')
    throw osError('Cannot run git', r.error)
  }
  return r.status === 0 && String(r.stdout).trim() === 'true'
}

/**
 * Resolves `true`; `backupCancel()` kills git (ECANCELED), as the native task does. `exclude`:
 * full hex commit ids whose history is left out (an incremental bundle).
 */
async function backupGitBundle(root, dest, exclude) {
  checkPath('root', root)
  checkPath('dest', dest)
  const nots = (exclude || []).map((oid) => {
    if (typeof oid !== 'string' || !/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(oid)) {
      throw codedError('ERR_INVALID_ARG_TYPE', `${JSON.stringify(oid)} is not a git object id (40 or 64 lowercase hex digits)`)
    }
    return `^${oid}`
  })
  await runCommandAsync('git', ['bundle', 'create', dest, '--all', ...nots], root)
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

module.exports = { backupIsGitRepo, backupGitBundle }
