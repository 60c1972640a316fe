'use strict'
// What the snapshot store can tell that no legacy tool could: `diff` (what was added, removed
// and modified between two snapshot sets, or since one of them in the project as it is now)
// and `log` (every snapshot with its logical size, the bytes it added to the store and the
// bytes it shares with earlier ones). Read-only: nothing is written, locked or removed.
// Methods of BackupSystem, mixed in by lib/backup/backup-system.js.

class History {
  /**
   * The differences from snapshot set `from` to snapshot set `to`, or to the project's files
   * when `to` is omitted (the same excludes and database side files a snapshot leaves out):
   * `{ from, to, changes: [{ path, change, type, what }], added, removed, modified, hashed, skipped }`.
   */
  async diffBackups(from, to) {
    const a = this.snapshotPoint(from)
    const b = to === undefined || to === null ? null : this.snapshotPoint(to)
    const databases = this.databases.map((rel) => rel.split(/[\\/]/).join('/'))
    const options = { root: this.rootDir, excludes: this.excludes, databases }
    const result = await this.binding.storeDiff(this.storeDir, a.id, b && b.id, options)
    return { from: a.id, to: b && b.id, ...result }
  }

  /** Every snapshot of backups/store, oldest first, with its logical, new and shared bytes. */
  async snapshotLog() {
    const entries = await this.binding.storeLog(this.storeDir)
    return entries.map((e) => ({ ...e, error: e.error ?? null }))
  }
}

/** `A path`, `D path`, `M path`: one line per change (control characters quoted as JSON). */
function diffLines(changes) {
  const letter = { added: 'A', removed: 'D', modified: 'M' }
  return changes.map((c) => `${letter[c.change]} ${/[\u0000-\u001f\u007f"]/.test(c.path) ? JSON.stringify(c.path) : c.path}`)
}

const MIB = 1024 * 1024

/** `12.3 MiB`, `40.0 KiB`, `512 B`. */
function size(n) {
  if (n >= MIB) return `${(n / MIB).toFixed(1)} MiB`
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${n} B`
}

/** The log's lines: one per snapshot, then the totals. */
function logLines(entries) {
  const lines = entries.map(
    (e) =>
      `${e.id}  ${e.time}  ${e.files} files  logical ${size(e.logical)}  new ${size(e.newBytes)}  shared ${size(e.sharedBytes)}` +
      (e.missingChunks > 0 ? `  (${e.missingChunks} chunks missing)` : '') +
      (e.error ? `  (damaged: ${e.error})` : ''),
  )
  const logical = entries.reduce((n, e) => n + e.logical, 0)
  const stored = entries.reduce((n, e) => n + e.newBytes, 0)
  lines.push(`${entries.length} snapshots: logical ${size(logical)}, stored ${size(stored)} on disk`)
  return lines
}

module.exports = History
module.exports.diffLines = diffLines
module.exports.logLines = logLines
