'use strict'
// Hostile input: lock identifiers, backup labels and tracker paths with `..`, absolute paths,
// separators, NUL bytes, very long names and invalid UTF-16; symlinks planted in the lock
// directory, as the lock directory, as the backup folder and as a tracker; JSON bombs (deep
// nesting, 100 MB strings) to safeJsonRead, validateTrackerSchema and repairTracker.
//
// Each case runs in its own child process (a crash, stack overflow or abort shows as the
// exit), inside a scratch tree holding the intended directories and a sentinel tree beside
// them. Held: the child exits normally; the call either throws an Error with a `code` or
// returns the documented graceful value; and nothing outside the intended directory was
// created, changed or deleted (every file and link of the tree is compared before and after,
// by content for the sentinels).
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { spawnSync } = require('node:child_process')
const { ROOT, BACKENDS, tempDir, table } = require('../lib')

const MB = 1024 * 1024
const DEPTH = 100000

/** Every entry under `dir` (not following links): path -> kind and a content hash. */
function snapshot(dir, skip) {
  const out = new Map()
  const walk = (d) => {
    for (const name of fs.readdirSync(d)) {
      const p = path.join(d, name)
      if (skip.includes(p)) continue
      const st = fs.lstatSync(p)
      if (st.isSymbolicLink()) out.set(p, `link:${fs.readlinkSync(p)}`)
      else if (st.isDirectory()) {
        out.set(p, 'dir')
        walk(p)
      } else out.set(p, `file:${st.mode & 0o777}:${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`)
    }
  }
  walk(dir)
  return out
}

function diff(before, after) {
  const changes = []
  for (const [p, v] of before) if (after.get(p) !== v) changes.push(`${after.has(p) ? 'changed' : 'deleted'} ${p}`)
  for (const p of after.keys()) if (!before.has(p)) changes.push(`created ${p}`)
  return changes
}

/** A scratch tree: the intended dirs and a sentinel tree beside them. */
function scratch() {
  const root = tempDir('hostile')
  const dirs = {
    root,
    locks: path.join(root, 'locks'),
    backups: path.join(root, 'backups'),
    data: path.join(root, 'data'),
    sentinel: path.join(root, 'sentinel'),
  }
  fs.mkdirSync(dirs.locks, { mode: 0o700 })
  fs.mkdirSync(dirs.backups, { mode: 0o700 })
  fs.mkdirSync(dirs.data)
  fs.mkdirSync(path.join(dirs.sentinel, 'deep'), { recursive: true })
  fs.writeFileSync(path.join(dirs.sentinel, 'secret.txt'), 'do not touch\n')
  fs.writeFileSync(path.join(dirs.sentinel, 'x.lock'), 'not a lock\n')
  fs.writeFileSync(path.join(dirs.sentinel, 'deep', 'tracker.json'), '{"sessionInfo": {}}\n')
  fs.writeFileSync(path.join(dirs.data, 'tracker.json'), '{"v":1}\n')
  return dirs
}

// Identifiers and labels that must never become a path outside their directory.
const NAMES = [
  ['..', '..'],
  ['../sentinel/x', '../ escape'],
  ['../../../../../../tmp/sr-hostile-escape', 'deep ../ escape'],
  ['/tmp/sr-hostile-abs', 'absolute path'],
  ['a/b', 'separator'],
  ['a\\b', 'backslash'],
  ['a\0b', 'NUL byte'],
  ['x'.repeat(5000), '5,000 characters'],
  ['\ud800bad', 'lone surrogate (not UTF-8 encodable)'],
  ['', 'empty'],
]

// Each case: what it calls (a script body with `ops`, `v` (validation) and `d` (the dirs) in
// scope, evaluated as an expression), and which graceful values are documented.
function cases() {
  const list = []
  for (const [name, what] of NAMES) {
    const n = JSON.stringify(name)
    list.push({ area: 'lock identifier', what, call: `ops.acquireLock(${n}, 100)`, intended: 'locks' })
    list.push({ area: 'lock identifier', what: `${what} (release)`, call: `ops.releaseLock(${n})`, intended: 'locks' })
    list.push({ area: 'lock identifier', what: `${what} (getLockInfo)`, call: `ops.getLockInfo(${n})`, intended: 'locks' })
    list.push({ area: 'backup label', what, call: `ops.backupFile(d.data + '/tracker.json', ${n})`, intended: 'backups' })
  }
  list.push({ area: 'lock identifier', what: 'a Buffer, not a string', call: `ops.acquireLock(Buffer.from([0xff, 0xfe, 0x2e, 0x2e]), 100)`, intended: 'locks' })
  list.push({
    area: 'lock directory',
    what: 'a lock file that is a symlink to a sentinel file',
    setup: `fs.symlinkSync(d.sentinel + '/x.lock', d.locks + '/evil.lock')`,
    call: `(() => { try { return ops.acquireLock('evil', 2500) } finally { ops.releaseLock('evil') } })()`,
    graceful: (v) => typeof v === 'string',
    intended: 'locks',
  })
  list.push({
    area: 'lock directory',
    what: 'release and getLockInfo of a symlinked lock file',
    setup: `fs.symlinkSync(d.sentinel + '/x.lock', d.locks + '/evil.lock')`,
    call: `[ops.releaseLock('evil'), ops.getLockInfo('evil').corrupted]`,
    graceful: (v) => Array.isArray(v) && v[0] === false && v[1] === true,
    intended: 'locks',
  })
  list.push({
    area: 'lock directory',
    what: 'the lock directory is a symlink to the sentinel tree',
    setup: `fs.rmdirSync(d.locks); fs.symlinkSync(d.sentinel, d.locks)`,
    call: `ops.acquireLock('job', 100)`,
    intended: null,
  })
  list.push({
    area: 'backups folder',
    what: 'the backup folder is a symlink to the sentinel tree',
    setup: `fs.rmdirSync(d.backups); fs.symlinkSync(d.sentinel, d.backups)`,
    call: `ops.backupFile(d.data + '/tracker.json', 'x')`,
    graceful: (v) => v === null,
    intended: null,
  })
  list.push({
    area: 'backups folder',
    what: 'cleanupOldBackups(0) with a symlink in the backup folder',
    setup: `fs.symlinkSync(d.sentinel + '/secret.txt', d.backups + '/evil.bak')`,
    call: `ops.cleanupOldBackups(0)`,
    graceful: (v) => typeof v === 'number',
    intended: 'backups',
  })
  for (const [p, what] of [
    ['d.data + "/a\\0b.json"', 'NUL byte'],
    ['d.data + "/" + "x".repeat(5000)', '5,000-character name'],
    ['d.data + "/link.json"', 'a symlink to a sentinel file that is not JSON'],
    ['d.data + "/\\ud800.json"', 'lone surrogate'],
  ]) {
    // a damaged file is kept aside (renamed within its directory): the link, never its target
    const setup = `fs.symlinkSync(d.sentinel + '/secret.txt', d.data + '/link.json')`
    list.push({ area: 'tracker path', what: `safeJsonRead: ${what}`, setup, call: `ops.safeJsonRead(${p}, 'default')`, graceful: (v) => v === 'default', intended: 'data' })
    list.push({ area: 'tracker path', what: `repairTracker: ${what}`, setup, call: `v.repairTracker(${p})`, graceful: (v) => v && typeof v === 'object' && 'success' in v, intended: ['data', 'backups'] })
  }
  list.push({
    area: 'tracker path',
    what: 'CLI repair of a tracker that is a symlink into the sentinel tree',
    setup: `fs.symlinkSync(${JSON.stringify('')} + d.sentinel + '/deep/tracker.json', d.data + '/link.json')`,
    call: `v.repairTrackerFile(d.data + '/link.json')`,
    graceful: (v) => v && typeof v === 'object' && 'success' in v,
    intended: ['data', 'backups'],
    // the link itself may be replaced by a regular file (an atomic rename over the path);
    // the file it pointed at must not change
    ignore: (d) => [path.join(d.data, 'link.json')],
  })
  const deepArray = `'['.repeat(${DEPTH}) + ']'.repeat(${DEPTH})`
  const deepTracker = `'{"sessionInfo":' + '{"a":'.repeat(${DEPTH}) + '1' + '}'.repeat(${DEPTH}) + ',"baselineStatus":{},"phases":{}}'`
  const deepPhases = `'{"sessionInfo":{},"baselineStatus":{},"phases":{"p":{"status":"planned","title":"t","weeks":{"w":{"title":"t","status":"s","components":' + '['.repeat(${DEPTH}) + ']'.repeat(${DEPTH}) + '}}}}}'`
  const bigString = `'{"sessionInfo":{"sessionId":"' + 'x'.repeat(${100 * MB}) + '"},"baselineStatus":{},"phases":{}}'`
  const broken = (s) => `${s}.slice(0, -3) + ',,'` // damaged: the tolerant parser's path
  const deepObject = `(() => { let o = 1; for (let i = 0; i < ${DEPTH}; i++) o = { a: o }; return o })()`
  for (const [text, what] of [
    [deepArray, `${DEPTH.toLocaleString('en')} nested arrays`],
    [deepTracker, `a tracker with ${DEPTH.toLocaleString('en')} nested objects in sessionInfo`],
    [deepPhases, `a tracker with ${DEPTH.toLocaleString('en')} nested arrays as components`],
    [bigString, 'a 100 MB string'],
    [broken(deepTracker), `a damaged tracker with ${DEPTH.toLocaleString('en')} nested objects`],
    [broken(bigString), 'a damaged tracker with a 100 MB string'],
  ]) {
    const write = `fs.writeFileSync(d.data + '/bomb.json', ${text})`
    list.push({ area: 'JSON bomb', what: `safeJsonRead: ${what}`, setup: write, call: `(ops.safeJsonRead(d.data + '/bomb.json', 'default'), 'returned')`, graceful: (v) => v === 'returned', intended: 'data' })
    list.push({ area: 'JSON bomb', what: `repairTracker: ${what}`, setup: write, call: `(v.repairTracker(d.data + '/bomb.json').success, 'returned')`, graceful: (v) => v === 'returned', intended: ['data', 'backups'] })
  }
  list.push({
    area: 'JSON bomb',
    what: `validateTrackerSchema: an object nested ${DEPTH.toLocaleString('en')} deep in sessionInfo`,
    call: `(v.validateTrackerSchema({ sessionInfo: ${deepObject}, baselineStatus: {}, phases: {} }), 'returned')`,
    graceful: (v) => v === 'returned',
    intended: 'data',
  })
  list.push({
    area: 'JSON bomb',
    what: `validateTrackerSchema: a phase nested ${DEPTH.toLocaleString('en')} deep`,
    call: `(v.validateTrackerSchema({ sessionInfo: {}, baselineStatus: {}, phases: { p: { status: 's', title: 't', weeks: { w: { title: 't', status: 's', components: [${deepObject}] } } } } }), 'returned')`,
    graceful: (v) => v === 'returned',
    intended: 'data',
  })
  return list
}

const CHILD = `
const fs = require('fs')
const d = JSON.parse(process.argv[1])
const { SafeFileOperations } = require(${JSON.stringify(path.join(ROOT, 'lib', 'safe-file-operations'))})
const { ValidationHelpers } = require(${JSON.stringify(path.join(ROOT, 'lib', 'validation-helpers'))})
const ops = new SafeFileOperations({ lockDir: d.locks, backupDir: d.backups })
const v = new ValidationHelpers({ backupDir: d.backups })
for (const k of ['log', 'warn', 'error']) console[k] = () => {}
let out
try { const value = (__CALL__); out = { returned: true, value: value === undefined ? null : value } }
catch (err) { out = { returned: false, isError: err instanceof Error, code: err && err.code, message: String(err && err.message).slice(0, 160) } }
process.stdout.write(JSON.stringify(out))
`

function runCase(c, backend) {
  const d = scratch()
  const skip = [].concat(c.intended || []).map((k) => d[k])
  if (c.ignore) skip.push(...c.ignore(d))
  const script = CHILD.replace('__CALL__', () => c.call)
  // the setup (planting links, writing bombs) runs first, then the snapshot, then the case
  const setupOnly = spawnSync(process.execPath, ['-e', `const fs = require('fs'); const d = JSON.parse(process.argv[1]); ${c.setup || ''}`, JSON.stringify(d)], { maxBuffer: 16 * MB })
  if (setupOnly.status !== 0) return { verdict: 'setup failed', detail: String(setupOnly.stderr).slice(0, 200) }
  const before = snapshot(d.root, skip)
  const r = spawnSync(process.execPath, ['-e', script, JSON.stringify(d)], {
    env: { ...process.env, SESSION_RESILIENCE_BACKEND: backend },
    encoding: 'utf8',
    maxBuffer: 16 * MB,
    timeout: 120000,
  })
  const after = snapshot(d.root, skip)
  const outside = diff(before, after)
  // outside of the scratch tree: the absolute names of the cases
  for (const p of ['/tmp/sr-hostile-abs', '/tmp/sr-hostile-abs.lock', '/tmp/sr-hostile-escape', '/tmp/sr-hostile-escape.lock']) {
    if (fs.existsSync(p)) outside.push(`created ${p}`)
  }
  fs.rmSync(d.root, { recursive: true, force: true })
  let out = null
  try {
    out = JSON.parse(r.stdout)
  } catch {}
  let verdict
  let shown
  if (r.status !== 0 || !out) {
    verdict = 'CRASH'
    shown = `exit ${r.status} signal ${r.signal} ${String(r.stderr).trim().split('\n').slice(-3).join(' / ').slice(0, 200)}`
  } else if (outside.length) {
    verdict = 'ESCAPED'
    shown = outside.slice(0, 3).join(', ')
  } else if (!out.returned) {
    verdict = out.isError && typeof out.code === 'string' && out.code ? 'held' : 'NO CODE'
    shown = `${out.code}: ${out.message}`
  } else if (c.graceful && c.graceful(out.value)) {
    verdict = 'held'
    shown = `returned ${JSON.stringify(out.value).slice(0, 80)}`
  } else {
    verdict = 'NO ERROR'
    shown = `returned ${JSON.stringify(out.value).slice(0, 80)}`
  }
  return { verdict, detail: shown }
}

module.exports = {
  title: 'Hostile input: names, paths, symlinks and JSON bombs',
  async run() {
    const rows = []
    const bad = []
    let n = 0
    for (const c of cases()) {
      const results = BACKENDS.map((b) => runCase(c, b))
      n += results.length
      results.forEach((r, i) => r.verdict !== 'held' && bad.push(`${c.area}, ${c.what} (${BACKENDS[i]}): ${r.verdict}: ${r.detail}`))
      rows.push([c.area, c.what.replace(/\|/g, '\\|'), ...results.map((r) => `${r.verdict === 'held' ? '' : `**${r.verdict}** `}${r.detail.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 90)}`)])
    }
    const text =
      `${n} cases (${rows.length} inputs x ${BACKENDS.length} backends), each in a fresh child process inside a scratch tree with a ` +
      'sentinel tree beside the intended directory; every file and link outside the intended directory is compared before and ' +
      'after. A case holds when the child exits normally, the call throws an Error with a `code` (or returns the documented ' +
      'graceful value: `null` for backupFile, the default for safeJsonRead, a `{ success }` result for repairTracker), and ' +
      'nothing outside the intended directory changed.\n\n' +
      table(['area', 'input', ...BACKENDS], rows) +
      (bad.length ? `\n\nNot held:\n\n${bad.map((b) => `- ${b}`).join('\n')}` : '')
    return { ok: bad.length === 0, text }
  },
}
