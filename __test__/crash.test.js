'use strict'
// A writer SIGKILLed at random moments of atomicWrite: the target is always one whole
// document, and the temp the dead writer left is swept by the next write.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test, eachBackend, ROOT, spawnChild } = require('./helpers')

const KILLS_PER_BACKEND = 50

function documents() {
  // two distinct 64 KB JSON documents
  const doc = (tag) => JSON.stringify({ tag, items: Array.from({ length: 1400 }, (_, i) => `${tag}-${i}-${'x'.repeat(30)}`) })
  return [doc('A'), doc('B')]
}

const WRITER = `
const { SafeFileOperations } = require(${JSON.stringify(path.join(ROOT, 'lib/safe-file-operations'))})
const ops = new SafeFileOperations({ backend: process.env.SESSION_RESILIENCE_BACKEND })
const [target, a, b] = process.argv.slice(1)
const docs = [require('fs').readFileSync(a, 'utf8'), require('fs').readFileSync(b, 'utf8')]
process.stdout.write('ready\\n')
for (let i = 0; ; i++) ops.atomicWrite(target, docs[i % 2])
`

function killOnce(t, backend, target, a, b) {
  return new Promise((resolve, reject) => {
    const child = spawnChild(process.execPath, ['-e', WRITER, target, a, b], {
      env: { ...process.env, SESSION_RESILIENCE_BACKEND: backend },
      stdio: ['ignore', 'pipe', 'inherit'],
      t,
    })
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), 5 + Math.random() * 60))
    child.on('error', reject)
    child.on('exit', (_code, signal) => resolve(signal))
  })
}

test(`atomicWrite survives ${KILLS_PER_BACKEND} SIGKILLs per backend`, async (t) => {
  await eachBackend(t, async ({ backend, dir, t: st }) => {
    const [docA, docB] = documents()
    const a = path.join(dir, 'a.src')
    const b = path.join(dir, 'b.src')
    fs.writeFileSync(a, docA)
    fs.writeFileSync(b, docB)
    const work = path.join(dir, 'work')
    fs.mkdirSync(work)
    const target = path.join(work, 'tracker.json')
    fs.writeFileSync(target, docA)
    const seen = { A: 0, B: 0 }
    let killed = 0
    for (let i = 0; i < KILLS_PER_BACKEND; i++) {
      const signal = await killOnce(st, backend, target, a, b)
      if (signal === 'SIGKILL') killed++
      const text = fs.readFileSync(target, 'utf8')
      assert.ok(text === docA || text === docB, `after kill ${i} the target is neither document (${text.length} bytes)`)
      seen[JSON.parse(text).tag]++
    }
    assert.equal(killed, KILLS_PER_BACKEND)
    // Both documents were observed: the kills really landed mid-loop.
    assert.ok(seen.A > 0 && seen.B > 0, JSON.stringify(seen))
    // Whatever temps the dead writers left, the next write sweeps them.
    const { SafeFileOperations } = require('../lib/safe-file-operations')
    new SafeFileOperations({ backend }).atomicWrite(target, docB)
    assert.deepEqual(fs.readdirSync(work), ['tracker.json'])
  })
})
