'use strict'
// The twin of core/src/store/list.rs (store format version 2): a list of more than INLINE
// chunk ids is kept in list chunks (the 32-byte binary ids of a run of the list, concatenated),
// cut where the ids say, level above level until at most INLINE ids are left; what is written
// where the list is used is that top level and its depth (0: the ids are the data chunks).
// A run ends after an id whose last byte has its low three bits clear once it holds MIN_RUN
// ids, or at MAX_RUN ids.

const { codedError } = require('../errors')

const INLINE = 64
const MIN_RUN = 2
const MAX_RUN = 1024
const MAX_DEPTH = 32

/** The runs of `ids` (hex strings), as arrays. */
function runs(ids) {
  const out = []
  let start = 0
  for (let i = 0; i < ids.length; i++) {
    const len = i + 1 - start
    if ((len >= MIN_RUN && (parseInt(ids[i].slice(62, 64), 16) & 0x07) === 0) || len === MAX_RUN) {
      out.push(ids.slice(start, i + 1))
      start = i + 1
    }
  }
  if (start < ids.length) out.push(ids.slice(start))
  return out
}

/** Store `ids` as a list, each run's bytes handed to `put` (returns its chunk id): `{ top, depth }`. */
function encode(ids, put) {
  let depth = 0
  while (ids.length > INLINE) {
    ids = runs(ids).map((run) => put(Buffer.from(run.join(''), 'hex')))
    depth += 1
  }
  return { top: ids, depth }
}

/** The ids (hex) of a list chunk's plain bytes (ECORRUPT unless whole, non-empty ids). */
function parse(bytes) {
  if (bytes.length === 0 || bytes.length % 32 !== 0) throw codedError('ECORRUPT', `A list chunk of ${bytes.length} bytes holds no whole ids`)
  const out = []
  for (let i = 0; i < bytes.length; i += 32) out.push(bytes.toString('hex', i, i + 32))
  return out
}

/**
 * The data chunk ids of a list stored as `top` at `depth`, list chunks read by `fetch(id, below)`
 * (`below`: list levels under the chunk, 0 when its ids are data; null: a run left out);
 * `limit`: most ids a level may hold.
 */
function resolve(top, depth, limit, fetch) {
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_DEPTH) throw codedError('ECORRUPT', `A list of depth ${depth} (at most ${MAX_DEPTH})`)
  let ids = top
  for (let level = 0; level < depth; level++) {
    const down = []
    for (const id of ids) {
      const bytes = fetch(id, depth - 1 - level)
      if (bytes !== null) for (const c of parse(bytes)) down.push(c)
      if (down.length > limit) throw codedError('ECORRUPT', `A list holds more than ${limit} ids`)
    }
    ids = down
  }
  return ids
}

module.exports = { INLINE, MIN_RUN, MAX_RUN, runs, encode, parse, resolve }
