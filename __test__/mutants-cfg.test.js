'use strict'
// scripts/mutants-cfg.js: where `npm run mutants` runs each Rust mutant, read from the
// `#[cfg]` attributes around it (a mutant placed wrongly is run where its code is not compiled
// and reported missed, or left out of a run that could catch it).

const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test } = require('node:test')
const { holds, cfgRegions, placeMutants, PLATFORMS } = require('../scripts/mutants-cfg')

const on = (pred) => Object.keys(PLATFORMS).filter((p) => holds(pred, PLATFORMS[p]))

test('cfg predicates hold on the platforms they name', { timeout: 10_000 }, () => {
  assert.deepEqual(on('unix'), ['linux', 'macos'])
  assert.deepEqual(on('windows'), ['windows'])
  assert.deepEqual(on('not(windows)'), ['linux', 'macos'])
  assert.deepEqual(on('target_os = "linux"'), ['linux'])
  assert.deepEqual(on('not(target_os = "linux")'), ['windows', 'macos'])
  assert.deepEqual(on('any(target_os = "linux", target_os = "android")'), ['linux'])
  assert.deepEqual(on('not(any(unix, windows))'), [])
  assert.deepEqual(on('all(unix, not(target_os = "linux"))'), ['macos'])
  assert.deepEqual(on('all(test, unix)'), [], 'test code is on no platform')
  assert.deepEqual(on('feature = "bundled-sqlite"'), ['linux', 'windows', 'macos'])
  assert.throws(() => holds('target_env = "gnu"', PLATFORMS.linux), /unknown cfg key target_env/)
  assert.throws(() => holds('miri', PLATFORMS.linux), /unknown cfg miri/)
})

// Braces in strings, chars and comments do not count; a statement ends at its `;` even after
// a block (`unsafe { .. };`); an item ends at the brace that closes it.
const SOURCE = `fn f() -> u32 {
    #[cfg(unix)]
    let me = unsafe { libc::geteuid() };
    #[cfg(not(unix))]
    let me = 0;
    me
}

#[cfg(windows)]
mod imp {
    pub fn g() -> &'static str {
        let s = "}"; // }
        /* } */
        let c = '}';
        s
    }
}

#[cfg(unix)]
mod unix {
    #[cfg(target_os = "linux")]
    pub fn h() -> bool {
        true
    }

    #[cfg(not(target_os = "linux"))]
    pub fn h() -> bool {
        false
    }
}

#[cfg(all(test, unix))]
mod tests {
    fn t() {}
}
`

test('each cfg attribute covers the item or statement it stands on, to its end', { timeout: 10_000 }, () => {
  assert.deepEqual(
    cfgRegions(SOURCE).map((r) => [r.start, r.end, r.pred]),
    [
      [2, 3, 'unix'],
      [4, 5, 'not(unix)'],
      [9, 17, 'windows'],
      [19, 30, 'unix'],
      [21, 24, 'target_os = "linux"'],
      [26, 29, 'not(target_os = "linux")'],
      [32, 35, 'all(test, unix)'],
    ],
  )
})

test('a mutant is placed where its line is compiled, test code apart', { timeout: 10_000 }, () => {
  const at = (line) => ({ name: `src/x.rs:${line}:9: m`, file: 'src/x.rs', span: { start: { line } } })
  const placed = placeMutants([1, 3, 5, 6, 11, 16, 18, 22, 27, 34].map(at), () => SOURCE)
  assert.deepEqual(Object.values(placed), ['linux', 'linux', 'windows', 'linux', 'windows', 'windows', 'linux', 'linux', 'elsewhere', 'test'])
})

test("the core's Windows modules are placed under Wine and its Unix ones on Linux", { timeout: 10_000 }, () => {
  // the real files: the `#[cfg(windows)] mod imp` of oslock.rs and its `#[cfg(not(windows))]` twin
  const file = 'core/src/lock/oslock.rs'
  const text = fs.readFileSync(path.join(__dirname, '..', file), 'utf8')
  const lineOf = (needle) => text.split('\n').findIndex((l) => l.includes(needle)) + 1
  const windows = lineOf('LockFileEx(file.as_raw_handle()')
  const unix = lineOf('Err(TryLockError::WouldBlock) => Ok(false)')
  assert.ok(windows > 0 && unix > 0)
  const placed = placeMutants(
    [windows, unix].map((line) => ({ name: `${file}:${line}`, file, span: { start: { line } } })),
    () => text,
  )
  assert.deepEqual(Object.values(placed), ['windows', 'linux'])
})
