'use strict'
// A snapshot store no reader may trust: records, store.json and tree lines written by hand, as
// a damaged or crafted store would hold them, read by both backends and the answers compared.
// A tree path is used only when every component is a plain name; a record only when it is of a
// known version, names its own id and has a tree list (a version 1 record no list depth); a
// store only when its store.json names this format, a known version and SHA-256.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { resolveBackend } = require('../lib/backend')
const { test, BACKENDS, tempDir } = require('./helpers')
const { Store, encode, chunkId } = require('../lib/js/store/format')

const binding = (backend) => resolveBackend(backend).binding

/** A store (written by the native backend) with snapshot 'base' of one small file: its paths and base's record. */
async function baseStore(dir) {
  const root = path.join(dir, 'root')
  fs.mkdirSync(root)
  fs.writeFileSync(path.join(root, 'a.txt'), 'alpha\n')
  const store = path.join(dir, 'store')
  await binding('native').storeCreateSnapshot(root, store, 'base')
  const record = JSON.parse(fs.readFileSync(path.join(store, 'snapshots', 'base.json'), 'utf8'))
  return { root, store, record }
}

/** Write a record file by hand (the text as given: it may be no record at all). */
function writeRecord(store, id, value) {
  fs.writeFileSync(path.join(store, 'snapshots', `${id}.json`), typeof value === 'string' ? value : JSON.stringify(value), { mode: 0o600 })
}

/** Put `text` into the store as one tree chunk (a pack of its own): its id. */
function putTree(store, text) {
  const data = Buffer.from(text)
  const s = Store.open(store, true)
  const id = chunkId(data)
  s.put(id, encode(data))
  s.flush()
  return id
}

/** The code a promise rejects with, or 'ok'. */
const codeOf = (promise) => promise.then(
  () => 'ok',
  (err) => err.code,
)

test('tree paths that are not plain relative names are refused by a restore, on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store, record } = await baseStore(dir)
  const paths = ['', 'a\0b', 'a\\b', '.', '..', 'a//b', 'a/./b', 'a/../b', '/abs', 'x/', 'fine/name']
  const ids = paths.map((p, i) => {
    const line = { path: p, type: 'dir', mode: 0o755, size: 0, mtime: [0, 0], ctime: [0, 0], ino: '0' }
    const id = `p${i}`
    writeRecord(store, id, { ...record, id, tree: [putTree(store, `${JSON.stringify(line)}\n`)], files: 0, dirs: 1 })
    return id
  })
  const results = {}
  for (const backend of BACKENDS) {
    results[backend] = []
    for (const id of ids) {
      const out = path.join(dir, `out-${backend}-${id}`)
      fs.mkdirSync(out)
      results[backend].push(await codeOf(binding(backend).storeRestoreSnapshot(store, id, out)))
    }
  }
  assert.deepEqual(results.native, [...paths.slice(0, -1).map(() => 'EPATHESCAPE'), 'ok'])
  assert.deepEqual(results.js, results.native)
  // a path that is no string is refused too, with a code: damage to the native backend (the
  // line is no entry), an escape to the js one (its paths are checked as they are read)
  const line = { path: 7, type: 'dir', mode: 0o755, size: 0, mtime: [0, 0], ctime: [0, 0], ino: '0' }
  writeRecord(store, 'number', { ...record, id: 'number', tree: [putTree(store, `${JSON.stringify(line)}\n`)], files: 0, dirs: 1 })
  const codes = {}
  for (const backend of BACKENDS) {
    const out = path.join(dir, `out-${backend}-number`)
    fs.mkdirSync(out)
    codes[backend] = await codeOf(binding(backend).storeRestoreSnapshot(store, 'number', out))
  }
  assert.deepEqual(codes, { native: 'ECORRUPT', js: 'EPATHESCAPE' })
})

test('records of another version, id or shape are damage: not listed, a restore of one is ECORRUPT, on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store, record } = await baseStore(dir)
  const cases = {
    v0: { ...record, version: 0 },
    v5: { ...record, version: 5 },
    vHalf: { ...record, version: 1.5 },
    vText: { ...record, version: '4' },
    noVersion: { ...record, version: undefined },
    null: 'null',
    notJson: '{"version": 4,',
    otherId: { ...record, id: 'someone-else' },
    treeObject: { ...record, tree: {} },
    v1Depth: { ...record, version: 1, treeDepth: 1 },
    // what is sound, beside them: a version 1 record with a depth of 0, and one of version 4
    v1Depth0: { ...record, version: 1, treeDepth: 0 },
    v4: { ...record },
    // a tree list of ids that are no chunk ids
    notHex: { ...record, tree: ['not-a-chunk-id'] },
  }
  for (const [id, value] of Object.entries(cases)) writeRecord(store, id, typeof value === 'string' ? value : { ...value, id: value.id === 'someone-else' ? value.id : id })
  const results = {}
  for (const backend of BACKENDS) {
    const b = binding(backend)
    const restored = {}
    for (const id of Object.keys(cases)) {
      const out = path.join(dir, `out-${backend}-${id}`)
      fs.mkdirSync(out)
      restored[id] = await codeOf(b.storeRestoreSnapshot(store, id, out))
    }
    results[backend] = { listed: b.storeListSnapshots(store).map((s) => s.id).sort(), restored }
  }
  const expected = Object.fromEntries(Object.keys(cases).map((id) => [id, 'ECORRUPT']))
  assert.deepEqual(results.native, {
    listed: ['base', 'notHex', 'v1Depth0', 'v4'],
    restored: { ...expected, v1Depth0: 'ok', v4: 'ok' },
  })
  assert.deepEqual(results.js, results.native)
})

test('a store.json of another format, version or hash is refused, a store without one holds nothing, on both backends', async () => {
  const dir = tempDir('sr-crafted-')
  const { store } = await baseStore(dir)
  const config = JSON.parse(fs.readFileSync(path.join(store, 'store.json'), 'utf8'))
  const cases = {
    v0: { ...config, version: 0 },
    v1: { ...config, version: 1 },
    v5: { ...config, version: 5 },
    vHalf: { ...config, version: 1.5 },
    vText: { ...config, version: '4' },
    otherFormat: { ...config, format: 'something-else' },
    otherHash: { ...config, hash: 'blake3' },
    null: 'null',
    notJson: '{"format":',
    missing: null,
    sound: config,
  }
  const results = {}
  for (const backend of BACKENDS) {
    const b = binding(backend)
    results[backend] = {}
    for (const [name, value] of Object.entries(cases)) {
      const copy = path.join(dir, `store-${backend}-${name}`)
      fs.cpSync(store, copy, { recursive: true })
      if (value === null) fs.rmSync(path.join(copy, 'store.json'))
      else fs.writeFileSync(path.join(copy, 'store.json'), typeof value === 'string' ? value : JSON.stringify(value))
      let listed
      try {
        listed = b.storeListSnapshots(copy).map((s) => s.id)
      } catch (err) {
        listed = err.code
      }
      results[backend][name] = listed
    }
  }
  const refused = Object.fromEntries(Object.keys(cases).map((name) => [name, 'ECORRUPT']))
  assert.deepEqual(results.native, { ...refused, v1: ['base'], missing: [], sound: ['base'] })
  assert.deepEqual(results.js, results.native)
})
