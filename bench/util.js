'use strict'
// Helpers for the bench files: timing loops, peak RSS of a child, markdown tables.
const { spawnSync } = require('node:child_process')

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

module.exports = { opsPerSec, measureCommand, runBackend, table, fmt }
