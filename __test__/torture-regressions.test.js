'use strict'
// Regression tests for what the torture suite (torture/) found, on both backends.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { eachBackend } = require('./helpers')
const { SafeFileOperations } = require('../lib/safe-file-operations')

test('a lock identifier with an unpaired surrogate (lossy as UTF-8) is refused, and creates nothing', async (t) => {
  await eachBackend(t, ({ backend, dir }) => {
    const ops = new SafeFileOperations({ backend, lockDir: path.join(dir, 'locks') })
    for (const id of ['\ud800bad', 'bad\udc00', '\ufffdbad', 'x\udbff']) {
      assert.throws(() => ops.acquireLock(id, 100), { code: 'EBADLOCKID' }, JSON.stringify(id))
      assert.throws(() => ops.releaseLock(id), { code: 'EBADLOCKID' })
      assert.throws(() => ops.getLockInfo(id), { code: 'EBADLOCKID' })
    }
    // a well-formed pair is an ordinary character
    const p = ops.acquireLock('emoji-\ud83d\ude00', 100)
    assert.equal(path.basename(p), 'emoji-😀.lock')
    assert.equal(ops.releaseLock('emoji-\ud83d\ude00'), true)
    assert.deepEqual(fs.readdirSync(path.join(dir, 'locks')), [])
  })
})
