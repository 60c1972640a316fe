'use strict'
// The tolerant tracker parser, the JS twin of core/src/validate/parse.rs (hence its name),
// for hand-edited trackers: `//` and `/* */`
// comments, trailing commas, single-quoted strings and unquoted property names. It reads
// strings character by character, so their content is never altered (a URL keeps its
// `//`, an apostrophe stays an apostrophe), unlike the legacy regex "fixes".
//
// It accepts what the Rust core's parser (dprint's jsonc-parser with the same options,
// core/src/validate/parse.rs) accepts: property names may be words of letters, digits,
// `_`, `$` and `-`; `\'` is an escape in single-quoted strings only, `\"` in double-quoted
// ones only. Nesting deeper than MAX_DEPTH is refused on both backends.

const MAX_DEPTH = 512

class TolerantParseError extends SyntaxError {}

function isWordChar(ch) {
  return /[A-Za-z0-9_$-]/.test(ch) || (ch > '\x7f' && /[\p{Alphabetic}\p{N}]/u.test(ch))
}

const isSpace = (ch) => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\v' || ch === '\f' || (ch > '\x7f' && /\p{White_Space}/u.test(ch))

const ESCAPES = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '/': '/', '\\': '\\' }
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

function parseTolerant(text) {
  let i = 0
  let depth = 0
  const fail = (what) => {
    throw new TolerantParseError(`${what} at position ${i}`)
  }

  function skip() {
    for (;;) {
      const ch = text[i]
      if (ch === undefined) return
      if (isSpace(ch)) i++
      else if (ch === '/' && text[i + 1] === '/') {
        while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++
      } else if (ch === '/' && text[i + 1] === '*') {
        const end = text.indexOf('*/', i + 2)
        if (end < 0) fail('Unterminated comment')
        i = end + 2
      } else return
    }
  }

  function string() {
    const quote = text[i++]
    let out = ''
    let start = i
    for (;;) {
      const ch = text[i]
      if (ch === undefined) fail('Unterminated string')
      if (ch === quote) {
        out += text.slice(start, i++)
        return out
      }
      if (ch !== '\\') {
        i++
        continue
      }
      out += text.slice(start, i)
      const esc = text[i + 1]
      if (esc === 'u') {
        const hex = text.slice(i + 2, i + 6)
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Invalid unicode escape')
        out += String.fromCharCode(parseInt(hex, 16))
        i += 6
      } else if (esc === quote) {
        out += quote
        i += 2
      } else if (Object.prototype.hasOwnProperty.call(ESCAPES, esc)) {
        out += ESCAPES[esc]
        i += 2
      } else fail('Invalid escape')
      start = i
    }
  }

  function word() {
    const start = i
    while (i < text.length) {
      const ch = String.fromCodePoint(text.codePointAt(i))
      if (isSpace(ch) || ch === ':') break
      if (!isWordChar(ch)) fail('Unexpected character')
      i += ch.length
    }
    if (i === start) fail('Unexpected character')
    return text.slice(start, i)
  }

  function key() {
    const ch = text[i]
    return ch === '"' || ch === "'" ? string() : word()
  }

  function literal(name, value) {
    if (text.startsWith(name, i) && !isWordChar(text[i + name.length] || ' ')) {
      i += name.length
      return value
    }
    return fail('Unexpected token')
  }

  function enter() {
    if (++depth > MAX_DEPTH) fail(`Nesting deeper than ${MAX_DEPTH}`)
  }

  function object() {
    enter()
    i++
    const out = {}
    skip()
    while (text[i] !== '}') {
      const name = key()
      skip()
      if (text[i++] !== ':') fail('Expected ":"')
      // defineProperty: a "__proto__" key is data, as with JSON.parse
      Object.defineProperty(out, name, { value: value(), writable: true, enumerable: true, configurable: true })
      skip()
      if (text[i] === ',') {
        i++
        skip()
      } else if (text[i] !== '}') fail('Expected "," or "}"')
    }
    i++
    depth--
    return out
  }

  function array() {
    enter()
    i++
    const out = []
    skip()
    while (text[i] !== ']') {
      out.push(value())
      skip()
      if (text[i] === ',') {
        i++
        skip()
      } else if (text[i] !== ']') fail('Expected "," or "]"')
    }
    i++
    depth--
    return out
  }

  function value() {
    skip()
    const ch = text[i]
    if (ch === '{') return object()
    if (ch === '[') return array()
    if (ch === '"' || ch === "'") return string()
    if (ch === 't') return literal('true', true)
    if (ch === 'f') return literal('false', false)
    if (ch === 'n') return literal('null', null)
    NUMBER.lastIndex = i
    const m = NUMBER.exec(text)
    // (NUMBER's match always holds a digit)
    if (m && !isWordChar(text[i + m[0].length] || ' ')) {
      i += m[0].length
      return Number(m[0])
    }
    return fail(ch === undefined ? 'Unexpected end of input' : 'Unexpected token')
  }

  const result = value()
  skip()
  if (i < text.length) fail('Unexpected text after the value')
  return result
}

/**
 * `{ value, tolerant }`: JSON.parse when it can (fast, and the judge of valid JSON),
 * else the tolerant parser; throws a SyntaxError when neither parses.
 */
function parseTracker(text) {
  try {
    return { value: JSON.parse(text), tolerant: false }
  } catch {
    return { value: parseTolerant(text), tolerant: true }
  }
}

module.exports = { parseTolerant, parseTracker, MAX_DEPTH, TolerantParseError }
