'use strict'
// The regression checks both classes run (in their own legacy orders): the workspace's
// mesh integration test, its `npm test`, and the basic tracker check. Each returns true,
// false, or null ("could not tell": the next strategy decides). A failing test suite is
// false here; the legacy code turned every non-zero exit into null, so a red suite fell
// through to the basic check and counted as a pass.

const fs = require('node:fs')
const path = require('node:path')
const runner = require('./runner')
const validationHelpers = require('../validation-helpers')

const MESH_TEST = path.join('packages', 'system-api', 'src', 'mesh', 'test-mesh-integration.js')
const PERF_TEST = path.join('packages', 'system-api', 'quick-ai-test.js')
const SUCCESS = /✅|SUCCESS|All tests passed/

function firstLine(text) {
  return String(text || '').trim().split('\n').slice(-3).join(' | ').slice(0, 300)
}

/** Run a workspace script with Node; true on exit 0 with a success marker. */
async function runScript(root, rel, { label, timeoutMs }) {
  const file = path.join(root, rel)
  if (!fs.existsSync(file)) {
    console.warn(`⚠️  ${label} not found (${rel})`)
    return null
  }
  console.log(`Running ${label}...`)
  const r = await runner.runNodeScript(file, { timeoutMs })
  if (r.timedOut) {
    console.warn(`⚠️  ${label} timed out after ${timeoutMs / 1000}s`)
    return null
  }
  if (r.error) {
    console.warn(`⚠️  ${label} error: ${r.error.message}`)
    return null
  }
  if (r.status === 0 && SUCCESS.test(r.stdout)) {
    console.log(`✅ ${label} passing`)
    return true
  }
  if (r.status !== 0) {
    console.log(`❌ ${label} failed (exit ${r.status === null ? r.signal : r.status}): ${firstLine(r.stderr || r.stdout)}`)
    return false
  }
  console.warn(`⚠️  ${label} output unclear: ${firstLine(r.stdout)}`)
  return null
}

function meshIntegration(root, timeoutMs = 35000) {
  return runScript(root, MESH_TEST, { label: 'Mesh integration tests', timeoutMs })
}

function performanceBenchmark(root, timeoutMs = 15000) {
  return runScript(root, PERF_TEST, { label: 'Performance benchmark', timeoutMs })
}

/** `npm test --silent` of the workspace: exit 0 passes. */
async function npmTest(root, timeoutMs = 65000) {
  if (!runner.npmTestScript(root)) {
    console.warn('⚠️  No npm test script in the workspace package.json')
    return null
  }
  console.log('Running npm test...')
  const r = await runner.runNpmTest(root, { timeoutMs })
  if (r === null) {
    console.warn('⚠️  npm not found next to this Node')
    return null
  }
  if (r.timedOut) {
    console.warn(`⚠️  npm test timed out after ${timeoutMs / 1000}s`)
    return null
  }
  if (r.error) {
    console.warn(`⚠️  npm test error: ${r.error.message}`)
    return null
  }
  if (r.status === 0) {
    const count = /(?:ℹ|#)\s*pass\s+(\d+)|(\d+)\s+passing/.exec(r.stdout)
    console.log(`✅ NPM tests passing${count ? ` (${count[1] || count[2]} tests)` : ''}`)
    return true
  }
  console.log(`❌ NPM tests failed (exit ${r.status === null ? r.signal : r.status}): ${firstLine(r.stderr || r.stdout)}`)
  return false
}

/** The tracker validates without errors (validate-only: a copy, nothing repaired). */
function basicSystemCheck(tracker) {
  console.log('Running basic system check...')
  if (!tracker) {
    console.log('❌ Tracker not available')
    return false
  }
  const validation = validationHelpers.validateTrackerSchema(structuredClone(tracker), false)
  if (validation.errors.length > 0) {
    console.log(`❌ Tracker validation failed: ${validation.errors.join('; ')}`)
    return false
  }
  console.log('✅ Basic system check passed')
  return true
}

/** The first strategy that does not answer null, or false when none can tell. */
async function firstAnswer(strategies, what) {
  for (const strategy of strategies) {
    let result
    try {
      result = await strategy()
    } catch (err) {
      console.warn(`⚠️  ${what} strategy failed: ${err.message}`)
      continue
    }
    if (result !== null && result !== undefined) return result
  }
  console.warn(`⚠️  All ${what} strategies failed`)
  return false
}

module.exports = { meshIntegration, performanceBenchmark, npmTest, basicSystemCheck, firstAnswer, MESH_TEST, PERF_TEST }
