// Types of `session-resilience/resilient-wrapper` (lib/resilient-wrapper.js): `module.exports`
// is the class `ResilientSessionManager extends SessionManager`, as legacy.

import type SessionManager = require('./session-manager')
import type * as T from './types'

declare namespace ResilientSessionManager {
  export type ErrorCode = T.ErrorCode
  export type SessionResilienceError = T.SessionResilienceError

  export interface Options extends SessionManager.Options {
    /** Default `<root>/backups/session.log` (rotated at 1 MiB). */
    logFile?: string
    /** No banner on start. */
    quiet?: boolean
  }

  export interface Check {
    name: string
    passed: boolean
    error: string
    critical?: boolean
  }

  export interface Readiness {
    ready: boolean
    reason?: string
    /** The lookup error (`ENOCOMPONENT`, ...) when the component does not exist. */
    error?: T.SessionResilienceError
  }

  export interface StatusReport {
    lock: T.LockInfo
    logFile: string
    logSize: number
    status: import('./phase-gate-validator').Status
  }
}

declare class ResilientSessionManager extends SessionManager {
  constructor(options?: ResilientSessionManager.Options)
  readonly lockIdentifier: string
  readonly logFile: string
  holdsLock: boolean

  /** Takes the session lock (`ELOCKTIMEOUT` after 5 s), pre-flight checks, tracker repair, then the base start. */
  startSession(options?: SessionManager.StartOptions): Promise<boolean>
  /** `ENOTREADY` for an unknown or completed component; a `pre-<name>` checkpoint first. */
  startComponent(componentName: string): Promise<boolean>
  /** `EPRECHECK` on critical pre-completion issues. */
  completeComponent(componentName: string): Promise<boolean>
  /** `ECHECKPOINT` when the checkpoint's backup cannot be found afterwards. */
  createCheckpoint(name: string): Promise<string>
  /** Legacy: `setupProcessHandlers()` and `initializeLogging()`, run by the constructor. */
  initializeResilientMode(): void
  /** Release the session lock on any exit, Ctrl+C and SIGTERM included. */
  setupProcessHandlers(): void
  initializeLogging(): void
  releaseSessionLock(message?: string): boolean
  /** Node's version; `EPREREQ` when too old. */
  validateSystemPrerequisites(): void
  log(message: string, level?: string): void
  /** Disk space, git work tree, the tracker; `EPREFLIGHT` when a critical one fails. */
  performPreFlightChecks(): Promise<ResilientSessionManager.Check[]>
  /** `repairTracker`; `ECORRUPT` when it cannot be repaired. */
  ensureTrackerIntegrity(): Promise<import('./validation-helpers').RepairResult>
  validateComponentReadiness(componentName: string): ResilientSessionManager.Readiness
  performPreCompletionChecks(componentName: string): Promise<{ passed: boolean; issues: string[]; critical: boolean }>
  performPostCompletionVerification(componentName: string): Promise<void>
  validateSystemState(): { valid: boolean; warnings: string[] }
  checkTestAvailability(): boolean
  checkComponentDependencies(componentName: string): { satisfied: boolean; missing: string[] }
  verifyCheckpointIntegrity(name: string): { valid: boolean; backupId?: string; error?: string }
  /** Lock status, log file, then the base status. */
  showStatus(): ResilientSessionManager.StatusReport
  /** Release our session lock and remove old single-file backups. */
  cleanup(): { released: boolean; removed: number }
}

export = ResilientSessionManager
