//! The manifest reader's containment (`backup::manifest::verify`, `backup::restore`): any
//! JSON manifest, never a panic; a path `check_relative` accepts has no `..` or root
//! component, `contained_path` never resolves outside the root, and `verify` over a root
//! with no files reports every accepted path missing (it reads nothing elsewhere).
#![no_main]

use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use session_resilience_core::backup::manifest::{verify, Entry};
use session_resilience_core::backup::restore::{check_relative, contained_path};

static ROOT: LazyLock<(tempfile::TempDir, PathBuf)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("temp dir");
    let real = std::fs::canonicalize(dir.path()).expect("canonical temp dir");
    (dir, real)
});

fuzz_target!(|data: &[u8]| {
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Some(files) = manifest.get("files").and_then(|f| f.as_array()) else {
        return;
    };
    let (_, root) = &*ROOT;
    let mut entries = Vec::new();
    for file in files {
        let Some(path) = file.get("path").and_then(|p| p.as_str()) else {
            continue;
        };
        if check_relative(path).is_ok() {
            assert!(
                Path::new(path)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_) | Component::CurDir)),
                "check_relative accepted {path:?}"
            );
            if let Ok(target) = contained_path(root, path) {
                assert!(target.starts_with(root), "{path:?} resolved to {target:?}");
            }
        }
        entries.push(Entry {
            path: path.to_string(),
            size: file.get("size").and_then(|s| s.as_u64()).unwrap_or(0),
            sha256: file
                .get("sha256")
                .and_then(|s| s.as_str())
                .unwrap_or("")
                .to_string(),
        });
    }
    if let Ok(found) = verify(root, &entries, &mut |_| {}) {
        assert_eq!(found.missing.len() + found.altered.len(), entries.len());
        assert!(found
            .altered
            .iter()
            .all(|p| p.is_empty() || p.chars().all(|c| c == '.' || c == '/')));
    }
});
