// Types of `session-resilience/validation-helpers` (lib/validation-helpers.js): tracker,
// component and backup validation with the legacy repairs, and the CLI.

import type { BackendName, Component, MainCli, RestorePoint, RunCli, Tracker } from './types'

export type { BackendName, Component, ErrorCode, RestorePoint, SessionResilienceError, Tracker } from './types'

export interface ValidationHelpersOptions {
  backend?: BackendName
  /** Where `repairTracker` looks for backups of a damaged tracker, and where the CLI backs up. */
  backupDir?: string
}

/** A validation: the (repaired, when `autoRepair`) data and what was found. */
export interface ValidationResult<T> {
  valid: boolean
  errors: string[]
  warnings: string[]
  repaired: boolean
  data: T
}

export type RepairResult =
  | { success: true; tracker: Tracker; repaired: boolean; errors: string[]; warnings: string[] }
  | { success: false; error: string; tracker: Tracker }

export interface RepairFileResult {
  success: boolean
  repaired: boolean
  /** The repaired tracker was written (after a backup of the previous file). */
  saved: boolean
  errors: string[]
  warnings: string[]
  /** Errors the repair could not fix. */
  remainingErrors: string[]
  backupPath: string | null
  error?: string
}

export declare class ValidationHelpers {
  constructor(options?: ValidationHelpersOptions)
  readonly backend: BackendName
  readonly backupDir: string

  validateTrackerSchema(tracker: unknown, autoRepair?: boolean): ValidationResult<Tracker>
  validateComponent(component: unknown, context?: string, autoRepair?: boolean): ValidationResult<Component>
  validateBackup(backup: unknown, autoRepair?: boolean): ValidationResult<RestorePoint>
  /** The legacy default tracker. */
  createDefaultTracker(): Tracker
  /** Read, tolerant-parse, recover from backups and validate; writes only a `.corrupt-<stamp>` link. */
  repairTracker(trackerPath: string): RepairResult
  /** `repairTracker`, then a backup of the old file and an atomic write of the repaired one. */
  repairTrackerFile(trackerPath: string): RepairFileResult
  /** Strict parse and validate without repair; throws `ENOENT`, `ECORRUPT`, ... when unreadable. */
  validateTrackerFile(trackerPath: string): { valid: boolean; errors: string[]; warnings: string[] }
  /** A backup of the previous file (`EBACKUP` when it cannot be made), then an atomic write. */
  writeTracker(file: string, tracker: Tracker, label?: string): void

  // The legacy class's smaller methods (lib/validation-structure.js).
  /** The schema table, also `this.schemas`. */
  readonly schemas: ValidationSchemas
  loadSchemas(): ValidationSchemas
  /** The phases of a tracker, checked (and repaired in place) as `validateTrackerSchema` does. */
  validatePhasesStructure(phases: unknown, autoRepair?: boolean): ValidationResult<unknown>
  validateWeeksStructure(weeks: unknown, phaseKey: string, autoRepair?: boolean): ValidationResult<unknown>
  /** `context` is `<phase>.<week>`; an object of components becomes an array when repairing. */
  validateComponentsArray(components: unknown, context: string, autoRepair?: boolean): ValidationResult<Component[]>
  validatePropertyType(value: unknown, expectedType: string | readonly unknown[]): boolean
  validateObject<T extends object>(obj: T, schema: { required?: string[]; types?: Record<string, string | unknown[]> }, context: string, autoRepair?: boolean): ValidationResult<T>
  createDefaultPhase(): Record<string, unknown>
  createDefaultWeek(): Record<string, unknown>
  createDefaultComponent(): Component
  getDefaultValue(property: string): unknown
  getDefaultPhaseValue(property: string): unknown
  getDefaultWeekValue(property: string): unknown
  getDefaultComponentValue(property: string): unknown
  getDefaultBackupValue(property: string): unknown
  /** Hand-edited JSON (comments, trailing commas, single quotes) as strict JSON; unchanged when it cannot parse. */
  fixCommonJsonIssues(content: string): string
}

/** One table entry: required properties and their types (a string, or an enum's values). */
export interface SchemaEntry {
  required: string[]
  types?: Record<string, string | unknown[]>
  defaults?: Record<string, unknown>
}

export interface ValidationSchemas {
  tracker: SchemaEntry & { sections: string[] }
  phase: SchemaEntry
  week: SchemaEntry
  component: SchemaEntry
  backup: SchemaEntry
}

type Helpers = ValidationHelpers
export declare const validateTrackerSchema: Helpers['validateTrackerSchema']
export declare const validateComponent: Helpers['validateComponent']
export declare const validateBackup: Helpers['validateBackup']
export declare const repairTracker: Helpers['repairTracker']
export declare const createDefaultTracker: Helpers['createDefaultTracker']

export declare const run: RunCli
export declare const main: MainCli
