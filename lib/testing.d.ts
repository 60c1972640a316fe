// Types of `session-resilience/testing` (lib/testing.js): run a test body on the native and js
// backends and on the legacy originals, each on a fresh copy of a project; compare with diff.

import type { MainCli, RunCli } from './types'

export type { ErrorCode, SessionResilienceError } from './types'

/** What `load(name)` gives (the legacy originals have the same names and shapes). */
export interface Modules {
  'safe-file-operations': typeof import('./safe-file-operations')
  'validation-helpers': typeof import('./validation-helpers')
  'process-cleanup': typeof import('./process-cleanup')
  'backup-system': typeof import('./backup-system')
  'phase-gate-validator': typeof import('./phase-gate-validator')
  'session-manager': typeof import('./session-manager')
  'resilient-wrapper': typeof import('./resilient-wrapper')
}

export type ModuleName = keyof Modules

export type TestBackend = 'native' | 'js' | 'legacy'

export interface BackendContext {
  backend: TestBackend
  /** A fresh copy of `options.project` (or an empty folder). */
  project: string
  lockDir: string
  backupDir: string
  /** That backend's module: ours configured for the copy, or the legacy original pointed at it. */
  load<N extends ModuleName>(name: N): Modules[N]
}

export interface ForEachBackendOptions {
  /** The project to copy for each backend (node_modules and .git left out). */
  project?: string
  /** The folder of the `<name>.legacy.js` files; adds the `legacy` backend. */
  legacy?: string
  backends?: TestBackend[]
  /** A node:test context: each backend runs as a subtest. */
  t?: { test(name: string, fn: () => unknown): Promise<unknown> }
  /** Leave the temp folders. */
  keep?: boolean
}

export declare function forEachBackend<R>(fn: (ctx: BackendContext) => R | Promise<R>, options?: ForEachBackendOptions): Promise<Partial<Record<TestBackend, R>>>
/** The differences once ids, times and paths are masked: `[]` when `a` and `b` agree. */
export declare function diff(a: unknown, b: unknown): string[]
/** A copy of `value` with ids, times and paths masked. */
export declare function mask<T>(value: T): T
/** The console lines printed while `fn` runs, and its result. */
export declare function captureOutput<R>(fn: () => R | Promise<R>): Promise<{ result: R; output: string }>
export declare const NAMES: readonly ModuleName[]
export declare const run: RunCli
export declare const main: MainCli
