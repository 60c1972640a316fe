'use strict'
// Is a pid alive, and since when: lib/js/process.js, which the JS backend judges lock holders,
// claim folders and temp files by. On Linux it reads /proc/<pid>/stat; what a read there can
// answer besides the file is injected with strace, into this test's child alone (-P names the
// one file).

const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const { test, liveProcess, hasCommand, SYNC_CHILD } = require('./helpers')
const { isDead, liveness, ownStartTimeS, startFromUptimeS } = require('../lib/js/process')

test('what is not a positive whole number is no pid: never alive, never dead (a lock record may hold anything)', () => {
  // '1' is pid 1 spelled as text: alive if it were taken as a number, as /proc/1 is
  for (const pid of ['1', '12abc', 1.5, -1, 0, Number.NaN, null, undefined, { pid: 1 }]) {
    assert.deepEqual(liveness(pid), { alive: false }, String(pid))
    assert.equal(isDead(pid), false, String(pid))
  }
  assert.equal(liveness(1).alive, true, 'pid 1 itself is alive')
})

test('a /proc/<pid>/stat that cannot be read (EACCES) says alive with no start time; one whose process exits mid-read (ESRCH) says gone (strace injects each)', { skip: (process.platform !== 'linux' || !hasCommand('strace')) && 'needs strace on Linux' }, (t) => {
  const child = liveProcess(t)
  const stat = `/proc/${child.pid}/stat`
  const seenWith = (call, errno) => {
    const script = `process.stdout.write(JSON.stringify(require(${JSON.stringify(require.resolve('../lib/js/process'))}).liveness(${child.pid})))`
    const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-P', stat, '-e', `trace=${call}`, '-e', `inject=${call}:error=${errno}`, process.execPath, '-e', script], { encoding: 'utf8', ...SYNC_CHILD })
    assert.equal(r.status, 0, r.stderr)
    return JSON.parse(r.stdout)
  }
  assert.deepEqual(seenWith('openat', 'EACCES'), { alive: true, startTimeS: null })
  assert.deepEqual(seenWith('read', 'ESRCH'), { alive: false })
  assert.deepEqual(seenWith('openat', 'ENOENT'), { alive: false })
  // and without a fault, the same child is alive with its start time
  assert.equal(typeof liveness(child.pid).startTimeS, 'number')
})

test('our own start time is the one /proc tells; the clock-less-uptime fallback of the other platforms agrees with it to a second or two', { skip: process.platform !== 'linux' && '/proc on Linux' }, () => {
  // an uptime of 3 s at least, so that adding it instead of taking it away shows (6 s off)
  const wait = 3 - process.uptime()
  if (wait > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait * 1000)
  const fromProc = liveness(process.pid).startTimeS
  assert.equal(ownStartTimeS(), fromProc)
  assert.ok(Math.abs(startFromUptimeS() - fromProc) <= 2, `${startFromUptimeS()} vs ${fromProc}`)
})
