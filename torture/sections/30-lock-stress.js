'use strict'
// Lock stress: 8 processes x 5,000 cycles on one lock, mixing native holders, js holders and
// simulated legacy processes (existence check, then a plain writeFileSync of the legacy JSON;
// release = read, compare pid, unlink), with 2 % of the holders SIGKILLed while holding.
//
// Inside the critical section each holder appends `S` (entered) and `E` (leaving) or `K`
// (about to SIGKILL itself) lines to one O_APPEND log, with CLOCK_MONOTONIC times (shared by
// every process on Linux), and increments a counter file by read + write.
//
// The pass check is about our own holders, whatever the legacy writers do: no two grant
// intervals of ours (native or js) intersect, and replaying the log in append order never
// finds two of ours inside (S is written after the acquire returned, E before the release
// starts). The legacy protocol is check-then-write, so a legacy writer that saw no file can
// write over a lock one of ours created a moment later; overlaps with a legacy party are the
// legacy defect and are reported apart, each classified (see `classify`); one with both
// records intact all along has no legacy cause and fails the check. Also checked: no
// takeover of a holder that was not dead yet, no waiter of ours timing out, every planned
// SIGKILL landed, and the counter lost at most one increment per legacy-involved overlap.
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
// How often the simulated legacy waiter looks again (legacy's own 50 ms would starve it).
const LEGACY_POLL_MS = 1
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
// The end time is taken before the record is read: a holder whose record is intact at that
// read had it intact over its whole interval (nobody writes a holder's record but itself,
// once, before its S line), however long a preemption between the two.
function leave(i) {
  const end = now()
  const whole = intact()
  if (i === Number(killAt)) { say('K ' + slot + ' ' + i + ' ' + end + ' ' + whole); process.kill(process.pid, 'SIGKILL') }
  say('E ' + slot + ' ' + i + ' ' + end + ' ' + whole)
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
    else Atomics.wait(nap, 0, 0, ${LEGACY_POLL_MS})
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
  const plan = killPlan()
  const result = { kind, spawned: 0, kills: 0, planned: plan.length, unexpected: [] }
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

const isOurs = (g) => g.kind !== 'legacy'

/** What each code of a legacy-involved overlap means (the report prints this list). */
const LEGACY_CODES = {
  OURS_RECORD_DESTROYED:
    "both holders ours, and one's record was destroyed before it left (written over by a legacy write, or removed by a legacy release): with its file gone, the other's exclusive create succeeded",
  LEGACY_BOTH: 'two legacy writers: the legacy protocol racing itself',
  CHECK_THEN_WRITE:
    "our holder's record was destroyed and the legacy writer had looked before our grant: it saw no file, then wrote over the record our exclusive create had just made (the check-then-write race)",
  RECORD_DESTROYED:
    "a record of the two was destroyed otherwise before its holder left (the legacy writer looked after our grant, or our record stayed intact): written over by a legacy write, or removed by a legacy release that had read it a moment before; the after-effect of an earlier legacy race",
  BOTH_INTACT:
    'both records stayed intact over both intervals: one path cannot hold both, so no legacy race explains it (our grant over a live legacy holder): fails the check',
}

/**
 * Split the overlapping pairs [earlier, later]: `ours` (both holders native or js, their
 * records intact: each one a double grant, the pass check wants none) and `legacy` (a legacy
 * writer took part, or destroyed the record of one of ours), each of the latter with its code
 * from LEGACY_CODES. Without legacy writers in the run nothing destroys a record of ours, so
 * every overlap of two of ours is a double grant.
 */
function classify(pairs, withLegacy) {
  const ours = []
  const legacy = []
  for (const [a, b] of pairs) {
    if (isOurs(a) && isOurs(b)) {
      if (withLegacy && (!a.intact || !b.intact)) legacy.push({ code: 'OURS_RECORD_DESTROYED', pair: [a, b] })
      else ours.push([a, b])
      continue
    }
    let code
    if (!isOurs(a) && !isOurs(b)) code = 'LEGACY_BOTH'
    else {
      const [l, g] = isOurs(a) ? [b, a] : [a, b]
      if (!g.intact && l.began < g.start) code = 'CHECK_THEN_WRITE'
      else if (!l.intact || !g.intact) code = 'RECORD_DESTROYED'
      else code = 'BOTH_INTACT'
    }
    legacy.push({ code, pair: [a, b] })
  }
  return { ours, legacy }
}

const describe = (g) =>
  `${g.key} (${g.kind}${g.intact ? '' : ', record destroyed'}${g.killed ? ', killed' : ''}) ${g.kind === 'legacy' ? 'looked' : 'began'} ${g.began}, held [${g.start}, ${g.end}]`

/**
 * Takeovers of a holder that had not SIGKILLed itself by then: must be none. The broken
 * record is that of the last holder with the named pid granted before the takeover (pids are
 * reused within a run here: the system's pid space wraps in minutes when the machine is busy).
 */
function wrongTakeovers(grants, breaks) {
  const byPid = new Map()
  for (const g of grants.values()) {
    if (!byPid.has(g.pid)) byPid.set(g.pid, [])
    byPid.get(g.pid).push(g)
  }
  return breaks.filter((b) => {
    const before = (byPid.get(b.pid) || []).filter((g) => g.start < b.at)
    const last = before.reduce((a, g) => (a === null || g.start > a.start ? g : a), null)
    return !(last && last.killed && last.end < b.at)
  })
}

/** Replay the log in append order: the most holders matching `which` ever inside at once. */
function maxInside(order, grants, which) {
  let inside = 0
  let max = 0
  for (const [what, key] of order) {
    if (!which(grants.get(key))) continue
    inside += what === 'in' ? 1 : -1
    max = Math.max(max, inside)
  }
  return max
}

/** Legacy grants such that another holder's grant fell between their look and their write. */
function legacyRacers(grants) {
  const starts = [...grants.values()].map((g) => g.start).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  // the index of the first start after `t`
  const firstAfter = (t) => {
    let lo = 0
    let hi = starts.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (starts[mid] <= t) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  let racers = 0
  for (const l of grants.values()) {
    const next = firstAfter(l.began)
    if (!isOurs(l) && next < starts.length && starts[next] < l.start) racers++
  }
  return racers
}

/** One stress run with these `slots` (kinds of holder): whether it held, and its report. */
async function stress(SLOTS) {
  const withLegacy = SLOTS.includes('legacy')
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
  const cls = classify(pairs, withLegacy)
  const counter = Number(fs.readFileSync(ctx.counter, 'utf8').trim())
  // with legacy writers, a broken record may be a legacy one whose writer ended normally:
  // only takeovers of our holders (their pid in our grants) must follow a death
  const ourPids = new Set([...grants.values()].filter(isOurs).map((g) => g.pid))
  const wrong = wrongTakeovers(grants, events.B).filter((b) => !withLegacy || ourPids.has(b.pid))
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
  const planned = slots.reduce((n, s) => n + s.planned, 0)
  const tailGrants = [...grants.values()].filter((g) => Number(g.key.split(':')[1]) >= CYCLES).length
  // each legacy-involved overlap can lose one increment (two read-modify-writes at once)
  const lost = grants.size - counter
  const counterOk = lost >= 0 && lost <= cls.legacy.length
  const oursInside = maxInside(order, grants, isOurs)
  const byCode = Object.fromEntries(Object.keys(LEGACY_CODES).map((c) => [c, cls.legacy.filter((o) => o.code === c)]))
  // with legacy writers a robbed holder of ours may still be inside when the next one enters
  // (OURS_RECORD_DESTROYED): the append-order replay is then a figure, not a check
  const ok =
    cls.ours.length === 0 &&
    byCode.BOTH_INTACT.length === 0 &&
    (withLegacy || oursInside === 1) &&
    wrong.length === 0 &&
    events.X.length === 0 &&
    unexpected.length === 0 &&
    kills === planned &&
    counterOk
  const count = (kind) => SLOTS.filter((s) => s === kind).length
  const rows = Object.entries(byKind).map(([kind, k]) => [kind, count(kind), k.grants, k.killed])
  const examples = (list, n) => list.slice(0, n).map(([a, b]) => `- ${describe(a)} and ${describe(b)}`).join('\n')
  const text =
    `${SLOTS.length} processes (${count('native')} native, ${count('js')} js` +
    (withLegacy ? `, ${count('legacy')} simulated legacy: an existence check, then a plain \`writeFileSync\` of the legacy JSON) ` : ') ') +
    `x ${CYCLES} cycles on one lock, in ${seconds.toFixed(0)} s; each holder SIGKILLs itself while holding with probability ${KILL_RATE * 100} % ` +
    `(${planned} kills planned, ${kills} landed; the slot goes on in a fresh process). Our waiters use a ${OUR_TIMEOUT_MS / 1000} s timeout: any timeout counts as a deadlock. ` +
    (withLegacy
      ? `A legacy waiter cannot recover a dead holder's lock before it is 30 s old, so our processes go on past their ${CYCLES} cycles ` +
        `until the legacy ones are done (${tailGrants} extra grants, in the table).`
      : '') +
    '\n\n' +
    table(['holder', 'processes', 'grants', 'SIGKILLed while holding'], rows) +
    (withLegacy ? '\n\nThe pass check (our holders, whatever the legacy writers do):\n\n' : '\n\nThe pass check:\n\n') +
    table(
      ['check', 'result'],
      [
        [`overlapping grant intervals, both holders ours (native or js)${withLegacy ? ', both records intact' : ''}: double grants`, cls.ours.length],
        ...(withLegacy ? [['overlaps of a legacy writer and ours with both records intact all along (BOTH_INTACT: no legacy cause)', byCode.BOTH_INTACT.length]] : []),
        [`most of our holders inside at once, log replayed in append order${withLegacy ? ' (a figure here: see OURS_RECORD_DESTROYED)' : ''}`, oursInside],
        [`takeovers of a dead holder's lock / of a holder${withLegacy ? ' of ours' : ''} not yet dead`, `${events.B.length} / ${wrong.length}`],
        ['our waiters that timed out (deadlock)', events.X.length],
        ['SIGKILLs planned / landed', `${planned} / ${kills}`],
        ['processes that ended otherwise than planned', unexpected.length],
        ['grants (S lines) / counter value / increments lost', `${grants.size} / ${counter} / ${lost}`],
      ],
    ) +
    (withLegacy
      ? `\n\nOverlaps caused by a legacy writer (the legacy protocol's own defect, reported apart; an increment may be lost with each, so at most ${cls.legacy.length} may be lost):\n\n` +
        table(
          ['code', 'overlaps', 'meaning'],
          Object.entries(LEGACY_CODES).map(([code, meaning]) => [code, byCode[code].length, meaning]),
        ) +
        '\n\n' +
        table(
          ['other legacy figures', 'result'],
          [
            ['legacy writers whose write raced (another holder was granted between their look and their write)', legacyRacers(grants)],
            ['releases that found the lock file not theirs (robbed by a legacy write)', events.R],
            [`legacy waiters that gave up after the legacy ${LEGACY_TIMEOUT_MS / 1000} s timeout`, events.T],
          ],
        ) +
        `\n\nThe simulated legacy process polls every ${LEGACY_POLL_MS} ms ` +
        "(legacy's 50 ms would starve among fast waiters) and leaves out legacy's timeout-time stale breaking."
      : '') +
    `\n\nLeft in the lock directory at the end: ${leftover.length ? leftover.join(', ') : 'nothing'}.` +
    (cls.ours.length ? `\n\nDouble grants between our holders (first 10):\n\n${examples(cls.ours, 10)}` : '') +
    Object.keys(LEGACY_CODES)
      .filter((code) => byCode[code].length)
      .map((code) => `\n\n${code} (first 3 of ${byCode[code].length}):\n\n${examples(byCode[code].map((o) => o.pair), 3)}`)
      .join('') +
    (events.X.length ? `\n\nTimeouts:\n\n${events.X.slice(0, 10).map((l) => `- ${l}`).join('\n')}` : '') +
    (unexpected.length ? `\n\nUnexpected ends:\n\n${unexpected.slice(0, 10).map((l) => `- ${l}`).join('\n')}` : '')
  return { ok, text }
}

module.exports = {
  title: 'Lock stress: native, js and legacy-format holders, 2 % SIGKILLed while holding',
  async run() {
    // First our holders alone: every overlap is a double grant. Then with legacy writers:
    // overlaps of two of ours whose records stayed intact are still double grants; the rest
    // is the legacy protocol's doing, classified.
    const oursOnly = SLOTS.filter((kind) => kind !== 'legacy')
    const alone = await stress(oursOnly)
    const mixed = await stress(SLOTS)
    return {
      ok: alone.ok && mixed.ok,
      text: `### Our holders only\n\n${alone.text}\n\n### With legacy writers\n\n${mixed.text}`,
    }
  },
}
