'use strict'
// SIGKILL at random moments of atomicWrite loops, both backends, documents of 1 KB to 4 MB.
// After each kill: the target is one whole document (old or new) that parses; after the next
// write, no temp file remains.
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { BACKENDS, tempDir, table, killAfterReady, requireLib, listing } = require('../lib')

const KILLS_PER_BACKEND = Number(process.env.TORTURE_ATOMIC_KILLS || 500)
// The kill lands this many ms at most after the writer's first line.
const KILL_WINDOW_MS = 120
const SIZES = [1024, 16 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024]

function documents(dir) {
  return SIZES.map((size, i) => {
    const head = JSON.stringify({ doc: i, size })
    const text = `${head.slice(0, -1)},"pad":"${'x'.repeat(Math.max(0, size - head.length - 10))}"}`
    const file = path.join(dir, `doc${i}.json`)
    fs.writeFileSync(file, text)
    return { file, hash: crypto.createHash('sha256').update(text).digest('hex') }
  })
}

const WRITER = `
const fs = require('fs')
const { SafeFileOperations } = ${requireLib('safe-file-operations')}
const ops = new SafeFileOperations({ backend: process.env.SESSION_RESILIENCE_BACKEND })
const [target, ...docs] = process.argv.slice(1)
const texts = docs.map((d) => fs.readFileSync(d, 'utf8'))
process.stdout.write('ready\\n')
for (let i = Math.floor(Math.random() * texts.length); ; i++) ops.atomicWrite(target, texts[i % texts.length])
`

async function tortureBackend(backend) {
  const dir = tempDir(`atomic-${backend}`)
  const docs = documents(dir)
  const known = new Map(docs.map((d, i) => [d.hash, i]))
  const work = path.join(dir, 'work')
  fs.mkdirSync(work)
  const target = path.join(work, 'tracker.json')
  fs.copyFileSync(docs[0].file, target)
  const stats = { kills: 0, whole: 0, torn: 0, tempsLeft: 0, tempsAfterNext: 0, seen: new Set() }
  const { SafeFileOperations } = require('../../lib/safe-file-operations')
  const ops = new SafeFileOperations({ backend })
  for (let i = 0; i < KILLS_PER_BACKEND; i++) {
    const r = await killAfterReady(WRITER, [target, ...docs.map((d) => d.file)], { SESSION_RESILIENCE_BACKEND: backend }, Math.random() * KILL_WINDOW_MS)
    if (r.signal === 'SIGKILL') stats.kills++
    const bytes = fs.readFileSync(target)
    const which = known.get(crypto.createHash('sha256').update(bytes).digest('hex'))
    let parses = true
    try {
      JSON.parse(bytes)
    } catch {
      parses = false
    }
    if (which !== undefined && parses) {
      stats.whole++
      stats.seen.add(which)
    } else stats.torn++
    if (listing(work).length > 1) stats.tempsLeft++
    // the next operation sweeps what the dead writer left
    if (i % 10 === 9) {
      ops.atomicWrite(target, fs.readFileSync(docs[i % docs.length].file))
      if (listing(work).length !== 1) stats.tempsAfterNext++
    }
  }
  fs.rmSync(dir, { recursive: true, force: true })
  return stats
}

module.exports = {
  title: 'Crash consistency: atomicWrite killed at random moments',
  async run() {
    const rows = []
    let ok = true
    for (const backend of BACKENDS) {
      const s = await tortureBackend(backend)
      ok = ok && s.torn === 0 && s.tempsAfterNext === 0 && s.kills === KILLS_PER_BACKEND
      rows.push([backend, s.kills, s.whole, s.torn, `${s.seen.size} of ${SIZES.length}`, s.tempsLeft, s.tempsAfterNext])
    }
    const text =
      `A child process rewrites one file in a loop with documents of ${SIZES.map((s) => `${s / 1024} KB`).join(', ')} ` +
      `and is SIGKILLed 0-${KILL_WINDOW_MS} ms after it starts writing; ${KILLS_PER_BACKEND} kills per backend. After each kill the target ` +
      'is compared with every document; every tenth kill the parent writes once more and checks that no temp file is left.\n\n' +
      table(['backend', 'SIGKILLs', 'target whole and parses', 'torn or unparseable', 'documents seen as survivor', 'kills that left a temp file', 'temps left after the next write'], rows)
    return { ok, text }
  },
}
