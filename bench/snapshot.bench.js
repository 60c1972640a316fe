'use strict'
// The snapshot store (docs/store-format.md) on the backup bench workspace (bench/backup.bench.js
// generates it: 5,000 files, ~200 MB, a 50 MB SQLite database), side by side with restic in
// the same run when `restic` is installed (skipped with a note otherwise), both with `.git`
// and `backups` excluded: a first snapshot, the unchanged project again, then 1 % of the files
// and 1 % of the database pages changed; then 100 more checkpoints with 1 % changes each (ours
// only). Then verify every snapshot (bench/store-verify.js: against `b3sum` over the same chunk files and the same plain bytes)
// and restore the whole project, against `tar xzf` of the same tree. The database is given as
// a live database (`databases`), as backup sets do: copied through SQLite only when changed.
// Each operation is a child process (wall time, peak RSS by GNU time), after one unmeasured pass of each
// side; sizes are what each added on disk (`du`).
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')
const { measureCommand, runBackend, table, fmt, changeOnePercent } = require('./util')
const { measureVerify } = require('./store-verify')
const { generate } = require('./backup.bench')

const WS = process.env.SR_BENCH_WORKSPACE || '/tmp/sr-bench-backup-workspace'
const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-bench-snapshot-'))
const STORE = path.join(SCRATCH, 'store')
const RESTIC = path.join(SCRATCH, 'restic')
const hasRestic = spawnSync('restic', ['version']).status === 0

const du = (dir) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0])

const ours = runBackend

const DATABASES = JSON.stringify({ databases: ['database.sqlite'] })
const snap = (backend, id, store = STORE) => ours(backend, `return b.storeCreateSnapshot(${JSON.stringify(WS)}, ${JSON.stringify(store)}, '${id}', ${DATABASES})`)
/** SR_BENCH_CHECKPOINTS: how many checkpoints of 1 % changes follow the three rows (default 100). */
const CHECKPOINTS = Number(process.env.SR_BENCH_CHECKPOINTS || 100)

function restic(...args) {
  return resticIn(RESTIC, ...args)
}
function resticIn(repo, ...args) {
  const r = measureCommand('restic', ['-q', '-r', repo, ...args], { env: { ...process.env, RESTIC_PASSWORD: 'bench' } })
  if (r.status !== 0) throw new Error(`restic ${args.join(' ')}: ${r.stderr}`)
  return r
}
const RESTIC_EXCLUDES = ['--exclude', '.git', '--exclude', 'backups', WS]
const resticBackup = () => restic('backup', ...RESTIC_EXCLUDES)

/**
 * One unmeasured first snapshot of each side (a throwaway store and repository), then `sync`:
 * the measured rows find the workspace equally warm in the page cache and no writeback of an
 * earlier run pending (measured cold, the first row pays for that and the rows after do not).
 */
function warmUp() {
  const store = path.join(SCRATCH, 'warm-store')
  snap('native', 'warm', store)
  const repo = path.join(SCRATCH, 'warm-restic')
  if (hasRestic) {
    resticIn(repo, 'init')
    resticIn(repo, 'backup', ...RESTIC_EXCLUDES)
  }
  fs.rmSync(store, { recursive: true, force: true })
  fs.rmSync(repo, { recursive: true, force: true })
  execFileSync('sync')
}

function main() {
  generate()
  warmUp()
  const rows = []
  const row = (what, ourRun, ourBytes, theirs, theirBytes) =>
    rows.push([
      what,
      fmt(ourRun.wall, 2),
      fmt(ourBytes / 1048576, 2),
      fmt(ourRun.peakKiB / 1024, 0),
      theirs ? fmt(theirs.wall, 2) : 'n/a',
      theirs ? fmt(theirBytes / 1048576, 2) : 'n/a',
    ])
  if (hasRestic) restic('init')
  const steps = [
    ['first snapshot', 's1', () => {}],
    ['unchanged project again', 's2', () => {}],
    ['1 % of files and 1 % of database pages changed', 's3', () => changeOnePercent(WS, 1)],
  ]
  let peakKiB = 0
  let firstBytes = 0
  for (const [what, id, change] of steps) {
    change()
    const before = fs.existsSync(STORE) ? du(STORE) : 0
    const r = snap('native', id)
    const added = du(STORE) - before
    if (id === 's1') firstBytes = added
    peakKiB = Math.max(peakKiB, r.peakKiB)
    let theirs = null
    let theirBytes = 0
    if (hasRestic) {
      const b = du(RESTIC)
      theirs = resticBackup()
      theirBytes = du(RESTIC) - b
    }
    row(`${what} (native)`, r, added, theirs, theirBytes)
  }
  // 100 checkpoints of 1 % changes each (ours only: restic's 100 would double the run)
  let loopWall = 0
  let loopMax = 0
  for (let i = 0; i < CHECKPOINTS; i++) {
    changeOnePercent(WS, i + 2)
    const r = snap('native', `c${i}`)
    loopWall += r.wall
    loopMax = Math.max(loopMax, r.wall)
    peakKiB = Math.max(peakKiB, r.peakKiB)
  }
  const storeBytes = du(STORE)
  const snapshots = CHECKPOINTS + 3
  const verify = measureVerify(STORE)
  peakKiB = Math.max(peakKiB, verify.nativePeakKiB)
  const checkpointLine = CHECKPOINTS === 0 ? 'no more checkpoints (SR_BENCH_CHECKPOINTS=0)' : `${CHECKPOINTS} more checkpoints of 1 % changes each (native): ${fmt(loopWall / CHECKPOINTS, 2)} s each on average (slowest ${fmt(loopMax, 2)} s); the store of all ${snapshots} snapshots ${fmt(storeBytes / 1048576, 1)} MiB = ${fmt(storeBytes / firstBytes, 2)} x the first snapshot's ${fmt(firstBytes / 1048576, 1)} MiB`
  const out = path.join(SCRATCH, 'restored')
  fs.mkdirSync(out)
  const r = ours('native', `return b.storeRestoreSnapshot(${JSON.stringify(STORE)}, '${CHECKPOINTS > 0 ? `c${CHECKPOINTS - 1}` : 's3'}', ${JSON.stringify(out)})`)
  peakKiB = Math.max(peakKiB, r.peakKiB)
  const tgz = path.join(SCRATCH, 'tree.tar.gz')
  execFileSync('tar', ['-czf', tgz, '--exclude=.git', '--exclude=backups', '-C', WS, '.'])
  const x = path.join(SCRATCH, 'untar')
  fs.mkdirSync(x)
  const t = measureCommand('tar', ['-xzf', tgz, '-C', x])
  // the JS backend, same store: first snapshot into its own store, then an unchanged one
  const jsStore = path.join(SCRATCH, 'store-js')
  const j1 = snap('js', 'j1', jsStore)
  const j2 = snap('js', 'j2', jsStore)
  fs.rmSync(SCRATCH, { recursive: true, force: true })
  console.log('## snapshot store\n')
  console.log(
    `Workspace of bench/backup.bench.js (${WS}); \`.git\` and \`backups\` excluded on both sides. Our rows: \`storeCreateSnapshot\` of the native addon in a child process, \`database.sqlite\` given as a live database (\`databases\`); restic ${hasRestic ? execFileSync('restic', ['version'], { encoding: 'utf8' }).trim() : '(not installed: its columns are n/a)'} in the same run, same changes. "Added" is what the store / repository grew by on disk (du).\n`,
  )
  console.log(table(['snapshot', 'ours (s)', 'ours added (MiB)', 'ours peak RSS (MiB)', 'restic (s)', 'restic added (MiB)'], rows))
  console.log('')
  console.log(`- ${checkpointLine}`)
  for (const line of verify.lines) console.log(line)
  console.log(`- restore the whole project (native): ${fmt(r.wall, 2)} s, ${r.out.files} files, peak ${fmt(r.peakKiB / 1024, 0)} MiB; \`tar xzf\` of the same tree: ${fmt(t.wall, 2)} s (${fmt(r.wall / t.wall, 2)} x)`)
  console.log(`- peak RSS of every native run above: ${fmt(peakKiB / 1024, 0)} MiB`)
  console.log(`- JS backend: first snapshot ${fmt(j1.wall, 2)} s (peak ${fmt(j1.peakKiB / 1024, 0)} MiB), unchanged again ${fmt(j2.wall, 2)} s, ${j2.out.filesRead} files read`)
}

if (require.main === module) {
  try {
    main()
  } catch (err) {
    fs.rmSync(SCRATCH, { recursive: true, force: true })
    console.error(err)
    process.exitCode = 1
  }
}
