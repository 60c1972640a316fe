//! Verifying a store: every chunk that any snapshot references is read and re-hashed once,
//! however many snapshots share it, and each bad chunk (missing, damaged) is reported with
//! the snapshots it breaks. A snapshot whose record or tree cannot be read is broken too.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::chunk::ChunkId;
use super::Store;
use crate::error::Result;

/// A chunk that failed, and the snapshots that reference it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadChunk {
    pub id: String,
    /// "missing" or the damage found.
    pub reason: String,
    pub snapshots: Vec<String>,
}

/// The result of [`verify_store`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub snapshots: u64,
    /// Distinct chunks checked, and their plain bytes.
    pub chunks: u64,
    pub bytes: u64,
    pub bad_chunks: Vec<BadChunk>,
    /// Snapshots that cannot be restored whole, with the first reason.
    pub broken: BTreeMap<String, String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.broken.is_empty() && self.bad_chunks.is_empty()
    }
}

/// Verify the store folder `store` (every snapshot, or only `only` when given).
pub fn verify_store(store: &Path, only: Option<&[String]>) -> Result<VerifyReport> {
    let store = Store::open(store, false)?;
    let ids = match only {
        Some(ids) => ids.to_vec(),
        None => store.ids()?,
    };
    let mut report = VerifyReport::default();
    // chunk -> None when good, Some(reason) when bad
    let mut checked: HashMap<ChunkId, Option<String>> = HashMap::new();
    let mut users: HashMap<ChunkId, Vec<String>> = HashMap::new();
    let mut check = |id: ChunkId, snapshot: &str, report: &mut VerifyReport| -> bool {
        let verdict = checked
            .entry(id)
            .or_insert_with(|| match store.chunks().get(&id) {
                Ok(data) => {
                    report.chunks += 1;
                    report.bytes += data.len() as u64;
                    None
                }
                Err(e) if e.code() == crate::Code::Os("ENOENT") => Some("missing".into()),
                Err(e) => Some(e.to_string()),
            });
        if verdict.is_some() {
            let list = users.entry(id).or_default();
            if list.last().map(String::as_str) != Some(snapshot) {
                list.push(snapshot.to_string());
            }
        }
        verdict.is_none()
    };
    for id in &ids {
        report.snapshots += 1;
        let record = match store.record(id) {
            Ok(r) => r,
            Err(e) => {
                report.broken.insert(id.clone(), e.to_string());
                continue;
            }
        };
        let mut first_bad: Option<String> = None;
        let tree_ids = match record.tree_ids() {
            Ok(ids) => ids,
            Err(e) => {
                report.broken.insert(id.clone(), e.to_string());
                continue;
            }
        };
        for c in &tree_ids {
            if !check(*c, id, &mut report) && first_bad.is_none() {
                first_bad = Some(format!("a chunk of its tree ({}) is bad", c.hex()));
            }
        }
        if first_bad.is_none() {
            for entry in store.tree(&record)? {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        first_bad = Some(e.to_string());
                        break;
                    }
                };
                for c in entry.chunk_ids()? {
                    if !check(c, id, &mut report) && first_bad.is_none() {
                        first_bad = Some(format!("{}: chunk {} is bad", entry.path, c.hex()));
                    }
                }
            }
        }
        if let Some(why) = first_bad {
            report.broken.insert(id.clone(), why);
        }
    }
    let mut bad: Vec<BadChunk> = checked
        .into_iter()
        .filter_map(|(id, verdict)| {
            verdict.map(|reason| BadChunk {
                id: id.hex(),
                reason,
                snapshots: users.remove(&id).unwrap_or_default(),
            })
        })
        .collect();
    bad.sort_by(|a, b| a.id.cmp(&b.id));
    report.bad_chunks = bad;
    Ok(report)
}
