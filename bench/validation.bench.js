'use strict'
// validation-helpers: validateTrackerSchema (in memory) and repairTracker (file level) on
// the real tracker and on a generated ~5 MB tracker, native against js, side by side.
// In memory, the native backend pays for crossing into Rust: the JSON.stringify snapshot,
// the Rust parse, and replaying the repairs on the JS object; the "snapshot only" row
// measures that conversion alone.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { ValidationHelpers } = require('../lib/validation-helpers')
const { realTracker, bigTracker } = require('../__test__/validation-corpus')
const { opsPerSec, table, fmt } = require('./util')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-bench-validation-'))
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))

const backupDir = path.join(dir, 'backups')
const backends = { native: new ValidationHelpers({ backend: 'native', backupDir }), js: new ValidationHelpers({ backend: 'js', backupDir }) }
const inputs = { 'real tracker (8 KB)': realTracker(), 'generated tracker': bigTracker(5 * 1024 * 1024) }
const { quietly: quiet } = require('../lib/cli')

const rows = []
for (const [label, tracker] of Object.entries(inputs)) {
  const text = JSON.stringify(tracker, null, 2)
  const size = `${fmt(text.length / 1024, 0)} KiB`
  const file = path.join(dir, `${rows.length}.json`)
  fs.writeFileSync(file, text)
  const source = `${file}.source`
  const target = `${file}.target`
  fs.writeFileSync(source, text)
  const ms = Math.max(1500, Math.min(3000, text.length / 1000))
  const per = {}
  for (const [name, h] of Object.entries(backends)) {
    const copy = structuredClone(tracker)
    per[name] = {
      validate: opsPerSec(() => h.validateTrackerSchema(copy, false), ms),
      repairMem: opsPerSec(() => h.validateTrackerSchema(copy, true), ms),
      repairFile: opsPerSec(() => quiet(() => h.repairTracker(file)), ms),
      // The CLI's validate: read, strict parse, validate; natively no JS object is built.
      validateFile: opsPerSec(() => h.validateTrackerFile(file), ms),
      // The CLI's repair of a tracker that needs one (phase1 has no title): parse, repair,
      // back up, write. The file is restored and the backups removed each time, on both.
      cliRepair: opsPerSec(() => {
        fs.copyFileSync(source, target)
        quiet(() => h.repairTrackerFile(target))
        fs.rmSync(backupDir, { recursive: true, force: true })
      }, ms),
    }
  }
  const snapshot = opsPerSec(() => JSON.parse(JSON.stringify(tracker)), ms)
  const ratio = (key) => `${fmt(per.native[key] / per.js[key], 2)}x`
  rows.push([label, size, 'validateTrackerSchema(t, false), in memory', fmt(per.native.validate, 1), fmt(per.js.validate, 1), ratio('validate')])
  rows.push([label, size, 'validateTrackerSchema(t), in memory', fmt(per.native.repairMem, 1), fmt(per.js.repairMem, 1), ratio('repairMem')])
  rows.push([label, size, 'repairTracker(path), file level', fmt(per.native.repairFile, 1), fmt(per.js.repairFile, 1), ratio('repairFile')])
  rows.push([label, size, 'CLI validate: validateTrackerFile(path), file level', fmt(per.native.validateFile, 1), fmt(per.js.validateFile, 1), ratio('validateFile')])
  rows.push([label, size, 'CLI repair: repairTrackerFile(path) (parse, repair, backup, write)', fmt(per.native.cliRepair, 1), fmt(per.js.cliRepair, 1), ratio('cliRepair')])
  rows.push([label, size, 'conversion alone: JSON.parse(JSON.stringify(t))', '', fmt(snapshot, 1), ''])
}

console.log('## validation-helpers\n')
console.log(table(['input', 'size', 'operation', 'native ops/s', 'js ops/s', 'native / js'], rows))
console.log('\nnative / js > 1 means the native backend is faster.\n')
