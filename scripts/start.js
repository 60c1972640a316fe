#!/usr/bin/env node
'use strict'
// `npm start`: create the example workspace on first run (examples/workspace/, from
// examples/agenthive/, with its git repository and SQLite database), then show its status
// with `session-manager status`. Extra arguments go to session-manager (`npm start -- --json`).
// SESSION_RESILIENCE_EXAMPLE_DIR puts the workspace elsewhere (the tests use a temp dir).

const path = require('node:path')
const { createWorkspace, DEFAULT_DEST } = require('./example-workspace')
const { addonPath } = require('./addon')

if (!addonPath() && !process.env.SESSION_RESILIENCE_BACKEND) {
  // A fresh clone: the addon is built by `npm test` (or `npm run build`).
  console.error('ℹ️  Native addon not built yet (`npm test` or `npm run build` builds it): using the JS backend.')
  process.env.SESSION_RESILIENCE_BACKEND = 'js'
}

const result = createWorkspace(process.env.SESSION_RESILIENCE_EXAMPLE_DIR || DEFAULT_DEST)
if (result.created) {
  console.error(`📦 Created the example workspace: ${path.relative(process.cwd(), result.root) || '.'}`)
  if (!result.git.ok) console.error(`   ⚠️  no git repository (${result.git.reason}); backups will skip the code part`)
}
const args = process.argv.slice(2)
require('../lib/session-manager').main([...(args.length ? args : ['status']), '--root', result.root])
