'use strict'
// The timestamp forms shared with the Rust core (core/src/time.rs).

/** The legacy file-name form: toISOString() with ':' and '.' turned into '-'. */
function fileStamp(ms) {
  return new Date(ms).toISOString().replace(/[:.]/g, '-')
}

/** ms since the epoch for `YYYY-MM-DDTHH:MM:SS(.mmm)?Z`, with ':'/'.' or '-' separators. */
function parseStamp(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})[:-](\d{2})[:-](\d{2})(?:[.-](\d{3}))?Z$/.exec(text)
  if (!m) return null
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number)
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null
  return Date.UTC(y, mo - 1, d, h, mi, s, m[7] ? Number(m[7]) : 0)
}

module.exports = { fileStamp, parseStamp }
