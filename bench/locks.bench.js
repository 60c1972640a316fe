'use strict'
// Locks, side by side in one run: session-resilience (native and js backends) against the
// npm packages `lockfile` and `proper-lockfile`.
//   1. uncontended acquire+release pairs/s (sync APIs, in process);
//   2. handoff latency (median over rounds) and the waiter's CPU while another process
//      holds the lock for 3 s; recovery time after SIGKILL of the holder (and, for ours,
//      of a legacy-format holder: a plain JSON file and a live, then killed, pid);
//   3. wall time of 8 processes doing locked read-increment-write cycles on one counter.
// The peers wait with their own retry loops: lockfile `{ wait, pollPeriod: 50, stale: 10000 }`,
// proper-lockfile `{ stale: 10000, retries: { forever, minTimeout: 50, maxTimeout: 50 } }`
// (their documented knobs; a shorter period costs them CPU, a shorter stale risks breaking
// live locks, since neither can tell a dead holder from a slow one).
// This file is also the child process of its own measurements (`node locks.bench.js child ...`).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { opsPerSec, table, fmt } = require('./util')

const LIBS = ['native', 'js', 'lockfile', 'proper-lockfile']
const now = () => performance.timeOrigin + performance.now()
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// ---- one API over the four libraries -----------------------------------------------------

function driver(lib, dir) {
  if (lib === 'native' || lib === 'js') {
    const { SafeFileOperations } = require('../lib/safe-file-operations')
    const o = new SafeFileOperations({ backend: lib, lockDir: dir })
    return {
      acquireSync: (id) => o.acquireLock(id, 60000),
      releaseSync: (id) => o.releaseLock(id),
      acquire: async (id) => o.acquireLock(id, 60000),
      release: async (id) => o.releaseLock(id),
    }
  }
  if (lib === 'lockfile') {
    const lf = require('lockfile')
    const file = (id) => path.join(dir, `${id}.lock`)
    return {
      acquireSync: (id) => lf.lockSync(file(id)),
      releaseSync: (id) => lf.unlockSync(file(id)),
      acquire: (id) =>
        new Promise((resolve, reject) =>
          lf.lock(file(id), { wait: 600000, pollPeriod: 50, stale: 10000 }, (err) => (err ? reject(err) : resolve())),
        ),
      release: async (id) => lf.unlockSync(file(id)),
    }
  }
  const pl = require('proper-lockfile')
  const releases = new Map()
  const target = (id) => {
    const f = path.join(dir, id)
    if (!fs.existsSync(f)) fs.writeFileSync(f, '')
    return f
  }
  return {
    acquireSync: (id) => releases.set(id, pl.lockSync(target(id))),
    releaseSync: (id) => releases.get(id)(),
    acquire: async (id) =>
      releases.set(id, await pl.lock(target(id), { stale: 10000, retries: { forever: true, factor: 1, minTimeout: 50, maxTimeout: 50 } })),
    release: (id) => releases.get(id)(),
  }
}

// ---- child roles -------------------------------------------------------------------------

async function child([role, lib, dir, ...rest]) {
  const d = lib === 'legacy' ? null : driver(lib, dir)
  if (role === 'hold') {
    // Rounds in turn with the waiter: <dir>/held-<k> says "I hold it, start waiting",
    // <dir>/taken-<k> says "the waiter got it": only then may the holder take it again.
    const holds = rest[0].split(',').map(Number)
    for (const [k, hold] of holds.entries()) {
      while (k > 0 && !fs.existsSync(path.join(dir, `taken-${k - 1}`))) await sleep(2)
      await d.acquire('bench')
      fs.writeFileSync(path.join(dir, `held-${k}`), '')
      console.log('held')
      await sleep(hold)
      const t = now()
      await d.release('bench')
      console.log(`released ${t}`)
    }
    setInterval(() => {}, 1000) // stay until killed (recovery runs kill it while it holds)
  } else if (role === 'legacy-hold') {
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, 'bench.lock'), JSON.stringify({ pid: process.pid, timestamp: new Date().toISOString(), identifier: 'bench' }, null, 2))
    fs.writeFileSync(path.join(dir, 'held-0'), '')
    console.log('held')
    setInterval(() => {}, 1000)
  } else if (role === 'wait') {
    console.warn = () => {} // "Removing stale lock ..." is expected in the recovery runs
    const w = d
    for (let k = 0; k < Number(rest[0]); k++) {
      while (!fs.existsSync(path.join(dir, `held-${k}`))) await sleep(2)
      const cpu0 = process.cpuUsage()
      await w.acquire('bench')
      const t = now()
      const cpu = process.cpuUsage(cpu0)
      console.log(JSON.stringify({ t, cpu: (cpu.user + cpu.system) / 1e6 }))
      await w.release('bench')
      fs.writeFileSync(path.join(dir, `taken-${k}`), '')
    }
    process.exit(0)
  } else if (role === 'count') {
    const [counter, cycles] = rest
    for (let i = 0; i < Number(cycles); i++) {
      await d.acquire('counter')
      fs.writeFileSync(counter, String(Number(fs.readFileSync(counter, 'utf8')) + 1))
      await d.release('counter')
    }
  }
}

function spawnChild(args) {
  const c = spawn(process.execPath, [__filename, 'child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  c.lines = []
  let buf = ''
  c.stdout.on('data', (d) => {
    buf += d
    const parts = buf.split('\n')
    buf = parts.pop()
    for (const line of parts) {
      c.lines.push(line)
      c.emit('line', line)
    }
  })
  c.done = new Promise((resolve) => c.on('exit', resolve))
  return c
}

const lineMatching = (c, re) =>
  new Promise((resolve) => {
    const found = c.lines.find((l) => re.test(l))
    if (found) return resolve(found)
    const on = (l) => {
      if (!re.test(l)) return
      c.off('line', on)
      resolve(l)
    }
    c.on('line', on)
  })

const freshDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sr-lockbench-'))
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// ---- measurements ------------------------------------------------------------------------

function uncontended(lib) {
  const d = driver(lib, freshDir())
  return opsPerSec(() => {
    d.acquireSync('u')
    d.releaseSync('u')
  }, 2000)
}

/** Holder holds 3 s then `rounds` x 100 ms; the waiter's handoffs and CPU in the 3 s wait. */
async function handoff(lib, rounds = 15) {
  const dir = freshDir()
  // 100 to 150 ms holds, so no poll period can stay in phase with the releases.
  const holds = [3000, ...Array.from({ length: rounds }, (_, k) => 100 + ((k * 37) % 50))]
  const holder = spawnChild(['hold', lib, dir, holds.join(',')])
  await lineMatching(holder, /^held$/)
  const waiter = spawnChild(['wait', lib, dir, String(rounds + 1)])
  await waiter.done
  holder.kill('SIGKILL')
  const released = holder.lines.filter((l) => l.startsWith('released ')).map((l) => Number(l.split(' ')[1]))
  const got = waiter.lines.map((l) => JSON.parse(l))
  const gaps = got.map((g, i) => g.t - released[i]).filter((x) => Number.isFinite(x))
  return { median: median(gaps), max: Math.max(...gaps), cpu: got[0].cpu, rounds: gaps.length }
}

/** ms from SIGKILL of a holder (ours, or a legacy-format one) to the waiter holding. */
async function recovery(lib, holderKind = lib) {
  const dir = freshDir()
  const holder = spawnChild([holderKind === 'legacy' ? 'legacy-hold' : 'hold', holderKind, dir, '600000'])
  await lineMatching(holder, /^held$/)
  const waiter = spawnChild(['wait', lib, dir, '1'])
  await sleep(300) // the waiter is waiting
  const killed = now()
  holder.kill('SIGKILL')
  await waiter.done
  return JSON.parse(waiter.lines[0]).t - killed
}

async function contention(lib, procs, cycles) {
  const dir = freshDir()
  const counter = path.join(dir, 'counter')
  fs.writeFileSync(counter, '0')
  const start = performance.now()
  const kids = Array.from({ length: procs }, () => spawnChild(['count', lib, dir, counter, String(cycles)]))
  await Promise.all(kids.map((k) => k.done))
  return { wall: (performance.now() - start) / 1000, count: Number(fs.readFileSync(counter, 'utf8')) }
}

async function main() {
  const rows1 = LIBS.map((lib) => [lib, fmt(uncontended(lib))])
  const fastestPeer = Math.max(...rows1.slice(2).map((r) => Number(r[1].replace(/,/g, ''))))
  const ours = Number(rows1[0][1].replace(/,/g, ''))

  const rows2 = []
  for (const lib of LIBS) {
    const h = await handoff(lib)
    const r = await recovery(lib)
    const legacy = lib === 'native' || lib === 'js' ? fmt(await recovery(lib, 'legacy'), 1) : 'n/a'
    rows2.push([lib, fmt(h.median, 2), fmt(h.max, 2), fmt(h.cpu, 3), fmt(r, 1), legacy])
  }

  const rows3 = []
  for (const [lib, cycles] of [['native', 500], ['js', 500], ['native', 100], ['js', 100], ['lockfile', 100], ['proper-lockfile', 100]]) {
    const c = await contention(lib, 8, cycles)
    rows3.push([lib, `8 x ${cycles}`, fmt(c.wall, 2), `${c.count} / ${8 * cycles}`])
  }

  console.log('## Locks\n')
  console.log('Uncontended acquire + release, sync API, one process:\n')
  console.log(table(['library', 'pairs/s'], rows1))
  console.log(`\nnative / fastest peer: ${fmt(ours / fastestPeer, 2)}x\n`)
  console.log('Another process holds the lock for 3 s, then 15 rounds of 100-150 ms; the waiter is a separate process:\n')
  console.log(
    table(['library', 'median handoff (ms)', 'max handoff (ms)', 'waiter CPU in the 3 s wait (s)', 'recovery after SIGKILL of the holder (ms)', 'recovery from a legacy-format holder (ms)'], rows2),
  )
  console.log('\n8 processes doing locked read-increment-write cycles on one counter file:\n')
  console.log(table(['library', 'processes x cycles', 'wall (s)', 'final count / expected'], rows3))
  console.log('')
}

if (process.argv[2] === 'child') child(process.argv.slice(3))
else main()
