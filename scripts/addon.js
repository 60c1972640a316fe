'use strict'
// Where the locally built addon is, and whether its sources are newer: shared by
// scripts/test.js (builds when stale) and scripts/test-consumer.js (packs it).

const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const SOURCES = ['src', 'core/src', 'Cargo.toml', 'Cargo.lock', 'core/Cargo.toml', 'build.rs']

function newestMtime(entries) {
  let newest = 0
  const visit = (p) => {
    let st
    try {
      st = fs.statSync(p)
    } catch {
      return
    }
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e))
    else newest = Math.max(newest, st.mtimeMs)
  }
  entries.forEach((e) => visit(path.join(root, e)))
  return newest
}

/** The addon `napi build --platform` left in the package root, or null. */
function addonPath() {
  const found = fs.readdirSync(root).filter((f) => f.startsWith('session-resilience.') && f.endsWith('.node'))
  return found.length ? path.join(root, found[0]) : null
}

/** True when there is no addon, or its Rust sources changed since it was built. */
function addonIsStale() {
  const addon = addonPath()
  return !addon || fs.statSync(addon).mtimeMs < newestMtime(SOURCES)
}

module.exports = { root, addonPath, addonIsStale }
