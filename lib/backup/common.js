'use strict'
// What the parts of BackupSystem share: the defaults, the layout constants and the small
// file helpers. The layout under <root>/backups is the legacy one, so legacy readers list
// our sets:
//   code/<id>/{repo.bundle,git-info.json}   database/<id>/{<db>,<db>.sql,db-info.json}
//   config/<id>/{<path with / -> _>,config-info.json}   state/<id>/system-info.json
//   full/<id>.tar.gz   and new: manifests/<id>.json (size + SHA-256 of every file), .gitignore

const fs = require('node:fs')

const { openRegular, readBounded } = require('../js/contained')

/** Trackers and info files are small; past this a file is not one of ours. */
const MAX_JSON_BYTES = 64 * 1024 * 1024

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
const DEFAULT_EXCLUDES = require('../js/defaults.json').backupExcludes
const KINDS = ['code', 'database', 'config', 'state', 'full']
const MAX_RESTORE_POINTS = 10
const DAY_MS = 24 * 3600 * 1000
/** A backup id that is safe as a path component (never `..`, never a separator). */
const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/

function stampOf(ms) {
  return new Date(ms).toISOString().replace(/[:.]/g, '-')
}

/**
 * The JSON of `file`, or null when it is missing, damaged, or not a regular file (read with
 * lstat, O_NONBLOCK | O_NOFOLLOW and fstat: a FIFO or a /dev/zero link never blocks or floods).
 */
function readJson(file) {
  let fd
  try {
    fd = openRegular(file, fs.constants.O_RDONLY)
  } catch {
    return null
  }
  try {
    return JSON.parse(readBounded(fd, file, MAX_JSON_BYTES).toString('utf8'))
  } catch {
    return null
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Let progress events queued by a native task reach their callback before going on: they
 * travel through a threadsafe function, whose queue may still hold the last ones when the
 * task's promise settles.
 */
function drainProgress() {
  return new Promise((resolve) => setImmediate(resolve))
}

module.exports = {
  DEFAULT_DATABASES,
  DEFAULT_CONFIG_FILES,
  DEFAULT_EXCLUDES,
  KINDS,
  MAX_RESTORE_POINTS,
  DAY_MS,
  SAFE_ID,
  stampOf,
  readJson,
  drainProgress,
}
