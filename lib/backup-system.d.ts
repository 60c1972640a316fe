// Types of `session-resilience/backup-system` (lib/backup-system.js): `module.exports` is the
// class itself, as legacy; `run` / `main` (the CLI) and the defaults are static members.

import type { BackupProgress } from '../index'
import type * as T from './types'

declare namespace BackupSystem {
  export type Progress = BackupProgress
  export type ErrorCode = T.ErrorCode
  export type SessionResilienceError = T.SessionResilienceError

  export interface Options extends T.WorkspaceOptions {
    /** Legacy name of `root`. */
    rootDir?: string
    /** Databases to back up, relative to the root (default `BackupSystem.DEFAULT_DATABASES`). */
    databases?: string[]
    /** Config files to back up, relative to the root (default `BackupSystem.DEFAULT_CONFIG_FILES`). */
    configFiles?: string[]
    /** Archive excludes (default node_modules, dist, build, .next, *.log, backups, .git). */
    excludes?: string[]
    /**
     * How the full part is made: `'snapshot'` (backups/store/, docs/store-format.md) or
     * `'tar_gz'` (full/<id>.tar.gz). Default: the tracker's
     * `backupStrategy.backupTypes.fullSystem.method`, else `'tar_gz'`.
     */
    fullMethod?: 'snapshot' | 'tar_gz'
    trackerPath?: string
    /** Directory of the tracker lock (default as safe-file-operations). */
    lockDir?: string
    onProgress?: (progress: BackupProgress) => void
    /** No console lines. */
    quiet?: boolean
  }

  export interface ProgressOptions {
    onProgress?: (progress: BackupProgress) => void
  }

  /** A restore point as listed: its paths resolved in the current backups folder. */
  export interface ListedRestorePoint extends T.RestorePoint {
    /** The recorded id is not a safe file name: none of its paths are used. */
    unsafeId?: boolean
  }

  export interface VerifyResult {
    id: string
    valid: boolean
    checked: number
    bytes: number
    missing: string[]
    altered: string[]
    /** `<path>: <why>` for each part whose bytes match the manifest but which is not sound:
     *  the archive read to its end, the SQLite copies' `PRAGMA integrity_check`. */
    damaged: string[]
    /** The manifest's path, or null for a set made before manifests existed. */
    manifest: string | null
    error?: string
  }

  export interface IntegrityResult {
    valid: boolean
    errors: string[]
    warnings: string[]
    verification?: VerifyResult | null
  }

  export interface RestoreOptions {
    /** Only say what would be restored (`DryRunResult`). */
    dryRun?: boolean
    /** Restore code over uncommitted changes, and continue when the pre-restore backup fails. */
    force?: boolean
    /** Stash uncommitted changes first (default); `false` throws `EDIRTY` instead. */
    autoStash?: boolean
    /** A failed part is a warning; `ERESTORE` only when every part failed. */
    continueOnError?: boolean
    restoreCode?: boolean
    restoreDatabase?: boolean
    restoreConfig?: boolean
    /** Skip the `pre-restore` backup of the current state. */
    skipCurrentBackup?: boolean
  }

  export interface RestoreResult {
    code: boolean
    database: boolean
    config: boolean
  }

  export interface DryRunResult extends RestoreResult {
    warnings: string[]
    errors: string[]
  }
}

declare class BackupSystem {
  constructor(options?: BackupSystem.Options)
  readonly backend: T.BackendName
  readonly rootDir: string
  readonly backupsDir: string
  readonly checkpointsDir: string
  readonly trackerPath: string
  /** False when no project was found (the cwd was the last resort): create, restore and cleanup throw `ENOROOT`. */
  readonly rootIsProject: boolean
  /** The tracker as last read or written. */
  tracker: T.Tracker | null

  /** Make a full backup set and record its restore point; resolves to its id (`<label>-<time>`). */
  createFullBackup(label?: string, options?: BackupSystem.ProgressOptions): Promise<string>
  /** The recorded restore points (printed, unless `quiet`). */
  listBackups(): BackupSystem.ListedRestorePoint[]
  restorePoints(): BackupSystem.ListedRestorePoint[]
  /** Re-hash every file of a set against its manifest, then read its archive and check its SQLite copies. */
  verifyBackup(backupId: string, options?: BackupSystem.ProgressOptions): Promise<BackupSystem.VerifyResult>
  /** Legacy checks (fields, paths, info files), plus the manifest when there is one. */
  validateBackupIntegrity(backup: string | T.RestorePoint): Promise<BackupSystem.IntegrityResult>
  restoreFromBackup(backupId: string, options: BackupSystem.RestoreOptions & { dryRun: true }): Promise<BackupSystem.DryRunResult>
  restoreFromBackup(backupId: string, options?: BackupSystem.RestoreOptions): Promise<BackupSystem.RestoreResult | BackupSystem.DryRunResult>
  /** Remove restore points older than `retentionDays` (default 30) and their files; how many. */
  cleanup(retentionDays?: number): Promise<number>
  /** Restore only `paths` (files or folders, relative to the root) of snapshot set `backupId`. */
  restorePaths(
    backupId: string,
    paths: string[],
    options?: { skipCurrentBackup?: boolean },
  ): Promise<{ files: number; dirs: number; symlinks: number; bytes: number }>
  /** Write snapshot set `backupId` as a legacy tar.gz (default backups/full/<id>.tar.gz). */
  exportBackup(backupId: string, file?: string, options?: BackupSystem.ProgressOptions): Promise<{ file: string; size: number; sha256: string }>
  /** Move tar.gz set `backupId` into the snapshot store (its archive removed once the snapshot, manifest and restore point say so). */
  importBackup(backupId: string): Promise<{ id: string; files: number; bytes: number; newBytes: number }>
  /** What a restore would do, without doing it (printed too). */
  simulateRestore(point: T.RestorePoint, options?: BackupSystem.RestoreOptions): BackupSystem.DryRunResult
  /** The restore point with this id, or null; `ERR_INVALID_ARG_TYPE` for a non-string. */
  findPoint(backupId: string): BackupSystem.ListedRestorePoint | null

  // The steps of createFullBackup and restoreFromBackup, legacy names (each throws on failure).
  /** `backups/code/<id>/` (git bundle and git-info.json), or why it was skipped. */
  backupCode(id: string): Promise<{ dir: string } | { skipped: string }>
  /** `backups/database/<id>/`: consistent copies, `.sql` dumps, db-info.json. */
  backupDatabases(id: string): Promise<string>
  /** `backups/config/<id>/`: the config files and config-info.json. */
  backupConfig(id: string): string
  /** `backups/state/<id>/`: system-info.json (no secret-looking values). */
  backupState(id: string): Promise<string>
  restoreCode(point: T.RestorePoint): boolean
  restoreDatabases(point: T.RestorePoint): boolean
  restoreConfig(point: T.RestorePoint, warnings: string[]): boolean

  // The legacy part-by-part methods (lib/backup/legacy.js), with their legacy return values.
  /** Make backups/ (owner-only, git-ignored), its part folders and checkpoints/. */
  ensureDirectories(): void
  /** Write `this.tracker` (under the tracker lock, atomically). */
  saveTracker(): void
  /** Record restore point `{ id: backupId, ...backupInfo }` (newest first, 10 kept). */
  updateBackupTracker(backupId: string, backupInfo?: Partial<T.RestorePoint>): void
  /** `git status --porcelain` is not empty (false outside a git repository). */
  checkUncommittedChanges(): Promise<boolean>
  /** The code part of set `backupId`: its folder, or null when skipped (no git repository or commit). */
  createGitBackup(backupId: string): Promise<string | null>
  createDatabaseBackup(backupId: string): Promise<string>
  createConfigBackup(backupId: string): Promise<string>
  createStateBackup(backupId: string): Promise<string>
  /** `backups/full/<id>.tar.gz`: its path. */
  createFullArchive(backupId: string): Promise<string>
  /** Reset the code to a restore point (or its id); `EDIRTY` on a dirty work tree unless `force`. */
  restoreGit(backup: string | T.RestorePoint, options?: { force?: boolean }): Promise<void>
  /** Put back the databases of a restore point (or its id). */
  restoreDatabase(backup: string | T.RestorePoint): Promise<void>
  /** Stop every backup this process is making (Ctrl+C): resolves once they removed their staging folders. */
  static cancelRunning(waitMs?: number): Promise<void>

  /** The CLI: resolves to the exit code. */
  static run: T.RunCli
  static main: T.MainCli
  static readonly DEFAULT_CONFIG_FILES: readonly string[]
  static readonly DEFAULT_DATABASES: readonly string[]
}

export = BackupSystem
