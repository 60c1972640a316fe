'use strict'
// Git for the code backup: `git rev-parse` and `git bundle`, as core/src/backup/git.rs.

const fs = require('node:fs')
const { spawnSync } = require('node:child_process')

const { checkPath } = require('../errors')
const contained = require('../contained')
const { runCommandAsync, missingCommand } = require('./command')

function backupIsGitRepo(root) {
  checkPath('root', root)
  const r = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: root, encoding: 'utf8' })
  if (r.error && r.error.code === 'ENOENT' && fs.existsSync(root)) throw missingCommand('git')
  return r.status === 0 && String(r.stdout).trim() === 'true'
}

/** Resolves `true`; `backupCancel()` kills git (ECANCELED), as the native task does. */
async function backupGitBundle(root, dest) {
  checkPath('root', root)
  checkPath('dest', dest)
  await runCommandAsync('git', ['bundle', 'create', dest, '--all'], root)
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
