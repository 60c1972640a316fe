'use strict'
// The JS lock's wait schedule, step by step, on a clock the test moves: how long a waiter
// sleeps between looks, how often it judges the holder, and where it stops. The lock, its
// holder (a live process) and every file read are real; only time is the test's: the clock
// (performance.now) moves by exactly what the waiter asks to sleep (Atomics.wait, which then
// returns at once). Nothing here measures time: the schedule is asserted as the values the
// waiter computes.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test, tempDir, spawnNode, waitForLine, ROOT } = require('./helpers')
const { acquireLock } = require('../lib/js/lock')
const { optionsOf, ADAPTIVE } = require('../lib/js/lock/options')

// the test's own reads, which the count of judgements leaves out
const readUncounted = fs.readFileSync

/** A live process holding lock `id` in `lockDir` (the JS backend's own acquisition). */
async function holder(t, lockDir, id) {
  const script = `require(${JSON.stringify(path.join(ROOT, 'lib/js/lock'))}).acquireLock(${JSON.stringify(id)}, 1000, { lockDir: ${JSON.stringify(lockDir)} }); console.log('held'); setInterval(() => {}, 1000)`
  const child = spawnNode(script, { t })
  await waitForLine(child, /^held$/)
  return child
}

/**
 * Wait for the lock held by `pid` with the clock starting at `start`: the sleeps asked (with the
 * clock when each was asked), the clock at each judgement of the holder (its /proc/<pid>/stat
 * read), and the error or result the wait ended with. `onSleep(clock)` may act between sleeps.
 */
function waitOnClock({ start, timeout, lockDir, id, pid, onSleep = () => {} }) {
  const sleeps = []
  const judgements = []
  let clock = start
  const saved = { now: performance.now, wait: Atomics.wait, read: fs.readFileSync }
  performance.now = () => clock
  Atomics.wait = (_cell, _index, _value, msec) => {
    if (!(msec > 0) || sleeps.length > 100_000) throw new Error(`a sleep of ${msec} ms at ${clock}`)
    sleeps.push({ at: clock, msec })
    clock += msec
    onSleep(clock)
    return 'timed-out'
  }
  fs.readFileSync = function (file, ...rest) {
    if (file === `/proc/${pid}/stat`) judgements.push(clock)
    return saved.read.call(this, file, ...rest)
  }
  try {
    return { sleeps, judgements, result: acquireLock(id, timeout, { lockDir }), end: clock }
  } catch (err) {
    return { sleeps, judgements, error: err.code, end: clock }
  } finally {
    performance.now = saved.now
    Atomics.wait = saved.wait
    fs.readFileSync = saved.read
  }
}

/** The least time between two judgements, judged `elapsed` ms into the wait. */
const judgeEvery = (elapsed) => Math.min(100, Math.max(25, elapsed / 10))

for (const start of [0, 5000]) {
  test(`a waiter sleeps 0.1 ms first, doubling to 2 ms, then up to elapsed/50 ms and 20 ms at most, and stops on its deadline exactly (the clock from ${start} ms)`, async (t) => {
    const lockDir = tempDir('sr-schedule-')
    const child = await holder(t, lockDir, 'sched')
    const w = waitOnClock({ start, timeout: 2000, lockDir, id: 'sched', pid: child.pid })
    assert.equal(w.error, 'ELOCKTIMEOUT')
    const msecs = w.sleeps.map((s) => s.msec)
    assert.deepEqual(msecs.slice(0, 6), [0.1, 0.2, 0.4, 0.8, 1.6, 2])
    for (const s of w.sleeps.slice(0, -1)) {
      const elapsed = s.at - start
      const cap = Math.min(20, Math.max(2, elapsed / 50))
      assert.ok(s.msec <= cap + 1e-9, `${s.msec} ms at ${elapsed} ms: at most ${cap}`)
      if (elapsed > 1100) assert.equal(s.msec, 20, `at ${elapsed} ms`)
    }
    // the last sleep ends on the deadline, and the wait ends there
    assert.ok(Math.abs(w.end - (start + 2000)) < 1e-6, `ended at ${w.end - start} ms`)
  })

  test(`a waiter judges its holder at once, then every 25 ms, elapsed/10 ms later on, 100 ms at most; a holder that dies is seen at the next judgement (the clock from ${start} ms)`, async (t) => {
    const lockDir = tempDir('sr-schedule-')
    const child = await holder(t, lockDir, 'judge')
    const w = waitOnClock({ start, timeout: 2000, lockDir, id: 'judge', pid: child.pid })
    assert.equal(w.error, 'ELOCKTIMEOUT')
    assert.equal(w.judgements[0], start, 'the first judgement is due at once')
    for (let i = 1; i < w.judgements.length; i++) {
      const gap = w.judgements[i] - w.judgements[i - 1]
      const least = judgeEvery(w.judgements[i - 1] - start)
      // the next look after the judgement is due: at most one sleep (20 ms) late
      assert.ok(gap >= least - 1e-9 && gap < least + 20, `judgement ${i}: ${gap} ms after the last, due after ${least}`)
    }
    // the holder dies 700 ms in: the waiter takes the lock at its next judgement, not before
    const dying = await holder(t, lockDir, 'dies')
    let killedAt = null
    const onSleep = (clock) => {
      if (killedAt !== null || clock - start < 700) return
      killedAt = clock
      dying.kill('SIGKILL')
      // a zombie until this process reaps it: dead to /proc from now on
      while (!/\) [ZX] /.test(readUncounted(`/proc/${dying.pid}/stat`, 'utf8'))) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
    }
    const d = waitOnClock({ start, timeout: 2000, lockDir, id: 'dies', pid: dying.pid, onSleep })
    assert.deepEqual(d.result.brokenPids, [dying.pid])
    const after = d.judgements.filter((at) => at >= killedAt)
    assert.equal(after.length, 1, 'taken at the first judgement after the death')
    assert.equal(d.end, after[0])
    assert.ok(after[0] - d.judgements[d.judgements.length - 2] >= judgeEvery(d.judgements[d.judgements.length - 2] - start) - 1e-9)
  })
}

test('pollMs fixes the longest sleep: a positive number (0.1 ms at least) from 0.1 ms or less; anything else is the adaptive sleep', () => {
  const of = (pollMs) => {
    const o = optionsOf(100, { pollMs })
    return [o.pollMin, o.pollMax]
  }
  assert.deepEqual(of(5), [0.1, 5])
  assert.deepEqual(of(0.05), [0.1, 0.1])
  assert.deepEqual(of(0.1), [0.1, 0.1])
  for (const notPositive of [0, -1, '5', null, undefined, Number.NaN]) assert.deepEqual(of(notPositive), [0.1, ADAPTIVE], String(notPositive))
})

test('a lock token is <pid>-<clock>-<counter> in hex, its clock part past the epoch time now in nanoseconds, so that a token outlives a reboot unrepeated', () => {
  const { newToken } = require('../lib/js/lock/record')
  const before = BigInt(Date.now()) * 1_000_000n
  const tokens = [newToken(), newToken()]
  for (const token of tokens) {
    const parts = token.split('-')
    assert.equal(parts.length, 3, token)
    assert.ok(parts.every((p) => /^[0-9a-f]+$/.test(p)), token)
    assert.equal(Number.parseInt(parts[0], 16), process.pid)
    assert.ok(BigInt(`0x${parts[1]}`) >= before, `${token}: its clock part is before the epoch time now`)
  }
  assert.notEqual(tokens[0], tokens[1])
})
