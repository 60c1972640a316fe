// Types shared by the subpath declarations (lib/<subpath>.d.ts). The native binding's own
// types are generated into ../index.d.ts by `napi build`; what is declared there is imported
// from there, not repeated here.

/**
 * Every `code` an error thrown by this package can carry. The list is checked against
 * core/src/error.rs and every code lib/ throws by __test__/package.test.js, and each
 * code is explained in the README's "Error codes" table.
 *
 * OS failures carry the errno name, spelled as Node spells it (the native core maps the OS
 * error numbers to these names; the JS backend passes on Node's own `err.code`, which on an
 * unusual file system can be another errno name).
 */
export type ErrorCode =
  // project codes of the core (core/src/error.rs `Code`)
  | 'EBADPATH'
  | 'EBADLABEL'
  | 'EBADLOCKID'
  | 'EBADLOCK'
  | 'ELOCKTIMEOUT'
  | 'EPATHESCAPE'
  | 'EUNSAFEDIR'
  | 'ECORRUPT'
  | 'ERR_INVALID_ARG_TYPE'
  | 'ENOCOMMAND'
  | 'ECOMMAND'
  | 'EINTERNAL'
  // codes of the drop-in modules (lib/)
  | 'EBACKUP'
  | 'EBADBACKEND'
  | 'ECHECKPOINT'
  | 'EDIRTY'
  | 'ENOTSNAPSHOT'
  | 'ENATIVEUNAVAILABLE'
  | 'ENOCOMPONENT'
  | 'ENOPHASE'
  | 'ENOROOT'
  | 'ENOTRACKER'
  | 'ENOTREADY'
  | 'ENOWEEK'
  | 'EPRECHECK'
  | 'EPREFLIGHT'
  | 'EPREREQ'
  | 'ERESTORE'
  | 'EUSAGE'
  | 'ENOLEGACY'
  | 'EVERIFY'
  | 'ELEGACYEXIT'
  | 'ERR_INVALID_ARG_VALUE'
  // errno names (core/src/error.rs `errno_name`; ECANCELED: core/src/backup/cancel.rs)
  | 'ECANCELED'
  | 'EACCES'
  | 'EAGAIN'
  | 'EBADF'
  | 'EBUSY'
  | 'EDQUOT'
  | 'EEXIST'
  | 'EFBIG'
  | 'EINTR'
  | 'EINVAL'
  | 'EIO'
  | 'EISDIR'
  | 'ELOOP'
  | 'EMFILE'
  | 'ENAMETOOLONG'
  | 'ENFILE'
  | 'ENOENT'
  | 'ENOMEM'
  | 'ENOSPC'
  | 'ENOTDIR'
  | 'ENOTEMPTY'
  | 'EPERM'
  | 'EROFS'
  | 'ESRCH'
  | 'ETXTBSY'
  | 'EXDEV'

/** What every function of this package throws: an `Error` with a `code`. */
export interface SessionResilienceError extends Error {
  code: ErrorCode
}

/** `'native'` (the Rust addon) or `'js'` (the pure-JS backend); see SESSION_RESILIENCE_BACKEND. */
export type BackendName = 'native' | 'js'

/** The options every session class takes. */
export interface WorkspaceOptions {
  /** The workspace root; default: SESSION_RESILIENCE_ROOT, the nearest folder holding the tracker, cwd. */
  root?: string
  backend?: BackendName
}

export type ComponentStatus = 'planned' | 'in_progress' | 'completed'

export interface Component {
  name: string
  status: ComponentStatus
  files?: string[]
  dependencies?: string[]
  testFiles?: string[]
  qualityGates?: Record<string, boolean>
  [key: string]: unknown
}

export interface Week {
  title: string
  status: string
  components: Component[]
  qualityGates?: Record<string, boolean>
  [key: string]: unknown
}

export interface Phase {
  title: string
  status: string
  weeks?: Record<string, Week>
  qualityGates?: Record<string, boolean>
  [key: string]: unknown
}

/** A restore point as recorded in the tracker's `backupStrategy.restorePoints`. */
export interface RestorePoint {
  id: string
  timestamp: string
  phase: number
  week: number
  /** The git bundle, or null when the code part was skipped (`codeSkipped` says why). */
  git?: string | null
  database?: string
  config?: string
  state?: string
  archive?: string
  manifest?: string
  codeSkipped?: string
  [key: string]: unknown
}

/** The phase tracker (`packages/system-api/phase-tracker.json`). Unknown fields are kept. */
export interface Tracker {
  sessionInfo: {
    sessionId: string
    currentPhase: number
    currentWeek: number
    lastUpdate: string
    [key: string]: unknown
  }
  baselineStatus: {
    phase1Complete: boolean
    testsPassingBaseline: string
    agentsLoaded: number
    [key: string]: unknown
  }
  phases: Record<string, Phase>
  backupStrategy?: {
    frequency?: string
    retentionDays?: number
    restorePoints?: RestorePoint[]
    [key: string]: unknown
  }
  [key: string]: unknown
}

/** A lock as `getLockInfo` sees it. */
export interface LockInfo {
  locked: boolean
  pid?: number
  timestamp?: string
  age?: number
  stale?: boolean
  hostname?: string | null
  alive?: boolean | null
  corrupted?: boolean
  error?: string
}

/** The `run(argv)` of a CLI: resolves to its exit code (0 ok, 1 failure, 2 usage error). */
export type RunCli = (argv: string[]) => Promise<number>

/** The `main(argv = process.argv.slice(2))` of a CLI: sets `process.exitCode`. */
export type MainCli = (argv?: string[] | { argv?: string[]; root?: string }) => Promise<void>
