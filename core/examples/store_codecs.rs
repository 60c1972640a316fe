//! The measurement behind the store's format choice (docs/store-format.md): cut every file
//! of a tree into chunks as the store does, then time SHA-256 over all chunks and DEFLATE at
//! a few levels, single-threaded, and print the sizes. `zstd -1` / `b3sum` are measured with
//! their command-line tools beside it (see the doc).
//!
//! `cargo run --release -p session-resilience-core --example store_codecs -- <dir>`

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use flate2::write::DeflateEncoder;
use flate2::Compression;
use session_resilience_core::store::chunk::ChunkId;
use session_resilience_core::store::chunker::Chunker;

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if name == ".git" || name == "backups" {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => files(&e.path(), out),
            Ok(t) if t.is_file() => out.push(e.path()),
            _ => {}
        }
    }
}

fn main() -> std::io::Result<()> {
    let root = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let mut paths = Vec::new();
    files(Path::new(&root), &mut paths);
    let start = Instant::now();
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    for p in &paths {
        let mut c = Chunker::new(std::fs::File::open(p)?);
        while let Some(chunk) = c.next_chunk()? {
            chunks.push(chunk.to_vec());
        }
    }
    let total: usize = chunks.iter().map(Vec::len).sum();
    let mib = total as f64 / 1048576.0;
    println!(
        "{} files, {} chunks, {mib:.1} MiB; read + chunked in {:.2} s",
        paths.len(),
        chunks.len(),
        start.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mut x = 0u8;
    for c in &chunks {
        x ^= ChunkId::of(c).0[0];
    }
    let s = t.elapsed().as_secs_f64();
    println!("sha256: {s:.3} s, {:.0} MiB/s ({x})", mib / s);
    for level in [1, 3, 6] {
        let t = Instant::now();
        let mut size = 0usize;
        for c in &chunks {
            let mut enc = DeflateEncoder::new(Vec::new(), Compression::new(level));
            enc.write_all(c)?;
            size += enc.finish()?.len().min(c.len());
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "deflate-raw level {level} (zlib-rs): {s:.2} s, {:.0} MiB/s, {:.1} MiB",
            mib / s,
            size as f64 / 1048576.0
        );
    }
    Ok(())
}
