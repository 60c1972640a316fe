// Types of `session-resilience/process-cleanup` (lib/process-cleanup.js): exit handlers,
// our locks released and our temp files removed on exit, signals and crashes.

import type { MainCli, RunCli } from './types'

export type { ErrorCode, SessionResilienceError } from './types'

export interface ProcessCleanupOptions {
  /** Install the signal and exception handlers (default true). */
  install?: boolean
}

export declare class ProcessCleanup {
  constructor(options?: ProcessCleanupOptions)
  /** Run `fn` before `safeExit` exits; returns a function that unregisters it. */
  onExit(fn: () => unknown): () => void
  /** A temporary file removed at `safeExit` unless untracked first; returns `file`. */
  trackTempFile(file: string): string
  untrackTempFile(file: string): void
  /** Release every lock this process holds, on every loaded backend; how many. */
  releaseLocks(): number
  removeTempFiles(): void
  /** Run the handlers, release our locks, remove our temp files, then `process.exit(code)`. */
  safeExit(code?: number): Promise<never>
  /** SIGTERM/SIGINT exit 130, SIGUSR1/SIGUSR2 exit 1, uncaught errors exit 1. */
  install(): void
  /** Legacy name of `install()`. */
  setupSignalHandlers(): void
}

export declare function onExit(fn: () => unknown): () => void
export declare function safeExit(code?: number): Promise<never>
export declare function trackTempFile(file: string): string
/** The process-wide instance behind `onExit`, `safeExit` and `trackTempFile`. */
export declare const instance: ProcessCleanup

/** As a command (legacy: load and exit 0): no arguments exits 0, `help` explains. */
export declare const run: RunCli
export declare const main: MainCli
