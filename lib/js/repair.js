'use strict'
// `repairTracker(path)` of the JS backend: the twin of core/src/validate/file.rs (read its
// module comment for the why). Never destroys data: a file that is not strict JSON first
// gets a second name `<name>.corrupt-<stamp>` (the original stays); an unreadable tracker
// comes back from the newest backup of it that parses, else the result is a failure.

const fs = require('node:fs')
const path = require('node:path')

const { checkPath, osError } = require('./errors')
const { linkAside, backupsOf, backupDirOf, backupFile, atomicWrite } = require('./fsx')
const { codedError } = require('./errors')
const { parseTracker, parseTolerant } = require('./parse')
const { parseStamp } = require('./time')
const { validateTrackerWith, clock, message, isObject, createDefaultTracker, SCHEMA } = require('./validate')

const M = SCHEMA.messages
const TRACKER_IN_ROOT = ['packages', 'system-api', 'phase-tracker.json']
const TRACKER_IN_SET = 'packages_system-api_phase-tracker.json'

function tryParse(text) {
  try {
    const parsed = parseTracker(text)
    return isObject(parsed.value) ? parsed : null
  } catch {
    return null
  }
}

function failed(error) {
  return { success: false, error, tracker: createDefaultTracker() }
}

function finish(tracker, notes) {
  const r = validateTrackerWith(tracker, true, clock())
  if (notes.length) {
    r.repaired = true
    r.warnings.unshift(...notes)
  }
  return { success: true, tracker: r.data, repaired: r.repaired, errors: r.errors, warnings: r.warnings }
}

/** The tracker copies of the project's backup sets, with their time, when `file` is `<root>/packages/system-api/phase-tracker.json`. */
function backupSetCopies(file) {
  let root = file
  for (const expected of [...TRACKER_IN_ROOT].reverse()) {
    if (path.basename(root) !== expected) return []
    root = path.dirname(root)
  }
  const configDir = path.join(root, 'backups', 'config')
  let sets
  try {
    sets = fs.readdirSync(configDir, { withFileTypes: true })
  } catch {
    return []
  }
  const found = []
  for (const set of sets) {
    const copy = path.join(configDir, set.name, TRACKER_IN_SET)
    let st
    try {
      st = fs.statSync(copy)
    } catch {
      continue
    }
    if (!st.isFile()) continue
    let ms = set.name.length >= 24 ? parseStamp(set.name.slice(-24)) : null
    if (ms === null) {
      try {
        ms = Math.floor(fs.statSync(path.join(configDir, set.name)).mtimeMs)
      } catch {
        continue
      }
    }
    found.push({ ms, path: copy })
  }
  return found
}

/** `{ from, value }` of the newest copy of the tracker (a `backupFile` copy or a backup set's) that parses to an object, else null. */
function newestGoodTrackerCopy(file, backupDir) {
  const candidates = backupsOf(path.basename(file), backupDir)
    .map((b) => ({ ms: b.parsed.ms, path: b.path }))
    .concat(backupSetCopies(file))
    .sort((a, b) => b.ms - a.ms)
  for (const candidate of candidates) {
    let text
    try {
      text = fs.readFileSync(candidate.path, 'utf8')
    } catch {
      continue
    }
    const parsed = tryParse(text)
    if (parsed) return { from: candidate.path, value: parsed.value }
  }
  return null
}

function repairTracker(trackerPath, options) {
  checkPath('trackerPath', trackerPath)
  let text
  try {
    text = fs.readFileSync(trackerPath, 'utf8')
  } catch (err) {
    if (err.code === 'ENOENT') return finish(null, [])
    return failed(osError(trackerPath, err).message)
  }
  const parsed = tryParse(text)
  if (parsed && !parsed.tolerant) return finish(parsed.value, [])
  let kept
  try {
    kept = linkAside(trackerPath)
  } catch (err) {
    return failed(osError(`Cannot keep a copy of ${trackerPath}`, err).message)
  }
  if (parsed) return finish(parsed.value, [message(M.fixedJsonSyntax, { path: trackerPath })])
  const found = newestGoodTrackerCopy(trackerPath, backupDirOf(options))
  if (found) {
    return finish(found.value, [message(M.recoveredFromBackup, { path: trackerPath, from: found.from, kept })])
  }
  return failed(message(M.unrecoverable, { path: trackerPath, kept }))
}

/** The CLI's `repair`: repairTracker, then a backup of the previous file and an atomic write. */
function repairTrackerFile(trackerPath, options) {
  const r = repairTracker(trackerPath, options)
  const done = { success: r.success, repaired: Boolean(r.repaired), saved: false, errors: r.errors || [], warnings: r.warnings || [], remainingErrors: [], backupPath: null }
  if (!r.success) return { ...done, error: r.error }
  done.remainingErrors = validateTrackerWith(r.tracker, false, clock()).errors
  if (r.repaired) {
    if (fs.existsSync(trackerPath)) {
      done.backupPath = backupFile(trackerPath, 'pre-repair', { backupDir: backupDirOf(options) })
      if (done.backupPath === null) throw codedError('EIO', `Backup failed for ${trackerPath}`)
    }
    atomicWrite(trackerPath, `${JSON.stringify(r.tracker, null, 2)}\n`)
    done.saved = true
  }
  return done
}

/** The CLI's `validate`: read, strict JSON.parse, validate without repair; throws when unreadable. */
function validateTrackerFile(trackerPath) {
  checkPath('trackerPath', trackerPath)
  let text
  try {
    text = fs.readFileSync(trackerPath, 'utf8')
  } catch (err) {
    throw osError(trackerPath, err)
  }
  let tracker
  try {
    tracker = JSON.parse(text)
  } catch (err) {
    let tolerant = true
    try {
      parseTolerant(text)
    } catch {
      tolerant = false
    }
    throw codedError('ECORRUPT', tolerant ? `${trackerPath} is not strict JSON` : `Cannot parse ${trackerPath}: ${err.message}`)
  }
  const r = validateTrackerWith(tracker, false, clock())
  return { valid: r.valid, errors: r.errors, warnings: r.warnings }
}

module.exports = { repairTracker, repairTrackerFile, validateTrackerFile }
