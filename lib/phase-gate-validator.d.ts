// Types of `session-resilience/phase-gate-validator` (lib/phase-gate-validator.js):
// `module.exports` is the class itself, as legacy; `run` / `main` are static members.

import type { SafeFileOperations } from './safe-file-operations'
import type * as T from './types'

declare namespace PhaseGateValidator {
  export type ErrorCode = T.ErrorCode
  export type SessionResilienceError = T.SessionResilienceError

  export interface Options extends T.WorkspaceOptions {
    trackerPath?: string
  }

  /** `{ passed, total, passRate, ok }` of a gate table; `ok` is the legacy 80 % rule. */
  export interface Verdict {
    passed: number
    total: number
    passRate: number
    ok: boolean
  }

  /** The last gate table (`--json` prints it), or why the lookup failed. */
  export type LastResult =
    | (Verdict & { kind: 'component' | 'week' | 'phase'; label: string; gates: Record<string, boolean>; security?: SecurityCheck[] })
    | { error: string; code: T.ErrorCode; available?: Array<{ name: string; status: string }> }

  export interface SecurityCheck {
    name: string
    passed: boolean
    detail: string
  }

  export interface Status {
    phase: { number: number; title: string; status: string }
    week: { number: number; title: string; status: string }
    lastUpdate: string
    components: Array<{ name: string; status: string }>
    weeks: Array<{ key: string; title: string; status: string; completed: number; total: number }>
    baseline: string | undefined
    lock: T.LockInfo & { identifier: string }
    lastBackup: { id: string; timestamp: string } | null
  }
}

declare class PhaseGateValidator {
  /** Throws `ENOTRACKER` (with the command that creates one) when the tracker is missing. */
  constructor(options?: PhaseGateValidator.Options)
  readonly root: string
  readonly trackerPath: string
  readonly checkpointsDir: string
  readonly files: SafeFileOperations
  tracker: T.Tracker
  lastResult: PhaseGateValidator.LastResult | null

  loadTracker(): T.Tracker
  /** Stamp `sessionInfo.lastUpdate` on the in-memory tracker (legacy). */
  updateLastUpdate(): void
  /** Apply `mutate` to the tracker on disk under the tracker lock and write it atomically. */
  updateTracker(mutate: (tracker: T.Tracker) => void): Promise<T.Tracker>
  /** Legacy: write the whole in-memory tracker (still locked and atomic). */
  saveTracker(): Promise<T.Tracker>
  /** Component gates: true when >= 80 % pass; an unknown component prints what exists, false. */
  /** `{ save: false }`: report the gates without saving them (a checkpoint's look). */
  validateComponent(componentName: string, options?: { save?: boolean }): Promise<boolean>
  /** Week gates; the week becomes completed at >= 80 %. */
  validateWeek(phaseNum: number, weekNum: number): Promise<boolean>
  /** Phase gates; the phase becomes completed at >= 80 %. */
  validatePhase(phaseNum: number): Promise<boolean>
  runRegressionTests(): Promise<boolean>
  runNpmTest(): Promise<boolean | null>
  runMeshIntegrationTest(): Promise<boolean | null>
  runBasicSystemCheck(): boolean
  securityValidation(): { passed: boolean; checks: PhaseGateValidator.SecurityCheck[] }
  backupVerification(): boolean
  /** Writes `checkpoints/<name>-<YYYY-MM-DD>.json` atomically; its path. `EBADLABEL` for a bad name. */
  createCheckpoint(name: string): string
  /** Prints the status report and returns it as data. */
  getStatus(): PhaseGateValidator.Status

  static run: T.RunCli
  static main: T.MainCli
  /** The session lock's identifier: `'session-manager'`. */
  static readonly SESSION_LOCK: string
}

export = PhaseGateValidator
