//! Streaming SHA-256: constant memory whatever the file size (the legacy module read the
//! whole file into memory, and failed beyond 2 GiB).

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

/// Big enough that syscalls cost nothing next to hashing, small enough to stay in cache.
const CHUNK: usize = 256 * 1024;

/// Lower-case hex SHA-256 of a file's content.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    sha256_reader(&mut file)
}

pub fn sha256_reader(reader: &mut impl Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(hex(&hasher.finalize()))
}

pub fn sha256_bytes(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// A writer that hashes and counts what its inner writer accepted, so a file's digest is
/// known when it is written, without reading it back.
pub struct Sha256Writer<W: Write> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> Sha256Writer<W> {
    pub fn new(inner: W) -> Self {
        Sha256Writer {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// The inner writer, the byte count and the lower-case hex SHA-256 of what was written.
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.len, hex(&self.hasher.finalize()))
    }
}

impl<W: Write> Write for Sha256Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            sha256_bytes(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("abc");
        std::fs::write(&file, b"abc").unwrap();
        assert_eq!(
            sha256_file(&file).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_writer_hashes_what_it_wrote() {
        let data: Vec<u8> = (0..(CHUNK + 5)).map(|i| (i % 7) as u8).collect();
        let mut w = Sha256Writer::new(Vec::new());
        for part in data.chunks(1000) {
            w.write_all(part).unwrap();
        }
        let (written, len, digest) = w.finish();
        assert_eq!(written, data);
        assert_eq!(len, data.len() as u64);
        assert_eq!(digest, sha256_bytes(&data));
    }

    /// Reads `parts` in turn: an interrupted read, then the bytes, then end of file.
    struct Flaky(Vec<io::Result<Vec<u8>>>);

    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let part = self.0.remove(0)?;
            buf[..part.len()].copy_from_slice(&part);
            Ok(part.len())
        }
    }

    #[test]
    fn an_interrupted_read_is_retried_and_any_other_error_reported() {
        let interrupted = io::Error::from(io::ErrorKind::Interrupted);
        let mut reader = Flaky(vec![Err(interrupted), Ok(b"abc".to_vec())]);
        assert_eq!(sha256_reader(&mut reader).unwrap(), sha256_bytes(b"abc"));
        let mut broken = Flaky(vec![Ok(b"a".to_vec()), Err(io::Error::other("disk"))]);
        assert_eq!(sha256_reader(&mut broken).unwrap_err().to_string(), "disk");
    }

    #[test]
    fn flushing_the_writer_flushes_its_inner_writer() {
        let mut w = Sha256Writer::new(io::BufWriter::new(Vec::new()));
        w.write_all(b"abc").unwrap();
        w.flush().unwrap();
        let (inner, len, _) = w.finish();
        assert_eq!((inner.get_ref().as_slice(), len), (&b"abc"[..], 3));
    }

    #[test]
    fn files_larger_than_one_chunk_hash_like_their_bytes() {
        let data: Vec<u8> = (0..(CHUNK * 3 + 17)).map(|i| (i % 251) as u8).collect();
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("big");
        std::fs::write(&file, &data).unwrap();
        assert_eq!(sha256_file(&file).unwrap(), sha256_bytes(&data));
    }
}
