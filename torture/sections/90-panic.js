'use strict'
// A Rust panic inside an export surfaces as a JS Error and the process lives on. The
// panicking exports exist only in a build with the `test-panic` cargo feature, made here.
const fs = require('node:fs')
const path = require('node:path')
const { ROOT, tempDir, table, run } = require('../lib')

module.exports = {
  title: 'A Rust panic inside an export becomes a JS Error',
  async run() {
    const build = run('cargo', ['build', '--quiet', '--lib', '--features', 'test-panic'], { cwd: ROOT })
    if (build.status !== 0) return { ok: false, text: `cargo build --features test-panic failed:\n\n\`\`\`\n${build.stderr}\n\`\`\`` }
    const ext = process.platform === 'win32' ? 'dll' : process.platform === 'darwin' ? 'dylib' : 'so'
    const lib = path.join(ROOT, 'target', 'debug', `${process.platform === 'win32' ? '' : 'lib'}session_resilience.${ext}`)
    const addon = path.join(tempDir('panic'), 'panic.node')
    fs.copyFileSync(lib, addon)
    const script = `
      const b = require(${JSON.stringify(addon)})
      const out = []
      for (const f of ['testPanicSync', 'testPanicGuarded']) {
        try { b[f]('boom'); out.push([f, 'returned']) } catch (e) { out.push([f, e instanceof Error, e.code, e.message]) }
      }
      b.testPanicAsync('boom').then(() => out.push(['testPanicAsync', 'resolved']), (e) => out.push(['testPanicAsync', e instanceof Error, e.code, e.message]))
        .then(() => { out.push(['process', 'alive']); process.stdout.write(JSON.stringify(out)) })`
    const r = run(process.execPath, ['-e', script], { env: { ...process.env, RUST_BACKTRACE: '0' } })
    let rows
    try {
      rows = JSON.parse(r.stdout)
    } catch {
      return { ok: false, text: `the process died: exit ${r.status}, signal ${r.signal}\n\n\`\`\`\n${r.stderr.slice(0, 2000)}\n\`\`\`` }
    }
    const ok = rows.length === 4 && rows.slice(0, 3).every((row) => row[1] === true) && r.status === 0
    const text =
      'A debug build with the `test-panic` feature (three exports that panic: in a sync export under napi\'s `catch_unwind`, ' +
      'inside our own guard, and on the thread pool inside an AsyncTask) is loaded in a fresh Node process.\n\n' +
      table(['export', 'JS Error', 'code', 'message'], rows.slice(0, 3).map((row) => row.map(String))) +
      `\n\nAfter the three panics the process was ${rows[3] ? rows[3][1] : 'gone'} and exited with ${r.status}.`
    return { ok, text }
  },
}
