'use strict'
// Ages to the millisecond, on a clock the test holds still (Date.now, in this process): which
// side of an age limit a file exactly that old falls on. The files, their times and the calls
// are real; only "now" is the test's, so that "exactly as old as the limit" can be made at all.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test, tempDir, baseStore } = require('./helpers')
const js = require('../lib/backend').resolveBackend('js').binding

/** Run `fn` (and await it) with Date.now() answering `ms`. */
async function at(ms, fn) {
  const now = Date.now
  Date.now = () => ms
  try {
    return await fn()
  } finally {
    Date.now = now
  }
}

/** Give `file` the modification time `seconds` (whole seconds: exact in milliseconds too). */
const touch = (file, seconds) => fs.utimesSync(file, seconds, seconds)

test('cleanupOldBackups removes a backup older than maxAge and keeps one exactly maxAge old (JS backend, the clock held)', async () => {
  const dir = tempDir('sr-age-')
  const backupDir = path.join(dir, 'backups')
  const file = path.join(dir, 'tracker.json')
  fs.writeFileSync(file, '{}\n')
  const backup = js.backupFile(file, 'age', { backupDir })
  const mtime = 1_700_000_000
  touch(backup, mtime)
  const maxAge = 60_000
  assert.equal(
    await at(mtime * 1000 + maxAge, () => js.cleanupOldBackups(maxAge, { backupDir })),
    0,
  )
  assert.ok(fs.existsSync(backup), 'exactly maxAge old: kept')
  assert.equal(
    await at(mtime * 1000 + maxAge + 1, () => js.cleanupOldBackups(maxAge, { backupDir })),
    1,
  )
  assert.ok(!fs.existsSync(backup), 'a millisecond older: removed')
})

test('gc removes a pack without an index once it is GRACE old, to the second, and keeps it a millisecond before (JS backend, the clock held)', async () => {
  const { GRACE } = require('../lib/js/store/gc')
  const { store } = await baseStore(tempDir('sr-age-'), 'js')
  const orphan = path.join(store, 'packs', `${'0'.repeat(64)}.pack`)
  fs.writeFileSync(orphan, 'partial', { mode: 0o600 })
  const mtime = 1_700_000_000
  touch(orphan, mtime)
  await at((mtime + GRACE) * 1000 - 1, () => js.storeGc(store))
  assert.ok(fs.existsSync(orphan), 'a millisecond younger than GRACE: kept')
  const gc = await at((mtime + GRACE) * 1000, () => js.storeGc(store))
  assert.ok(!fs.existsSync(orphan), 'exactly GRACE old: removed')
  assert.equal(gc.removedBytes, 'partial'.length)
})
