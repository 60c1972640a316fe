'use strict'
// The JS backend of the backup primitives: the same names, arguments, results and errors
// as the native ones (src/backup.rs, src/tasks/backup_*.rs; read core/src/backup/ for the
// why of each step), using Node's own APIs and the `git`, `tar` and `sqlite3` commands.
// Commands always run with argument lists (execFile/spawn, never a shell), and a missing
// command is a clear `ENOCOMMAND` error.
// One file per module of core/src/backup/: cancel, command (git.rs's `run`), git, sqlite,
// restore, archive, manifest, and common (what mod.rs shares).

const { backupIsGitRepo, backupGitBundle } = require('./git')
const { backupCopyDatabase, backupIntegrityCheck } = require('./sqlite')
const { backupContainedPath, backupRestoreFile, backupRestoreDatabase } = require('./restore')
const { backupCreateArchive, backupCheckArchive } = require('./archive')
const { backupCancel } = require('./cancel')
const { backupHashFiles, backupVerifyFiles } = require('./manifest')

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
