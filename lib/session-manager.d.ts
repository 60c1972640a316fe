// Types of `session-resilience/session-manager` (lib/session-manager.js): `module.exports`
// is the class itself, as legacy; `run` / `main` (the CLI) are static members.

import type BackupSystem = require('./backup-system')
import type PhaseGateValidator = require('./phase-gate-validator')
import type * as T from './types'

declare namespace SessionManager {
  export type ErrorCode = T.ErrorCode
  export type SessionResilienceError = T.SessionResilienceError

  export type Options = T.WorkspaceOptions

  export interface StartOptions {
    /** `false` skips the `session-start` backup. */
    createBackup?: boolean
  }
}

declare class SessionManager {
  constructor(options?: SessionManager.Options)
  readonly root: string
  readonly validator: PhaseGateValidator
  readonly backup: BackupSystem

  /** Status, a `session-start` backup, the baseline tests; resolves to whether they passed. */
  startSession(options?: SessionManager.StartOptions): Promise<boolean>
  /** Mesh integration test, then `npm test`, then the basic tracker check: first answer wins. */
  runBaselineTests(): Promise<boolean>
  runMeshIntegrationTest(): Promise<boolean | null>
  runNpmTest(): Promise<boolean | null>
  runFallbackTest(): boolean
  /** Validate the in-progress component, full backup (`EBACKUP` or its code on failure), checkpoint file; its path. */
  createCheckpoint(name: string): Promise<string>
  /** Mark a component of the current week in progress; false (nothing written) for an unknown one. */
  startComponent(componentName: string): Promise<boolean>
  showComponentChecklist(component: T.Component): void
  /** Validate; on success a `<name>-complete` checkpoint and the week report. */
  completeComponent(componentName: string): Promise<boolean>
  /** True when every component of the current week is completed. */
  checkWeekCompletion(): boolean
  showGuide(): void
  /** How the user runs our CLI `name` (default session-manager) in hints: `node session-manager.js` for a shim user. */
  command(name?: string): string

  static run: T.RunCli
  static main: T.MainCli
  /** The flags of the `restore` command. */
  static readonly RESTORE_FLAGS: readonly string[]
  /** The CLI's command table (resilient-wrapper extends it). */
  static readonly commands: Readonly<Record<string, { flags?: readonly string[]; run(context: { instance: SessionManager; args: string[]; flags: ReadonlySet<string>; json: boolean }): unknown }>>
}

export = SessionManager
