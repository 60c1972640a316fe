'use strict'
// Drop-in for the legacy `session-manager.js`: `module.exports` is the class
// `SessionManager` (with `run(argv)` / `main()` attached for the CLI). It holds a
// `PhaseGateValidator` (`validator`) and a `BackupSystem` (`backup`) for the same workspace
// root. Every tracker change goes through the validator's locked read-modify-write, so
// concurrent CLI runs keep each other's updates; an unknown component changes nothing.

const { codedError } = require('./js/errors')
const PhaseGateValidator = require('./phase-gate-validator')
const BackupSystem = require('./backup-system')
const { restoreOptions } = require('./backup/cli')
const { findComponent, currentWeek, componentsOf } = require('./session/locate')
const { commandName } = require('./root')
const regression = require('./session/regression')
const { main: runMain, runCommand, toNumber } = require('./cli')

const ICON = { completed: '✅', in_progress: '🔄' }

class SessionManager {
  /** @param {{ root?: string, backend?: 'native' | 'js' }} [options] */
  constructor(options = {}) {
    this.options = options
    this.validator = new PhaseGateValidator(options)
    this.root = this.validator.root
    this.backup = new BackupSystem({ ...options, root: this.root })
  }

  /** How the user runs our CLI `name` (`node session-manager.js` for a shim user), for hints. */
  command(name = 'session-manager') {
    return commandName(name, this.root)
  }

  /** Status, a `session-start` backup (unless `createBackup === false`), the commands, the baseline tests. */
  async startSession(options = {}) {
    console.log('🚀 Starting AgentHive Development Session')
    console.log('═══════════════════════════════════════')
    this.validator.getStatus()
    if (options.createBackup !== false) {
      console.log('\n📦 Creating session backup...')
      await this.backup.createFullBackup('session-start')
      this.validator.tracker = this.validator.loadTracker()
    }
    console.log('\n🛠️  Available Commands:')
    console.log('─────────────────────')
    const sm = this.command()
    console.log(`  ${sm} status                 # Check current status`)
    console.log(`  ${sm} checkpoint <name>      # Create checkpoint`)
    console.log(`  ${sm} validate component <name> # Validate component`)
    console.log(`  ${sm} validate week <phase> <week> # Validate week`)
    console.log(`  ${sm} backup                 # Create backup`)
    console.log(`  ${sm} restore <id>           # Restore from backup`)
    console.log(`  ${sm} test                   # Run baseline tests`)
    console.log('')
    console.log('🧪 Baseline Check:')
    console.log('──────────────────')
    return this.runBaselineTests()
  }

  /** Mesh integration test, then `npm test`, then the basic tracker check: first answer wins. */
  runBaselineTests() {
    return regression.firstAnswer(
      [() => this.runMeshIntegrationTest(), () => this.runNpmTest(), () => this.runFallbackTest()],
      'baseline test',
    )
  }

  runMeshIntegrationTest() {
    return regression.meshIntegration(this.root)
  }

  runNpmTest() {
    return regression.npmTest(this.root)
  }

  runFallbackTest() {
    return regression.basicSystemCheck(this.validator.tracker)
  }

  /**
   * Look at the in-progress component's gates (reported, not saved: a checkpoint changes no
   * component; a failure only warns), full backup (fatal), phase checkpoint.
   */
  async createCheckpoint(name) {
    console.log(`📍 Creating checkpoint: ${name}`)
    let inProgress = null
    try {
      inProgress = componentsOf(currentWeek(this.validator.tracker).week).find((c) => c.status === 'in_progress')
    } catch (err) {
      console.warn(`⚠️  ${err.message}, skipping component validation`)
    }
    if (inProgress) {
      console.log(`🔍 Validating current component: ${inProgress.name}`)
      try {
        const named = this.validator.lastResult // what the command itself reports (e.g. `complete X`)
        await this.validator.validateComponent(inProgress.name, { save: false })
        this.validator.lastResult = named
      } catch (err) {
        console.warn(`⚠️  Component validation failed: ${err.message}`)
        console.log('Continuing with checkpoint creation...')
      }
    }
    try {
      await this.backup.createFullBackup(name)
    } catch (err) {
      console.error(`❌ Backup failed: ${err.message}`)
      throw codedError(err.code || 'EBACKUP', `Checkpoint creation failed due to backup error: ${err.message}`)
    }
    this.validator.tracker = this.validator.loadTracker()
    const checkpointPath = this.validator.createCheckpoint(name)
    console.log('✅ Checkpoint created successfully')
    return checkpointPath
  }

  /**
   * Mark a component of the current week `in_progress` and print its checklist. An unknown
   * name prints the legacy line and the components that exist, writes nothing, returns false.
   */
  async startComponent(componentName) {
    console.log(`🔄 Starting component: ${componentName}`)
    if (!componentName || typeof componentName !== 'string') {
      throw codedError('ERR_INVALID_ARG_TYPE', 'Component name is required and must be a string')
    }
    try {
      findComponent(this.validator.tracker, componentName)
      await this.validator.updateTracker((tracker) => {
        findComponent(tracker, componentName).component.status = 'in_progress'
      })
    } catch (err) {
      if (/^ENO/.test(err.code)) return this.validator.notFound(err)
      throw err
    }
    const { component } = findComponent(this.validator.tracker, componentName)
    console.log(`📋 Component ${componentName} marked as in-progress`)
    this.showComponentChecklist(component)
    console.log(`\n✅ When ready, run: ${this.command()} validate component ${componentName}`)
    return true
  }

  showComponentChecklist(component) {
    console.log('\n🎯 Implementation Checklist:')
    const section = (title, list) => {
      if (!Array.isArray(list) || !list.length) return
      console.log(title)
      for (const item of list) console.log(`  - ${item}`)
    }
    section('📁 Files to create/update:', component.files)
    section('🔗 Dependencies:', component.dependencies)
    section('🧪 Test files needed:', component.testFiles)
    if (component.qualityGates && typeof component.qualityGates === 'object') {
      console.log('🎯 Quality Gates:')
      for (const [gate, passed] of Object.entries(component.qualityGates)) console.log(`  ${passed ? '✅' : '❌'} ${gate}`)
    }
  }

  /** Validate; on success a `<name>-complete` checkpoint (a failure only warns) and the week report. */
  async completeComponent(componentName) {
    console.log(`🎯 Completing component: ${componentName}`)
    if (!componentName || typeof componentName !== 'string') {
      throw codedError('ERR_INVALID_ARG_TYPE', 'Component name is required and must be a string')
    }
    const success = await this.validator.validateComponent(componentName)
    if (!success) {
      console.log(`❌ Component ${componentName} validation failed`)
      console.log('Please fix the issues and try again')
      return false
    }
    console.log(`✅ Component ${componentName} completed successfully!`)
    try {
      await this.createCheckpoint(`${componentName}-complete`)
    } catch (err) {
      console.warn(`⚠️  Checkpoint creation failed: ${err.message}`)
      console.log('Component validation succeeded, continuing...')
    }
    this.checkWeekCompletion()
    return true
  }

  checkWeekCompletion() {
    let where
    try {
      where = currentWeek(this.validator.tracker)
    } catch (err) {
      console.warn(`⚠️  Cannot check week completion: ${err.message}`)
      return false
    }
    const components = componentsOf(where.week)
    const remaining = components.filter((c) => c.status !== 'completed')
    if (!remaining.length) {
      console.log('🎉 All components in this week are complete!')
      console.log(`Run: ${this.command()} validate week ${where.phaseNum} ${where.weekNum}`)
      return true
    }
    console.log(`📋 Remaining components: ${remaining.map((c) => c.name).join(', ')}`)
    return false
  }

  showGuide() {
    console.log(guide((name) => this.command(name)))
    let where = null
    try {
      where = currentWeek(this.validator.tracker)
    } catch (err) {
      console.log(`⚠️  ${err.message}`)
      return
    }
    const components = componentsOf(where.week)
    console.log(`🎯 Current Components for Phase ${where.phaseNum}, Week ${where.weekNum}:`)
    components.forEach((c, i) => console.log(`${i + 1}. ${ICON[c.status] || '⏳'} ${c.name}`))
    const next = components.find((c) => c.status !== 'completed')
    console.log('')
    if (next) console.log(`🚀 Ready to start? Run: ${this.command()} component ${next.name}`)
    console.log('Options: --root <dir> (workspace root), --json (machine-readable output)')
  }
}

/** The guide, with each command as the user runs it (`cmd(name)`). */
function guide(cmd) {
  const [sm, bs, pgv] = ['session-manager', 'backup-system', 'phase-gate-validator'].map(cmd)
  return `📚 AGENTHIVE DEVELOPMENT GUIDE
════════════════════════════

🔄 Development Workflow:
1. ${sm} start              # Start session
2. ${sm} component <name>   # Start component
3. [Implement the component files]
4. ${sm} validate component <name>
5. [Fix any issues]
6. ${sm} complete <name>    # Mark complete

📍 Checkpoint Management:
- ${sm} checkpoint <name>   # Create checkpoint
- ${bs} list                 # List backups
- ${bs} restore <id>         # Restore backup

🧪 Testing & Validation:
- ${sm} test               # Run baseline tests
- ${sm} validate week 2 1  # Validate week
- ${sm} validate phase 2   # Validate phase

📊 Status & Monitoring:
- ${sm} status             # Current status
- ${pgv} status        # Detailed status
`
}

// ---- CLI (shared with resilient-wrapper, which extends this table) -----------------------

// the restore flags of backup-system's CLI that the session CLIs take
const RESTORE_FLAGS = ['dry-run', 'force', 'auto-stash', 'no-code', 'no-database', 'no-config']

const verdict = (ok, manager, extra = {}) => ({ code: ok ? 0 : 1, data: { ...(manager.validator.lastResult || {}), ...extra } })

const commands = {
  start: {
    async run({ instance }) {
      const baseline = await instance.startSession()
      return { code: 0, data: { baseline } }
    },
  },
  status: {
    run({ instance }) {
      return { code: 0, data: { status: instance.validator.getStatus() } }
    },
  },
  component: {
    async run({ instance, args: [name] }) {
      if (!name) throw codedError('EUSAGE', 'Please specify component name')
      const ok = await instance.startComponent(name)
      return verdict(ok, instance, ok ? { component: name, status: 'in_progress' } : {})
    },
  },
  complete: {
    async run({ instance, args: [name] }) {
      if (!name) throw codedError('EUSAGE', 'Please specify component name')
      return verdict(await instance.completeComponent(name), instance)
    },
  },
  checkpoint: {
    async run({ instance, args: [name = 'manual'] }) {
      const checkpoint = await instance.createCheckpoint(name)
      console.log('✅ Checkpoint operation completed')
      return { code: 0, data: { checkpoint } }
    },
  },
  validate: {
    async run({ instance, args: [kind, a, b] }) {
      const v = instance.validator
      if (kind === 'component' && a) return verdict(await v.validateComponent(a), instance)
      if (kind === 'week' && a && b) return verdict(await v.validateWeek(toNumber(a, 'phase'), toNumber(b, 'week')), instance)
      if (kind === 'phase' && a) return verdict(await v.validatePhase(toNumber(a, 'phase')), instance)
      throw codedError('EUSAGE', 'Usage: validate [component <name> | week <phase> <week> | phase <num>]')
    },
  },
  backup: {
    async run({ instance }) {
      const backupId = await instance.backup.createFullBackup('manual')
      console.log(`✅ Backup completed: ${backupId}`)
      return { code: 0, data: { backupId } }
    },
  },
  restore: {
    flags: RESTORE_FLAGS,
    async run({ instance, args: [id], flags }) {
      if (!id) throw codedError('EUSAGE', `Please specify backup ID (options: ${RESTORE_FLAGS.map((f) => `--${f}`).join(' ')})`)
      const result = await instance.backup.restoreFromBackup(id, restoreOptions(flags))
      console.log('✅ Restore completed')
      return { code: 0, data: { result } }
    },
  },
  test: {
    async run({ instance }) {
      const passed = await instance.runBaselineTests()
      return { code: passed ? 0 : 1, data: { passed } }
    },
  },
  guide: {
    run({ instance }) {
      instance.showGuide()
      return { code: 0 }
    },
  },
}

const USAGE = `Session Manager

Usage: session-manager <command> [args] [--root <dir>] [--json]

Commands:
  start                        Status, session-start backup, baseline tests
  status                       Current phase, week, components, progress, lock, last backup
  component <name>             Mark a component of the current week in progress
  complete <name>              Validate a component, checkpoint it, report the week
  checkpoint [name]            Validate the in-progress component, full backup, checkpoint
  validate component <name>    Validate a component (8 gates, 80 % to pass)
  validate week <phase> <week> Validate a week
  validate phase <phase>       Validate a phase
  backup                       Full backup
  restore <id> [--dry-run --force --auto-stash --no-code --no-database --no-config]
  test                         Baseline tests (mesh test, npm test, tracker check)
  guide                        Development guide
  help                         Show this help`

function run(argv) {
  if (!argv.length) argv = ['guide']
  return runCommand(argv, { usage: USAGE, root: true, commands, defaultCommand: 'guide', create: ({ root }) => new SessionManager({ root }) })
}

SessionManager.run = run
SessionManager.main = (arg) => runMain(run, arg)
SessionManager.commands = commands
SessionManager.RESTORE_FLAGS = RESTORE_FLAGS
module.exports = SessionManager
