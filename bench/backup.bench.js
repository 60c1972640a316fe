'use strict'
// createFullBackup and verifyBackup on a generated workspace (about 5,000 files / 200 MB,
// a 50 MB SQLite database, a few hundred commits), against the legacy method run the way
// the legacy module ran it (`git bundle`, `cp`, `tar -czf` through a shell). Each run is a
// child process, so its peak RSS is its own. The workspace is generated once under /tmp
// (SR_BENCH_WORKSPACE to choose the place) and reused.
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { execFileSync, spawn } = require('node:child_process')
const { measureCommand, table, fmt } = require('./util')

const ROOT = path.resolve(__dirname, '..')
const WS = process.env.SR_BENCH_WORKSPACE || '/tmp/sr-bench-backup-workspace'
const FILES = 5000
const TOTAL_BYTES = 200 * 1024 * 1024
const DB_BYTES = 50 * 1024 * 1024
const COMMITS = 300

function git(...args) {
  return execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { cwd: WS, stdio: ['ignore', 'pipe', 'ignore'] })
}

/** Half random, half repetitive text: gzip has real work to do, as on a real project. */
function content(size, seed) {
  const random = crypto.randomBytes(Math.floor(size / 2))
  const text = Buffer.alloc(size - random.length, `line ${seed} of generated source code;\n`)
  return Buffer.concat([random, text])
}

function generate() {
  if (fs.existsSync(path.join(WS, '.complete'))) return
  fs.rmSync(WS, { recursive: true, force: true })
  fs.mkdirSync(path.join(WS, 'packages/system-api'), { recursive: true })
  fs.writeFileSync(
    path.join(WS, 'packages/system-api/phase-tracker.json'),
    JSON.stringify({ sessionInfo: { sessionId: 'bench', currentPhase: 2, currentWeek: 1, lastUpdate: new Date().toISOString() }, baselineStatus: {}, phases: {}, backupStrategy: { restorePoints: [] } }, null, 2),
  )
  fs.writeFileSync(path.join(WS, 'package.json'), '{"name":"bench"}\n')
  fs.writeFileSync(path.join(WS, '.gitignore'), 'assets/\n*.sqlite\nbackups/\n')
  const per = Math.floor((TOTAL_BYTES - DB_BYTES) / FILES)
  for (let i = 0; i < FILES; i++) {
    // 1 in 5 files is source (committed), the rest assets (untracked, as build inputs are)
    const dir = i % 5 === 0 ? `src/m${i % 50}` : `assets/a${i % 100}`
    fs.mkdirSync(path.join(WS, dir), { recursive: true })
    fs.writeFileSync(path.join(WS, dir, `f${i}.dat`), content(i % 5 === 0 ? 4096 : per, i))
  }
  git('init', '-q', '-b', 'main')
  git('add', '-A')
  git('commit', '-qm', 'initial')
  for (let c = 0; c < COMMITS; c++) {
    fs.writeFileSync(path.join(WS, 'src/m0/changing.txt'), `commit ${c}\n${crypto.randomBytes(512).toString('hex')}\n`)
    git('add', 'src/m0/changing.txt')
    git('commit', '-qm', `change ${c}`)
  }
  const rows = Math.ceil(DB_BYTES / 1100)
  execFileSync('sqlite3', [path.join(WS, 'database.sqlite')], {
    input: `CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ${rows}) INSERT INTO t(v) SELECT randomblob(1000) FROM n;\n`,
  })
  fs.writeFileSync(path.join(WS, '.complete'), '')
}

function clearBackups() {
  fs.rmSync(path.join(WS, 'backups'), { recursive: true, force: true })
}

// SR_BENCH_BASELINE=<another checkout, built>: its createFullBackup measured beside ours,
// alternately, in the same run (what a change costs, on the same machine and cache state).
const BASELINE = process.env.SR_BENCH_BASELINE || null
/** SR_BENCH_CREATE_REPEATS: measured runs of each create row (the median is shown). */
const CREATE_REPEATS = Number(process.env.SR_BENCH_CREATE_REPEATS || 1)

const nodeScript = (body, root = ROOT) => ['-e', `const B = require(${JSON.stringify(path.join(root, 'lib/backup-system'))}); ${body}`]

function createRun(backend, root = ROOT) {
  clearBackups()
  const r = measureCommand(process.execPath, nodeScript(`new B({ root: ${JSON.stringify(WS)}, backend: '${backend}', quiet: true }).createFullBackup('bench').then((id) => console.log(id))`, root))
  if (r.status !== 0) throw new Error(`create (${backend}) failed: ${r.stderr}`)
  return { ...r, id: r.stdout.trim() }
}

function legacyRun() {
  clearBackups()
  const id = `legacy-${Date.now()}`
  const b = path.join(WS, 'backups')
  for (const d of ['code', 'database', 'config', 'full']) fs.mkdirSync(path.join(b, d, d === 'full' ? '' : id), { recursive: true })
  // the legacy module's own shell strings, in its order
  const script = [
    `cd ${WS} && git bundle create ${b}/code/${id}/repo.bundle --all`,
    `cp ${WS}/database.sqlite ${b}/database/${id}/database.sqlite`,
    `sqlite3 ${WS}/database.sqlite .dump > ${b}/database/${id}/database.sqlite.sql`,
    `cp ${WS}/package.json ${b}/config/${id}/package.json`,
    `cd ${WS} && tar -czf ${b}/full/${id}.tar.gz --exclude=node_modules --exclude=dist --exclude=build --exclude=.next --exclude='*.log' --exclude=backups --exclude=.git .`,
  ].join(' && ')
  const r = measureCommand('bash', ['-c', script])
  if (r.status !== 0) throw new Error(`legacy failed: ${r.stderr}`)
  return r
}

function verifyRun(backend, id) {
  const r = measureCommand(process.execPath, nodeScript(`new B({ root: ${JSON.stringify(WS)}, backend: '${backend}', quiet: true }).verifyBackup(${JSON.stringify(id)}).then((v) => { if (!v.valid) process.exit(3); console.log(v.bytes) })`))
  if (r.status !== 0) throw new Error(`verify (${backend}) failed: ${r.stderr}`)
  return { ...r, bytes: Number(r.stdout.trim()) }
}

/** True when a file whose name matches `re` is in a staging folder under `dir` (backups/). */
function inStaging(dir, re, staging = false) {
  let entries = []
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return false
  }
  return entries.some((e) => {
    const inside = staging || e.name.startsWith('.staging-')
    return (inside && re.test(e.name)) || (e.isDirectory() && (inside || e.name.startsWith('.staging-')) && inStaging(path.join(dir, e.name), re, true))
  })
}

/**
 * Ctrl+C during `backup-system create`: SIGINT `at.delayMs` after the staging folder appears,
 * or as soon as a file matching `at.marker` appears in it (the database copy's temp, git's
 * lock on the bundle); ms from the signal to the exit (the issue asks for <= 200 ms), and
 * whether it exited 130 and left backups/ without a staging folder.
 */
function sigintRun(backend, at) {
  clearBackups()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/backup-system.js'), 'create', 'bench'], {
      cwd: WS,
      env: { ...process.env, SESSION_RESILIENCE_BACKEND: backend, SESSION_RESILIENCE_ROOT: '' },
      stdio: 'ignore',
    })
    let sent = null
    const b = path.join(WS, 'backups')
    const signal = () => {
      sent = performance.now()
      child.kill('SIGINT')
    }
    const poll = setInterval(() => {
      if (sent !== null) return
      if (at.marker && inStaging(b, at.marker)) signal()
      else if (!at.marker && inStaging(b, /^owner\.json$/)) {
        sent = 0
        setTimeout(signal, at.delayMs)
      }
    }, 1)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearInterval(poll)
      const ms = sent ? performance.now() - sent : Number.NaN
      const left = fs.existsSync(b) ? fs.readdirSync(b).filter((n) => n.startsWith('.staging-')).length : 0
      resolve({ ms, code, left })
    })
  })
}

const SIGINT_REPEATS = Number(process.env.SR_BENCH_SIGINT_REPEATS || 3)
const SIGINT_POINTS = [
  { name: 'database copy running', marker: /^\.db-copy-/ },
  { name: 'git bundle running', marker: /^repo\.bundle\.lock$/ },
  ...[0, 50, 300, 800, 1500].map((delayMs) => ({ name: `${delayMs} ms after the staging folder`, delayMs })),
]

/** The run with the median wall time (its set is the one verified). */
const medianRun = (runs) => [...runs].sort((a, b) => a.wall - b.wall)[Math.floor((runs.length - 1) / 2)]

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function sigintRows() {
  const rows = []
  for (const backend of ['native', 'js']) {
    const all = []
    for (const at of SIGINT_POINTS) {
      const runs = []
      for (let i = 0; i < SIGINT_REPEATS; i++) runs.push(await sigintRun(backend, at))
      all.push(...runs)
      const ms = runs.map((r) => r.ms)
      rows.push([
        `create (${backend}), SIGINT ${at.marker ? `with the ${at.name}` : at.name}`,
        fmt(median(ms), 0),
        fmt(Math.max(...ms), 0),
        runs.every((r) => r.code === 130) ? 'yes' : runs.map((r) => r.code).join(','),
        runs.reduce((n, r) => n + r.left, 0),
      ])
    }
    const ms = all.map((r) => r.ms)
    rows.push([`**create (${backend}), all ${all.length} runs**`, fmt(median(ms), 0), fmt(Math.max(...ms), 0), all.every((r) => r.code === 130) ? 'yes' : 'no', all.reduce((n, r) => n + r.left, 0)])
  }
  return rows
}

async function main() {
  const started = Date.now()
  generate()
  console.error(`workspace ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${WS}`)
  // One unmeasured pass of every row first, so that each measured row finds the workspace's
  // files, git objects and database equally warm in the page cache (measured first and alone,
  // the legacy row would pay for a colder cache than the rows after it).
  legacyRun()
  for (const backend of ['native', 'js']) createRun(backend)
  if (BASELINE) for (const backend of ['native', 'js']) createRun(backend, BASELINE)
  const rows = []
  const verifyRows = []
  const legacy = legacyRun()
  rows.push(['legacy (git bundle, cp, sqlite3 .dump, tar -czf via shell)', fmt(legacy.wall, 2), fmt(legacy.cpu, 2), fmt(legacy.peakKiB / 1024, 1)])
  for (const backend of ['native', 'js']) {
    // CREATE_REPEATS runs of each row, the baseline's and ours alternating (a busy machine
    // drifts: side by side, both see the same drift); the median run of each is shown
    const mine = []
    const theirs = []
    for (let i = 0; i < CREATE_REPEATS; i++) {
      if (BASELINE) theirs.push(createRun(backend, BASELINE))
      mine.push(createRun(backend))
    }
    const runs = (list) => (CREATE_REPEATS > 1 ? `, median of ${CREATE_REPEATS} (wall ${list.map((r) => fmt(r.wall, 2)).join(' / ')})` : '')
    const medianCpu = (list) => fmt(median(list.map((r) => r.cpu)), 2)
    if (BASELINE) {
      const old = medianRun(theirs)
      rows.push([`createFullBackup (${backend}), baseline ${path.basename(BASELINE)}${runs(theirs)}`, fmt(old.wall, 2), medianCpu(theirs), fmt(old.peakKiB / 1024, 1)])
    }
    const c = medianRun(mine)
    rows.push([`createFullBackup (${backend})${runs(mine)}`, fmt(c.wall, 2), medianCpu(mine), fmt(c.peakKiB / 1024, 1)])
    const v = verifyRun(backend, mine[mine.length - 1].id) // the set on disk: each create clears backups/ first
    verifyRows.push([`verifyBackup (${backend})`, fmt(v.bytes / 1048576, 0), fmt(v.wall, 2), fmt(v.bytes / 1048576 / v.wall, 0), fmt(v.peakKiB / 1024, 1)])
  }
  const interrupts = SIGINT_REPEATS > 0 ? await sigintRows() : []
  clearBackups()
  console.log('## backup-system\n')
  console.log(`Workspace: ${FILES} files, ~${TOTAL_BYTES / 1048576} MB, a ${DB_BYTES / 1048576} MB SQLite database, ${COMMITS + 1} commits (generated once in ${WS}). Wall time, CPU time (median of the runs) and peak RSS of one child process each (GNU time), after one unmeasured pass of every row; the legacy row is the shell pipeline the legacy module ran (bundle, copy, sqlite3 .dump, tar; no state, no manifest), its RSS the largest of its commands.\n`)
  console.log(table(['operation', 'wall (s)', 'CPU, user + system (s)', 'peak RSS (MiB)'], rows))
  console.log('')
  console.log(table(['operation', 'MiB hashed', 'wall (s)', 'MiB/s (incl. process start)', 'peak RSS (MiB)'], verifyRows))
  console.log('\nverifyBackup re-hashes every file, then reads the archive to its end and integrity-checks the database copies.\n')
  if (interrupts.length === 0) return
  console.log(
    `\nCtrl+C: \`bin/backup-system.js create\` in the workspace, SIGINT at each point ${SIGINT_REPEATS} times (SR_BENCH_SIGINT_REPEATS); ms from the signal to the process's exit, seen by its parent.\n`,
  )
  console.log(table(['Ctrl+C', 'median ms from SIGINT to exit', 'worst (ms)', 'exit 130', 'staging folders left'], interrupts))
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
}
module.exports = { generate, sigintRows }
