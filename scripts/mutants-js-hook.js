'use strict'
// Preloaded (`node --require`) by scripts/mutants-js.js into the test files' processes during
// its unmutated coverage run, so that coverage is known per test, not only per test file.
//
// Around each top-level test (a `test()` at the top of a file, or an `it()` in a `describe`),
// it takes V8's coverage (v8.takeCoverage() writes what ran since the last call and resets the
// counters): the slice written after the test is what that test ran (its subtests included),
// the slice written before it is what ran between tests (loading the file, `before` hooks),
// which the runner counts as run by every test of the file. Each slice is kept for lib/js
// only and renamed at once (V8 names a slice by the millisecond: two in one millisecond would
// overwrite each other). Processes a test spawns write their own coverage when they exit; the
// runner gives each to the test whose window holds its time stamp, so each test's window is
// stored with its slice.
//
// It does nothing in any other process (the `node --test` parent, a CLI a test spawns).

const dir = process.env.NODE_V8_COVERAGE
const root = process.env.SR_MUTANTS_LIB // file URL of lib/js/ in the tree under test
// (a worker thread loads this too: its coverage is written to a file of its own when it ends,
// which the main thread's next slice takes in)
if (dir && root && process.env.NODE_TEST_CONTEXT && /\.test\.js$/.test(process.argv[1] || '') && require('node:worker_threads').isMainThread) install()

function install() {
  const fs = require('node:fs')
  const path = require('node:path')
  const v8 = require('node:v8')
  const { beforeEach, afterEach } = require('node:test')
  const own = `coverage-${process.pid}-`
  let depth = 0
  let n = 0
  let start = 0

  /**
   * Write the coverage since the last slice as `name`, lib/js only, with `extra` beside it: this
   * thread's file and those of the worker threads that ended since (V8 writes one file per
   * thread, all named after this pid), their scripts side by side.
   */
  const slice = (name, extra) => {
    v8.takeCoverage()
    const result = []
    for (const f of fs.readdirSync(dir)) {
      if (!f.startsWith(own)) continue
      const file = path.join(dir, f)
      result.push(...JSON.parse(fs.readFileSync(file, 'utf8')).result.filter((s) => s.url.startsWith(root)))
      fs.unlinkSync(file)
    }
    fs.writeFileSync(path.join(dir, name), JSON.stringify({ ...extra, result }))
  }

  // subtests run these hooks too (hooks are inherited): only the outermost level slices
  beforeEach(() => {
    if (depth++ > 0) return
    slice(`gap-${process.pid}-${n}.json`, {})
    start = Date.now()
  })
  afterEach((t) => {
    if (--depth > 0) return
    slice(`test-${process.pid}-${n++}.json`, { test: t.name, start, end: Date.now() })
  })
}
