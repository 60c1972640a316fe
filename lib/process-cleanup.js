'use strict'
// Drop-in for the legacy `process-cleanup.js`: `onExit(fn)`, `safeExit(code)` and the class
// `ProcessCleanup`, with the legacy signal handling (SIGTERM/SIGINT exit 130, SIGUSR1/SIGUSR2
// exit 1, uncaught exceptions and unhandled rejections exit 1). It releases the locks this
// process holds, removes only the temporary files this process registered, and never
// deletes backups.

const fs = require('node:fs')
const path = require('node:path')
const cli = require('./cli')
const { codedError } = require('./js/errors')

const EXIT_CODES = { SIGTERM: 130, SIGINT: 130, SIGUSR1: 1, SIGUSR2: 1 }

/** The lock backends this process has loaded: the JS one always, the addon when loaded. */
function loadedBackends() {
  const backends = [require('./js')]
  try {
    const native = require.cache[require.resolve('../index.js')]
    if (native && native.exports && typeof native.exports.releaseAllLocks === 'function') backends.push(native.exports)
  } catch {}
  return backends
}

class ProcessCleanup {
  /** @param {{ install?: boolean }} [options] install the signal/exception handlers (default true) */
  constructor(options = {}) {
    this.handlers = []
    this.tempFiles = new Set()
    this.exiting = false
    this.installed = false
    if (options.install !== false) this.install()
  }

  /** Run `fn` (may return a promise) before `safeExit` exits; returns a function that unregisters it. */
  onExit(fn) {
    if (typeof fn !== 'function') {
      throw codedError('ERR_INVALID_ARG_TYPE', 'The "fn" argument must be of type function')
    }
    this.handlers.push(fn)
    return () => {
      this.handlers = this.handlers.filter((h) => h !== fn)
    }
  }

  /** A temporary file this process created: removed at `safeExit` unless untracked first. */
  trackTempFile(file) {
    this.tempFiles.add(path.resolve(file))
    return file
  }

  untrackTempFile(file) {
    this.tempFiles.delete(path.resolve(file))
  }

  /** Release every lock this process holds, on every loaded backend; returns how many. */
  releaseLocks() {
    let n = 0
    for (const backend of loadedBackends()) {
      try {
        n += backend.releaseAllLocks()
      } catch (err) {
        console.warn(`Failed to release locks: ${err.message}`)
      }
    }
    return n
  }

  removeTempFiles() {
    for (const file of this.tempFiles) {
      try {
        fs.rmSync(file, { force: true })
      } catch (err) {
        console.warn(`Failed to remove temporary file ${file}: ${err.message}`)
      }
    }
    this.tempFiles.clear()
  }

  /**
   * Stop the backups this process is making (when the backup module is loaded): their work
   * on the thread pool ends within milliseconds and they remove their staging folders, where
   * an exit would otherwise wait for a running archive to finish (seconds).
   */
  async cancelBackups() {
    const create = require.cache[require.resolve('./backup/create')]
    if (!create) return
    try {
      await create.exports.cancelRunning()
    } catch (err) {
      console.warn(`Failed to stop a running backup: ${err.message}`)
    }
  }

  /** Stop running backups, run the handlers (warning on errors), release our locks, remove our temp files, exit. */
  async safeExit(code = 0) {
    if (this.exiting) return process.exit(code) // a second signal while cleaning up: go now
    this.exiting = true
    await this.cancelBackups()
    for (const handler of this.handlers) {
      try {
        await handler()
      } catch (err) {
        console.warn(`Cleanup handler failed: ${err && err.message ? err.message : err}`)
      }
    }
    this.releaseLocks()
    this.removeTempFiles()
    process.exit(code)
  }

  /** Legacy name of `install()` (subclasses override it to change the handlers). */
  setupSignalHandlers() {
    return this.install()
  }

  install() {
    if (this.installed) return
    this.installed = true
    for (const [signal, code] of Object.entries(EXIT_CODES)) {
      try {
        process.on(signal, () => this.safeExit(code))
      } catch {} // a signal this platform does not have
    }
    process.on('uncaughtException', (err) => {
      console.error('Uncaught exception:', err)
      this.safeExit(1)
    })
    process.on('unhandledRejection', (reason) => {
      console.error('Unhandled rejection:', reason)
      this.safeExit(1)
    })
  }
}

const singleton = new ProcessCleanup()

const USAGE = `Process Cleanup

Usage: node process-cleanup.js [help]

A library, as legacy was: require it and call onExit(fn) / safeExit(code). Run as a command it
installs its handlers and exits 0, like the legacy file.`

/** The CLI: nothing to do but what legacy did (load, exit 0); `help` explains. */
function run(argv) {
  if (!argv.length) return 0
  return cli.runCommand(argv, { usage: USAGE, commands: {}, create: () => null })
}

module.exports = {
  onExit: (fn) => singleton.onExit(fn),
  safeExit: (code) => singleton.safeExit(code),
  trackTempFile: (file) => singleton.trackTempFile(file),
  ProcessCleanup,
  instance: singleton,
  run,
  main: (arg) => cli.main(run, arg),
}
