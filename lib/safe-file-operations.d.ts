// Types of `session-resilience/safe-file-operations` (lib/safe-file-operations.js): the
// legacy singleton's functions, the class, and the CLI.

import type { AtomicWriteOptions, ChecksumResult, LockOptions } from '../index'
import type { BackendName, LockInfo, MainCli, RunCli } from './types'

export type { AtomicWriteOptions, ChecksumResult, LockOptions } from '../index'
export type { BackendName, ErrorCode, LockInfo, SessionResilienceError } from './types'

export interface SafeFileOperationsOptions {
  backend?: BackendName
  /** Default `$SESSION_RESILIENCE_LOCK_DIR` or `<tmpdir>/agenthive-locks`. */
  lockDir?: string
  /** Default `$SESSION_RESILIENCE_BACKUP_DIR` or `<tmpdir>/agenthive-backups`. */
  backupDir?: string
}

/** `{ valid, error?, repair? }`: what a `safeJsonRead` validator returns. */
export interface JsonVerdict<T> {
  valid: boolean
  error?: string
  /** Called on invalid data; its result is returned instead. */
  repair?: (data: T) => T
}

export type JsonValidator<T> = (data: T) => JsonVerdict<T>

/** Options of `getLockInfo` and `listLocks`. */
export interface LockQueryOptions {
  lockDir?: string
  /** Age (ms) after which a holder on another host counts as dead (default 30000). */
  staleMs?: number
}

export declare class SafeFileOperations {
  constructor(options?: SafeFileOperationsOptions)
  readonly backend: BackendName
  readonly lockDir: string
  readonly backupDir: string

  /** Replace a file atomically and durably; `true`, or throws with the errno `code`. */
  atomicWrite(filePath: string, content: string | Uint8Array, options?: AtomicWriteOptions): boolean
  atomicWriteAsync(filePath: string, content: string | Uint8Array, options?: AtomicWriteOptions): Promise<boolean>
  /**
   * Parse a JSON file; never throws for I/O or parse problems. A damaged file is moved
   * aside and its newest parsable backup restored; otherwise `defaultValue` (default null).
   */
  safeJsonRead<T = unknown>(filePath: string, defaultValue?: T | null, validator?: JsonValidator<T> | null): T
  /** `<backupDir>/<basename>.<label>.<stamp>.bak`, or null when the file could not be copied. */
  backupFile(filePath: string, label?: string): string | null
  verifyChecksum(filePath: string, expectedChecksum?: string | null): ChecksumResult
  verifyChecksumAsync(filePath: string, expectedChecksum?: string | null): Promise<ChecksumResult>
  /** Delete this package's backups older than `maxAge` ms (default 7 days); how many. */
  cleanupOldBackups(maxAge?: number): number
  /** The lock file path, or throws `ELOCKTIMEOUT` after `timeout` ms (default 5000). */
  acquireLock(identifier: string, timeout?: number, options?: LockOptions): string
  /** Resolves to the lock file path; the wait sleeps off the event loop. */
  acquireLockAsync(identifier: string, options?: LockOptions): Promise<string>
  /** `true` when released or absent; `false` when another process holds it. */
  releaseLock(identifier: string): boolean
  getLockInfo(identifier: string, options?: LockQueryOptions): LockInfo
  listLocks(options?: LockQueryOptions): Array<LockInfo & { identifier: string }>
  /** Legacy: create the lock and backup folders (owner-only); a failure is a warning. */
  ensureLockDirectories(): void
  /** Legacy: the path `<backupDir>/<name>.<ms>.bak` a backup of `filePath` would get (nothing created). */
  createBackupPath(filePath: string): string
  /** Run `fn` holding the lock; released however `fn` ends (a promise: when it settles). */
  withLock<R>(identifier: string, fn: () => R, options?: LockOptions): R
  /** `withLock` whose wait does not block the event loop. */
  withLockAsync<R>(identifier: string, fn: () => R | Promise<R>, options?: LockOptions): Promise<R>
}

type Ops = SafeFileOperations
export declare const atomicWrite: Ops['atomicWrite']
export declare const atomicWriteAsync: Ops['atomicWriteAsync']
export declare const safeJsonRead: Ops['safeJsonRead']
export declare const backupFile: Ops['backupFile']
export declare const verifyChecksum: Ops['verifyChecksum']
export declare const verifyChecksumAsync: Ops['verifyChecksumAsync']
export declare const cleanupOldBackups: Ops['cleanupOldBackups']
export declare const acquireLock: Ops['acquireLock']
export declare const acquireLockAsync: Ops['acquireLockAsync']
export declare const releaseLock: Ops['releaseLock']
export declare const getLockInfo: Ops['getLockInfo']
export declare const withLock: Ops['withLock']
export declare const withLockAsync: Ops['withLockAsync']
export declare const listLocks: Ops['listLocks']

/** The CLI: `run(['backup', 'file.json'])` resolves to the exit code. */
export declare const run: RunCli
/** The CLI on `process.argv`, setting `process.exitCode`. */
export declare const main: MainCli
