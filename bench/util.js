'use strict'
// Helpers for the bench files: timing loops, peak RSS of a child, markdown tables.
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')

/** Run `fn` repeatedly for about `ms` milliseconds (after a warm-up); ops per second. */
function opsPerSec(fn, ms = 2000) {
  const warmEnd = performance.now() + Math.min(300, ms / 5)
  while (performance.now() < warmEnd) fn()
  let n = 0
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    fn()
    n++
    now = performance.now()
  }
  return (n * 1000) / (now - start)
}

/**
 * Peak RSS (KiB), wall time (s) and CPU time (s, user + system, the command and the children
 * it waited for: less sensitive than wall time to other load on the machine) of a command,
 * from GNU time's %M %U %S.
 */
function measureCommand(cmd, args, options = {}) {
  const start = performance.now()
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], { encoding: 'utf8', ...options })
  const wall = (performance.now() - start) / 1000
  if (r.error) throw r.error
  const lines = r.stderr.trim().split('\n')
  const [peakKiB, user, sys] = lines[lines.length - 1].split(' ').map(Number)
  return { wall, cpu: user + sys, peakKiB, status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/**
 * Run `body` (an async function body; `b` is the backend's binding) in a child process of
 * Node under `measureCommand`: its measures, and `out`, what `body` returned (JSON).
 */
function runBackend(backend, body) {
  const lib = JSON.stringify(require('node:path').resolve(__dirname, '../lib/backend'))
  const script = `const b = require(${lib}).resolveBackend('${backend}').binding; (async () => { ${body} })().then((r) => console.log(JSON.stringify(r)))`
  const r = measureCommand(process.execPath, ['-e', script])
  if (r.status !== 0) throw new Error(`${backend}: ${r.stderr}`)
  return { ...r, out: JSON.parse(r.stdout) }
}

function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n')
}

const fmt = (n, digits = 0) => Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/**
 * 1 % of the files (every 100th asset gets 4 KB rewritten) and 1 % of the database pages
 * (every 400th row of 1,000 bytes: about four rows fill a 4 KiB page) of the bench workspace `ws`
 * (bench/snapshot.bench.js, bench/snapshot-breakdown.js).
 */
function changeOnePercent(ws, round) {
  let n = 0
  const walk = (dir) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name)
      if (fs.statSync(full).isDirectory()) walk(full)
      else if (name.endsWith('.dat') && n++ % 100 === 0) {
        const fd = fs.openSync(full, 'r+')
        fs.writeSync(fd, crypto.randomBytes(4096), 0, 4096, 0)
        fs.closeSync(fd)
      }
    }
  }
  walk(path.join(ws, 'assets'))
  walk(path.join(ws, 'src'))
  execFileSync('sqlite3', [path.join(ws, 'database.sqlite'), `UPDATE t SET v = randomblob(1000) WHERE id % 400 = ${round % 400};`])
}

module.exports = { opsPerSec, measureCommand, runBackend, table, fmt, changeOnePercent }
