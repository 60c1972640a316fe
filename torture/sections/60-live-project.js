'use strict'
// Backups of a live project, both backends: while a Python process writes to the project's
// SQLite database (rollback journal, one row per transaction every 2 ms) and appends to a
// growing event file, `createFullBackup` runs back to back. After each backup:
// - the archive is valid: GNU tar lists it and extracts it whole (exit 0), and lists every
//   file of the project;
// - `verifyBackup` says valid (digests, the archive read to its end, the SQLite copies);
// - the database copy and the database inside the archive pass `PRAGMA integrity_check`.
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { BACKENDS, tempDir, table, run } = require('../lib')

const BACKUPS = Number(process.env.TORTURE_LIVE_BACKUPS || 50)
const TRACKER = 'packages/system-api/phase-tracker.json'

function project(dir) {
  const root = path.join(dir, 'live')
  fs.mkdirSync(path.join(root, 'packages/system-api'), { recursive: true })
  fs.mkdirSync(path.join(root, 'src'), { recursive: true })
  fs.mkdirSync(path.join(root, 'data'), { recursive: true })
  const tracker = {
    sessionInfo: { sessionId: 'live', currentPhase: 1, currentWeek: 1, lastUpdate: new Date().toISOString() },
    baselineStatus: { phase1Complete: true, testsPassingBaseline: '1/1', agentsLoaded: 1 },
    phases: {},
    backupStrategy: { frequency: 'daily', retentionDays: 30, restorePoints: [] },
  }
  fs.writeFileSync(path.join(root, TRACKER), JSON.stringify(tracker, null, 2))
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(root, 'src', `m${i}.js`), `module.exports = ${i}\n`.repeat(200))
  return root
}

// The writers: rows into the database, lines onto the event file, until killed.
const WRITER = `import sqlite3, sys, time, os
db, events = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(db, isolation_level=None, timeout=30)
conn.execute('PRAGMA journal_mode=DELETE')
conn.execute('CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)')
print('ready', flush=True)
line = b'{"event":"tick","payload":"' + b'x' * 200 + b'"}\\n'
n = 0
with open(events, 'ab') as f:
    while True:
        conn.execute('INSERT INTO t(v) VALUES (randomblob(1500))')
        f.write(line * 20); f.flush()
        if f.tell() > 8 << 20: f.truncate(0); f.seek(0)  # rotated, as a log is
        n += 1
        time.sleep(0.002)
        if n % 500 == 0: conn.execute('DELETE FROM t WHERE id < (SELECT max(id) - 2000 FROM t)')
`

function startWriter(root) {
  const child = spawn('python3', ['-c', WRITER, path.join(root, 'database.sqlite'), path.join(root, 'data', 'events.jsonl')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(child))
    child.once('exit', (code) => reject(new Error(`the writer exited (${code})`)))
  })
}

const integrityOk = (db) => run('sqlite3', ['-readonly', db, 'PRAGMA integrity_check']).stdout.trim() === 'ok'

async function liveBackups(backend) {
  const BackupSystem = require('../../lib/backup-system')
  const dir = tempDir(`live-${backend}`)
  const root = project(dir)
  const bs = new BackupSystem({ backend, root, lockDir: path.join(dir, 'locks'), quiet: true })
  const s = { archivesValid: 0, listedAll: 0, verified: 0, copiesIntact: 0, archivedIntact: 0, changed: 0, failed: [], ms: 0 }
  const writer = await startWriter(root)
  try {
    const started = Date.now()
    for (let i = 0; i < BACKUPS; i++) {
      let id
      try {
        id = await bs.createFullBackup('live')
      } catch (err) {
        s.failed.push(err.message)
        continue
      }
      const archive = path.join(root, 'backups/full', `${id}.tar.gz`)
      const out = path.join(dir, 'x')
      fs.rmSync(out, { recursive: true, force: true })
      fs.mkdirSync(out)
      const listed = run('tar', ['-tzf', archive])
      const extracted = run('tar', ['-xzf', archive, '-C', out])
      if (listed.status === 0 && extracted.status === 0) s.archivesValid++
      const names = new Set(listed.stdout.split('\n').map((n) => n.replace(/^\.\//, '')))
      if (['database.sqlite', 'data/events.jsonl', TRACKER, 'src/m19.js'].every((n) => names.has(n))) s.listedAll++
      if ((await bs.verifyBackup(id)).valid) s.verified++
      if (integrityOk(path.join(root, 'backups/database', id, 'database.sqlite'))) s.copiesIntact++
      if (integrityOk(path.join(out, 'database.sqlite'))) s.archivedIntact++
      const manifest = JSON.parse(fs.readFileSync(path.join(root, 'backups/manifests', `${id}.json`), 'utf8'))
      if (manifest.files.some((f) => f.changed)) s.changed++
    }
    s.ms = Math.round((Date.now() - started) / BACKUPS)
  } finally {
    writer.kill('SIGKILL')
  }
  fs.rmSync(dir, { recursive: true, force: true })
  return s
}

module.exports = {
  title: 'Live project: backups while the database and a log file are being written',
  async run() {
    const rows = []
    const problems = []
    let ok = true
    for (const backend of BACKENDS) {
      const s = await liveBackups(backend)
      const all = [s.archivesValid, s.listedAll, s.verified, s.copiesIntact, s.archivedIntact]
      ok = ok && s.failed.length === 0 && all.every((n) => n === BACKUPS)
      problems.push(...s.failed.slice(0, 5).map((f) => `${backend}: backup failed: ${f}`))
      rows.push([backend, ...all.map((n) => `${n}/${BACKUPS}`), `${s.changed}/${BACKUPS}`, `${s.ms} ms`])
    }
    const text =
      `A small project (the tracker, 20 source files) whose SQLite database is written by a Python process (one 1.5 KB row per ` +
      'transaction, rollback journal, a transaction every 2 ms) while the same process appends 4 KB at a time to `data/events.jsonl` (truncated to 0 at 8 MB, as a rotated log); ' +
      `${BACKUPS} backups per backend, back to back. Each archive must list and extract whole with GNU tar and list every file, ` +
      '`verifyBackup` must say valid (digests, the archive read to its end, the SQLite copies checked), and both the database copy ' +
      'and the database inside the archive (the copy, not the live file) must pass `PRAGMA integrity_check`. "changed" counts the ' +
      'backups whose manifest names a file that changed while the archive read it (archived at the size it had when opened).\n\n' +
      table(['backend', 'archives valid (GNU tar)', 'every file listed', 'verifyBackup valid', 'database copy intact', 'archived database intact', 'changed while read', 'per backup'], rows) +
      (problems.length ? `\n\nProblems:\n\n${problems.map((p) => `- ${p}`).join('\n')}` : '')
    return { ok, text }
  },
}
