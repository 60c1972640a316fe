//! Time `verify_store` in process (no Node start, no addon load): bench/store-verify.js's
//! figure without the child process.
//!
//! `cargo run --release -p session-resilience-core --example store_verify -- <store> [runs] [--deep]`

use std::path::PathBuf;
use std::time::Instant;

use session_resilience_core::store::{verify_store_with, VerifyOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deep = args.iter().any(|a| a == "--deep");
    let rest: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let Some(store) = rest.first().map(PathBuf::from) else {
        eprintln!("usage: store_verify <store folder> [runs] [--deep]");
        std::process::exit(2);
    };
    let runs: usize = rest.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    for _ in 0..runs {
        let start = Instant::now();
        match verify_store_with(&store, None, VerifyOptions { deep }) {
            Ok(r) => println!(
                "{:.3} s ok={} chunks={} hashed alone={} packs={} mismatched={}",
                start.elapsed().as_secs_f64(),
                r.ok(),
                r.chunks,
                r.chunks_hashed,
                r.packs,
                r.packs_mismatched.len()
            ),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
}
