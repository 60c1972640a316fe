//! Content-defined chunking of a byte stream, in bounded memory.
//!
//! The cut points are those of `fastcdc::ronomon` (FastCDC with the 32-bit gear table of the
//! `ronomon/deduplication` implementation) with the sizes below. That variant is chosen
//! because its arithmetic fits 32-bit integers, so the JavaScript backend computes the same
//! cut points at native speed (lib/js/store/chunker.js) and the two backends share chunks.
//!
//! A cut is always decided on a window of [`MAX`] bytes (or the rest of the stream at its
//! end), never on whatever a read happened to return: the cut points depend on the content
//! alone, whatever the buffer sizes (FastCDC's normalisation looks at how far the window
//! reaches, so a short window could cut elsewhere).
//!
//! A stream shorter than [`SMALL_BELOW`] (known at the first read, which fills the buffer) is
//! cut with smaller sizes ([`SMALL`]): a small file whose first few KB changed then costs a
//! chunk of ~8 KiB, not the whole file (measured in bench/RESULTS.md, "snapshot store").
//!
//! A stream that starts with a SQLite database header is cut at fixed, page-aligned points
//! instead: every [`DB_GROUP`] bytes, or every page when pages are larger. SQLite rewrites
//! whole pages in place, so a changed page changes the one chunk that holds it, where content
//! cut points (which move with the content) would change the chunks around it too.

use std::io::{self, Read};

use fastcdc::ronomon::FastCDC;

/// Smallest chunk (except a stream's last one).
pub const MIN: usize = 16 * 1024;
/// The size chunks are normalised around.
pub const AVG: usize = 64 * 1024;
/// Largest chunk: a run without a cut point (zeros) is cut here.
pub const MAX: usize = 256 * 1024;

/// The size of a SQLite database's chunks (a page is at most 64 KiB, a power of two from 512:
/// a multiple of this or a divisor of it, so groups of whole pages either way). 4 KiB, the
/// page size SQLite uses by default: a changed page costs 4 KiB, not the 16 KiB around it.
pub const DB_GROUP: usize = 4 * 1024;

/// Bytes read from the source at a time.
const READ: usize = 1024 * 1024;

/// A stream shorter than this is cut with [`SMALL`] (it is whole in the first read).
pub const SMALL_BELOW: usize = 1024 * 1024;

/// FastCDC sizes: smallest chunk (but the last), the size chunks are normalised around, the
/// largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub min: usize,
    pub avg: usize,
    pub max: usize,
}

/// The sizes of streams of at least [`SMALL_BELOW`] bytes.
pub const LARGE: Sizes = Sizes {
    min: MIN,
    avg: AVG,
    max: MAX,
};

/// The sizes of shorter streams.
pub const SMALL: Sizes = Sizes {
    min: 4 * 1024,
    avg: 8 * 1024,
    max: 64 * 1024,
};

/// Splits a reader into chunks; holds at most `READ + MAX` bytes.
pub struct Chunker<R> {
    source: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// `Some(n)`: a SQLite database, cut every `n` bytes (decided at the first read).
    fixed: Option<usize>,
    /// The content cut sizes (decided at the first read).
    sizes: Sizes,
    started: bool,
}

impl<R: Read> Chunker<R> {
    pub fn new(source: R) -> Self {
        Chunker {
            source,
            buf: vec![0; READ + MAX],
            start: 0,
            end: 0,
            eof: false,
            fixed: None,
            sizes: LARGE,
            started: false,
        }
    }

    /// Read until a whole window is buffered or the source ends.
    fn fill(&mut self) -> io::Result<()> {
        if self.end - self.start >= MAX || self.eof {
            return Ok(());
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        while self.end < self.buf.len() {
            match self.source.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The next chunk, `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> io::Result<Option<&[u8]>> {
        self.fill()?;
        if !self.started {
            self.started = true;
            self.fixed = sqlite_group(&self.buf[..self.end]);
            if self.eof && self.end < SMALL_BELOW {
                self.sizes = SMALL;
            }
        }
        let avail = (self.end - self.start).min(self.sizes.max);
        if avail == 0 {
            return Ok(None);
        }
        let len = match self.fixed {
            Some(group) => group.min(avail),
            None => cut_with(&self.buf[self.start..self.start + avail], self.sizes),
        };
        let chunk = &self.buf[self.start..self.start + len];
        self.start += len;
        Ok(Some(chunk))
    }
}

/// The chunk size of a stream that begins with `head`: `Some` for a SQLite database (its
/// 16-byte magic, then a valid page size at offset 16: a power of two from 512 to 32768, or 1
/// for 65536), the larger of [`DB_GROUP`] and its page size; `None` for anything else.
pub fn sqlite_group(head: &[u8]) -> Option<usize> {
    if head.len() < 100 || &head[..16] != b"SQLite format 3\0" {
        return None;
    }
    let page = match u16::from_be_bytes([head[16], head[17]]) {
        1 => 65536,
        n => n as usize,
    };
    let valid = page.is_power_of_two() && (512..=65536).contains(&page);
    valid.then(|| page.max(DB_GROUP))
}

/// The length of the first chunk of `window` (at most `sizes.max` bytes, or a stream's tail)
/// at the chunk sizes `sizes`.
pub fn cut_with(window: &[u8], sizes: Sizes) -> usize {
    FastCDC::new(window, sizes.min, sizes.avg, sizes.max)
        .next()
        .map_or(window.len(), |c| c.length)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random bytes (xorshift), so the tests need no crate.
    pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    }

    fn lengths(data: &[u8], read_size: usize) -> Vec<usize> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(out.len()).min(self.1);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut c = Chunker::new(Trickle(data, read_size));
        let mut out = Vec::new();
        while let Some(chunk) = c.next_chunk().unwrap() {
            out.push(chunk.len());
        }
        out
    }

    #[test]
    fn cut_points_do_not_depend_on_read_sizes() {
        let data = noise(3 * 1024 * 1024 + 123, 7);
        let whole: Vec<usize> = FastCDC::new(&data, MIN, AVG, MAX)
            .map(|c| c.length)
            .collect();
        assert_eq!(lengths(&data, usize::MAX), whole);
        assert_eq!(lengths(&data, 4093), whole);
        assert_eq!(whole.iter().sum::<usize>(), data.len());
        assert!(whole.iter().all(|&l| l <= MAX));
        assert!(whole[..whole.len() - 1].iter().all(|&l| l >= MIN));
    }

    #[test]
    fn an_insert_changes_only_the_chunks_around_it() {
        let data = noise(2 * 1024 * 1024, 3);
        let mut edited = data[..1_000_000].to_vec();
        edited.extend_from_slice(b"inserted bytes");
        edited.extend_from_slice(&data[1_000_000..]);
        let a = lengths(&data, READ);
        let b = lengths(&edited, READ);
        let tail = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take_while(|(x, y)| x == y)
            .count();
        let head = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
        assert!(head + tail + 3 >= a.len(), "{head} + {tail} of {}", a.len());
    }

    /// A SQLite header with page size field `page` followed by noise: `len` bytes.
    fn database(page: u16, len: usize) -> Vec<u8> {
        let mut data = noise(len, 11);
        data[..16].copy_from_slice(b"SQLite format 3\0");
        data[16..18].copy_from_slice(&page.to_be_bytes());
        data
    }

    #[test]
    fn sqlite_databases_are_cut_at_page_aligned_points() {
        let data = database(4096, 40 * 4096 + 100);
        let lens = lengths(&data, 777);
        assert_eq!(lens[..40], [DB_GROUP; 40]);
        assert_eq!(lens[40], 100);
        assert_eq!(lengths(&database(1, 3 * 65536), READ), vec![65536; 3]);
        assert_eq!(sqlite_group(&database(32768, 200)), Some(32768));
        // not a valid page size, or no magic: content cut points
        assert_eq!(sqlite_group(&database(1000, 200)), None);
        assert_eq!(sqlite_group(&database(256, 200)), None);
        assert_eq!(sqlite_group(&noise(200, 1)), None);
        // a short stream: the small sizes
        let whole: Vec<usize> = FastCDC::new(&data[1..], SMALL.min, SMALL.avg, SMALL.max)
            .map(|c| c.length)
            .collect();
        assert_eq!(lengths(&data[1..], READ), whole);
    }

    #[test]
    fn a_stream_shorter_than_small_below_is_cut_with_the_small_sizes() {
        let short = noise(SMALL_BELOW - 1, 5);
        let lens = lengths(&short, 1000);
        let whole: Vec<usize> = FastCDC::new(&short, SMALL.min, SMALL.avg, SMALL.max)
            .map(|c| c.length)
            .collect();
        assert_eq!(lens, whole);
        let avg = short.len() / lens.len();
        assert!((SMALL.min..3 * SMALL.avg).contains(&avg), "average {avg}");
        // a byte more: the large sizes, whatever the read sizes
        let long = noise(SMALL_BELOW, 5);
        let whole: Vec<usize> = FastCDC::new(&long, MIN, AVG, MAX)
            .map(|c| c.length)
            .collect();
        assert_eq!(lengths(&long, 1000), whole);
    }

    /// A source that gives `data` in reads of at most 1000 bytes with `hiccup` returned once
    /// before its first byte, then `Ok(0)` once, then `after` (a file appended to after its end
    /// was read).
    struct Hiccup {
        data: Vec<u8>,
        hiccup: Option<io::Error>,
        ended: bool,
        after: Vec<u8>,
    }

    impl Read for Hiccup {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if let Some(e) = self.hiccup.take() {
                return Err(e);
            }
            if self.data.is_empty() {
                if !self.ended {
                    self.ended = true;
                    return Ok(0);
                }
                std::mem::swap(&mut self.data, &mut self.after);
            }
            let n = self.data.len().min(out.len()).min(1000);
            out[..n].copy_from_slice(&self.data[..n]);
            self.data.drain(..n);
            Ok(n)
        }
    }

    fn hiccup(data: &[u8], hiccup: Option<io::Error>, after: &[u8]) -> Chunker<Hiccup> {
        Chunker::new(Hiccup {
            data: data.to_vec(),
            hiccup,
            ended: false,
            after: after.to_vec(),
        })
    }

    #[test]
    fn an_interrupted_read_is_retried_and_any_other_error_is_returned() {
        let data = noise(100_000, 9);
        let interrupted = io::Error::from(io::ErrorKind::Interrupted);
        let mut c = hiccup(&data, Some(interrupted), b"");
        let mut back = Vec::new();
        while let Some(chunk) = c.next_chunk().unwrap() {
            back.extend_from_slice(chunk);
        }
        assert_eq!(back, data);
        // the same source failing once with a real error: the error, not a retry
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        let err = hiccup(&data, Some(denied), b"").next_chunk().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
    }

    #[test]
    fn the_stream_ends_at_its_first_empty_read() {
        // a source that has more to give after its end (a file appended to meanwhile): what
        // came before the end is the stream, whatever the window held when it ended
        for len in [10, MAX + 10] {
            let data = noise(len, 4);
            let mut c = hiccup(&data, None, b"appended later");
            let mut back = Vec::new();
            while let Some(chunk) = c.next_chunk().unwrap() {
                back.extend_from_slice(chunk);
            }
            assert_eq!(back.len(), data.len());
            assert_eq!(back, data);
        }
    }

    #[test]
    fn zeros_are_cut_at_the_maximum_and_empty_input_has_no_chunk() {
        assert_eq!(
            lengths(&vec![0; SMALL_BELOW + 5], READ),
            vec![MAX, MAX, MAX, MAX, 5]
        );
        assert_eq!(
            lengths(&vec![0; SMALL.max * 2 + 5], READ),
            vec![SMALL.max, SMALL.max, 5]
        );
        assert!(lengths(&[], READ).is_empty());
        assert_eq!(lengths(b"tiny", READ), vec![4]);
    }
}
