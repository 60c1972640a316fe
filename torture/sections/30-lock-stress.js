'use strict'
// Lock stress: 8 processes x 5,000 cycles on one lock, mixing native holders, js holders and
// simulated legacy processes (existence check, then a plain writeFileSync of the legacy JSON;
// release = read, compare pid, unlink), with 2 % of the holders SIGKILLed while holding.
//
// Inside the critical section each holder appends `S` (entered) and `E` (leaving) or `K`
// (about to SIGKILL itself) lines to one O_APPEND log, with CLOCK_MONOTONIC times (shared by
// every process on Linux), and increments a counter file by read + write. Two checks:
// - order: replaying the log in append order, at most one holder is inside at any time
//   (S is written after the acquire returned, E before the release starts, so an S before
//   the previous holder's E is an overlap whatever the clocks say);
// - intervals: no two [start, end] intervals intersect; the counter equals the grants.
//
// What "zero double grants" means with a racy participant: the legacy protocol is itself
// check-then-write, so a legacy process that saw no file can write over a lock one of ours
// created a moment later. That overlap is the legacy defect (it exists between two legacy
// processes just the same) and nothing a new process can prevent; it is reported apart as a
// "legacy race" (the later holder is legacy and its existence check came before the earlier
// holder's grant). A double grant is every other overlap: one of ours entering while anyone
// (ours or a legacy holder whose write had landed) holds the lock, or a legacy process
// entering after it had already seen the lock free while ours held it. That must be zero.
// An overlap that follows a legacy race (a robbed holder of ours still inside while its lock
// file is a legacy record) is reported as an after-effect of that race.
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { ROOT, tempDir, table } = require('../lib')

const CYCLES = Number(process.env.TORTURE_LOCK_CYCLES || 5000)
const KILL_RATE = 0.02
// 3 native, 3 js, 2 legacy writers.
const SLOTS = (process.env.TORTURE_LOCK_SLOTS || 'native,js,legacy,native,js,native,js,legacy').split(',')
// A waiter of ours that has not got the lock after this long counts as deadlocked.
const OUR_TIMEOUT_MS = 60000
// The legacy default timeout; a legacy waiter that gives up is the legacy behaviour.
const LEGACY_TIMEOUT_MS = 5000
const ID = 'stress'

// Shared by both child scripts: the log, clocks, and the counter (a fixed-width number
// rewritten in place, so a reader never sees it empty and a lost update shows as a shortfall).
const COMMON = `
const fs = require('fs')
const [lockDir, log, counter, slot, from, to, killAt, doneFlag] = process.argv.slice(1)
const lockPath = lockDir + '/' + ${JSON.stringify(ID)} + '.lock'
const fd = fs.openSync(log, 'a')
const cfd = fs.openSync(counter, 'r+')
const now = () => process.hrtime.bigint()
const say = (line) => fs.writeSync(fd, line + '\\n')
function increment() {
  const b = Buffer.alloc(16)
  fs.readSync(cfd, b, 0, 16, 0)
  fs.writeSync(cfd, String(Number(b.toString().trim()) + 1).padStart(16), 0)
}
// Is the lock file still this holder's record (not overwritten or removed by a legacy writer)?
function intact() {
  try { return JSON.parse(fs.readFileSync(lockPath, 'utf8')).pid === process.pid ? 1 : 0 } catch { return 0 }
}
function leave(i) {
  const whole = intact()
  if (i === Number(killAt)) { say('K ' + slot + ' ' + i + ' ' + now() + ' ' + whole); process.kill(process.pid, 'SIGKILL') }
  say('E ' + slot + ' ' + i + ' ' + now() + ' ' + whole)
}
`

// S <slot> <cycle> <kind> <pid> <granted> <acquire began | legacy: saw no file>
const OURS = `${COMMON}
const { SafeFileOperations } = require(${JSON.stringify(path.join(ROOT, 'lib', 'safe-file-operations'))})
const ops = new SafeFileOperations({ lockDir })
let cycle = -1
// A takeover says so through the legacy warning, which names the dead holder's pid.
console.warn = (msg) => {
  const m = /process (\\d+) not found/.exec(String(msg))
  if (m) say('B ' + slot + ' ' + cycle + ' ' + m[1] + ' ' + now())
}
// The last segment of ours goes on until the legacy writers are done: a legacy waiter
// cannot recover a dead holder's lock (legacy waits for 30 s of age), ours do that.
const more = (i) => i < Number(to) || (doneFlag !== '-' && !fs.existsSync(doneFlag))
for (let i = Number(from); more(i); i++) {
  cycle = i
  const began = now()
  try { ops.acquireLock(${JSON.stringify(ID)}, ${OUR_TIMEOUT_MS}) } catch (err) {
    say('X ' + slot + ' ' + i + ' ' + err.code); process.exit(3)
  }
  say('S ' + slot + ' ' + i + ' ' + ops.backend + ' ' + process.pid + ' ' + now() + ' ' + began)
  increment()
  leave(i)
  if (!ops.releaseLock(${JSON.stringify(ID)})) say('R ' + slot + ' ' + i)
}
`

// The legacy acquire loop, polling every 1 ms (legacy's 50 ms would starve among fast
// waiters) and without its timeout-time stale breaking (itself racy: legacy removes an
// unparseable file, i.e. any lock being written).
const LEGACY = `${COMMON}
const nap = new Int32Array(new SharedArrayBuffer(4))
for (let i = Number(from); i < Number(to); i++) {
  const deadline = Date.now() + ${LEGACY_TIMEOUT_MS}
  let checked = null
  while (checked === null) {
    const before = now() // taken before the look: a preemption after it cannot make it late
    if (!fs.existsSync(lockPath)) {
      checked = before
      fs.writeFileSync(lockPath, JSON.stringify({ pid: process.pid, timestamp: new Date().toISOString(), identifier: ${JSON.stringify(ID)} }, null, 2))
    } else if (Date.now() > deadline) break
    else Atomics.wait(nap, 0, 0, 1)
  }
  if (checked === null) { say('T ' + slot + ' ' + i); continue }
  say('S ' + slot + ' ' + i + ' legacy ' + process.pid + ' ' + now() + ' ' + checked)
  increment()
  leave(i)
  let mine = false
  try { mine = JSON.parse(fs.readFileSync(lockPath, 'utf8')).pid === process.pid } catch {}
  // legacy releaseLock: an error is logged and the result is false
  if (mine) { try { fs.unlinkSync(lockPath) } catch { say('R ' + slot + ' ' + i) } }
  else say('R ' + slot + ' ' + i)
}
`

/** The cycle indices of one slot at which its holder SIGKILLs itself while holding. */
function killPlan() {
  const plan = []
  for (let i = 0; i < CYCLES; i++) if (Math.random() < KILL_RATE) plan.push(i)
  return plan
}

function segment(kind, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', kind === 'legacy' ? LEGACY : OURS, ...args.map(String)], {
      cwd: ROOT,
      env: { ...process.env, SESSION_RESILIENCE_BACKEND: kind === 'legacy' ? 'js' : kind },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }))
  })
}

/** Run one slot: its cycles in segments, each ending at a planned kill or at the end. */
async function runSlot(kind, slot, ctx) {
  const result = { kind, spawned: 0, kills: 0, unexpected: [] }
  const plan = killPlan()
  let from = 0
  for (const stop of [...plan, CYCLES]) {
    const killAt = stop < CYCLES ? stop : -1
    const tail = kind !== 'legacy' && killAt < 0 ? ctx.legacyDone : '-'
    const end = await segment(kind, [ctx.lockDir, ctx.log, ctx.counter, slot, from, Math.min(stop + 1, CYCLES), killAt, tail])
    result.spawned++
    const planned = killAt >= 0 ? end.signal === 'SIGKILL' : end.code === 0
    if (killAt >= 0 && end.signal === 'SIGKILL') result.kills++
    if (!planned) result.unexpected.push(`slot ${slot} (${kind}) cycles ${from}-${stop}: exit ${end.code} signal ${end.signal} ${end.stderr.slice(0, 300)}`)
    from = stop + 1
  }
  return result
}

function parseLog(text) {
  const grants = new Map() // `${slot}:${cycle}` -> grant
  const order = []
  const events = { X: [], T: 0, R: 0, B: [] }
  for (const line of text.split('\n')) {
    if (!line) continue
    const f = line.split(' ')
    const key = `${f[1]}:${f[2]}`
    if (f[0] === 'S') {
      // `began` is when ours started acquiring; for legacy, when it saw no file
      grants.set(key, { key, kind: f[3], pid: Number(f[4]), start: BigInt(f[5]), began: BigInt(f[6]), end: null, killed: false, intact: true })
      order.push(['in', key])
    } else if (f[0] === 'E' || f[0] === 'K') {
      const g = grants.get(key)
      Object.assign(g, { end: BigInt(f[3]), killed: f[0] === 'K', intact: f[4] === '1' })
      order.push(['out', key])
    } else if (f[0] === 'B') events.B.push({ key, pid: Number(f[3]), at: BigInt(f[4]) })
    else if (f[0] === 'X') events.X.push(line)
    else if (f[0] === 'T') events.T++
    else if (f[0] === 'R') events.R++
  }
  return { grants, order, events }
}

/** Overlapping pairs [earlier, later] of grant intervals (sweep over start times). */
function overlaps(grants) {
  const sorted = [...grants.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
  const pairs = []
  let active = []
  for (const g of sorted) {
    active = active.filter((a) => a.end === null || a.end > g.start)
    for (const a of active) pairs.push([a, g])
    active.push(g)
  }
  return pairs
}

/**
 * Sort the overlapping pairs.
 * A legacy writer L raced when another holder G was granted between L's look (no file) and
 * L's write landing: L's write then hit a live lock (overwriting G's record, or having its
 * own removed by G's release, which read G's record just before L's write). L and those G
 * are "in the race". An overlap is explained by the legacy race when one party is in a race
 * and one party's record was destroyed (not `intact` at its end); otherwise it is a double
 * grant. In particular a holder whose record stayed in the lock file had it there all along
 * (nothing rewrites a record once granted), so none of ours could create the file meanwhile
 * (exclusive create), a takeover of it is caught by `wrongTakeovers`, and a legacy writer
 * could only have looked before it was granted: an overlap of two intact holders is always
 * a double grant.
 */
function classify(pairs, grants) {
  const byStart = [...grants.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
  const firstAfter = (t) => {
    let lo = 0
    let hi = byStart.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (byStart[mid].start <= t) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const inRace = new Set()
  let racers = 0
  for (const l of byStart) {
    if (l.kind !== 'legacy') continue
    const within = []
    for (let i = firstAfter(l.began); i < byStart.length && byStart[i].start < l.start; i++) within.push(byStart[i])
    if (within.length) {
      racers++
      inRace.add(l.key)
      for (const g of within) inRace.add(g.key)
    }
  }
  const out = { racers, legacyRace: 0, double: [] }
  for (const p of pairs) {
    const [a, b] = p
    if ((inRace.has(a.key) || inRace.has(b.key)) && (!a.intact || !b.intact)) out.legacyRace++
    else out.double.push(p)
  }
  return out
}

const describe = (g) =>
  `${g.key} (${g.kind}${g.intact ? '' : ', record destroyed'}${g.killed ? ', killed' : ''}) ${g.kind === 'legacy' ? 'looked' : 'began'} ${g.began}, held [${g.start}, ${g.end}]`

/** Takeovers of a holder that had not SIGKILLed itself by then: must be none. */
function wrongTakeovers(grants, breaks) {
  const deaths = new Map()
  for (const g of grants.values()) if (g.killed) deaths.set(g.pid, g.end)
  return breaks.filter((b) => !(deaths.has(b.pid) && deaths.get(b.pid) < b.at))
}

/** Replay the log in append order: the most holders ever inside at once. */
function maxInside(order) {
  let inside = 0
  let max = 0
  for (const [what] of order) {
    inside += what === 'in' ? 1 : -1
    max = Math.max(max, inside)
  }
  return max
}

module.exports = {
  title: 'Lock stress: native, js and legacy-format holders, 2 % SIGKILLed while holding',
  async run() {
    const dir = tempDir('lock-stress')
    const ctx = { lockDir: path.join(dir, 'locks'), log: path.join(dir, 'grants.log'), counter: path.join(dir, 'counter') }
    fs.mkdirSync(ctx.lockDir, { mode: 0o700 })
    fs.writeFileSync(ctx.log, '')
    fs.writeFileSync(ctx.counter, '0'.padStart(16))
    const t0 = Date.now()
    ctx.legacyDone = path.join(dir, 'legacy-done')
    const legacySlots = SLOTS.map((kind, slot) => kind === 'legacy' && runSlot(kind, slot, ctx)).filter(Boolean)
    const legacyEnd = Promise.all(legacySlots).then((r) => {
      fs.writeFileSync(ctx.legacyDone, '')
      return r
    })
    const ourSlots = SLOTS.map((kind, slot) => kind !== 'legacy' && runSlot(kind, slot, ctx)).filter(Boolean)
    const slots = (await Promise.all([legacyEnd, Promise.all(ourSlots)])).flat()
    const seconds = (Date.now() - t0) / 1000
    const { grants, order, events } = parseLog(fs.readFileSync(ctx.log, 'utf8'))
    const pairs = overlaps(grants)
    const cls = classify(pairs, grants)
    const counter = Number(fs.readFileSync(ctx.counter, 'utf8').trim())
    const wrong = wrongTakeovers(grants, events.B)
    const unexpected = slots.flatMap((s) => s.unexpected)
    const leftover = fs.readdirSync(ctx.lockDir)
    if (process.env.TORTURE_KEEP) console.error(`kept ${dir}`)
    else fs.rmSync(dir, { recursive: true, force: true })

    const byKind = {}
    for (const g of grants.values()) {
      const k = (byKind[g.kind] = byKind[g.kind] || { grants: 0, killed: 0 })
      k.grants++
      if (g.killed) k.killed++
    }
    const kills = slots.reduce((n, s) => n + s.kills, 0)
    const tailGrants = [...grants.values()].filter((g) => Number(g.key.split(':')[1]) >= CYCLES).length
    const explained = cls.legacyRace
    const counterOk = explained === 0 ? counter === grants.size : counter <= grants.size && grants.size - counter <= explained
    const ok =
      cls.double.length === 0 && wrong.length === 0 && events.X.length === 0 && unexpected.length === 0 && counterOk && (explained > 0 || maxInside(order) === 1)
    const rows = Object.entries(byKind).map(([kind, k]) => [kind, SLOTS.filter((s) => (kind === 'native' || kind === 'js' ? s === kind : s === 'legacy')).length, k.grants, k.killed])
    const text =
      `${SLOTS.length} processes (${SLOTS.filter((s) => s === 'native').length} native, ${SLOTS.filter((s) => s === 'js').length} js, ` +
      `${SLOTS.filter((s) => s === 'legacy').length} simulated legacy: an existence check, then a plain \`writeFileSync\` of the legacy JSON) ` +
      `x ${CYCLES} cycles on one lock, in ${seconds.toFixed(0)} s; each holder SIGKILLs itself while holding with probability ${KILL_RATE * 100} % ` +
      `(${kills} kills; the slot goes on in a fresh process). Our waiters use a ${OUR_TIMEOUT_MS / 1000} s timeout: any timeout counts as a deadlock. ` +
      `A legacy waiter cannot recover a dead holder's lock before it is 30 s old, so our processes go on past their ${CYCLES} cycles ` +
      `until the legacy ones are done (${tailGrants} extra grants, in the table).\n\n` +
      table(['holder', 'processes', 'grants', 'SIGKILLed while holding'], rows) +
      '\n\n' +
      table(
        ['check', 'result'],
        [
          ['grants (S lines) / counter value', `${grants.size} / ${counter}`],
          ['most holders inside at once, log replayed in append order', maxInside(order)],
          ['overlapping grant intervals: double grants', cls.double.length],
          ['legacy grants that raced (another holder was granted between their look and their write)', cls.racers],
          ['overlaps explained by those races (a party in the race, a record destroyed)', cls.legacyRace],
          ['takeovers of a dead holder\'s lock / of a holder not yet dead', `${events.B.length} / ${wrong.length}`],
          ['releases that found the lock file not theirs (robbed by a legacy write)', events.R],
          ['our waiters that timed out (deadlock)', events.X.length],
          ['legacy waiters that gave up after the legacy 5 s timeout', events.T],
          ['processes that ended otherwise than planned', unexpected.length],
          ['left in the lock directory at the end', leftover.length ? leftover.join(', ') : 'nothing'],
        ],
      ) +
      '\n\nA double grant is one of ours entering while anyone holds the lock (a lock of ours, or a legacy record that was ' +
      'already written), or a legacy writer entering after it had seen the lock free while ours held it. The legacy ' +
      'protocol itself is check-then-write, so a legacy writer that saw no file and wrote a moment after one of ours ' +
      'created the lock holds it alongside: that is the legacy defect (two legacy processes race the same way), counted ' +
      'apart and allowed; the counter may lose one increment per such race. The simulated legacy process polls every 1 ms ' +
      "(legacy's 50 ms would starve among fast waiters) and leaves out legacy's timeout-time stale breaking." +
      (cls.double.length ? `\n\nDouble grants (first 10):\n\n${cls.double.slice(0, 10).map(([a, b]) => `- ${describe(a)} and ${describe(b)}`).join('\n')}` : '') +
      (events.X.length ? `\n\nTimeouts:\n\n${events.X.slice(0, 10).map((l) => `- ${l}`).join('\n')}` : '') +
      (unexpected.length ? `\n\nUnexpected ends:\n\n${unexpected.slice(0, 10).map((l) => `- ${l}`).join('\n')}` : '')
    return { ok, text }
  },
}
