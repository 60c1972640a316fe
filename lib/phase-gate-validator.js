'use strict'
// Drop-in for the legacy `packages/system-api/phase-gate-validator.js`: `module.exports` is
// the class `PhaseGateValidator` (with `run(argv)` / `main()` attached for the CLI). Its
// quality gates keep their legacy names and the 80 % rule. The workspace root is discovered
// (lib/root.js), every tracker write is a locked read-modify-write (lib/tracker-store.js),
// checks run with argument lists and timeouts.

const fs = require('node:fs')
const path = require('node:path')
const { SafeFileOperations, getLockInfo } = require('./safe-file-operations')
const { codedError } = require('./js/errors')
const { resolveRoot, trackerPathOf, loadTracker, updateTracker } = require('./session/tracker')
const { findComponent, findPhase, findWeek, currentWeek } = require('./session/locate')
const gates = require('./session/gates')
const regression = require('./session/regression')
const { securityValidation } = require('./session/security')
const { statusOf, printStatus, lastBackup } = require('./session/status-view')
const { main: runMain, runCommand, toNumber } = require('./cli')

const SESSION_LOCK = 'session-manager'
const CHECKPOINT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

class PhaseGateValidator {
  /**
   * @param {{ root?: string, backend?: 'native' | 'js', trackerPath?: string }} [options]
   * The root is found by lib/root.js (option, SESSION_RESILIENCE_ROOT, nearest ancestor
   * holding the tracker, cwd). A missing tracker throws ENOTRACKER with the fix.
   */
  constructor(options = {}) {
    this.backend = options.backend
    this.root = resolveRoot(options.root)
    this.trackerPath = options.trackerPath || trackerPathOf(this.root)
    this.checkpointsDir = path.join(this.root, 'checkpoints')
    this.files = new SafeFileOperations({ backend: this.backend })
    this.tracker = this.loadTracker()
    this.lastResult = null
  }

  loadTracker() {
    return loadTracker(this.trackerPath, { backend: this.backend })
  }

  /** Stamp `sessionInfo.lastUpdate` on the in-memory tracker (legacy). */
  updateLastUpdate() {
    if (!this.tracker) return
    if (!this.tracker.sessionInfo || typeof this.tracker.sessionInfo !== 'object') this.tracker.sessionInfo = {}
    this.tracker.sessionInfo.lastUpdate = new Date().toISOString()
  }

  /**
   * Apply `mutate` to the tracker on disk under the tracker lock, stamp lastUpdate, write
   * atomically, and keep the result as `this.tracker`. If `mutate` throws nothing is written.
   */
  async updateTracker(mutate) {
    const written = await updateTracker(
      this.trackerPath,
      (tracker) => {
        mutate(tracker)
        if (!tracker.sessionInfo || typeof tracker.sessionInfo !== 'object') tracker.sessionInfo = {}
        tracker.sessionInfo.lastUpdate = new Date().toISOString()
        return tracker
      },
      { backend: this.backend },
    )
    this.tracker = written && typeof written === 'object' ? written : this.loadTracker()
    return this.tracker
  }

  /**
   * Legacy: write the whole in-memory tracker. Kept for callers that edit `this.tracker`
   * themselves; it is still a locked atomic write, but it replaces what others wrote since
   * this process read the tracker: prefer `updateTracker(mutate)`.
   */
  saveTracker() {
    const mine = structuredClone(this.tracker)
    return this.updateTracker((tracker) => {
      for (const key of Object.keys(tracker)) delete tracker[key]
      Object.assign(tracker, mine)
    })
  }

  /** Print a gate table the legacy way and remember it for `--json`. */
  report(kind, label, results) {
    const v = gates.verdict(results)
    console.log(`📊 ${label} Quality Gates:`)
    console.log(`   ✅ Passed: ${v.passed}/${v.total} (${v.passRate.toFixed(1)}%)`)
    for (const [gate, passed] of Object.entries(results)) console.log(`   ${passed ? '✅' : '❌'} ${gate}`)
    this.lastResult = { kind, label, gates: results, ...v }
    return v
  }

  /** Print why a lookup failed (the legacy first line, then what exists). */
  notFound(err) {
    if (err.code === 'ENOCOMPONENT') {
      console.error(`❌ ${err.message}`)
      console.error(`Available components (${err.where}):`)
      if (!err.available.length) console.error('  (none)')
      for (const c of err.available) console.error(`  - ${c.name} (${c.status})`)
    } else console.error(`❌ ${err.message}`)
    this.lastResult = { error: err.message, code: err.code, available: err.available }
    return false
  }

  /**
   * Component gates; true when >= 80 % pass. The results and the status are saved to that
   * component only; `{ save: false }` only reports (a checkpoint's look at the component in
   * progress). An unknown component prints what exists and returns false.
   */
  async validateComponent(componentName, options = {}) {
    console.log(`🔍 Validating Component: ${componentName}`)
    let component
    try {
      component = findComponent(this.tracker, componentName).component
    } catch (err) {
      if (/^ENO/.test(err.code)) return this.notFound(err)
      throw err
    }
    const results = gates.componentGates(this.root, component, await this.runRegressionTests())
    const v = this.report('component', `Component ${componentName}`, results)
    if (options.save !== false) await this.updateTracker((tracker) => {
      const fresh = findComponent(tracker, componentName).component
      fresh.qualityGates = { ...(fresh.qualityGates || {}), ...results }
      fresh.status = v.ok ? 'completed' : 'in_progress'
    })
    if (v.ok) console.log(`🎉 Component ${componentName} passed quality gates!`)
    else console.log(`⚠️  Component ${componentName} needs more work (${v.passRate.toFixed(1)}% passed)`)
    return v.ok
  }

  /** npm test, then the mesh integration test, then the basic tracker check. */
  runRegressionTests() {
    return regression.firstAnswer(
      [() => this.runNpmTest(), () => this.runMeshIntegrationTest(), () => this.runBasicSystemCheck()],
      'regression test',
    )
  }

  runNpmTest() {
    return regression.npmTest(this.root)
  }

  runMeshIntegrationTest() {
    return regression.meshIntegration(this.root)
  }

  runBasicSystemCheck() {
    return regression.basicSystemCheck(this.tracker)
  }

  /** Week gates (5); the week's status becomes completed at >= 80 %. */
  async validateWeek(phaseNum, weekNum) {
    console.log(`🔍 Validating Phase ${phaseNum}, Week ${weekNum}`)
    let week
    try {
      week = findWeek(this.tracker, phaseNum, weekNum)
    } catch (err) {
      if (/^ENO/.test(err.code)) return this.notFound(err)
      throw err
    }
    for (const c of Array.isArray(week.components) ? week.components : []) {
      if (c && c.status !== 'completed') console.log(`❌ Component ${c.name} not complete`)
    }
    const suite = await regression.npmTest(this.root)
    const perf = await regression.performanceBenchmark(this.root)
    const results = gates.weekGates(this.root, phaseNum, week, { suite, perf })
    const v = this.report('week', `Week ${weekNum}`, results)
    await this.updateTracker((tracker) => {
      const fresh = findWeek(tracker, phaseNum, weekNum)
      fresh.qualityGates = { ...(fresh.qualityGates || {}), ...results }
      fresh.status = v.ok ? 'completed' : 'in_progress'
    })
    console.log(v.ok ? `🎉 Week ${weekNum} passed quality gates!` : `⚠️  Week ${weekNum} needs more work`)
    return v.ok
  }

  /** The checks behind the securityValidation gate: `{ passed, checks }`. */
  securityValidation() {
    return securityValidation(this.root, { lockDir: this.files.lockDir })
  }

  /** The newest restore point's archive (or its files) exists in this workspace's backups. */
  backupVerification() {
    const point = lastBackup(this.tracker)
    if (!point) return false
    const full = (this.tracker.backupStrategy.restorePoints || []).find((p) => p && p.id === point.id) || {}
    const candidates = [full.archive, path.join(this.root, 'backups', 'full', `${point.id}.tar.gz`)]
    return candidates.some((p) => typeof p === 'string' && fs.existsSync(p))
  }

  /** Phase gates (6); the phase's status becomes completed at >= 80 %. */
  async validatePhase(phaseNum) {
    console.log(`🔍 Validating Phase ${phaseNum}`)
    let phase
    try {
      phase = findPhase(this.tracker, phaseNum)
    } catch (err) {
      if (/^ENO/.test(err.code)) return this.notFound(err)
      throw err
    }
    for (const [key, week] of Object.entries(phase.weeks || {})) {
      if (!week || week.status !== 'completed') console.log(`❌ ${key} not complete`)
    }
    const security = this.securityValidation()
    for (const check of security.checks) console.log(`   ${check.passed ? '🔐' : '⚠️ '} ${check.name}: ${check.detail}`)
    const integration = await regression.meshIntegration(this.root, 60000)
    const results = gates.phaseGates(phase, { integration, security: security.passed, backup: this.backupVerification() })
    const v = this.report('phase', `Phase ${phaseNum}`, results)
    this.lastResult.security = security.checks
    await this.updateTracker((tracker) => {
      const fresh = findPhase(tracker, phaseNum)
      fresh.qualityGates = { ...(fresh.qualityGates || {}), ...results }
      fresh.status = v.ok ? 'completed' : 'in_progress'
    })
    console.log(v.ok ? `🎉 Phase ${phaseNum} completed successfully!` : `⚠️  Phase ${phaseNum} needs more work`)
    return v.ok
  }

  /** `checkpoints/<name>-<YYYY-MM-DD>.json` `{ name, timestamp, phase, week, tracker }`, written atomically. */
  createCheckpoint(name) {
    if (typeof name !== 'string' || !CHECKPOINT_NAME.test(name) || name.includes('..')) {
      throw codedError('EBADLABEL', `Invalid checkpoint name "${name}": use 1-128 of A-Z a-z 0-9 _ . - (not starting with . or -)`)
    }
    const timestamp = new Date().toISOString()
    const { phaseNum, weekNum } = currentWeek(this.tracker)
    const data = { name, timestamp, phase: phaseNum, week: weekNum, tracker: structuredClone(this.tracker) }
    fs.mkdirSync(this.checkpointsDir, { recursive: true })
    const checkpointPath = path.join(this.checkpointsDir, `${name}-${timestamp.slice(0, 10)}.json`)
    this.files.atomicWrite(checkpointPath, `${JSON.stringify(data, null, 2)}\n`)
    console.log(`📍 Checkpoint created: ${checkpointPath}`)
    return checkpointPath
  }

  /** Print the status report and return it as data. */
  getStatus() {
    const status = statusOf(this.tracker, { lockIdentifier: SESSION_LOCK, lock: getLockInfo(SESSION_LOCK) })
    printStatus(status)
    return status
  }
}

// ---- CLI ---------------------------------------------------------------------------------

const USAGE = `Phase Gate Validator

Usage: phase-gate-validator <command> [args] [--root <dir>] [--json]

Commands:
  component <name>     Validate a component of the current week (8 gates, 80 % to pass)
  week <phase> <week>  Validate a week (5 gates)
  phase <phase>        Validate a phase (6 gates)
  checkpoint [name]    Write checkpoints/<name>-<date>.json (default name: manual)
  status               Show the current status (default)
  help                 Show this help

The workspace root is --root, else SESSION_RESILIENCE_ROOT, else the nearest folder above the
current one holding packages/system-api/phase-tracker.json, else the current folder.`

const verdictResult = (ok, validator) => ({ code: ok ? 0 : 1, data: validator.lastResult || {} })

const commands = {
  component: {
    async run({ instance, args: [name] }) {
      if (!name) throw codedError('EUSAGE', 'component needs a <name>')
      return verdictResult(await instance.validateComponent(name), instance)
    },
  },
  week: {
    async run({ instance, args: [p, w] }) {
      const ok = await instance.validateWeek(toNumber(p, 'phase'), toNumber(w, 'week'))
      return verdictResult(ok, instance)
    },
  },
  phase: {
    async run({ instance, args: [p] }) {
      return verdictResult(await instance.validatePhase(toNumber(p, 'phase')), instance)
    },
  },
  checkpoint: {
    run({ instance, args: [name = 'manual'] }) {
      return { code: 0, data: { checkpoint: instance.createCheckpoint(name) } }
    },
  },
  status: {
    run({ instance }) {
      return { code: 0, data: { status: instance.getStatus() } }
    },
  },
}

function run(argv) {
  return runCommand(argv, { usage: USAGE, root: true, commands, defaultCommand: 'status', create: ({ root }) => new PhaseGateValidator({ root }) })
}

PhaseGateValidator.run = run
PhaseGateValidator.main = (arg) => runMain(run, arg)
PhaseGateValidator.SESSION_LOCK = SESSION_LOCK
module.exports = PhaseGateValidator
