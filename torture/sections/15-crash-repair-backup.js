'use strict'
// SIGKILL at random moments of `validation-helpers repair <file>` CLI runs and of
// `createFullBackup` (BackupSystem), both backends. After each kill:
// - repair: the tracker is the old damaged file (byte for byte) or the repaired one, which
//   is strict JSON and validates; after the next (unkilled) repair no temp file is left;
// - backup: the tracker parses and validates; every restore point it lists verifies against
//   its manifest (`verifyBackup(id).valid`); a set the kill interrupted is absent from the
//   restore points; after the next (unkilled) backup no temp file is left anywhere, and no
//   unfinished set: no staging folder, no part of a set that has neither a restore point
//   nor its manifest (moved into place last).
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, BACKENDS, tempDir, table, killAfterReady, requireLib, listing } = require('../lib')

const REPAIR_KILLS = Number(process.env.TORTURE_REPAIR_KILLS || 100)
const BACKUP_KILLS = Number(process.env.TORTURE_BACKUP_KILLS || 40)
const TRACKER = 'packages/system-api/phase-tracker.json'
// Kill windows, as fractions of one unkilled run: a backup loops (a kill past one backup still
// lands), a repair does not (its window stays inside the shortest run).
const BACKUP_WINDOW = 1.5
const REPAIR_WINDOW = 0.8
const FIXTURE = '/work/shared/fixtures/agenthive/packages/system-api/phase-tracker.json'

const TEMP = /\.sr-tmp-|\.tmp\.\d|\.partial$|^\.archive-|^\.db-copy-|^\.db-restore-/

/**
 * Unfinished sets in `root`/backups: staging folders, and parts of a set with neither a
 * restore point (`listed`) nor a manifest (a set with one is whole: the manifest is moved
 * into place last; the tracker keeps only the 10 newest points).
 */
function unfinishedSets(root, listed) {
  const b = path.join(root, 'backups')
  const whole = new Set([...listed, ...listing(path.join(b, 'manifests')).map((f) => f.replace(/\.json$/, ''))])
  const found = new Set(listing(b).filter((n) => n.startsWith('.staging-')))
  for (const part of ['code', 'database', 'config', 'state', 'full']) {
    for (const f of listing(path.join(b, part))) {
      const id = f.replace(/\.tar\.gz$/, '')
      if (!whole.has(id)) found.add(id)
    }
  }
  return [...found]
}

/** Every temp-looking file under `dir` (not descending into .git). */
function temps(dir) {
  const found = []
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.git') continue
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (TEMP.test(e.name)) found.push(path.relative(dir, p))
    }
  }
  walk(dir)
  return found
}

// The real tracker repairs in a few ms, less than a kill's own latency: the victim is made
// slower (the real tracker with this many more components in its current week) so that every
// kill lands mid-repair.
const EXTRA_COMPONENTS = Number(process.env.TORTURE_REPAIR_COMPONENTS || 4000)

/** A damaged tracker (tolerant JSON: a comment, trailing commas, a missing property). */
function damagedTracker() {
  let text
  try {
    const t = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'))
    delete t.baselineStatus
    const components = t.phases.phase2.weeks.week1.components
    const model = components[0]
    for (let i = 0; i < EXTRA_COMPONENTS; i++) components.push({ ...model, name: `${model.name}Copy${i}` })
    text = JSON.stringify(t, null, 2)
  } catch {
    text = JSON.stringify({ sessionInfo: { sessionId: 's', currentPhase: 2, currentWeek: 1, lastUpdate: 'x' }, phases: {} }, null, 2)
  }
  // a comment and a trailing comma: only the tolerant parser reads it
  return `// hand-edited\n${text.slice(0, -2)},\n}\n`
}

/** The validation errors of a tracker text (validate only), or null when it is not JSON. */
function validationErrors(backend, text) {
  const { ValidationHelpers } = require('../../lib/validation-helpers')
  let data
  try {
    data = JSON.parse(text)
  } catch {
    return null
  }
  return new ValidationHelpers({ backend }).validateTrackerSchema(data, false).errors
}

const validates = (backend, text) => {
  const errors = validationErrors(backend, text)
  return errors !== null && errors.length === 0
}

async function tortureRepair(backend) {
  const dir = tempDir(`repair-${backend}`)
  const data = path.join(dir, 'data')
  const backups = path.join(dir, 'backups')
  fs.mkdirSync(data)
  fs.mkdirSync(backups, { mode: 0o700 })
  const file = path.join(data, 'phase-tracker.json')
  const damaged = damagedTracker()
  const env = { SESSION_RESILIENCE_BACKEND: backend, SESSION_RESILIENCE_BACKUP_DIR: backups }
  const s = { kills: 0, attempts: 0, old: 0, repaired: 0, bad: [], tempsAfterNext: 0, bytes: damaged.length }
  // The CLI prints its first line just before it reads the file. How long the rest of a repair
  // takes here, so the kills spread over the whole of it.
  const script = `process.argv.splice(1, 0, 'x'); require(${JSON.stringify(path.join(ROOT, 'bin', 'validation-helpers.js'))})`
  const spans = []
  for (let i = 0; i < 3; i++) {
    fs.writeFileSync(file, damaged)
    const whole = await killAfterReady(script, ['repair', file], env, 60000)
    if (whole.code !== 0) throw new Error(`an unkilled repair failed (exit ${whole.code}): ${whole.stderr.slice(0, 300)}`)
    spans.push(whole.afterReadyMs)
  }
  s.span = Math.max(5, Math.min(...spans) * REPAIR_WINDOW)
  // A run that ends before its kill is not a kill: it is run again, up to 3 times as many runs in all.
  while (s.kills < REPAIR_KILLS && s.attempts < 3 * REPAIR_KILLS) {
    s.attempts++
    fs.writeFileSync(file, damaged)
    const r = await killAfterReady(script, ['repair', file], env, Math.random() * s.span)
    if (r.signal !== 'SIGKILL') continue
    const i = s.kills++
    const now = fs.readFileSync(file, 'utf8')
    if (now === damaged) s.old++
    else if (validates(backend, now)) s.repaired++
    else s.bad.push(`kill ${i}: ${now.slice(0, 80)}`)
    // the next operation: a whole repair; then nothing but the tracker in its folder
    const next = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'validation-helpers.js'), 'repair', file], { env: { ...process.env, ...env }, encoding: 'utf8' })
    if (next.status !== 0 || !validates(backend, fs.readFileSync(file, 'utf8'))) s.bad.push(`kill ${i}: the next repair failed: ${next.stderr.slice(0, 200)}`)
    // (the damaged bytes are kept aside on purpose as `<name>.corrupt-<stamp>`)
    const extra = fs.readdirSync(data).filter((f) => f !== 'phase-tracker.json' && !f.startsWith('phase-tracker.json.corrupt-'))
    if (temps(data).length || extra.length) s.tempsAfterNext++
  }
  fs.rmSync(dir, { recursive: true, force: true })
  return s
}

function git(cwd, ...args) {
  return spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' })
}

/** A small project: a git repository, the real tracker, a SQLite database, some files. */
function project(dir) {
  const root = path.join(dir, 'project')
  fs.mkdirSync(path.join(root, 'packages/system-api'), { recursive: true })
  fs.mkdirSync(path.join(root, 'src'))
  // the real tracker, without its restore points (they name a legacy set that is not here)
  const tracker = fs.existsSync(FIXTURE) ? JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) : { sessionInfo: {}, baselineStatus: {}, phases: {} }
  tracker.backupStrategy = { ...(tracker.backupStrategy || {}), restorePoints: [] }
  fs.writeFileSync(path.join(root, TRACKER), JSON.stringify(tracker, null, 2))
  fs.writeFileSync(path.join(root, 'package.json'), '{"name":"demo"}\n')
  fs.writeFileSync(path.join(root, '.env'), 'TOKEN=x\n')
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(root, 'src', `m${i}.js`), `module.exports = ${i}\n`.repeat(200))
  spawnSync('sqlite3', [path.join(root, 'database.sqlite'), "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t(v) VALUES ('one');"])
  fs.writeFileSync(path.join(root, '.gitignore'), '.env\nbackups\n')
  git(root, 'init', '-q', '-b', 'main')
  git(root, 'add', '-A')
  git(root, 'commit', '-qm', 'first')
  return root
}

const BACKUP_LOOP = `
const BackupSystem = ${requireLib('backup-system')}
const [root, lockDir] = process.argv.slice(1)
const bs = new BackupSystem({ root, lockDir, quiet: true })
process.stdout.write('ready\\n')
;(async () => { for (;;) await bs.createFullBackup('torture') })()
`

async function tortureBackup(backend) {
  const BackupSystem = require('../../lib/backup-system')
  const dir = tempDir(`backup-${backend}`)
  const root = project(dir)
  const lockDir = path.join(dir, 'locks')
  const bs = () => new BackupSystem({ backend, root, lockDir, quiet: true })
  const baseline = JSON.stringify(validationErrors(backend, fs.readFileSync(path.join(root, TRACKER), 'utf8')))
  const s = { kills: 0, points: 0, verified: 0, unverified: [], orphanSets: 0, trackerBad: 0, tempsAfterNext: 0, nextFailed: 0, unfinishedAfterNext: 0, nexts: 0 }
  // How long one backup takes here, so the kills spread over the whole of it.
  const t0 = Date.now()
  await bs().createFullBackup('warmup')
  const span = Math.max(200, (Date.now() - t0) * BACKUP_WINDOW)
  s.span = span
  for (let i = 0; i < BACKUP_KILLS; i++) {
    const r = await killAfterReady(BACKUP_LOOP, [root, lockDir], { SESSION_RESILIENCE_BACKEND: backend }, Math.random() * span)
    // the child backs up in an endless loop: every kill lands, and one that did not is counted
    if (r.signal === 'SIGKILL') s.kills++
    // the real tracker has one schema error of its own (a phase without a title): the
    // tracker must parse and validate exactly as before
    const errors = validationErrors(backend, fs.readFileSync(path.join(root, TRACKER), 'utf8'))
    if (JSON.stringify(errors) !== baseline) s.trackerBad++
    const system = bs()
    const points = system.restorePoints()
    const listed = new Set(points.map((p) => p.id))
    for (const p of points) {
      s.points++
      const v = await system.verifyBackup(p.id)
      if (v.valid) s.verified++
      else s.unverified.push(`${p.id}: ${v.error || `missing ${v.missing.length}, altered ${v.altered.length}, damaged ${v.damaged.join('; ')}`}`)
    }
    // sets on disk that the tracker does not list: what the kill interrupted (or dropped
    // from the 10 kept restore points)
    const onDisk = new Set()
    for (const part of ['code', 'database', 'config', 'state', 'full', 'manifests']) {
      const d = path.join(root, 'backups', part)
      if (fs.existsSync(d)) for (const f of fs.readdirSync(d)) onDisk.add(f.replace(/\.tar\.gz$|\.json$/, ''))
    }
    for (const f of listing(path.join(root, 'backups'))) if (f.startsWith('.staging-')) onDisk.add(f)
    s.orphanSets = [...onDisk].filter((id) => !listed.has(id)).length
    if (i % 4 === 3) {
      try {
        await system.createFullBackup('next')
      } catch {
        s.nextFailed++
      }
      s.nexts++
      if (temps(root).length) s.tempsAfterNext++
      const listedNow = new Set(system.restorePoints().map((p) => p.id))
      s.unfinishedAfterNext += unfinishedSets(root, listedNow).length
    }
  }
  fs.rmSync(dir, { recursive: true, force: true })
  return s
}

module.exports = {
  title: 'Crash consistency: repair CLI and createFullBackup killed at random moments',
  async run() {
    const repairRows = []
    const backupRows = []
    const problems = []
    let ok = true
    let repairBytes = 0
    for (const backend of BACKENDS) {
      const r = await tortureRepair(backend)
      ok = ok && r.kills === REPAIR_KILLS && r.bad.length === 0 && r.tempsAfterNext === 0
      problems.push(...r.bad.slice(0, 5).map((b) => `repair/${backend}: ${b}`))
      repairRows.push([backend, `${r.kills} of ${REPAIR_KILLS}`, r.attempts, `0-${Math.round(r.span)} ms`, r.old, r.repaired, r.bad.length, r.tempsAfterNext])
      repairBytes = r.bytes
    }
    for (const backend of BACKENDS) {
      const b = await tortureBackup(backend)
      ok =
        ok &&
        b.kills === BACKUP_KILLS &&
        b.unverified.length === 0 &&
        b.trackerBad === 0 &&
        b.tempsAfterNext === 0 &&
        b.nextFailed === 0 &&
        b.unfinishedAfterNext === 0
      problems.push(...b.unverified.slice(0, 5).map((u) => `backup/${backend}: restore point does not verify: ${u}`))
      backupRows.push([
        backend,
        `${b.kills} of ${BACKUP_KILLS}`,
        `0-${Math.round(b.span)} ms`,
        b.trackerBad,
        `${b.verified} of ${b.points}`,
        b.orphanSets,
        `${b.unfinishedAfterNext} (over ${b.nexts} next backups)`,
        b.nextFailed,
        b.tempsAfterNext,
      ])
    }
    const text =
      `**validation-helpers repair**: the CLI (\`bin/validation-helpers.js repair <file>\`) repairs a damaged copy of the real tracker ` +
      `(a comment, a trailing comma, \`baselineStatus\` missing; ${EXTRA_COMPONENTS} more components in its current week, ${(repairBytes / 1e6).toFixed(1)} MB, so that a repair outlasts a kill's latency) ` +
      `and is SIGKILLed at a random moment of the repair after its first output line (the window is ${REPAIR_WINDOW} x the shortest of three unkilled repairs here); ` +
      `${REPAIR_KILLS} kills per backend must land (a run that ends before its kill is run again, and counted in "runs"). After each kill the file is compared with the damaged original or must be strict ` +
      'JSON that validates; then a whole repair runs and the folder must hold the tracker alone (and the `.corrupt-<stamp>` copies of the damaged bytes that every repair of a damaged file keeps on purpose).\n\n' +
      table(['backend', 'SIGKILLs landed', 'runs', 'kill window', 'old file intact', 'repaired and valid', 'anything else', 'temps after the next repair'], repairRows) +
      `\n\n**createFullBackup**: a small project (git repository, the real tracker, a SQLite database, 20 source files) is backed ` +
      `up in a loop by a child that is SIGKILLed at a random moment of a backup (the window is ${BACKUP_WINDOW} x one backup's time here); ` +
      `${BACKUP_KILLS} kills per backend must land. After each kill: the tracker parses and validates as before (the real tracker has one schema error of its own, a phase without a title), every restore point it lists verifies against its ` +
      'manifest and reads whole (each file re-hashed, the archive read to its end, the SQLite copies checked), and every fourth time a whole backup runs, after which no temp file and no unfinished set ' +
      '(a staging folder, or a part of a set with neither restore point nor manifest) may remain: the killed backups\' staging folders are removed by that next backup.\n\n' +
      table(
        [
          'backend',
          'SIGKILLs',
          'kill window',
          'tracker invalid',
          'listed restore points that verify (summed over checks)',
          'sets on disk not listed, at the end (a staging folder left by the last kill, or whole sets beyond the 10 kept)',
          'unfinished sets after the next backup',
          'next backup failed',
          'temps after the next backup',
        ],
        backupRows,
      ) +
      (problems.length ? `\n\nProblems:\n\n${problems.map((p) => `- ${p}`).join('\n')}` : '')
    return { ok, text }
  },
}
