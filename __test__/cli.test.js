'use strict'
// The rules every CLI shares through lib/cli.js, checked on each of bin/: an unknown flag or
// option is a usage error (exit 2, usage on stderr) refused before the command runs,
// `--help` prints the usage (exit 0), and `--root <dir>` is taken by the CLIs that work on a
// project root and refused by the others.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { tempDir, runBin, eachBackend } = require('./helpers')
const { createDefaultTracker } = require('../lib/validation-helpers')

const TIMEOUT = { timeout: 120_000 }

/** One real command line per CLI, valid without the bogus flag. */
function commandLines(dir) {
  const file = path.join(dir, 'data.json')
  fs.writeFileSync(file, '{"a":1}\n')
  return [
    ['safe-file-operations', ['checksum', file]],
    ['safe-file-operations', ['backup', file, 'label']],
    ['validation-helpers', ['validate', file]],
    ['validation-helpers', ['create-default', path.join(dir, 'new-tracker.json')]],
    ['backup-system', ['list']],
    ['backup-system', ['restore', 'some-id', '--dry-run']],
    ['phase-gate-validator', ['status']],
    ['session-manager', ['status']],
    ['resilient-wrapper', ['status']],
  ]
}

test('an unknown flag or --name=value option is a usage error (exit 2) on every CLI, before the command runs', TIMEOUT, async (t) => {
  await eachBackend(t, async ({ backend }) => {
    const dir = tempDir()
    const before = () => fs.readdirSync(dir).sort()
    for (const [name, args] of commandLines(dir)) {
      const listed = before()
      for (const bogus of ['--bogus', '--bogus=1']) {
        const r = runBin(name, [...args, bogus], { backend, cwd: dir, env: { SESSION_RESILIENCE_ROOT: dir } })
        assert.equal(r.status, 2, `${name} ${args.join(' ')} ${bogus}: exit ${r.status}\n${r.stdout}\n${r.stderr}`)
        assert.match(r.stderr, /Unknown option for \S+: --bogus/, `${name} ${bogus}`)
        assert.match(r.stderr, /Usage/, `${name} ${bogus}: usage printed`)
        assert.equal(r.stdout, '', `${name} ${bogus}: the command did not run`)
      }
      assert.deepEqual(before(), listed, `${name} ${args.join(' ')} --bogus wrote nothing`)
    }
  })
})

test('--help prints the usage and exits 0 on every CLI', TIMEOUT, () => {
  const dir = tempDir()
  for (const name of new Set(commandLines(dir).map(([n]) => n))) {
    const r = runBin(name, ['--help'], { cwd: dir })
    assert.equal(r.status, 0, `${name} --help: ${r.stderr}`)
    assert.match(r.stdout, /Usage/, name)
  }
})

test('--root <dir> picks the project root of backup-system; the file CLIs refuse it', TIMEOUT, () => {
  const root = tempDir()
  const elsewhere = tempDir()
  fs.writeFileSync(path.join(root, 'package.json'), '{"name":"x"}\n')
  const tracker = path.join(root, 'packages', 'system-api', 'phase-tracker.json')
  fs.mkdirSync(path.dirname(tracker), { recursive: true })
  fs.writeFileSync(tracker, JSON.stringify(createDefaultTracker(), null, 2))
  const created = runBin('backup-system', ['create', 'rooted', '--root', root, '--json'], { cwd: elsewhere })
  assert.equal(created.status, 0, created.stderr)
  const { id } = JSON.parse(created.stdout)
  assert.ok(fs.existsSync(path.join(root, 'backups', 'manifests', `${id}.json`)), 'the set is under --root')
  assert.ok(!fs.existsSync(path.join(elsewhere, 'backups')), 'nothing under the current folder')
  const listed = runBin('backup-system', [`--root=${root}`, 'list', '--json'], { cwd: elsewhere })
  assert.equal(listed.status, 0, listed.stderr)
  assert.deepEqual(
    JSON.parse(listed.stdout).map((p) => p.id),
    [id],
  )

  const file = path.join(root, 'package.json')
  const refused = runBin('safe-file-operations', ['checksum', file, '--root', root])
  assert.equal(refused.status, 2, refused.stderr)
  assert.match(refused.stderr, /Unknown option for checksum: --root/)
})
