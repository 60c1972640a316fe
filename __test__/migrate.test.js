'use strict'
// `npx session-resilience migrate`: on a temp project built from the real project
// (../shared/fixtures/agenthive/) and the original legacy modules
// (../shared/fixtures/agenthive-legacy/), in a git repository.
const { test } = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, tempDir } = require('./helpers')
const legacy = require('./legacy')

const git = (cwd, ...args) => spawnSync('git', args, { cwd, encoding: 'utf8' })

function legacyRepo(dir) {
  const project = legacy.legacyProject(path.join(dir, 'agenthive'))
  // one legacy file moved elsewhere: found by its content, not its name or place
  fs.mkdirSync(path.join(project, 'tools'))
  fs.renameSync(path.join(project, 'process-cleanup.js'), path.join(project, 'tools', 'cleanup-utils.js'))
  for (const rel of ['backup-system.js', 'session-manager.js', 'resilient-wrapper.js']) {
    const file = path.join(project, rel)
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').split("require('./process-cleanup')").join("require('./tools/cleanup-utils')"))
  }
  assert.strictEqual(git(project, 'init', '-q').status, 0)
  git(project, 'add', '-A')
  assert.strictEqual(git(project, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'legacy').status, 0)
  return project
}

function snapshot(project) {
  const out = {}
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === '.git') continue
      const full = path.join(dir, e.name)
      if (e.isDirectory()) walk(full)
      else out[path.relative(project, full)] = fs.readFileSync(full, 'utf8')
    }
  }
  walk(project)
  return out
}

test('migrate: plan, shims, originals kept, dependency, proof, idempotent, dirty tree, undo', { timeout: 300000 }, (t) => {
  if (!legacy.available()) return t.skip('legacy fixtures not present')
  const dir = tempDir('sr-migrate-')
  const project = legacyRepo(dir)
  const env = { ...process.env, SESSION_RESILIENCE_LOCK_DIR: path.join(dir, 'locks'), SESSION_RESILIENCE_BACKUP_DIR: path.join(dir, 'fb') }
  delete env.SESSION_RESILIENCE_ROOT
  const migrate = (...args) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'session-resilience.js'), 'migrate', ...args], { cwd: dir, encoding: 'utf8', timeout: 240000, env })
  const before = snapshot(project)

  const plan = migrate(project, '--dry-run')
  assert.strictEqual(plan.status, 0, plan.stderr)
  assert.match(plan.stdout, /7 legacy module file\(s\) found/)
  assert.match(plan.stdout, /keep tools\/cleanup-utils\.js as tools\/cleanup-utils\.legacy\.js, write the shim \(require\('session-resilience\/process-cleanup'\)\)/)
  assert.match(plan.stdout, /add "session-resilience": "\^\d+\.\d+\.\d+" to a new package\.json/)
  assert.deepStrictEqual(snapshot(project), before, 'a dry run changes nothing')

  // a dirty work tree is refused, and nothing is changed
  fs.writeFileSync(path.join(project, 'notes.txt'), 'work in progress\n')
  const refused = migrate(project)
  assert.strictEqual(refused.status, 1)
  assert.match(refused.stderr, /uncommitted changes:\n\?\? notes\.txt\nCommit or stash them first .* or pass --force/s)
  fs.rmSync(path.join(project, 'notes.txt'))
  assert.deepStrictEqual(snapshot(project), before)

  const done = migrate(project, '--json')
  assert.strictEqual(done.status, 0, done.stdout + done.stderr)
  const result = JSON.parse(done.stdout)
  assert.strictEqual(result.changed.length, 7)
  assert.strictEqual(result.checks.length, 8, 'seven helps and the status')
  assert.ok(result.checks.every((c) => c.ok))
  assert.ok(result.checks.some((c) => c.command === 'node session-manager.js status'))
  const after = snapshot(project)
  for (const f of result.found) {
    const rel = path.relative(project, f.file)
    const kept = rel.replace(/\.js$/, '.legacy.js')
    assert.strictEqual(after[kept], before[rel], `${rel}: the original kept byte for byte as ${kept}`)
    assert.match(after[rel], new RegExp(`^(#!/usr/bin/env node\\n)?module\\.exports = require\\('session-resilience/${f.name}'\\)\\nif \\(require\\.main === module\\) module\\.exports\\.main\\(\\)\\n$`))
  }
  assert.strictEqual(JSON.parse(after['package.json']).dependencies['session-resilience'], `^${require('../package.json').version}`)
  if (process.platform !== 'win32') assert.strictEqual(fs.statSync(path.join(project, 'session-manager.js')).mode & 0o111, fs.statSync(path.join(project, 'session-manager.legacy.js')).mode & 0o111, 'mode kept')

  // idempotent: nothing left to do, even with the migration not yet committed
  const again = migrate(project)
  assert.strictEqual(again.status, 0, again.stderr)
  assert.match(again.stdout, /Already migrated: nothing changed/)
  assert.deepStrictEqual(snapshot(project), after)

  const undone = migrate(project, '--undo')
  assert.strictEqual(undone.status, 0, undone.stderr)
  assert.deepStrictEqual(snapshot(project), before, 'the originals are back, package.json gone')
  assert.strictEqual(git(project, 'status', '--porcelain').stdout, '')
})

test('migrate: a failing check puts the originals back; a project without legacy files is refused', { timeout: 120000 }, (t) => {
  if (!legacy.available()) return t.skip('legacy fixtures not present')
  const dir = tempDir('sr-migrate-fail-')
  const project = legacyRepo(dir)
  fs.rmSync(path.join(project, 'packages', 'system-api', 'phase-tracker.json')) // status cannot work
  const before = snapshot(project)
  const run = (...args) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'session-resilience.js'), 'migrate', ...args], { encoding: 'utf8', timeout: 240000, env: { ...process.env, SESSION_RESILIENCE_ROOT: '' } })
  const failed = run(project, '--force')
  assert.strictEqual(failed.status, 1)
  assert.match(failed.stderr, /Check failed: node session-manager\.js status/)
  assert.match(failed.stdout, /putting the originals back/)
  assert.deepStrictEqual(snapshot(project), before)

  const empty = tempDir('sr-migrate-empty-')
  const none = run(empty)
  assert.strictEqual(none.status, 1)
  assert.match(none.stderr, /No legacy session-manager modules found under/)
  assert.strictEqual(run('--bogus').status, 2)
})
