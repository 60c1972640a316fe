'use strict'
// Safe file operations: atomicWrite ops/s on an 8 KB JSON document (native and js backends,
// fsync on and off) beside the npm package write-file-atomic; verifyChecksum throughput and
// peak RSS on a 1 GiB file beside `openssl dgst -sha256`.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const writeFileAtomic = require('write-file-atomic')
const { SafeFileOperations } = require('../lib/safe-file-operations')
const { opsPerSec, measureCommand, table, fmt } = require('./util')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-bench-fsx-'))
const doc = JSON.stringify({ items: Array.from({ length: 160 }, (_, i) => ({ id: i, name: `component-${i}`, ok: true })) })
const data = doc.padEnd(8192, ' ')

// The legacy algorithm as the contract describes it (backup copy, temp write, read-back
// compare, rename, delete the backup; no fsync), re-enacted for reference.
function legacyAtomicWrite(filePath, content) {
  const backup = path.join(dir, `${path.basename(filePath)}.${Date.now()}.bak`)
  if (fs.existsSync(filePath)) fs.copyFileSync(filePath, backup)
  const temp = `${filePath}.tmp.${Date.now()}.${process.pid}`
  fs.writeFileSync(temp, content, 'utf8')
  if (fs.readFileSync(temp, 'utf8') !== content) throw new Error('verify failed')
  fs.renameSync(temp, filePath)
  if (fs.existsSync(backup)) fs.unlinkSync(backup)
  return true
}

function writers() {
  const native = new SafeFileOperations({ backend: 'native' })
  const js = new SafeFileOperations({ backend: 'js' })
  const target = (name) => path.join(dir, `${name}.json`)
  return [
    ['native atomicWrite, fsync', () => native.atomicWrite(target('n1'), data)],
    ['write-file-atomic sync, fsync', () => writeFileAtomic.sync(target('w1'), data)],
    ['js backend atomicWrite, fsync', () => js.atomicWrite(target('j1'), data)],
    ['native atomicWrite, no fsync', () => native.atomicWrite(target('n2'), data, { fsync: false })],
    ['write-file-atomic sync, no fsync', () => writeFileAtomic.sync(target('w2'), data, { fsync: false })],
    ['js backend atomicWrite, no fsync', () => js.atomicWrite(target('j2'), data, { fsync: false })],
    ['legacy algorithm (re-enacted), no fsync', () => legacyAtomicWrite(target('l2'), data)],
  ]
}

function atomicWriteTable() {
  const rows = writers().map(([name, fn]) => [name, fmt(opsPerSec(fn, 3000))])
  return `## atomicWrite, 8 KB JSON document\n\n${table(['writer', 'ops/s'], rows)}\n`
}

function makeBigFile(file, bytes) {
  const chunk = Buffer.alloc(8 * 1024 * 1024)
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24
  const fd = fs.openSync(file, 'w')
  for (let written = 0; written < bytes; written += chunk.length) fs.writeSync(fd, chunk)
  fs.closeSync(fd)
}

function checksumTable() {
  const size = 1024 ** 3
  const file = path.join(dir, 'big.bin')
  makeBigFile(file, size)
  spawnSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] }) // warm the page cache
  const lib = JSON.stringify(path.join(__dirname, '..', 'lib', 'safe-file-operations'))
  const nodeRun = (backend, body) => [
    process.execPath,
    ['-e', `const {SafeFileOperations}=require(${lib});const o=new SafeFileOperations({backend:'${backend}'});${body}`],
  ]
  const baseline = (backend) => measureCommand(...nodeRun(backend, 'o.verifyChecksum(__filename)')).peakKiB
  const rows = []
  const openssl = measureCommand('openssl', ['dgst', '-sha256', file])
  const reference = size / openssl.wall
  rows.push(['openssl dgst -sha256', fmt(reference / 2 ** 20), '100 %', `${fmt(openssl.peakKiB / 1024, 1)} MiB (whole process)`])
  for (const backend of ['native', 'js']) {
    const base = baseline(backend)
    const start = performance.now()
    const run = measureCommand(...nodeRun(backend, `const r=o.verifyChecksum(${JSON.stringify(file)});if(!r.valid)process.exit(1)`))
    const wall = (performance.now() - start) / 1000
    const mibps = size / wall / 2 ** 20
    rows.push([
      `${backend} verifyChecksum`,
      fmt(mibps),
      `${fmt((100 * mibps * 2 ** 20) / reference)} %`,
      `+${fmt((run.peakKiB - base) / 1024, 1)} MiB over a node process that hashes a tiny file`,
    ])
  }
  fs.unlinkSync(file)
  return `## verifyChecksum, 1 GiB file (page cache warm)\n\n${table(['hasher', 'MiB/s', 'of openssl', 'peak RSS'], rows)}\n\nThroughput includes starting the process (node ≈ 40 ms), which slightly favours openssl.\n`
}

try {
  console.log(atomicWriteTable())
  console.log(checksumTable())
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
