'use strict'
// How the JS backend runs git, tar and sqlite3 (lib/js/backup/command.js): what it keeps of a
// command's output, and that its bound on a stuck command leaves a slow one alone. Real
// commands (sh, sleep) in real processes.

const assert = require('node:assert/strict')
const { test, tempDir } = require('./helpers')
const { runCommand, runCommandAsync } = require('../lib/js/backup/command')

test('a command\'s output is kept only when asked for (keepStdout): otherwise it is not read into memory at all', async () => {
  const dir = tempDir('sr-command-')
  const say = ['-c', 'echo out; echo err >&2']
  assert.deepEqual(await runCommandAsync('sh', say, dir), { stdout: '', stderr: 'err\n' })
  assert.deepEqual(await runCommandAsync('sh', say, dir, { keepStdout: true }), { stdout: 'out\n', stderr: 'err\n' })
})

test('a failing command\'s stderr is kept up to 64 KiB: what it says after that is not in the error', async () => {
  const dir = tempDir('sr-command-')
  // 64 KiB exactly, then (once those are surely read) more
  const script = 'head -c 65536 /dev/zero | tr "\\0" a >&2; sleep 0.5; echo TAIL >&2; exit 3'
  const err = await runCommandAsync('sh', ['-c', script], dir).then(
    () => null,
    (e) => e,
  )
  assert.equal(err.code, 'ECOMMAND')
  assert.match(err.message, /failed \(exit status: 3\): a{65536}$/)
})

test('a command that takes a second is not cut short by the bound on stuck commands', () => {
  assert.equal(runCommand('sh', ['-c', 'sleep 1; echo done'], tempDir('sr-command-')), 'done\n')
})

test('a tar that exits 2 (a fatal error) fails the archive even when it says nothing; exit 1 with only changed-file lines is tolerated (a tar on PATH that answers so)', async () => {
  const fs = require('node:fs')
  const path = require('node:path')
  const { backupCreateArchive } = require('../lib/js/backup/archive')
  const dir = tempDir('sr-command-')
  const root = path.join(dir, 'root')
  fs.mkdirSync(root)
  fs.writeFileSync(path.join(root, 'a.txt'), 'alpha\n')
  const bin = path.join(dir, 'bin')
  fs.mkdirSync(bin)
  // the real tar does the work; then the stand-in says `stderr` and exits `status`
  const realTar = require('node:child_process').execFileSync('sh', ['-c', 'command -v tar'], { encoding: 'utf8' }).trim()
  const tarSaying = (status, stderr) => fs.writeFileSync(path.join(bin, 'tar'), `#!/bin/sh\n${realTar} "$@" || exit $?\nprintf '${stderr}' >&2\nexit ${status}\n`, { mode: 0o755 })
  const saved = process.env.PATH
  process.env.PATH = `${bin}${path.delimiter}${saved}`
  try {
    const archive = (name) => backupCreateArchive(root, path.join(dir, name), []).then(() => 'created', (err) => err.code)
    tarSaying(2, '')
    assert.equal(await archive('fatal.tar.gz'), 'ECOMMAND')
    tarSaying(1, 'tar: a.txt: file changed as we read it\\n')
    assert.equal(await archive('changed.tar.gz'), 'created')
    tarSaying(1, 'tar: a.txt: Cannot open: Permission denied\\n')
    assert.equal(await archive('denied.tar.gz'), 'EACCES')
  } finally {
    process.env.PATH = saved
  }
})
