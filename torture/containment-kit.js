'use strict'
// What the containment test suite and the torture section both need: a content snapshot of the
// victims' folder, and the renameat2(RENAME_EXCHANGE) swapper that races a folder against a symlink.
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { spawnSync } = require('node:child_process')

/** Every entry below `dir` (links as links, never followed): path -> type or content hash. */
function snapshot(dir) {
  const out = {}
  const walk = (rel) => {
    const full = path.join(dir, rel)
    const st = fs.lstatSync(full)
    if (st.isSymbolicLink()) out[rel] = `link:${fs.readlinkSync(full)}`
    else if (st.isDirectory()) {
      out[rel] = 'dir'
      for (const name of fs.readdirSync(full).sort()) walk(path.join(rel, name))
    } else if (st.isFile()) out[rel] = `file:${crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`
    else out[rel] = 'other'
  }
  walk('')
  return out
}

// `python3 -c SWAPPER <a> <b> <seconds>` exchanges a and b in a loop through Python's ctypes (no
// compiler needed) and prints how many swaps it made.
const SWAPPER = `
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, secs = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
end, n = time.time() + secs, 0
while time.time() < end:
    if libc.renameat2(-100, a, -100, b, 2) == 0:
        n += 1
print(n)
`

/** Can the swapper run here (python3 with a libc that has renameat2)? */
function hasRenameat2() {
  return spawnSync('python3', ['-c', 'import ctypes; ctypes.CDLL(None).renameat2'], { stdio: 'ignore' }).status === 0
}

module.exports = { snapshot, SWAPPER, hasRenameat2 }
