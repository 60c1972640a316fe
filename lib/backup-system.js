'use strict'
// Drop-in for the legacy `backup-system.js`: `module.exports` is the class `BackupSystem`
// (legacy methods, arguments and result shapes), with `run(argv)` / `main()` for its CLI
// attached as static members. The class is in lib/backup/ (one file per concern: the class
// and its layout, create, catalog, restore, system info, CLI).

const BackupSystem = require('./backup/backup-system')
const { run } = require('./backup/cli')
const { main: runMain } = require('./cli')
const { DEFAULT_CONFIG_FILES, DEFAULT_DATABASES } = require('./backup/common')

BackupSystem.run = run
BackupSystem.main = (arg) => runMain(run, arg)
BackupSystem.BackupSystem = BackupSystem
BackupSystem.DEFAULT_CONFIG_FILES = DEFAULT_CONFIG_FILES
BackupSystem.DEFAULT_DATABASES = DEFAULT_DATABASES

module.exports = BackupSystem
