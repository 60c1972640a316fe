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
