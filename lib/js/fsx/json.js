'use strict'
// Recovering a JSON file that no longer parses, as core/src/fsx/json.rs: its bytes are moved
// aside (never deleted) as `<name>.corrupt-<stamp>`, and its newest backup that parses is put back.

const fs = require('node:fs')
const path = require('node:path')

const { osError, checkPath } = require('../errors')
const { fileStamp } = require('../time')
const { atomicWrite } = require('./atomic')
const { backupsOf } = require('./copies')
const { backupDirOf } = require('./dirs')

function parses(text) {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** Move `filePath` aside as `<name>.corrupt-<stamp>`, never over an existing file. */
function keepAside(filePath) {
  const aside = linkAside(filePath)
  fs.unlinkSync(filePath)
  return aside
}

/** A second name `<name>.corrupt-<stamp>` for `filePath`'s bytes; the file itself stays. */
function linkAside(filePath) {
  const stamp = fileStamp(Date.now())
  for (let serial = 0; ; serial++) {
    const aside = `${filePath}.corrupt-${stamp}${serial === 0 ? '' : `-${serial}`}`
    try {
      fs.linkSync(filePath, aside)
    } catch (err) {
      if (err.code === 'EEXIST') continue
      if (fs.existsSync(aside)) continue
      fs.copyFileSync(filePath, aside, fs.constants.COPYFILE_EXCL) // no hard links here
    }
    return aside
  }
}

/**
 * Move a JSON file that does not parse aside and restore its newest backup that parses:
 * `{ keptAs, restoredFrom, text }` (only `{ keptAs }` when none parses, as the native one).
 */
function recoverJsonFile(filePath, options) {
  checkPath('filePath', filePath)
  let keptAs
  try {
    keptAs = keepAside(filePath)
  } catch (err) {
    throw osError(`Cannot move damaged ${filePath} aside`, err)
  }
  for (const candidate of backupsOf(path.basename(filePath), backupDirOf(options))) {
    let text
    try {
      text = fs.readFileSync(candidate.path, 'utf8')
    } catch {
      continue
    }
    if (!parses(text)) continue
    atomicWrite(filePath, text)
    return { keptAs, restoredFrom: candidate.path, text }
  }
  return { keptAs }
}

module.exports = { recoverJsonFile, linkAside }
