'use strict'
// The root export (`require('session-resilience')`, lib/addon.js over the generated index.js):
// a wrong argument to any function throws the same `code` as the same call on the JS backend,
// with a message naming the path when the first argument is one, never napi's code-less
// conversion error. The wrong values come from index.d.ts: each parameter in turn gets every
// value its declared type does not accept, the others a valid one.

const { test } = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')
const { ROOT, tempDir } = require('./helpers')

const root = require('..')
const js = require('../lib/js')

const CANDIDATES = [42, 'text', true, { a: 1 }, [], () => 1]

/** Does a value fit the declared TypeScript type `type` (the unions index.d.ts writes)? */
function fits(type, v) {
  const t = type.replace(/\s*\|\s*undefined\s*\|\s*null$/, '')
  if (t.startsWith('Array<')) return Array.isArray(v)
  if (t.includes('=>')) return typeof v === 'function'
  return t.split(/\s*\|\s*/).some((alt) =>
    alt === 'string' ? typeof v === 'string'
    : alt === 'number' ? typeof v === 'number'
    : alt === 'boolean' ? typeof v === 'boolean'
    : alt === 'Uint8Array' ? v instanceof Uint8Array
    : v !== null && typeof v === 'object' && !Array.isArray(v), // an options object
  )
}

/** `[name, [[param, type], ...]]` for every function index.d.ts declares. */
function declared() {
  const text = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8')
  return [...text.matchAll(/^export declare function (\w+)\((.*)\):/gm)].map((m) => [
    m[1],
    m[2] ? m[2].split(/, (?=\w+\??: )/).map((p) => p.split(/\??: /)) : [],
  ])
}

test('every root export: a wrong argument throws the code of the JS backend, naming the path', { timeout: 60000 }, async () => {
  const dir = tempDir('sr-root-args-')
  const options = { lockDir: path.join(dir, 'locks'), backupDir: path.join(dir, 'bak') }
  const valid = (param, type) => {
    if (type.startsWith('Array<')) return []
    if (type.includes('=>')) return () => {}
    if (!type.startsWith('string')) return param === 'options' ? options : undefined
    return /^(identifier|label|rel|srcRel|destRel|data|content|expectedChecksum)$/.test(param) ? 'probe' : dir
  }
  const outcome = async (fn, args) => {
    try {
      await fn(...args)
      return { code: 'none' }
    } catch (err) {
      return { code: err.code, message: err.message }
    }
  }
  const functions = declared()
  assert.ok(functions.length > 30, 'index.d.ts declares the functions')
  const drift = []
  let checked = 0
  for (const [name, params] of functions) {
    assert.equal(root[name].length, params.length, `${name} keeps its arity`)
    for (let i = 0; i < params.length; i++) {
      for (const wrong of CANDIDATES.filter((v) => !fits(params[i][1], v))) {
        const args = params.map(([param, type]) => valid(param, type))
        args[i] = wrong
        const got = await outcome(root[name], args)
        const want = await outcome(js[name], args)
        js.releaseAllLocks() // a call the JS backend let through may have taken the lock
        checked++
        const where = `${name}(${params[i][0]} = ${typeof wrong === 'function' ? 'fn' : JSON.stringify(wrong)})`
        assert.ok(got.code && got.code !== 'InvalidArg', `${where}: a code of ours, got ${JSON.stringify(got)}`)
        if (got.code !== want.code) drift.push(`${where}: root ${got.code} (${got.message}), js ${want.code} (${want.message})`)
        if (i > 0 && args[0] === dir && got.code === 'ERR_INVALID_ARG_TYPE') {
          assert.ok(got.message.includes(dir), `${where}: the message names the path: ${got.message}`)
        }
      }
    }
  }
  assert.ok(checked > 100, `${checked} calls checked`)
  assert.deepStrictEqual(drift, [])
})

/** `{ InterfaceName: [[field, type], ...] }` for every options object index.d.ts declares. */
function optionFields() {
  const text = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8')
  const out = {}
  for (const m of text.matchAll(/^export interface (\w+Options) \{\n([\s\S]*?)^\}/gm)) {
    out[m[1]] = [...m[2].matchAll(/^ {2}(\w+)\?: (.+)$/gm)].map((f) => [f[1], f[2]])
  }
  return out
}

test('every options field of every root export: a wrong value throws the code of the JS backend, and null is absent on both', { timeout: 120000 }, async () => {
  const interfaces = optionFields()
  assert.ok(Object.keys(interfaces).length >= 8, 'index.d.ts declares the options objects')
  const drift = []
  let checked = 0
  for (const [name, params] of declared()) {
    const at = params.findIndex(([, type]) => /^\w+Options \| undefined \| null$/.test(type))
    if (at < 0) continue
    const fields = interfaces[params[at][1].split(' ')[0]]
    for (const [field, type] of fields) {
      for (const wrong of [null, ...CANDIDATES.filter((v) => !fits(type, v))]) {
        const codes = {}
        for (const [backend, fn] of [['root', root[name]], ['js', js[name]]]) {
          // each call in a folder of its own: what one backend made is not there for the other
          const dir = tempDir(`sr-root-options-${backend}-`)
          const base = { lockDir: path.join(dir, 'locks'), backupDir: path.join(dir, 'bak') }
          const args = params.map(([param, t]) => {
            if (t.startsWith('Array<')) return []
            if (t.includes('=>')) return () => {}
            if (t.startsWith('string')) return /^(identifier|label|rel|srcRel|destRel|data|content|expectedChecksum|id|from)$/.test(param) ? 'probe' : dir
            return undefined
          })
          args[at] = { ...Object.fromEntries(fields.filter(([f]) => f in base).map(([f]) => [f, base[f]])), [field]: wrong }
          try {
            await fn(...args)
            codes[backend] = 'none'
          } catch (err) {
            codes[backend] = err.code
          }
          js.releaseAllLocks()
          root.releaseAllLocks()
        }
        checked++
        const where = `${name}(${params[at][0]}.${field} = ${typeof wrong === 'function' ? 'fn' : JSON.stringify(wrong)})`
        // napi's own conversion errors are PascalCase (BooleanExpected, ...); ours are E... codes
        assert.match(String(codes.root), /^(none|E[A-Z0-9_]+|ERR_[A-Z_]+)$/, `${where}: a code of ours, got ${codes.root}`)
        if (wrong !== null) assert.equal(codes.root, 'ERR_INVALID_ARG_TYPE', `${where}: refused`)
        if (codes.root !== codes.js) drift.push(`${where}: root ${codes.root}, js ${codes.js}`)
      }
    }
  }
  assert.ok(checked > 60, `${checked} calls checked`)
  assert.deepStrictEqual(drift, [])
})

test('the root export keeps every name of the generated index.js, as CommonJS and as ES module named exports', { timeout: 10000 }, async () => {
  const generated = Object.keys(require('../index.js')).sort()
  assert.deepStrictEqual(Object.keys(root).sort(), generated)
  const esm = await import(require.resolve('..'))
  const named = [...declared().map(([name]) => name), '__napiBindingTarget']
  assert.deepStrictEqual(named.filter((name) => !(name in esm)), [], 'seen by Node’s CJS -> ESM detection')
})
