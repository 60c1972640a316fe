'use strict'
// The backup-system CLI (on the kit of lib/cli.js), and the restore flags it shares with the
// session CLIs' `restore`.

const { printJson, runCommand, usage } = require('../cli')
const BackupSystem = require('./backup-system')
const { diffLines, logLines } = require('./history')

const USAGE = `
📦 AgentHive Backup System

Usage:
  node backup-system.js create [label]     Create full backup
  node backup-system.js list              List available backups
  node backup-system.js restore <id>      Restore from backup
  node backup-system.js cleanup [days]    Clean old backups (default: 30 days)

Examples:
  node backup-system.js create phase2-start
  node backup-system.js restore auto-2025-01-07T19-00-00-000Z
  node backup-system.js cleanup 7

Also:
  node backup-system.js verify <id> [--deep]  Re-hash every file of a backup against its manifest
                                         (--deep: every snapshot chunk re-derived, pack digests not used)
  node backup-system.js restore <id> --only <path>...
                                          Restore only these files or folders (snapshot sets)
  node backup-system.js export <id> [file]
                                          Write a snapshot set as the legacy full/<id>.tar.gz
  node backup-system.js import <id>       Move a tar.gz set into the snapshot store
  node backup-system.js diff <a> [b]      Files added (A), removed (D), modified (M) from
                                          snapshot set a to b, or to the project now
  node backup-system.js log               Snapshots with their logical, new and shared bytes
  node backup-system.js help              Show this help
  restore flags: --dry-run --force --auto-stash --no-code --no-database --no-config
                 --continue-on-error --skip-current-backup
  options: --root <dir>, --json (one JSON document on stdout)

The project root is --root <dir>, else the folder of the script that was run (a shim) and its
ancestors, else $SESSION_RESILIENCE_ROOT, else the nearest folder above the current one holding
packages/system-api/phase-tracker.json. Where there is none, create, restore and cleanup refuse
to run (ENOROOT). Ctrl+C stops a backup at once (exit 130) and leaves nothing of it behind.`

const RESTORE_FLAGS = [
  'dry-run',
  'force',
  'auto-stash',
  'no-auto-stash',
  'no-code',
  'no-database',
  'no-config',
  'continue-on-error',
  'skip-current-backup',
  'only',
]

/** The `restoreFromBackup` options of the restore flags given (a Set of flag names). */
function restoreOptions(flags) {
  const options = {}
  if (flags.has('dry-run')) options.dryRun = true
  if (flags.has('force')) options.force = true
  if (flags.has('auto-stash')) options.autoStash = true
  else if (flags.has('no-auto-stash')) options.autoStash = false
  if (flags.has('continue-on-error')) options.continueOnError = true
  if (flags.has('skip-current-backup')) options.skipCurrentBackup = true
  if (flags.has('no-code')) options.restoreCode = false
  if (flags.has('no-database')) options.restoreDatabase = false
  if (flags.has('no-config')) options.restoreConfig = false
  return options
}

function progressLine(ev) {
  return `${ev.phase}: ${ev.files} files, ${(ev.bytes / 1048576).toFixed(1)} MiB`
}

/** Run `fn(onProgress)` with a progress line on stderr when it is a TTY (never with --json). */
async function withProgress(json, fn) {
  if (json || !process.stderr.isTTY) return fn(undefined)
  try {
    return await fn((ev) => process.stderr.write(`\r\x1b[K${progressLine(ev)}`))
  } finally {
    process.stderr.write('\r\x1b[K')
  }
}

/**
 * Run `fn()` with Ctrl+C cancelling the backups this process is making: they stop within
 * milliseconds and remove their staging folder; the command then exits 130. A second Ctrl+C
 * gets Node's default (immediate exit).
 */
async function interruptible(fn) {
  let interrupted = false
  const onSigint = () => {
    interrupted = true
    BackupSystem.cancelRunning()
  }
  process.once('SIGINT', onSigint)
  try {
    return await fn()
  } catch (err) {
    if (!interrupted) throw err
    console.error(`❌ Interrupted: ${err.message}`)
    return 130
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
}

const commands = {
  create: {
    async run({ instance: bs, args: [label = 'manual'], json }) {
      return interruptible(async () => {
        const id = await withProgress(json, (onProgress) => bs.createFullBackup(label, { onProgress }))
        if (json) printJson({ ok: true, id })
        return 0
      })
    },
  },
  list: {
    run({ instance: bs, json }) {
      if (!bs.rootIsProject) {
        const message = bs.noProjectMessage()
        if (json) printJson({ ok: false, error: message, code: 'ENOROOT' })
        else console.log(message)
        return 1
      }
      const points = bs.listBackups()
      if (json) printJson(points)
      return 0
    },
  },
  verify: {
    flags: ['deep'],
    async run({ instance: bs, args: [id], json, flags }) {
      if (!id) throw usage('verify needs a backup <id>')
      const result = await withProgress(json, (onProgress) => bs.verifyBackup(id, { onProgress, deep: flags.has('deep') }))
      if (json) printJson(result)
      else if (result.valid) console.log(`✅ ${id}: ${result.checked} files, ${result.bytes} bytes verified`)
      else {
        console.log(`❌ ${id}: ${result.error || 'verification failed'}`)
        for (const p of result.missing) console.log(`   missing: ${p}`)
        for (const p of result.altered) console.log(`   altered: ${p}`)
      }
      return result.valid ? 0 : 1
    },
  },
  restore: {
    flags: RESTORE_FLAGS,
    async run({ instance: bs, args: [id, ...paths], json, flags }) {
      if (!id) throw usage('restore needs a backup <id>')
      if (flags.has('only')) {
        if (paths.length === 0) throw usage('restore --only needs one or more paths')
        const stats = await interruptible(() => bs.restorePaths(id, paths, restoreOptions(flags)))
        if (stats === 130) return 130
        if (json) printJson({ ok: true, ...stats })
        return 0
      }
      const result = await interruptible(() => bs.restoreFromBackup(id, restoreOptions(flags)))
      if (result === 130) return 130
      if (json) printJson({ ok: true, ...result })
      return result.errors && result.errors.length ? 1 : 0
    },
  },
  export: {
    async run({ instance: bs, args: [id, file], json }) {
      if (!id) throw usage('export needs a backup <id>')
      const out = await withProgress(json, (onProgress) => bs.exportBackup(id, file, { onProgress }))
      if (json) printJson({ ok: true, ...out })
      return 0
    },
  },
  diff: {
    async run({ instance: bs, args: [from, to], json }) {
      if (!from) throw usage('diff needs a snapshot set <a> (and optionally <b>)')
      const result = await bs.diffBackups(from, to)
      if (json) printJson(result)
      else for (const line of diffLines(result.changes)) console.log(line)
      return 0
    },
  },
  log: {
    async run({ instance: bs, json }) {
      const entries = await bs.snapshotLog()
      if (json) printJson(entries)
      else for (const line of logLines(entries)) console.log(line)
      return 0
    },
  },
  import: {
    async run({ instance: bs, args: [id], json }) {
      if (!id) throw usage('import needs a backup <id>')
      const snapshot = await bs.importBackup(id)
      if (json) printJson({ ok: true, ...snapshot })
      return 0
    },
  },
  cleanup: {
    async run({ instance: bs, args: [days], json }) {
      const n = days === undefined ? 30 : Number(days)
      if (!Number.isFinite(n) || n < 0) throw usage(`cleanup needs a number of days, got "${days}"`)
      const removed = await bs.cleanup(n)
      if (json) printJson({ ok: true, removed })
      return 0
    },
  },
}

/** The CLI: `run(['create', 'nightly'])` resolves to the exit code. */
function run(argv) {
  return runCommand(argv, { usage: USAGE, root: true, commands, create: ({ root, quiet }) => new BackupSystem({ root, quiet }) })
}

module.exports = { run, RESTORE_FLAGS, restoreOptions }
