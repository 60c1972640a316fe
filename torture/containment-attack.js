'use strict'
// One containment attack, run in its own process by torture/sections/70-containment.js:
// `node torture/containment-attack.js <backend> <attack> <scratch dir> <seed>`. It builds a
// project with a backup set and an `outside` folder holding victims, plants the attack, runs
// the operation, and prints one JSON line: { code, escaped, detail }. `escaped` is true when
// anything outside changed (every entry compared by content) or an outside secret reached the
// project. A hang is the parent's watchdog's to see.
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { snapshot } = require('./containment-kit')

const [backend, attack, scratch, seedText] = process.argv.slice(2)
const seed = Number(seedText) || 0
process.env.SESSION_RESILIENCE_BACKEND = backend
const ROOT = path.resolve(__dirname, '..')
const BackupSystem = require(path.join(ROOT, 'lib/backup-system'))
const { SafeFileOperations } = require(path.join(ROOT, 'lib/safe-file-operations'))
const { SessionLog, logFileFor } = require(path.join(ROOT, 'lib/session/session-log'))

const root = path.join(scratch, 'project')
const outside = path.join(scratch, 'outside')
const lockDir = path.join(scratch, 'locks')
const SECRET = `OUTSIDE-SECRET-${seed}`


/** Does the outside secret appear in a regular file of the project? */
function secretInProject() {
  const walk = (dir) => {
    for (const name of fs.readdirSync(dir)) {
      const full = path.join(dir, name)
      const st = fs.lstatSync(full)
      if (st.isDirectory()) {
        if (walk(full)) return true
      } else if (st.isFile() && st.size < 1 << 20 && fs.readFileSync(full, 'utf8').includes(SECRET)) return true
    }
    return false
  }
  return walk(root)
}

function setup() {
  fs.mkdirSync(path.join(root, 'packages/system-api'), { recursive: true })
  fs.mkdirSync(outside, { recursive: true })
  const tracker = { sessionInfo: { currentPhase: 2, currentWeek: 1 }, phases: {}, backupStrategy: { restorePoints: [] } }
  fs.writeFileSync(path.join(root, 'packages/system-api/phase-tracker.json'), JSON.stringify(tracker, null, 2))
  fs.writeFileSync(path.join(root, '.env'), 'API_TOKEN=project\n')
  fs.writeFileSync(path.join(root, 'package.json'), '{"name":"demo"}\n')
  execFileSync('sqlite3', [path.join(root, 'database.sqlite'), "CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('project');"])
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: root })
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'first'], { cwd: root })
  fs.writeFileSync(path.join(outside, 'victim.txt'), 'VICTIM\n')
  fs.writeFileSync(path.join(outside, 'secret.key'), `${SECRET}\n`)
  execFileSync('sqlite3', [path.join(outside, 'victim.sqlite'), `CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('${SECRET}');`])
}

const system = () => new BackupSystem({ root, quiet: true, lockDir })
const pick = (list) => list[seed % list.length]

/** Move `backups/<rel>` into outside/ and leave a symlink to it in its place. */
function linkOut(rel) {
  const from = path.join(root, 'backups', rel)
  const to = path.join(outside, `moved-${rel.replace(/\//g, '_') || 'backups'}`)
  fs.renameSync(from, to)
  fs.symlinkSync(to, from)
}

function setMembers(id) {
  const out = []
  for (const kind of ['code', 'database', 'config', 'state']) {
    const dir = path.join(root, 'backups', kind, id)
    if (fs.existsSync(dir)) for (const n of fs.readdirSync(dir)) out.push(`${kind}/${id}/${n}`)
  }
  return out.sort()
}

/** The outside tree as it is once the attack is planted: what must not change. */
let before = null
const arm = () => {
  before = snapshot(outside)
}

const restoreOptions = { skipCurrentBackup: true, force: true, restoreCode: false }

const ATTACKS = {
  // cleanup, list, verify, restore, create through a symlinked backups/<kind> or backups/
  async 'kind-link-cleanup'() {
    await system().createFullBackup('set')
    linkOut(pick(['code', 'database', 'config', 'state', 'full', 'manifests']))
    arm()
    return system().cleanup(0)
  },
  async 'backups-link'() {
    const id = await system().createFullBackup('set')
    linkOut('')
    const op = pick(['list', 'verify', 'restore', 'cleanup', 'create'])
    const bs = system()
    arm()
    if (op === 'list') return bs.listBackups()
    if (op === 'verify') return bs.verifyBackup(id)
    if (op === 'restore') return bs.restoreFromBackup(id, restoreOptions)
    if (op === 'cleanup') return bs.cleanup(0)
    return bs.createFullBackup('again')
  },
  async 'create-through-link'() {
    fs.mkdirSync(path.join(root, 'backups'), { mode: 0o700 })
    const name = pick(['.gitignore', 'state', 'code', 'database', 'config', 'full', 'manifests'])
    fs.symlinkSync(name === '.gitignore' ? path.join(outside, 'planted') : outside, path.join(root, 'backups', name))
    arm()
    return system().createFullBackup('x')
  },
  // a set member replaced by a link to an outside file (the secret, or the same bytes)
  async 'member-link'() {
    const id = await system().createFullBackup('set')
    const members = setMembers(id)
    const member = members[seed % members.length]
    const full = path.join(root, 'backups', member)
    fs.copyFileSync(full, path.join(outside, 'same-bytes'))
    fs.rmSync(full)
    fs.symlinkSync(path.join(outside, seed % 2 ? 'same-bytes' : 'secret.key'), full)
    if (seed % 3 === 0) fs.rmSync(path.join(root, 'backups', 'manifests', `${id}.json`))
    const bs = system()
    arm()
    if (seed % 2) {
      const v = await bs.verifyBackup(id)
      if (v.valid) throw Object.assign(new Error('verify followed the link'), { code: 'EFOLLOWED' })
      return v
    }
    return bs.restoreFromBackup(id, restoreOptions)
  },
  // a crafted config-info.json naming .git/, backups/ or the lock folder as a target
  async 'crafted-target'() {
    const bs = new BackupSystem({ root, quiet: true, lockDir: path.join(root, 'locks') })
    const id = await bs.createFullBackup('set')
    const dir = path.join(root, 'backups', 'config', id)
    fs.writeFileSync(path.join(dir, 'evil'), '[core]\n\tfsmonitor = "echo pwned"\n')
    const original = pick(['.git/config', 'a/.git/hooks/pre-commit', '.GIT/config', 'backups/manifests/x.json', 'locks/x.lock', '../outside/victim.txt'])
    fs.writeFileSync(path.join(dir, 'config-info.json'), JSON.stringify({ files: [{ original, backup: 'evil' }] }))
    fs.rmSync(path.join(root, 'backups', 'manifests', `${id}.json`))
    const before = fs.readFileSync(path.join(root, '.git', 'config'))
    arm()
    const restored = await bs.restoreFromBackup(id, { ...restoreOptions, restoreDatabase: false }).catch((err) => err)
    if (!fs.readFileSync(path.join(root, '.git', 'config')).equals(before)) {
      throw Object.assign(new Error('.git/config was restored'), { code: 'EFOLLOWED' })
    }
    if (restored instanceof Error) throw restored
    return restored
  },
  async 'session-log'() {
    fs.mkdirSync(path.join(root, 'backups'), { mode: 0o700 })
    const log = path.join(root, 'backups', 'session.log')
    if (seed % 2) fs.symlinkSync(path.join(outside, 'victim.txt'), log)
    else execFileSync('mkfifo', [log])
    arm()
    new SessionLog(logFileFor(root, backend), { backend }).log('line')
    return 'logged'
  },
  async 'lock-file'() {
    fs.mkdirSync(lockDir, { mode: 0o700 })
    const file = path.join(lockDir, 'victim.lock')
    if (seed % 2) execFileSync('mkfifo', [file])
    else fs.symlinkSync('/dev/zero', file)
    const ops = new SafeFileOperations({ lockDir })
    const op = pick(['acquire', 'info', 'release', 'list'])
    arm()
    if (op === 'acquire') return ops.acquireLock('victim', 2000)
    if (op === 'info') return ops.getLockInfo('victim')
    if (op === 'release') return ops.releaseLock('victim')
    return ops.listLocks()
  },
  async 'backup-file'() {
    const source = path.join(scratch, 'source')
    if (seed % 2) execFileSync('mkfifo', [source])
    else fs.symlinkSync('/dev/zero', source)
    arm()
    return new SafeFileOperations({ backupDir: path.join(scratch, 'bak') }).backupFile(source, 'x')
  },
}

async function main() {
  setup()
  let code = null
  let detail = ''
  try {
    const r = await ATTACKS[attack]()
    detail = typeof r === 'object' ? JSON.stringify(r).slice(0, 120) : String(r)
  } catch (err) {
    code = err.code || 'NOCODE'
    detail = String(err.message).slice(0, 160)
  }
  const changed = before === null || JSON.stringify(snapshot(outside)) !== JSON.stringify(before)
  const escaped = changed || secretInProject() || code === 'EFOLLOWED'
  console.log(JSON.stringify({ code, escaped, detail }))
}

main()
