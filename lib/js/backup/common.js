'use strict'
// What the backup modules share, as core/src/backup/mod.rs: the progress meter that reports
// every so many files or bytes, and the temp files written beside a target.

const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')

/** What SQLite keeps beside a database (its journal, WAL and WAL index): it goes where the database goes. */
const SIDE_FILES = ['-journal', '-wal', '-shm']

const REPORT_FILES = 200
const REPORT_BYTES = 32 * 1024 * 1024

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

/** A name in `dir` that sqlite3's dot-command parser takes as one plain argument. */
function plainTempName(dir, prefix) {
  return path.join(dir, `${prefix}${crypto.randomBytes(8).toString('hex')}`)
}

function removeQuietly(file) {
  try {
    fs.rmSync(file)
  } catch {
    // best effort (gone already, or not ours to remove): a temp we could not remove is named as ours
  }
}

module.exports = { meter, plainTempName, removeQuietly, SIDE_FILES }
