'use strict'
// What the containment test suite and the torture section both need: a content snapshot of the
// victims' folder, and the renameat2(RENAME_EXCHANGE) swapper that races a folder against a symlink.
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { execFileSync, spawn, spawnSync } = require('node:child_process')

const TRACKER = 'packages/system-api/phase-tracker.json'

/**
 * A project in `dir/project` (git repository with a commit, tracker, .env, a SQLite database)
 * and `dir/outside` with victims (a text file, a key, a database): `{ root, outside, lockDir }`.
 */
function makeProject(dir) {
  const root = path.join(dir, 'project')
  const outside = path.join(dir, 'outside')
  fs.mkdirSync(path.join(root, 'packages/system-api'), { recursive: true })
  fs.mkdirSync(outside)
  const tracker = { sessionInfo: { currentPhase: 2, currentWeek: 1 }, phases: {}, backupStrategy: { restorePoints: [] } }
  fs.writeFileSync(path.join(root, TRACKER), JSON.stringify(tracker, null, 2))
  fs.writeFileSync(path.join(root, '.env'), 'API_TOKEN=project\n')
  fs.writeFileSync(path.join(root, 'package.json'), '{"name":"demo"}\n')
  execFileSync('sqlite3', [path.join(root, 'database.sqlite'), "CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('project');"])
  fs.writeFileSync(path.join(root, '.gitignore'), '.env\n')
  const git = (...args) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: root, stdio: 'pipe' })
  git('init', '-q', '-b', 'main')
  git('add', '-A')
  git('commit', '-qm', 'first')
  fs.writeFileSync(path.join(outside, 'victim.txt'), 'VICTIM: must not change\n')
  fs.writeFileSync(path.join(outside, 'secret.key'), 'OUTSIDE-SECRET\n')
  execFileSync('sqlite3', [path.join(outside, 'victim.sqlite'), "CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('outside');"])
  return { root, outside, lockDir: path.join(dir, 'locks') }
}

/** Every entry below `dir` (links as links, never followed): path -> type or content hash. */
function snapshot(dir) {
  const out = {}
  const walk = (rel) => {
    const full = path.join(dir, rel)
    const st = fs.lstatSync(full)
    if (st.isSymbolicLink()) out[rel] = `link:${fs.readlinkSync(full)}`
    else if (st.isDirectory()) {
      out[rel] = 'dir'
      for (const name of fs.readdirSync(full).sort()) walk(path.join(rel, name))
    } else if (st.isFile()) out[rel] = `file:${crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`
    else out[rel] = 'other'
  }
  walk('')
  return out
}

// `python3 -c SWAPPER <a> <b> <seconds>` exchanges a and b in a loop through Python's ctypes (no
// compiler needed) and prints how many swaps it made.
const SWAPPER = `
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, secs = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
end, n = time.time() + secs, 0
while time.time() < end:
    if libc.renameat2(-100, a, -100, b, 2) == 0:
        n += 1
print(n)
`

// `python3 -c PACED_SWAPPER <pattern> <link> <seconds> <pause>`: for each existing folder matching
// the glob <pattern>, exchange it with the symlink <link>, wait <pause> s, exchange it back, wait
// again. Paced, the attack lands mid-operation rather than refusing every create at its first
// check. A folder removed while swapped leaves the real one at <link>: it is moved aside (inside
// the project) and the link made again. Prints the number of swaps.
const PACED_SWAPPER = `
import ctypes, glob, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
pattern, link, secs, pause = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
target, end, n = os.readlink(link), time.time() + float(sys.argv[3]), 0
while time.time() < end:
    for a in glob.glob(pattern):
        if not os.path.islink(link):
            os.rename(link, '%s.stranded-%d' % (link, n))
            os.symlink(target, link)
        if libc.renameat2(-100, a.encode(), -100, link.encode(), 2) == 0:
            n += 1
            time.sleep(pause)
            libc.renameat2(-100, a.encode(), -100, link.encode(), 2)
        time.sleep(pause)
    time.sleep(pause / 10)
print(n)
`

/** Can the swapper run here (python3 with a libc that has renameat2)? */
function hasRenameat2() {
  return spawnSync('python3', ['-c', 'import ctypes; ctypes.CDLL(None).renameat2'], { stdio: 'ignore' }).status === 0
}

/**
 * Run `count(counts)` again and again while PACED_SWAPPER exchanges the folders matching the
 * glob `pattern` with the symlink `link` every `pause` s, for `seconds`: each round's
 * outcome is tallied in `counts` by [`tally`]. Returns the counts, the swaps made and
 * `escaped`, what changed below `outside` (content compared).
 */
async function runRace({ pattern, link, outside, seconds, pause, counts, round }) {
  const before = snapshot(outside)
  const swapper = spawn('python3', ['-c', PACED_SWAPPER, pattern, link, String(seconds), String(pause)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let swaps = ''
  swapper.stdout.on('data', (d) => (swaps += d))
  let finished = false
  const done = new Promise((resolve) => swapper.on('close', resolve)).then(() => (finished = true))
  try {
    while (!finished) {
      await round(counts)
      await new Promise(setImmediate) // let the swapper's exit be seen
    }
    await done
  } finally {
    swapper.kill('SIGKILL')
  }
  const after = snapshot(outside)
  const escaped = Object.keys(after).filter((k) => before[k] !== after[k])
  return { ...counts, swaps: Number(swaps.trim()) || 0, escaped }
}

/** `await fn()`, counted in `counts[kind]`, or refused with a code (counted by code); an error without a code is a bug: thrown. */
async function tally(counts, kind, fn) {
  try {
    const out = await fn()
    counts[kind]++
    return out
  } catch (err) {
    if (!err.code) throw err
    counts.refused++
    counts.codes[err.code] = (counts.codes[err.code] || 0) + 1
    return undefined
  }
}

/**
 * createFullBackup of the project `root` back to back for `seconds` while PACED_SWAPPER
 * exchanges the folders matching the glob `pattern` with a symlink to `outside` every `pause`
 * s: the creates that succeeded, those refused with a code, and what changed outside.
 */
async function raceCreates({ backend, root, outside, pattern, seconds, pause = 0.003, lockDir }) {
  const BackupSystem = require('../lib/backup-system')
  const link = path.join(root, 'swap')
  fs.symlinkSync(outside, link)
  const counts = { created: 0, refused: 0, codes: {} }
  const round = (c) => tally(c, 'created', () => new BackupSystem({ backend, root, quiet: true, lockDir }).createFullBackup('race'))
  return runRace({ pattern, link, outside, seconds, pause, counts, round })
}

/** A one-row SQLite database at `file` (the sqlite3 CLI). */
function makeDatabase(file, value) {
  execFileSync('sqlite3', [file, `CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('${value}');`])
}

/**
 * The project of the restore race: cfg/app.json and the SQLite database cfg/app.db, their
 * backed-up copies in backups/, a folder outside holding victims of the same names (a write
 * through the swapped folder lands on them) and `swap`, a symlink to it that the swapper
 * exchanges with cfg/.
 */
function makeRestoreRaceProject(dir) {
  const root = path.join(dir, 'project')
  const outside = path.join(dir, 'outside')
  fs.mkdirSync(path.join(root, 'cfg'), { recursive: true })
  fs.mkdirSync(path.join(root, 'backups', 'config', 'set'), { recursive: true, mode: 0o700 })
  fs.mkdirSync(path.join(root, 'backups', 'database', 'set'), { recursive: true, mode: 0o700 })
  fs.mkdirSync(outside)
  fs.writeFileSync(path.join(root, 'cfg', 'app.json'), '{"v":0}\n')
  fs.writeFileSync(path.join(outside, 'app.json'), '{"victim":true}\n')
  const source = path.join(root, 'backups', 'config', 'set', 'cfg_app.json')
  fs.writeFileSync(source, '{"v":1}\n')
  makeDatabase(path.join(root, 'cfg', 'app.db'), 'project')
  makeDatabase(path.join(outside, 'app.db'), 'victim')
  const dbSource = path.join(root, 'backups', 'database', 'set', 'cfg_app.db')
  makeDatabase(dbSource, 'restored')
  fs.symlinkSync(outside, path.join(root, 'swap'))
  return { root, outside, source, dbSource }
}

/**
 * Restores of cfg/app.json and of the database cfg/app.db, one after the other, for `seconds`
 * while PACED_SWAPPER exchanges cfg/ and a symlink to outside/ every `pause` s (paced: unpaced,
 * nearly every restore is refused at its first check, which proves nothing about the writes
 * after it). Counts restores of each kind and those refused with a code; `escaped` lists what
 * changed below outside/.
 */
async function raceRestores({ binding, root, outside, source, dbSource, seconds, pause = 0.002 }) {
  const counts = { files: 0, databases: 0, refused: 0, codes: {} }
  const round = async (c) => {
    await tally(c, 'files', () => binding.backupRestoreFile(root, 'cfg/app.json', source))
    await tally(c, 'databases', () => binding.backupRestoreDatabase(root, 'cfg/app.db', dbSource))
  }
  return runRace({ pattern: path.join(root, 'cfg'), link: path.join(root, 'swap'), outside, seconds, pause, counts, round })
}

/**
 * The live database cfg/app.db copied as createFullBackup copies it (`backupCopyDatabase` with
 * the root) back to back for `seconds` while cfg/ and a symlink to outside/ swap places: besides
 * what changed outside, `victimRead` counts the copies holding the victim's row (outside/app.db
 * read in place of the project's).
 */
async function raceDatabaseCopies({ binding, root, outside, seconds, pause = 0.002 }) {
  const counts = { copies: 0, refused: 0, codes: {}, victimRead: 0 }
  const dest = path.join(path.dirname(outside), 'copy.sqlite')
  const round = async (c) => {
    fs.rmSync(dest, { force: true })
    if ((await tally(c, 'copies', () => binding.backupCopyDatabase(path.join(root, 'cfg', 'app.db'), dest, root))) === undefined) return
    const rows = execFileSync('sqlite3', [dest, 'SELECT v FROM t'], { encoding: 'utf8' })
    if (rows.includes('victim')) c.victimRead++
  }
  return runRace({ pattern: path.join(root, 'cfg'), link: path.join(root, 'swap'), outside, seconds, pause, counts, round })
}

/**
 * Store snapshots of the project back to back for `seconds`, its database cfg/app.db (put in
 * WAL mode: every snapshot copies it through SQLite) listed as a live database, while cfg/
 * and a symlink to outside/ swap places. Each snapshot goes to a fresh store (no parent to
 * reuse from) and is restored; `victimRead` counts the restores whose real cfg/app.db holds
 * the victim's row (outside/app.db read in place of the project's).
 */
async function raceSnapshots({ binding, root, outside, seconds, pause = 0.002 }) {
  execFileSync('sqlite3', [path.join(root, 'cfg', 'app.db'), 'PRAGMA journal_mode=WAL;'], { stdio: 'ignore' })
  const work = path.join(path.dirname(outside), 'snapshots')
  fs.mkdirSync(work, { recursive: true })
  const counts = { snapshots: 0, refused: 0, codes: {}, victimRead: 0 }
  let n = 0
  const round = async (c) => {
    const id = `s${n++}`
    const store = path.join(work, `store-${id}`)
    const target = path.join(work, `restored-${id}`)
    try {
      const made = await tally(c, 'snapshots', () => binding.storeCreateSnapshot(root, store, id, { databases: ['cfg/app.db'], excludes: ['backups', 'swap'] }))
      if (made === undefined) return
      fs.mkdirSync(target, { recursive: true })
      await binding.storeRestoreSnapshot(store, id, target)
      const db = path.join(target, 'cfg', 'app.db')
      const real = (p) => fs.existsSync(p) && !fs.lstatSync(p).isSymbolicLink()
      if (real(path.join(target, 'cfg')) && real(db) && execFileSync('sqlite3', [db, 'SELECT v FROM t'], { encoding: 'utf8' }).includes('victim')) c.victimRead++
    } finally {
      fs.rmSync(store, { recursive: true, force: true })
      fs.rmSync(target, { recursive: true, force: true })
    }
  }
  return runRace({ pattern: path.join(root, 'cfg'), link: path.join(root, 'swap'), outside, seconds, pause, counts, round })
}

module.exports = { makeProject, makeRestoreRaceProject, raceRestores, raceDatabaseCopies, raceSnapshots, snapshot, SWAPPER, PACED_SWAPPER, hasRenameat2, raceCreates }
