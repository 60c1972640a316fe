'use strict'
// Drop-in for the legacy `validation-helpers.js`: the same exports (the singleton's
// functions and the class), arguments, defaults, messages and result shapes, on the native
// or the JS backend (lib/backend.js), plus `run(argv)` / `main()` for its CLI. The fixed
// defects are listed in COMPATIBILITY.md.

const fs = require('node:fs')
const { resolveBackend } = require('./backend')
const { codedError } = require('./js/errors')
const walk = require('./js/validate')
const fileRepair = require('./js/repair')
const { printJson, main: runMain, quietly, runCommand, usage } = require('./cli')
const { addMethods } = require('./mixin')
const { SafeFileOperations } = require('./safe-file-operations')

const repairFlag = (autoRepair) => (autoRepair === undefined ? true : Boolean(autoRepair))

class ValidationHelpers {
  /**
   * @param {{ backend?: 'native' | 'js', backupDir?: string }} [options]
   * `backupDir`: where `repairTracker` looks for `backupFile` copies of a damaged tracker and
   * where the CLI backs a tracker up before writing it.
   */
  constructor(options = {}) {
    const { name, binding } = resolveBackend(options.backend)
    this.backend = name
    this.binding = binding
    this.files = new SafeFileOperations({ backend: name, backupDir: options.backupDir })
    this.backupDir = this.files.backupDir
    this.schemas = this.loadSchemas()
  }

  // Whatever hands back or edits a JS object of the tracker runs the JS walk on both
  // backends: crossing into Rust for it costs more than the walk itself, and the engine's
  // JSON.parse builds the object fastest. Only validateTrackerFile, which builds no object,
  // is native (README, "Validation: where Rust pays").
  validateTrackerSchema(tracker, autoRepair = true) {
    return walk.validateTrackerSchema(tracker, repairFlag(autoRepair))
  }

  validateComponent(component, context = 'component', autoRepair = true) {
    const ctx = context === undefined ? 'component' : String(context)
    return walk.validateComponent(component, ctx, repairFlag(autoRepair))
  }

  validateBackup(backup, autoRepair = true) {
    return walk.validateBackup(backup, repairFlag(autoRepair))
  }

  createDefaultTracker() {
    return walk.createDefaultTracker()
  }

  /** Legacy console lines around the repair; the file itself is not written (the CLI does). */
  repairTracker(trackerPath) {
    console.log(`🔧 Attempting to repair tracker: ${trackerPath}`)
    return logRepair(fileRepair.repairTracker(trackerPath, { backupDir: this.backupDir }))
  }

  /**
   * The CLI's `repair`: `repairTracker`, then, when something was repaired, a `backupFile`
   * copy of the previous file and an atomic write of the repaired tracker. Returns `{ success, repaired, saved,
   * errors, warnings, remainingErrors, backupPath[, error] }`.
   */
  repairTrackerFile(trackerPath) {
    console.log(`🔧 Attempting to repair tracker: ${trackerPath}`)
    return logRepair(fileRepair.repairTrackerFile(trackerPath, { backupDir: this.backupDir }))
  }

  /**
   * The CLI's `validate`: read, strict parse and validate (no repair) a tracker file; on the
   * native backend without building its JS object. Throws when unreadable or unparseable.
   */
  validateTrackerFile(trackerPath) {
    return this.binding.validateTrackerFile(trackerPath)
  }

  /** Write a tracker: a backup of the previous file first, then an atomic replace. */
  writeTracker(file, tracker, label) {
    if (fs.existsSync(file) && this.files.backupFile(file, label) === null) {
      throw codedError('EBACKUP', `Could not back up ${file} before writing it`)
    }
    this.files.atomicWrite(file, `${JSON.stringify(tracker, null, 2)}\n`)
  }
}

// The legacy class's smaller public methods (loadSchemas, validatePhasesStructure, ...).
addMethods(ValidationHelpers, require('./validation-structure'))

/** The legacy console lines of a repair result. */
function logRepair(result) {
  if (!result.success) {
    console.error(`❌ Failed to repair tracker: ${result.error}`)
    return result
  }
  if (result.repaired) {
    console.log('🔧 Tracker structure repaired')
    result.warnings.forEach((w) => console.log(`  ⚠️  ${w}`))
  }
  if (result.errors.length > 0) {
    console.log('❌ Validation errors found:')
    result.errors.forEach((e) => console.log(`  - ${e}`))
  }
  return result
}

let singleton = null
function instance() {
  if (!singleton) singleton = new ValidationHelpers()
  return singleton
}

// ---- CLI ---------------------------------------------------------------------------------

const USAGE = `
🔧 Validation Helpers CLI

Usage:
  node validation-helpers.js repair <tracker-file>        Repair corrupted tracker
  node validation-helpers.js validate <tracker-file>      Validate tracker structure
  node validation-helpers.js create-default <file>        Create default tracker
  node validation-helpers.js help                         Show this help

Options:
  --json    print the result as one JSON document

Exit codes: 0 ok, 1 invalid or not repairable, 2 usage error.

Examples:
  node validation-helpers.js repair phase-tracker.json
  node validation-helpers.js validate phase-tracker.json
  node validation-helpers.js create-default new-tracker.json
`

const commands = {
  repair: {
    run({ instance: h, args: [file], json }) {
      if (!file) throw usage('Please specify tracker file path')
      const result = json ? quietly(() => h.repairTrackerFile(file)) : h.repairTrackerFile(file)
      if (!result.success) {
        if (json) printJson({ file, ...result })
        else console.error('❌ Repair failed:', result.error)
        return 1
      }
      const left = result.remainingErrors
      if (json) {
        printJson({ file, ...result, valid: left.length === 0 })
      } else {
        console.log('✅ Repair completed')
        if (result.saved) console.log('💾 Repaired tracker saved')
        if (left.length) {
          console.error(`❌ ${left.length} error(s) could not be repaired:`)
          left.forEach((e) => console.error(`  - ${e}`))
        }
      }
      return left.length === 0 ? 0 : 1
    },
  },

  validate: {
    run({ instance: h, args: [file], json }) {
      if (!file) throw usage('Please specify file path')
      let result
      try {
        result = h.validateTrackerFile(file)
      } catch (err) {
        if (json) printJson({ file, valid: false, error: err.message, code: err.code })
        else console.error(`❌ Failed to validate ${file}: ${err.message}`)
        return 1
      }
      if (json) {
        printJson({ file, valid: result.valid, errors: result.errors, warnings: result.warnings })
        return result.valid ? 0 : 1
      }
      console.log(`📊 Validation Results for ${file}:`)
      console.log(`  Valid: ${result.valid ? '✅' : '❌'}`)
      console.log(`  Errors: ${result.errors.length}`)
      console.log(`  Warnings: ${result.warnings.length}`)
      if (result.errors.length > 0) {
        console.log('\n❌ Errors:')
        result.errors.forEach((e) => console.log(`  - ${e}`))
      }
      if (result.warnings.length > 0) {
        console.log('\n⚠️  Warnings:')
        result.warnings.forEach((w) => console.log(`  - ${w}`))
      }
      return result.valid ? 0 : 1
    },
  },

  'create-default': {
    run({ instance: h, args: [file], json }) {
      if (!file) throw usage('Please specify output file path')
      // a new tracker takes checkpoints as snapshots (lib/backup/snapshot.js); trackers
      // without the field, every existing one, keep tar.gz sets
      const tracker = h.createDefaultTracker()
      tracker.backupStrategy.backupTypes = { ...tracker.backupStrategy.backupTypes, fullSystem: { method: 'snapshot' } }
      h.writeTracker(file, tracker, 'pre-default')
      if (json) printJson({ file, created: true })
      else console.log(`✅ Created default tracker: ${file}`)
      return 0
    },
  },
}

/** The CLI: `run(['validate', 'phase-tracker.json'])` resolves to the exit code. */
function run(argv) {
  return runCommand(argv, { usage: USAGE, commands, create: instance })
}

module.exports = {
  validateTrackerSchema: (tracker, autoRepair) => instance().validateTrackerSchema(tracker, autoRepair),
  validateComponent: (component, context, autoRepair) => instance().validateComponent(component, context, autoRepair),
  validateBackup: (backup, autoRepair) => instance().validateBackup(backup, autoRepair),
  repairTracker: (trackerPath) => instance().repairTracker(trackerPath),
  createDefaultTracker: () => instance().createDefaultTracker(),
  ValidationHelpers,
  run,
  main: (arg) => runMain(run, arg),
}
