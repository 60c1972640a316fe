// The type test: every subpath used as a TypeScript user would (`tsc -p __test__`, run by
// `npm test`). It is compiled, never run. Each `@ts-expect-error` line must be an error:
// if a declaration becomes too loose (an `unknown`, an `any`, a missing union), tsc reports
// the directive as unused and the test fails.

import * as native from 'session-resilience'
import {
  acquireLock,
  acquireLockAsync,
  atomicWrite,
  atomicWriteAsync,
  backupFile,
  type ErrorCode,
  getLockInfo,
  listLocks,
  main as sfoMain,
  run as sfoRun,
  SafeFileOperations,
  type SessionResilienceError,
  safeJsonRead,
  verifyChecksumAsync,
  withLock,
  withLockAsync,
} from 'session-resilience/safe-file-operations'
import * as validation from 'session-resilience/validation-helpers'
import { onExit, ProcessCleanup, trackTempFile } from 'session-resilience/process-cleanup'
import BackupSystem = require('session-resilience/backup-system')
import PhaseGateValidator = require('session-resilience/phase-gate-validator')
import SessionManager = require('session-resilience/session-manager')
import ResilientSessionManager = require('session-resilience/resilient-wrapper')

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<T extends true>(_proof?: T): void {}

export async function rootBinding(): Promise<void> {
  const wrote: boolean = native.atomicWrite('/tmp/x', 'text', { fsync: false })
  expectType<Equal<ReturnType<typeof native.atomicWriteAsync>, Promise<boolean>>>()
  expectType<Equal<Awaited<ReturnType<typeof native.verifyChecksumAsync>>, native.ChecksumResult>>()
  expectType<Equal<Awaited<ReturnType<typeof native.backupCreateArchive>>, native.ArchiveResult>>()
  expectType<Equal<Awaited<ReturnType<typeof native.backupHashFiles>>, native.ManifestEntry[]>>()
  expectType<Equal<Awaited<ReturnType<typeof native.backupVerifyFiles>>, native.VerifyFilesResult>>()
  await native.backupCreateArchive('/root', '/dest.tar.gz', null, (p) => {
    const phase: string = p.phase
    const bytes: number = p.bytes
    void phase
    void bytes
  })
  // @ts-expect-error a path is a string, not a number
  native.atomicWrite(42, 'text')
  // @ts-expect-error the progress callback receives a BackupProgress, not a string
  await native.backupHashFiles('/backups', ['code/x'], (p: string) => p)
  void wrote
}

export async function safeFileOperations(): Promise<void> {
  const ok: boolean = atomicWrite('/tmp/x.json', '{}')
  const okAsync: boolean = await atomicWriteAsync('/tmp/x.json', new Uint8Array([123, 125]))
  const data = safeJsonRead('/tmp/x.json', { count: 0 }, (d) => ({ valid: typeof d.count === 'number' }))
  const count: number = data.count
  const backup: string | null = backupFile('/tmp/x.json', 'manual')
  const sum = await verifyChecksumAsync('/tmp/x.json')
  const digest: string | undefined = sum.checksum
  const lockPath: string = acquireLock('tracker', 1000, { staleMs: 30000 })
  const asyncPath: string = await acquireLockAsync('tracker', { timeout: 100, pollMs: 2 })
  const info = getLockInfo('tracker')
  const pid: number | undefined = info.pid
  const ids: string[] = listLocks().map((l) => l.identifier)
  const n: number = withLock('tracker', () => 1)
  const s: string = await withLockAsync('tracker', async () => 'done')
  const ops = new SafeFileOperations({ backend: 'js', lockDir: '/tmp/locks' })
  const dir: string = ops.lockDir
  const exitCode: number = await sfoRun(['checksum', '/tmp/x.json'])
  await sfoMain()

  try {
    atomicWrite('/tmp/x.json', '{}')
  } catch (err) {
    const code: ErrorCode = (err as SessionResilienceError).code
    if (code === 'ELOCKTIMEOUT' || code === 'ENOSPC' || code === 'EPATHESCAPE') void code
  }
  // @ts-expect-error not a code this package throws
  const bogus: ErrorCode = 'EBOGUS'
  // @ts-expect-error the backend is 'native' or 'js'
  new SafeFileOperations({ backend: 'wasm' })
  // @ts-expect-error acquireLockAsync resolves to the lock path, a string
  const wrong: number = await acquireLockAsync('tracker')
  void [ok, okAsync, count, backup, digest, lockPath, asyncPath, pid, ids, n, s, dir, exitCode, bogus, wrong]
}

export function validationHelpers(): void {
  const tracker = validation.createDefaultTracker()
  const phase: number = tracker.sessionInfo.currentPhase
  const checked = validation.validateTrackerSchema(tracker)
  const errors: string[] = checked.errors
  const repaired: validation.Tracker = checked.data
  const component = validation.validateComponent({ name: 'X', status: 'planned' }, 'component', false)
  const status: validation.Component['status'] = component.data.status
  const result = validation.repairTracker('/tmp/phase-tracker.json')
  if (result.success) {
    const warnings: string[] = result.warnings
    void warnings
  } else {
    const why: string = result.error
    void why
  }
  const helpers = new validation.ValidationHelpers({ backend: 'native', backupDir: '/tmp/b' })
  const file = helpers.repairTrackerFile('/tmp/phase-tracker.json')
  const backupPath: string | null = file.backupPath
  // @ts-expect-error a failed repair has no warnings list
  if (!result.success) void result.warnings.length
  // @ts-expect-error 'done' is not a component status
  const badStatus: validation.Component['status'] = 'done'
  void [phase, errors, repaired, status, backupPath, badStatus]
}

export async function processCleanup(): Promise<void> {
  const unregister: () => void = onExit(async () => {})
  unregister()
  const file: string = trackTempFile('/tmp/x.tmp')
  const cleanup = new ProcessCleanup({ install: false })
  const released: number = cleanup.releaseLocks()
  // @ts-expect-error onExit takes a function
  onExit('not a function')
  void [file, released]
}

export async function backupSystem(): Promise<void> {
  const bs = new BackupSystem({ root: '/work', quiet: true, onProgress: (p) => void p.files })
  const id: string = await bs.createFullBackup('manual', { onProgress: (p) => void p.phase })
  const points: BackupSystem.ListedRestorePoint[] = bs.listBackups()
  const verified = await bs.verifyBackup(id)
  const altered: string[] = verified.altered
  const dry = await bs.restoreFromBackup(id, { dryRun: true })
  const dryWarnings: string[] = dry.warnings
  const restored = await bs.restoreFromBackup(id, { force: true, restoreDatabase: false })
  const code: boolean = restored.code
  const removed: number = await bs.cleanup(30)
  const code_ = await bs.backupCode(id)
  const codeDir: string | undefined = 'dir' in code_ ? code_.dir : undefined
  const point = bs.findPoint(id)
  const simulated = point ? bs.simulateRestore(point, { restoreConfig: false }).errors : []
  const exitCode: number = await BackupSystem.run(['list'])
  const databases: readonly string[] = BackupSystem.DEFAULT_DATABASES
  // @ts-expect-error restore options are booleans
  await bs.restoreFromBackup(id, { dryRun: 'yes' })
  // @ts-expect-error createFullBackup resolves to the set's id, not an object
  const notAnObject: { id: string } = await bs.createFullBackup()
  void [points, altered, dryWarnings, code, codeDir, simulated, removed, exitCode, databases, notAnObject]
}

export async function sessionCommands(): Promise<void> {
  const validator = new PhaseGateValidator({ root: '/work', backend: 'js' })
  const passed: boolean = await validator.validateComponent('SmartMemoryIndex')
  const week: boolean = await validator.validateWeek(2, 1)
  const checkpoint: string = validator.createCheckpoint('manual')
  const status: PhaseGateValidator.Status = validator.getStatus()
  const phaseNumber: number = status.phase.number
  const lockName: string = PhaseGateValidator.SESSION_LOCK

  const manager = new SessionManager({ root: '/work' })
  const started: boolean = await manager.startComponent('SmartMemoryIndex')
  const backupSystem: BackupSystem = manager.backup
  const baseline: boolean = await manager.startSession({ createBackup: false })

  const resilient = new ResilientSessionManager({ root: '/work', quiet: true, logFile: '/tmp/s.log' })
  const asBase: SessionManager = resilient
  const report = resilient.showStatus()
  const logSize: number = report.logSize
  const cleaned: { released: boolean; removed: number } = resilient.cleanup()
  const exitCode: number = await ResilientSessionManager.run(['status'])
  // @ts-expect-error validateWeek takes numbers
  await validator.validateWeek('2', '1')
  // @ts-expect-error logFile is a path
  new ResilientSessionManager({ logFile: 1 })
  void [passed, week, checkpoint, phaseNumber, lockName, started, backupSystem, baseline, asBase, logSize, cleaned, exitCode]
}

// session-resilience/testing and the legacy methods of issue 13
import { diff, forEachBackend } from 'session-resilience/testing'

export async function testingHelper(): Promise<void> {
  const seen = await forEachBackend(
    async ({ backend, project, load }) => {
      const files = load('safe-file-operations')
      const written: boolean = files.atomicWrite(`${project}/x.json`, '{}')
      const planned: string = new files.SafeFileOperations().createBackupPath(`${project}/x.json`)
      const BackupSystemClass = load('backup-system')
      const gitDir: string | null = await new BackupSystemClass({ root: project }).createGitBackup('id-1')
      return { backend, written, planned, gitDir }
    },
    { project: '/work/p', legacy: '/work/p' },
  )
  const differences: string[] = diff(seen.native, seen.legacy)
  // @ts-expect-error only the seven module names load
  await forEachBackend(({ load }) => load('fs'))
  void differences
}
