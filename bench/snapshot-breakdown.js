'use strict'
// What one checkpoint of the snapshot bench costs, part by part: a first snapshot of the bench
// workspace (bench/backup.bench.js generates it) into STORE, then N checkpoints with the
// bench's 1 % change, each new chunk classified by what names it (a tree run, a list chunk, the
// database's data, other files' data) as the JS reader reads the tree back.
// Usage: SR_BENCH_WORKSPACE=<workspace> node bench/snapshot-breakdown.js <new store folder> [N=5]
// (BACKEND=js to write with the JS backend; ROOT=<another checkout> to measure its build).
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const ROOT = process.env.ROOT || path.resolve(__dirname, '..')
const WS = process.env.SR_BENCH_WORKSPACE || '/tmp/sr-bench-backup-workspace'
const { changeOnePercent } = require('./util')
const STORE = process.argv[2]
const N = Number(process.argv[3] || 5)
const { binding } = require(path.join(ROOT, 'lib/backend')).resolveBackend(process.env.BACKEND || 'native')
const { Store } = require(path.join(ROOT, 'lib/js/store/format'))
const du = (dir) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0])
if (!STORE) throw new Error('usage: node bench/snapshot-breakdown.js <new store folder> [checkpoints]')
;(async () => {
  const opts = { databases: ['database.sqlite'] }
  let t = process.hrtime.bigint()
  await binding.storeCreateSnapshot(WS, STORE, 's1', opts)
  console.log('first', Number(process.hrtime.bigint() - t) / 1e9, 's', (du(STORE) / 1048576).toFixed(2), 'MiB', 'chunks', Store.open(STORE, false).listChunks().length, 'packs', fs.existsSync(path.join(STORE, 'packs')) ? fs.readdirSync(path.join(STORE, 'packs')).filter((f) => f.endsWith('.pack')).length : 0)
  const s = Store.open(STORE, false)
  const sizeOf = (id) => s.chunkSize(id)
  const roles = (rid) => {
    const rec = s.record(rid)
    const m = new Map()
    const fetch = (id) => { const d = s.get(id); if (!m.has(id)) m.set(id, d.subarray(0, 8).toString() === '{"path":' ? 'treerun' : 'list'); return d }
    for (const e of s.tree(rec, fetch)) for (const c of e.chunks || []) m.set(c, e.path === 'database.sqlite' ? 'db' : 'file')
    return m
  }
  let prev = roles('s1')
  const tot = {}
  for (let i = 0; i < N; i++) {
    changeOnePercent(WS, i + 2)
    const b = du(STORE)
    t = process.hrtime.bigint()
    const r = await binding.storeCreateSnapshot(WS, STORE, `c${i}`, opts)
    const wall = Number(process.hrtime.bigint() - t) / 1e9
    const now = roles(`c${i}`)
    const by = {}
    for (const [id, role] of now) if (!prev.has(id)) by[role] = (by[role] || 0) + sizeOf(id)
    prev = now
    const rec = fs.statSync(path.join(STORE, 'snapshots', `c${i}.json`)).size
    console.log(`c${i} ${wall.toFixed(2)}s du+${((du(STORE) - b) / 1e6).toFixed(3)}MB newBytes ${(r.snapshot.newBytes / 1e6).toFixed(3)} ` + Object.entries(by).map(([k, v]) => `${k} ${(v / 1e6).toFixed(3)}`).join(' ') + ` record ${rec}`)
    for (const [k, v] of Object.entries(by)) tot[k] = (tot[k] || 0) + v
  }
  console.log('avg', Object.entries(tot).map(([k, v]) => `${k} ${(v / N / 1e6).toFixed(3)} MB`).join(' '))
})()
