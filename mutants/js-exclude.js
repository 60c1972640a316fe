'use strict'
// Mutants of lib/js that scripts/mutants-js.js leaves out (what .cargo/mutants.toml's
// exclude_re is for the core): each with its reason, and only equivalent mutants or code that
// cannot run on this platform. A pattern names the line and column: when the code there
// changes, the mutant shows up again (as missed) instead of staying hidden.

module.exports = [
  // Equivalent: a read of a regular file is never short, so the read loop never runs once
  // the buffer is full (`<=` then reads 0 bytes more and stops).
  [/^lib\/js\/lock\/takeover\.js:44:21: replace < with <=$/, 'read loop bound'],
  // Windows-only: removeLockFile renames a lock file aside before deleting it on Windows only
  // (delete-pending names); on Linux the platform test is false whatever follows, and the
  // branch's own mutants cannot run here (the Windows suite covers it).
  [/^lib\/js\/lock\/unlink\.js:\d+:\d+: /, 'Windows-only branch'],
  // Equivalent: a stem whose only dot is its first character (dot 0) leaves an empty `rest`,
  // which both later paths refuse (the 13-digit form needs a rest; the label form needs a dot
  // in it): `dot < 0` made `<= 0` refuses the same names one step earlier.
  [/^lib\/js\/names\.js:52:11: replace < with <=$/, 'parseBackupName: empty rest refused either way'],
  // Cannot be told apart on Linux: viaProc() asks three things that all hold here (Linux,
  // O_DIRECTORY known, /proc/<pid>/fd there), so `&&` made `||` between them gives the same
  // true; the other platforms, where one of them fails, are the Windows and macOS suites'.
  [/^lib\/js\/contained\.js:66:(70|101): replace && with \|\|$/, 'viaProc: every operand true on Linux'],
  // Cannot run on Linux, the only platform openDirFd runs on (viaProc): open(O_DIRECTORY |
  // O_NOFOLLOW) of a link fails with ENOTDIR there, never ELOOP, so the ELOOP test (`===` made
  // `!==`) changes nothing; a link on the way is still refused through the ENOTDIR arm (test:
  // 'a link or a file on the way is refused the same on both backends', containment.test.js).
  [/^lib\/js\/contained\.js:101:18: replace === with !==$/, 'openDirFd: no ELOOP on Linux'],
  // Equivalent: the DEL character (U+007F) is neither a letter, a digit nor white space, so
  // `> '\x7f'` made `>=` only sends it through a Unicode test that says no as before; the end of
  // a line comment at the end of the text (`<` made `<=`: one step past the end, where nothing
  // is read and the next test stops the same); a block comment's end searched from two past its
  // start can never be found at 0 (`< 0` made `<= 0`).
  [/^lib\/js\/parse\.js:(18:43: replace > with >=|21:118: replace > with >=|39:18: replace < with <=|42:17: replace < with <=)$/, 'parse: bounds that cannot differ'],
  // Equivalent (process.js): pid 0 names our own process group, which always exists, so
  // isDead(0) asks kill() and gets "alive" as the guard's answer, and liveness(0) reads a
  // /proc/0/stat that no process has (ENOENT: not alive, as the guard says): `<= 0` made `< 0`
  // (6:37, 39:37). The non-Linux answer (55:19) cannot run here.
  [/^lib\/js\/process\.js:(6:37|39:37|55:19): /, 'process: pid 0, non-Linux'],
  // Equivalent: the second validation after a repair (remaining errors) repairs nothing more
  // when allowed to: the first pass already repaired all it could, and what it keeps (a
  // wrong-typed section, which may hold the user's data) it keeps again.
  [/^lib\/js\/repair\.js:129:57: replace false with true$/, 'repair: idempotent second pass'],
  // Equivalent: copyFromFd's write loop (copies.js) writes from a buffer of CHUNK bytes at
  // the file's own position: after a short write (a file size limit, a full disk: see
  // __test__/short-writes.test.js) `n - off` made `+` asks for more of that buffer, which still
  // holds it, at a position where the next write fails with the same error.
  [/^lib\/js\/fsx\/copies\.js:24:72: replace - with \+$/, 'write loop remainder'],
  // Equivalent under every short write a test can make (store/restore.js): `pos + off` made `-`
  // (79:93) writes the rest of a chunk below where it belongs, but the file still ends past the
  // limit, so its truncation to its size fails with the same EFBIG (short-writes.test.js
  // cannot tell; only a disk that fills and then frees space again could).
  [/^lib\/js\/store\/restore\.js:79:93: replace \+ with -$/, 'store restore: write position'],
  // And in store/pack.js: a read of a regular file is never short, so readAt's loop runs once
  // with its count at 0, where `n - got`, `offset + got` (139:43, 139:57) made `+` / `-` ask for
  // the same bytes at the same place; put's write position `offset + off` made `-` (222:99)
  // after a short write is store/restore.js's 79:93 again (the pack's next write, at its true
  // end, fails the same). And locateFresh's `||` made `&&` (195:29) reads
  // the indexes again also when the chunk was found, or when packs/ did not change: the same
  // answer (only a collection moves a chunk, and then packs/ changes), read again.
  // Also in pack.js: a pack sealed once it holds TARGET bytes or more, `>=` made `>` (232:19),
  // differs only for a pack of exactly TARGET bytes (sealed at its next chunk: a layout, the
  // same chunks); `force` on the removal of a pack temp file this writer made and holds (242:37
  // in seal, 298:37 in abandon) changes nothing outside a race; a loose chunk's read loop with
  // `n < buf.length` made `<=` (312:43) asks for 0 bytes more once the buffer is full, reads 0
  // and stops with the same count; and syncFolder's open without O_DIRECTORY (455:60, `|| 0`
  // made `&& 0`) opens the same packs/ folder this writer has just written into (a folder
  // swapped for a file meanwhile is a race). NOFOLLOW as 0 throughout pack.js (40:31, `|| 0`
  // made `&& 0`) is the same: newPack's O_CREAT | O_EXCL refuses any name that exists, a link
  // included, and syncFolder only fsyncs.
  [
    /^lib\/js\/store\/pack\.js:(139:43: replace - with \+|139:57: replace \+ with -|222:99: replace \+ with -|195:29: replace \|\| with &&|232:19: replace >= with >|242:37: replace true with false|298:37: replace true with false|312:43: replace < with <=|455:60: replace \|\| with &&|40:31: replace \|\| with &&)$/,
    'pack: loop remainders, reading the indexes again, pack size to the byte',
  ],
  // In contained.js: an append's bytes fsynced too (282:32: only durability, which no test
  // can see short of a power cut). Outside a race, `force` on the removal of a file this call
  // made and found there (262:51, 271:30, 460:30) changes nothing, and so does the ENOENT of a removal whose lstat found the entry (401:18, 401:39).
  [
    /^lib\/js\/contained\.js:(282:32: replace false with true|262:51: replace true with false|271:30: replace true with false|460:30: replace true with false|401:18: replace === with !==|401:39: replace false with true)$/,
    'contained: write whole, files that are there',
  ],
  // Linux with /proc (contained.js): win32's answer in ensurePrivate (351:44); containedMkdir
  // takes the /proc descriptor path for every base a caller passes (a path: no caller passes a
  // Held), so `&&` made `||` there (363:17) changes nothing, and its path walk (373:41,
  // 374:95) runs only where /proc is not usable.
  [/^lib\/js\/contained\.js:(351:44: replace false with true|363:17: replace && with \|\||373:41: replace true with false|374:95: replace false with true)$/, 'contained: Linux with /proc'],
  // Equivalent (store/restore.js): O_NOFOLLOW on the temp file's open (61:80, `|| 0` made
  // `&& 0`) adds nothing to O_CREAT | O_EXCL, which fails on any name that exists, a link
  // included (POSIX); `force` on the removal of a path lstat just found (50:88) or of the
  // temp file this restore made and holds open (91:39, 96:30) changes nothing outside a race.
  [
    /^lib\/js\/store\/restore\.js:(50:88: replace true with false|61:80: replace \|\| with &&|91:39: replace true with false|96:30: replace true with false)$/,
    'store restore: the same outside a race',
  ],
  // Equivalent in outcome: a bounded read asking `max + 1 + total` bytes instead of
  // `max + 1 - total` asks for more than it needs once some are read, but never more than one
  // CHUNK at a time, and refuses (EFBIG) as soon as it holds more than max: the same refusal,
  // the same bytes returned below it.
  [/^lib\/js\/contained\.js:195:63: replace - with \+$/, 'readBounded: asks for more, refuses the same'],
  // Equivalent: containedRead's maxBytes of exactly 0 taken by its positive branch (206:56, `>`
  // made `>=`) is Math.floor(0), the same 0 (and -0 reads and refuses as 0 does).
  [/^lib\/js\/contained\.js:206:56: replace > with >=$/, 'containedRead: 0 floors to 0'],
  // Equivalent on Linux (backup/restore.js): path.isAbsolute(text) is text.startsWith('/')
  // here, so `isAbsolute && startsWith('/')` is the same test (25:29); the names walked for
  // links drop '' and '.' only to walk fewer: containedStat takes 'a/./b' and 'a//b' as 'a/b'
  // (49:104); a pre-restore folder is new (ms, pid and a counter in its name), made 0700
  // (contained.js walk) the line before it is held, so asking it private again or held with
  // create changes nothing (93:39, 94:47); with /proc every Held has a descriptor, and syncing
  // the folder by reopening its path syncs the same folder (152:37, 152:47); the kept copy goes
  // to a new folder, where link + unlink (never replacing) and rename put the same file at a
  // name nothing holds (220:103); the scratch folder always exists when it is removed, so
  // `force` changes nothing (233:50).
  [/^lib\/js\/backup\/restore\.js:(25:29: replace \|\| with &&|49:104: replace && with \|\||93:39: replace false with true|94:47: replace false with true|152:37: replace && with \|\||152:47: replace !== with ===|220:103: replace true with false|233:50: replace true with false)$/, 'restore: the same on Linux'],
  // Equivalent (backup/sqlite.js, a live database below a root): `-nofollow` for sqlite3 only
  // matters when a folder on the way was swapped for a link after containedStat found none
  // (the race the module comment says js cannot close): outside that race the path has no link
  // to refuse (110:92).
  [/^lib\/js\/backup\/sqlite\.js:110:92: replace true with false$/, 'copy below a root: no link to refuse'],
  // Equivalent (store/chunker.js): a window of exactly MIN bytes (`<=` made `<`) goes on to
  // the loops, which start at MIN and end at the window's end: none runs, and the window is
  // one chunk either way (31:9). The buffer is refilled when less than MAX bytes are left
  // (72): refilled also at exactly MAX (`<` made `<=`), or whenever the stream has not ended
  // (`&&` made `||`; at its end a read gives 0 again and the end stays), it only moves the
  // unread bytes down and reads earlier; a window is still MAX bytes or the stream's tail, and
  // the cut points depend on the content alone (the first read, which decides the small sizes
  // and a SQLite header, is the same).
  [/^lib\/js\/store\/chunker\.js:(31:9: replace <= with <|72:21: replace < with <=|72:27: replace && with \|\|)$/, 'chunker: same windows'],
  // Equivalent (store/format.js): encode keeping DEFLATE output as long as the data (52:23,
  // `<` made `<=`) stores the same size, decoded to the same bytes (the core's chunk.rs has the
  // same exclusion).
  [/^lib\/js\/store\/format\.js:52:23: replace < with <=$/, 'format: same bytes'],
  // Equivalent outside a race (store/gc.js removeOrphans): an unindexed pack listed a moment
  // before and gone at its lstat was removed meanwhile (115:86: the lstat throwing instead).
  [/^lib\/js\/store\/gc\.js:115:86: replace false with true$/, 'gc orphans: removed meanwhile'],
  // Equivalent (store/write.js): an entry of exactly list.INLINE chunks sent to list.encode
  // comes back unchanged at depth 0 (it cuts only longer lists), the line written the same
  // (92:40, `<=` made `<`; the core's write.rs has the same exclusion).
  [/^lib\/js\/store\/write\.js:92:40: replace <= with <$/, 'write: same line'],
  // Equivalent (store/verify.js): a store whose logical bytes are INLINE_BYTES exactly is
  // walked in worker threads instead of on this one (44:61, `<` made `<=`): the same walk, the
  // same report.
  [/^lib\/js\/store\/verify\.js:44:61: replace < with <=$/, 'verify: where it walks'],
  // Equivalent in outcome (store/verify.js), where and how the walk runs, never what it finds
  // (the tests run the same store inline, in a walker alone and with checkers, and compare):
  // logicalBytes' `|| 0` made `&& 0` (73:47) only counts 0 bytes, so a big store is walked on
  // this thread, and INLINE_BYTES, below which no worker starts, as 32 / 1024 * 1024 or
  // 32 * 1024 / 1024 bytes (26:25, 26:32) only sends smaller stores to the workers too; the
  // young-generation sizes of the workers (102:31: memory); which of two
  // equally busy checkers gets a batch (119:65) and one batch more in flight (120:32); and
  // attribute's second walk of the readable snapshots' trees hashing their chunks again
  // (168:40: `false` made `true`) when the first walk found them good.
  [
    /^lib\/js\/store\/verify\.js:(26:(25|32): replace \* with \/|73:47: replace \|\| with &&|102:31: replace === with !==|119:65: replace < with <=|120:32: replace >= with >|168:40: replace false with true)$/,
    'verify: workers, scheduling, hashing again',
  ],
  // Equivalent in outcome (store/verify-check.js), the plumbing between verify's workers: an
  // empty batch posted (215:24, `> 0` made `>= 0`), which the main thread takes as nothing;
  // and when a batch is full (231:26, 231:43: one of 256 chunks more or fewer; every batch is
  // posted at the end of each snapshot anyway).
  [/^lib\/js\/store\/verify-check\.js:(215:24: replace > with >=|231:26: replace \+ with -|231:43: replace >= with >)$/, 'verify-check: worker plumbing'],
]
