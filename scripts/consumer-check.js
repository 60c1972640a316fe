'use strict'
// Run by scripts/test-consumer.js inside a fresh project where session-resilience was installed
// from its tarballs: requires every `exports` subpath (native backend forced), runs one
// operation of each, and runs every bin's `--help`. Prints `N passed, N failed`.

const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const NAME = 'session-resilience'
const pkgDir = path.dirname(require.resolve(`${NAME}/package.json`))
const pkg = require(`${NAME}/package.json`)
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-consumer-run-'))
process.env.SESSION_RESILIENCE_LOCK_DIR = path.join(scratch, 'locks')
process.env.SESSION_RESILIENCE_BACKUP_DIR = path.join(scratch, 'backups')

/** One operation per subpath that has one of its own; others run their CLI's help. */
const OPERATIONS = {
  '.': (binding) => {
    const file = path.join(scratch, 'root.json')
    binding.atomicWrite(file, '{"ok":true}')
    const sum = binding.verifyChecksum(file)
    assert.equal(sum.valid, true)
    assert.match(sum.checksum, /^[0-9a-f]{64}$/)
  },
  './safe-file-operations': (sfo) => {
    const file = path.join(scratch, 'tracker.json')
    assert.equal(sfo.atomicWrite(file, JSON.stringify({ sessionInfo: { id: 1 } })), true)
    assert.deepEqual(sfo.safeJsonRead(file), { sessionInfo: { id: 1 } })
    assert.ok(fs.existsSync(sfo.acquireLock('consumer-check', 1000)))
    assert.equal(sfo.releaseLock('consumer-check'), true)
  },
  './testing': async (mod) => {
    const results = await mod.forEachBackend(
      ({ project, load }) => load('safe-file-operations').atomicWrite(path.join(project, 'x.json'), '{}'),
      { backends: ['native'] },
    )
    assert.deepEqual(results, { native: true })
    assert.deepEqual(mod.diff({ at: new Date(0).toISOString() }, { at: new Date().toISOString() }), [])
  },
  './process-cleanup': (mod) => {
    const cleanup = new mod.ProcessCleanup({ install: false })
    const temp = cleanup.trackTempFile(path.join(scratch, 'partial.tmp'))
    fs.writeFileSync(temp, 'x')
    cleanup.removeTempFiles()
    assert.equal(fs.existsSync(temp), false)
    assert.equal(typeof cleanup.releaseLocks(), 'number')
  },
}

async function runHelp(subpath, mod) {
  if (typeof mod.run !== 'function') {
    throw new Error(`no operation for ${subpath}: add one to OPERATIONS in scripts/consumer-check.js`)
  }
  const silenced = console.log
  console.log = () => {}
  try {
    assert.equal(await mod.run(['help']), 0)
  } finally {
    console.log = silenced
  }
}

const results = []
async function check(title, fn) {
  try {
    await fn()
    results.push(true)
    console.log(`  ✔ ${title}`)
  } catch (err) {
    results.push(false)
    console.log(`  ✖ ${title}: ${err && err.stack ? err.stack : err}`)
  }
}

async function main() {
  await check('the binary comes from the platform package, not from a build', () => {
    const platformPkg = `${NAME}-${process.env.SR_CONSUMER_PLATFORM}`
    const binary = fs.readdirSync(path.dirname(require.resolve(`${platformPkg}/package.json`)))
    assert.ok(binary.some((f) => f.endsWith('.node')), `${platformPkg} holds no .node`)
    assert.deepEqual(
      fs.readdirSync(pkgDir).filter((f) => f.endsWith('.node')),
      [],
      'the main package must not carry a binary',
    )
    assert.ok(!fs.existsSync(path.join(pkgDir, 'target')), 'nothing was compiled in the package')
  })

  for (const subpath of Object.keys(pkg.exports)) {
    if (subpath.endsWith('.json')) continue
    const specifier = subpath === '.' ? NAME : `${NAME}/${subpath.slice(2)}`
    await check(`require('${specifier}') and one operation`, async () => {
      const mod = require(specifier)
      const operation = OPERATIONS[subpath]
      if (operation) await operation(mod)
      else await runHelp(subpath, mod)
    })
  }

  for (const [bin, file] of Object.entries(typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : pkg.bin || {})) {
    await check(`bin ${bin} --help`, () => {
      const linked = path.join('node_modules', '.bin', bin)
      assert.ok(fs.existsSync(linked), `npm did not link ${linked}`)
      const r = spawnSync(process.execPath, [path.join(pkgDir, file), '--help'], { encoding: 'utf8' })
      assert.equal(r.status, 0, r.stderr)
      assert.ok(r.stdout.trim().length > 0, `${bin} --help printed nothing`)
    })
  }

  fs.rmSync(scratch, { recursive: true, force: true })
  const failed = results.filter((ok) => !ok).length
  console.log(`${results.length - failed} passed, ${failed} failed`)
  process.exitCode = failed ? 1 : 0
}

main()
