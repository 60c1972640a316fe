'use strict'
// Which platforms compile each line of a core source file, read from its `#[cfg(...)]`
// attributes: cargo-mutants mutates every function it parses, whatever its cfg, so a mutant
// of a `#[cfg(windows)]` function built on Linux changes nothing that is compiled and is
// "missed" there for no fault of the tests. scripts/mutants.js runs each mutant on a platform
// that compiles it: Linux natively, Windows under Wine (npm run mutants -- rust-windows);
// a position neither compiles (macOS and other Unixes) cannot run on this machine.

/** The platforms a mutant can run on here, with what each one's cfg sees. */
const PLATFORMS = {
  linux: { unix: true, windows: false, target_os: 'linux', target_family: 'unix' },
  windows: { unix: false, windows: true, target_os: 'windows', target_family: 'windows' },
  macos: { unix: true, windows: false, target_os: 'macos', target_family: 'unix' },
}

/** Tokens of a cfg predicate: identifiers, strings, `=`, `(`, `)`, `,`. */
function tokens(pred) {
  return [...pred.matchAll(/\s*("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|[=(),])/g)].map((m) => m[1])
}

/**
 * Whether `pred` (the inside of `cfg(...)`) holds on `platform`. `test` is false (test code is
 * not product code); a feature is taken as on (the default build has them); any other key
 * this file does not know is an error, so a new kind of cfg is not silently misread.
 */
function holds(pred, platform) {
  const t = tokens(pred)
  let i = 0
  const expr = () => {
    const name = t[i++]
    if (t[i] === '(') {
      i++
      const args = []
      while (t[i] !== ')') {
        args.push(expr())
        if (t[i] === ',') i++
      }
      i++
      if (name === 'not') return !args[0]
      if (name === 'any') return args.some(Boolean)
      if (name === 'all') return args.every(Boolean)
      throw new Error(`unknown cfg function ${name} in cfg(${pred})`)
    }
    if (t[i] === '=') {
      i++
      const value = JSON.parse(t[i++])
      if (name === 'feature') return true
      if (!(name in platform)) throw new Error(`unknown cfg key ${name} in cfg(${pred})`)
      return platform[name] === value
    }
    if (name === 'test') return false
    if (!(name in platform)) throw new Error(`unknown cfg ${name} in cfg(${pred})`)
    return platform[name]
  }
  return expr()
}

/**
 * The code of `text` with string, char and comment contents blanked (same length, same
 * line breaks), so that braces and semicolons in them are not counted.
 */
function blank(text) {
  return text.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\/|r(#*)"[\s\S]*?"\1|"(?:[^"\\]|\\[\s\S])*"|'(?:[^'\\\n]|\\.[^']*)'/g, (m) => m.replace(/[^\n]/g, ' '))
}

/**
 * The line ranges of `text` under a `#[cfg(...)]` attribute, each with the predicate: from the
 * attribute to the end of the item or statement it stands on (the brace that closes it, or
 * its `;`).
 */
function cfgRegions(text) {
  const code = blank(text)
  const regions = []
  const attr = /#\[cfg\(([^\]]*)\)\]/g
  let m
  while ((m = attr.exec(code))) {
    // the predicate as written (blanking emptied its strings)
    const pred = text.slice(m.index + 6, m.index + 6 + m[1].length)
    let at = m.index + m[0].length
    let depth = 0
    let opened = false
    for (; at < code.length; at++) {
      const c = code[at]
      if (c === '{' || c === '(' || c === '[') {
        depth++
        if (c === '{') opened = true
      } else if (c === '}' || c === ')' || c === ']') {
        depth--
        // an item's block closed: the item ends here unless a statement goes on (`};`, `}.x`)
        if (depth === 0 && c === '}' && opened && !/^\s*[;.?)]/.test(code.slice(at + 1, at + 40))) break
      } else if (c === ';' && depth === 0) break
    }
    const line = (i) => code.slice(0, i).split('\n').length
    regions.push({ start: line(m.index), end: line(at), pred })
  }
  return regions
}

/**
 * For each platform, whether `line` of a file with these regions is compiled there: every
 * region around the line must hold.
 */
function platformsOf(regions, line) {
  const around = regions.filter((r) => r.start <= line && line <= r.end)
  return Object.fromEntries(Object.entries(PLATFORMS).map(([name, p]) => [name, around.every((r) => holds(r.pred, p))]))
}

/** Whether `line` is in test code: under a cfg that names `test` (as `all(test, unix)`). */
const inTests = (regions, line) => regions.some((r) => r.start <= line && line <= r.end && tokens(r.pred).includes('test'))

/**
 * Where each mutant runs: 'test' when its line is test code under a cfg cargo-mutants does
 * not take for tests (it skips `#[cfg(test)]` alone, not `#[cfg(all(test, unix))]`); else
 * 'linux' when Linux compiles its line, else 'windows' when Windows does (under Wine), else
 * 'elsewhere' (macOS and other Unixes only: not run on this machine).
 * `mutants` are cargo-mutants' `--list --json` entries; `read(file)` gives a file's text.
 */
function placeMutants(mutants, read) {
  const regionsOf = new Map()
  const place = {}
  for (const m of mutants) {
    if (!regionsOf.has(m.file)) regionsOf.set(m.file, cfgRegions(read(m.file)))
    const regions = regionsOf.get(m.file)
    const line = m.span.start.line
    const on = platformsOf(regions, line)
    place[m.name] = inTests(regions, line) ? 'test' : on.linux ? 'linux' : on.windows ? 'windows' : 'elsewhere'
  }
  return place
}

module.exports = { holds, cfgRegions, platformsOf, placeMutants, PLATFORMS }
