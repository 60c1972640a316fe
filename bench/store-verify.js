'use strict'
// Verify throughput (issue 14: "verify all 100: each chunk hashed once, >= 0.8 x b3sum"):
// `storeVerify` of a snapshot store, native and JS backends, default (packs hashed whole by
// their digests) and `deep` (every chunk inflated and hashed), each in a child process
// (process start included; the time inside the call is reported beside it), against `b3sum` and `sha256sum` over the same pack (and loose
// chunk) files (what verify reads), and `b3sum` over the same plain bytes (every distinct chunk decoded into a
// file of its own: what verify hashes). Each is run RUNS times in turn (ours, then the
// tools), and the medians are reported with the machine's load average before and after.
// bench/snapshot.bench.js runs it on its store of 103 snapshots; standalone:
// `node bench/store-verify.js <store folder> [runs]`.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { measureCommand, runBackend, fmt } = require('./util')
const { decode } = require('../lib/js/store/format')
const { Chunks } = require('../lib/js/store/pack')

const has = (cmd) => spawnSync(cmd, ['--version']).status === 0
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const mib = (bytes) => bytes / 1048576
const load = () => os.loadavg()[0].toFixed(1)

/** The files that hold the store's chunks (its packs, and loose chunk files of format 2), and their total size. */
function chunkFiles(store) {
  const index = new Chunks(store).load()
  const files = [...index.packs.map((p) => path.join(store, 'packs', `${p.name}.pack`)), ...index.loose.map((id) => path.join(store, 'chunks', id.slice(0, 2), id))]
  const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0)
  return { files, bytes }
}

/** Each chunk's plain bytes written to `dir/<hh>/<id>`; their total size. */
function plainCopy(store, dir) {
  const chunks = new Chunks(store)
  let bytes = 0
  for (const id of chunks.list()) {
    const data = decode(id, chunks.getRaw(id))
    fs.mkdirSync(path.join(dir, id.slice(0, 2)), { recursive: true })
    fs.writeFileSync(path.join(dir, id.slice(0, 2), id), data)
    bytes += data.length
  }
  return bytes
}

/** `tool` over every file named (NUL-separated) in the file `list`, as one command line. */
const hashList = (tool, list) => measureCommand('sh', ['-c', `xargs -0 -a ${JSON.stringify(list)} ${tool} > /dev/null`])

/** `tool` over every file below `dir`, as one command line (find | xargs). */
const hashAll = (tool, dir) => measureCommand('sh', ['-c', `find ${JSON.stringify(dir)} -type f -print0 | xargs -0 ${tool} > /dev/null`])

/** The lines (markdown list items) that report the measures, and the native peak RSS. */
function measureVerify(store, runs = 5, jsRuns = 3) {
  const { files, bytes: chunkBytes } = chunkFiles(store)
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-bench-verify-'))
  const list = path.join(scratch, 'files')
  fs.writeFileSync(list, files.join('\0'))
  try {
    const plainBytes = plainCopy(store, path.join(scratch, 'plain'))
    const tools = ['b3sum', 'sha256sum'].filter(has)
    const loadBefore = load()
    const runsOf = { native: [], nativeDeep: [], js: [], jsDeep: [], b3sumChunks: [], sha256sumChunks: [], b3sumPlain: [] }
    // the call timed inside the child too (`out.inside`, seconds): process start and addon load apart
    const verify = (options) =>
      `const t = performance.now(); const r = await b.storeVerify(${JSON.stringify(store)}, null, ${JSON.stringify(options)}); return { ...r, inside: (performance.now() - t) / 1000 }`
    for (let i = 0; i < runs; i++) {
      runsOf.native.push(runBackend('native', verify({})))
      runsOf.nativeDeep.push(runBackend('native', verify({ deep: true })))
      if (i < jsRuns) {
        runsOf.js.push(runBackend('js', verify({})))
        runsOf.jsDeep.push(runBackend('js', verify({ deep: true })))
      }
      for (const tool of tools) runsOf[`${tool}Chunks`].push(hashList(tool, list))
      if (tools.includes('b3sum')) runsOf.b3sumPlain.push(hashAll('b3sum', path.join(scratch, 'plain')))
    }
    const loadAfter = load()
    const wall = (name) => median(runsOf[name].map((r) => r.wall))
    const cpu = (name) => median(runsOf[name].map((r) => r.cpu))
    const v = runsOf.native[0].out
    for (const r of [...runsOf.native, ...runsOf.nativeDeep, ...runsOf.js, ...runsOf.jsDeep]) {
      if (!r.out.ok || r.out.chunks !== v.chunks || r.out.bytes !== v.bytes) throw new Error(`verify disagrees: ${JSON.stringify(r.out)}`)
    }
    const peak = (name) => Math.max(...runsOf[name].map((r) => r.peakKiB))
    const inside = (name) => median(runsOf[name].map((r) => r.out.inside))
    const how = (name) => {
      const o = runsOf[name][0].out
      return `${o.packs} packs hashed whole, ${o.chunksHashed} chunks hashed alone`
    }
    const ours = (name) =>
      `${fmt(wall(name), 2)} s (inside the call ${fmt(inside(name), 3)} s; CPU ${fmt(cpu(name), 2)} s, peak ${fmt(peak(name) / 1024, 0)} MiB): ${fmt(mib(chunkBytes) / wall(name), 0)} MiB/s of pack and chunk files (${fmt(mib(chunkBytes) / inside(name), 0)} inside the call); ${how(name)}`
    const lines = [
      `- verify all ${v.snapshots} snapshots, ${v.chunks} distinct chunks (${fmt(mib(chunkBytes), 0)} MiB of pack and chunk files, ${fmt(mib(plainBytes), 0)} MiB plain), medians of ${runs} runs taken in turn (JS ${jsRuns}), load ${loadBefore} before, ${loadAfter} after; every run ok, the same chunks and bytes:`,
      `  - native: ${ours('native')}`,
      `  - native, deep: ${ours('nativeDeep')}`,
      `  - JS: ${ours('js')}`,
      `  - JS, deep: ${ours('jsDeep')}`,
    ]
    if (tools.includes('b3sum')) {
      const b3c = wall('b3sumChunks')
      const b3p = wall('b3sumPlain')
      lines.push(
        `  - \`b3sum\` over the pack and chunk files: ${fmt(b3c, 2)} s (${fmt(mib(chunkBytes) / b3c, 0)} MiB/s); native verify ${fmt(b3c / wall('native'), 2)} x its throughput (the issue's measure; ${fmt(b3c / inside('native'), 2)} x inside the call), deep ${fmt(b3c / wall('nativeDeep'), 2)} x, JS ${fmt(b3c / wall('js'), 2)} x`,
        `  - \`b3sum\` over the same plain bytes (each chunk decoded to a file): ${fmt(b3p, 2)} s (${fmt(mib(plainBytes) / b3p, 0)} MiB/s); native deep verify hashes plain bytes at ${fmt(b3p / wall('nativeDeep'), 2)} x its rate, after inflating them`,
      )
    } else lines.push('  - `b3sum` not installed: no comparison')
    if (tools.includes('sha256sum')) lines.push(`  - \`sha256sum\` over the pack and chunk files: ${fmt(wall('sha256sumChunks'), 2)} s`)
    return { lines, nativePeakKiB: Math.max(peak('native'), peak('nativeDeep')) }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

if (require.main === module) {
  const [store, runs] = process.argv.slice(2)
  if (!store) {
    console.error('usage: node bench/store-verify.js <store folder> [runs]')
    process.exitCode = 2
  } else for (const line of measureVerify(path.resolve(store), Number(runs) || 5).lines) console.log(line)
}

module.exports = { measureVerify }
