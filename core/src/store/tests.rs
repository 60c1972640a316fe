//! The store end to end on real folders: round trips, unchanged files left unread, subsets,
//! damage found by verify, and the containment of every write.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::chunk::ChunkId;
use super::chunks::Loc;
use super::testkit::spec;
use super::*;
use crate::backup::cancel::Cancel;
use crate::testutil::noise;

struct Project {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    store: PathBuf,
}

fn project() -> Project {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    fs::create_dir_all(root.join("src/deep/er")).unwrap();
    fs::create_dir_all(root.join("empty/inside")).unwrap();
    fs::create_dir_all(root.join("backups")).unwrap();
    fs::create_dir_all(root.join(".git")).unwrap();
    fs::write(root.join(".git/HEAD"), "ref: x\n").unwrap();
    fs::write(root.join("src/a.txt"), "alpha\n").unwrap();
    fs::write(root.join("src/deep/er/ünïcødé 名前.txt"), "unicode\n").unwrap();
    fs::write(root.join("empty.txt"), "").unwrap();
    let big: Vec<u8> = (0..700_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 7) as u8)
        .collect();
    fs::write(root.join("src/big.bin"), &big).unwrap();
    fs::write(root.join("run.sh"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(root.join("secret.txt"), "s").unwrap();
    fs::set_permissions(root.join("secret.txt"), fs::Permissions::from_mode(0o400)).unwrap();
    fs::write(root.join("debug.log"), "excluded").unwrap();
    symlink("src/a.txt", root.join("link-in")).unwrap();
    symlink("/etc/passwd", root.join("link-out")).unwrap();
    symlink("nowhere", root.join("src/dangling")).unwrap();
    let store = root.join("backups/store");
    Project {
        _tmp: tmp,
        root,
        store,
    }
}

fn snap(
    p: &Project,
    id: &str,
    excludes: &[String],
    substitutes: &[(String, PathBuf)],
) -> crate::Result<SnapshotStats> {
    let spec = SnapshotSpec {
        excludes,
        substitutes,
        ..spec(&p.root, &p.store, id)
    };
    create_snapshot(&spec, &mut |_| {})
}

fn take(p: &Project, id: &str) -> SnapshotStats {
    snap(p, id, &crate::backup::archive::default_excludes(), &[]).unwrap()
}

/// The project as snapshot "s1", then with `only-in-s2.txt` added as "s2": a chunk both
/// share (a.txt's) and one only s2 has.
fn two_snapshots() -> Project {
    let p = project();
    take(&p, "s1");
    fs::write(p.root.join("only-in-s2.txt"), "second snapshot only\n").unwrap();
    take(&p, "s2");
    p
}

/// Where chunk `id`'s encoded bytes are: (file, offset, length).
fn place(p: &Project, id: &ChunkId) -> (PathBuf, usize, usize) {
    let store = Store::open(&p.store, false).unwrap();
    match store
        .chunks()
        .locate(id)
        .unwrap()
        .expect("the chunk is in the store")
    {
        Loc::Loose => {
            let path = p.store.join(format!("chunks/{:02x}/{}", id.0[0], id.hex()));
            let len = fs::metadata(&path).unwrap().len() as usize;
            (path, 0, len)
        }
        Loc::Packed { pack, offset, len } => (
            p.store.join(format!("packs/{pack}.pack")),
            offset as usize,
            len as usize,
        ),
    }
}

/// Flip the last encoded byte of chunk `id`, wherever it is; its id in hex.
fn flip_chunk(p: &Project, id: &ChunkId) -> String {
    let (path, offset, len) = place(p, id);
    let mut bytes = fs::read(&path).unwrap();
    bytes[offset + len - 1] ^= 1;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&path, bytes).unwrap();
    id.hex()
}

/// Replace `from` by `to` in the store file `name` (which must contain it).
fn rewrite(p: &Project, name: &str, from: &str, to: &str) {
    let path = p.store.join(name);
    let was = fs::read_to_string(&path).unwrap();
    let now = was.replace(from, to);
    assert_ne!(was, now, "{name}: {from}");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&path, now).unwrap();
}

/// Turn a store written by this code into the layout format 2 code writes: every chunk a
/// loose file `chunks/<hh>/<id>` holding its encoded bytes, no `packs/`, `store.json` and
/// the records at version 2 (their content is otherwise the same in both versions).
fn to_version_2(p: &Project) {
    for entry in fs::read_dir(p.store.join("packs")).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_suffix(".idx")
        else {
            continue;
        };
        let pack_bytes = fs::read(p.store.join(format!("packs/{name}.pack"))).unwrap();
        for e in pack::parse_index(name, &fs::read(&path).unwrap())
            .unwrap()
            .0
        {
            let dir = p.store.join(format!("chunks/{:02x}", e.id.0[0]));
            fs::create_dir_all(&dir).unwrap();
            let (from, to) = (e.offset as usize, (e.offset + e.len) as usize);
            fs::write(dir.join(e.id.hex()), &pack_bytes[from..to]).unwrap();
        }
    }
    fs::remove_dir_all(p.store.join("packs")).unwrap();
    rewrite(p, "store.json", "\"version\": 4", "\"version\": 2");
    for entry in fs::read_dir(p.store.join("snapshots")).unwrap() {
        let name = format!("snapshots/{}", entry.unwrap().file_name().to_str().unwrap());
        rewrite(p, &name, "\"version\": 4", "\"version\": 2");
    }
}

/// The loose chunk files of a format 2 store, by name, with their sizes.
fn loose_files(p: &Project) -> std::collections::BTreeMap<String, u64> {
    let mut files = std::collections::BTreeMap::new();
    for dir in fs::read_dir(p.store.join("chunks")).unwrap() {
        for file in fs::read_dir(dir.unwrap().path()).unwrap() {
            let file = file.unwrap();
            let size = file.metadata().unwrap().len();
            files.insert(file.file_name().to_string_lossy().into_owned(), size);
        }
    }
    files
}

/// Every entry below `root` (not followed), minus `backups` and `.git`: path -> (kind,
/// mode, content or link target).
fn listing(root: &Path) -> Vec<(String, String, u32, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String, u32, Vec<u8>)>) {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for p in names {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel == "backups" || rel == ".git" || rel.ends_with(".log") {
                continue;
            }
            let meta = fs::symlink_metadata(&p).unwrap();
            let mode = meta.mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&p).unwrap();
                out.push((
                    rel,
                    "link".into(),
                    0,
                    target.to_string_lossy().as_bytes().to_vec(),
                ));
            } else if meta.is_dir() {
                out.push((rel, "dir".into(), mode, Vec::new()));
                walk(root, &p, out);
            } else {
                out.push((rel, "file".into(), mode, fs::read(&p).unwrap()));
            }
        }
    }
    walk(root, root, &mut out);
    out
}

fn restore_into(p: &Project, id: &str, only: &[String]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    fs::create_dir(&target).unwrap();
    restore_snapshot(&p.store, id, &target, only).unwrap();
    (tmp, target)
}

#[test]
fn a_snapshot_restores_byte_identical_with_modes_links_and_empty_folders() {
    let p = project();
    let stats = take(&p, "s1");
    assert_eq!(stats.files_reused, 0);
    assert!(stats.record.new_chunks > 0);
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    assert_eq!(listing(&out), listing(&p.root));
    assert!(!out.join("backups").exists() && !out.join(".git").exists());
    assert!(!out.join("debug.log").exists());
    assert_eq!(
        fs::metadata(out.join("src/a.txt")).unwrap().mtime(),
        fs::metadata(p.root.join("src/a.txt")).unwrap().mtime()
    );
}

#[test]
fn store_files_are_private_and_chunks_are_named_by_their_hash() {
    let p = project();
    take(&p, "s1");
    let store = Store::open(&p.store, false).unwrap();
    let ids = store.chunks().list().unwrap();
    assert!(!ids.is_empty());
    for id in ids {
        let data = store.chunks().get(&id).unwrap();
        assert_eq!(ChunkId::of(&data), id);
    }
    // one small pack and its index, owner-only, and no loose chunk
    let packs: Vec<_> = fs::read_dir(p.store.join("packs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(packs.len(), 2, "{packs:?}");
    for path in &packs {
        assert_eq!(fs::metadata(path).unwrap().mode() & 0o777, 0o600);
    }
    assert_eq!(
        fs::metadata(p.store.join("packs")).unwrap().mode() & 0o777,
        0o700
    );
    assert!(!p.store.join("chunks").exists());
    let record = p.store.join("snapshots/s1.json");
    assert_eq!(fs::metadata(record).unwrap().mode() & 0o777, 0o600);
    assert_eq!(fs::metadata(&p.store).unwrap().mode() & 0o777, 0o700);
}

#[test]
fn unchanged_files_are_not_read_again_and_add_no_chunk() {
    let p = project();
    let first = take(&p, "s1");
    let second = take(&p, "s2");
    assert_eq!(second.files_read, 0);
    assert_eq!(second.files_reused, first.files_read);
    assert_eq!(second.record.new_chunks, 0);
    assert_eq!(second.record.new_bytes, 0);
    assert_eq!(second.record.tree, first.record.tree);
    assert_eq!(second.record.parent.as_deref(), Some("s1"));
    // a file touched (same bytes, new mtime) is read again but adds nothing
    let f = fs::File::options()
        .write(true)
        .open(p.root.join("src/a.txt"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(5))
        .unwrap();
    drop(f);
    fs::write(p.root.join("src/deep/new.txt"), "new file\n").unwrap();
    let third = take(&p, "s3");
    assert_eq!(third.files_read, 2);
    assert_eq!(third.files_reused, first.files_read - 1);
    let (_tmp, out) = restore_into(&p, "s3", &[]);
    assert_eq!(listing(&out), listing(&p.root));
    // the older snapshot still restores its own state
    let (_tmp2, old) = restore_into(&p, "s1", &[]);
    assert!(!old.join("src/deep/new.txt").exists());
}

#[test]
fn a_replaced_file_with_the_same_size_and_mtime_is_caught_by_its_inode_or_ctime() {
    let p = project();
    take(&p, "s1");
    let a = p.root.join("src/a.txt");
    let mtime = fs::metadata(&a).unwrap().modified().unwrap();
    fs::write(p.root.join("src/a.tmp"), "ALPHA\n").unwrap();
    let f = fs::File::options()
        .write(true)
        .open(p.root.join("src/a.tmp"))
        .unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    fs::rename(p.root.join("src/a.tmp"), &a).unwrap();
    let second = take(&p, "s2");
    assert_eq!(second.files_read, 1);
    let (_tmp, out) = restore_into(&p, "s2", &[]);
    assert_eq!(fs::read(out.join("src/a.txt")).unwrap(), b"ALPHA\n");
}

#[test]
fn a_subset_restores_only_the_paths_named_and_a_missing_one_writes_nothing() {
    let p = project();
    take(&p, "s1");
    let (_tmp, out) = restore_into(&p, "s1", &["src/deep".into(), "run.sh".into()]);
    let got: Vec<String> = listing(&out).into_iter().map(|e| e.0).collect();
    assert_eq!(
        got,
        [
            "run.sh",
            "src",
            "src/deep",
            "src/deep/er",
            "src/deep/er/ünïcødé 名前.txt"
        ]
    );
    let tmp = tempfile::tempdir().unwrap();
    let err = restore_snapshot(
        &p.store,
        "s1",
        tmp.path(),
        &["src/a.txt".into(), "nope".into()],
    )
    .unwrap_err();
    assert_eq!(err.code().as_str(), "ENOENT");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn restore_replaces_what_is_there_and_never_follows_a_link_on_the_way() {
    let p = project();
    take(&p, "s1");
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let target = tmp.path().join("t");
    fs::create_dir(&target).unwrap();
    // src is a link to a folder outside: the restore must not write through it
    symlink(&outside, target.join("src")).unwrap();
    fs::write(target.join("run.sh"), "old content, will be replaced").unwrap();
    fs::create_dir(target.join("empty.txt")).unwrap();
    restore_snapshot(&p.store, "s1", &target, &[]).unwrap();
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(listing(&target), listing(&p.root));
}

/// The project as snapshot "s1", and a restore target `t` (in a temp folder of its own)
/// holding the folders `dirs` already.
fn taken_with_target(dirs: &str) -> (Project, tempfile::TempDir, PathBuf) {
    let p = project();
    take(&p, "s1");
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("t");
    fs::create_dir_all(target.join(dirs)).unwrap();
    (p, tmp, target)
}

#[test]
fn the_temp_a_killed_restore_left_is_removed_by_the_next_one() {
    use crate::testutil::{dead_pid, LiveChild};
    let (p, _tmp, target) = taken_with_target("src/deep/er");
    let now_ms = crate::time::now_ms();
    let killed = format!("src/.big.bin.sr-{}-{now_ms}-0.tmp", dead_pid());
    let deeper = format!("src/deep/er/.x.sr-{}-{now_ms}-0.tmp", dead_pid());
    let writer = LiveChild::spawn();
    let running = format!("src/.a.txt.sr-{}-{now_ms}-0.tmp", writer.pid());
    for rel in [&killed, &deeper, &running] {
        fs::write(target.join(rel), b"half a file").unwrap();
    }
    restore_snapshot(&p.store, "s1", &target, &[]).unwrap();
    assert!(!target.join(&killed).exists() && !target.join(&deeper).exists());
    assert!(
        target.join(&running).exists(),
        "a live writer's temp is kept"
    );
    fs::remove_file(target.join(&running)).unwrap();
    assert_eq!(listing(&target), listing(&p.root));
}

/// Snapshot `id`, a copy of s1's record whose tree is the one chunk `tree` (written by hand).
fn crafted_snapshot(p: &Project, id: &str, tree: &[u8]) {
    let store = Store::open(&p.store, false).unwrap();
    let chunk_id = ChunkId::of(tree);
    store.chunks().put(&chunk_id, &chunk::encode(tree)).unwrap();
    store.chunks().flush().unwrap();
    let mut record = store.record("s1").unwrap();
    record.id = id.to_string();
    record.tree = vec![chunk_id.hex()];
    snapshot::write(store.snapshots_dir(), &record).unwrap();
}

/// A tree line of a file at `path` (its bytes as given), without chunks.
fn file_line(path: &[u8]) -> Vec<u8> {
    let fields = b"\",\"type\":\"file\",\"mode\":420,\"size\":0,\"mtime\":[0,0],\"ctime\":[0,0],\"ino\":\"1\"}\n";
    [&b"{\"path\":\""[..], path, fields].concat()
}

#[test]
fn a_crafted_tree_cannot_leave_the_target() {
    let p = project();
    take(&p, "s1");
    for bad in ["../escape.txt", ".git/config", "backups/x"] {
        let id = format!("crafted-{}", bad.len());
        crafted_snapshot(&p, &id, &file_line(bad.as_bytes()));
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("t");
        fs::create_dir(&target).unwrap();
        let err = restore_snapshot(&p.store, &id, &target, &[]).unwrap_err();
        assert_eq!(err.code().as_str(), "EPATHESCAPE", "{bad}: {err}");
        assert!(!tmp.path().join("escape.txt").exists());
        assert_eq!(fs::read_dir(&target).unwrap().count(), 0);
    }
}

#[test]
fn a_symlinked_store_is_refused() {
    let p = project();
    let elsewhere = p.root.parent().unwrap().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, &p.store).unwrap();
    let err = snap(&p, "s1", &[], &[]).unwrap_err();
    assert_eq!(err.code().as_str(), "EPATHESCAPE", "{err}");
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn verify_hashes_each_chunk_once_and_names_the_snapshots_a_bad_chunk_breaks() {
    let p = two_snapshots();
    let report = verify_store(&p.store, None).unwrap();
    assert!(report.ok(), "{report:?}");
    let store = Store::open(&p.store, false).unwrap();
    assert_eq!(report.chunks as usize, store.chunks().list().unwrap().len());
    // damage the chunk of a.txt (shared) and of only-in-s2.txt (s2 alone)
    let flip = |content: &[u8]| flip_chunk(&p, &ChunkId::of(content));
    let only2 = flip(b"second snapshot only\n");
    let report = verify_store(&p.store, None).unwrap();
    assert_eq!(report.bad_chunks.len(), 1);
    assert_eq!(report.bad_chunks[0].id, only2);
    assert_eq!(report.bad_chunks[0].snapshots, ["s2"]);
    assert_eq!(report.broken.keys().collect::<Vec<_>>(), ["s2"]);
    // the intact snapshot still restores; the broken one fails with ECORRUPT
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    assert!(out.join("src/a.txt").exists());
    let tmp = tempfile::tempdir().unwrap();
    let err = restore_snapshot(&p.store, "s2", tmp.path(), &[]).unwrap_err();
    assert_eq!(err.code().as_str(), "ECORRUPT");
    let shared = flip(b"alpha\n");
    let report = verify_store(&p.store, None).unwrap();
    let bad = report.bad_chunks.iter().find(|b| b.id == shared).unwrap();
    assert_eq!(bad.snapshots, ["s1", "s2"]);
    // chunks whose pack's index is gone are reported missing, with the snapshot they break
    let (pack, _, _) = place(&p, &ChunkId::parse(&only2).unwrap());
    fs::remove_file(pack.with_extension("idx")).unwrap();
    let report = verify_store(&p.store, None).unwrap();
    let gone = report.bad_chunks.iter().find(|b| b.reason == "missing");
    assert_eq!(
        gone.map(|b| b.snapshots.clone()),
        Some(vec!["s2".to_string()])
    );
}

#[test]
fn a_sparse_file_round_trips_and_stays_sparse() {
    let p = project();
    let size = 64 * 1024 * 1024u64;
    let f = fs::File::create(p.root.join("sparse.img")).unwrap();
    f.set_len(size).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_at(b"middle", size / 2).unwrap();
    drop(f);
    let stats = take(&p, "s1");
    assert!(
        stats.record.new_bytes < 2 * 1024 * 1024,
        "{}",
        stats.record.new_bytes
    );
    let (_tmp, out) = restore_into(&p, "s1", &["sparse.img".into()]);
    let restored = out.join("sparse.img");
    assert_eq!(fs::metadata(&restored).unwrap().len(), size);
    assert!(fs::metadata(&restored).unwrap().blocks() * 512 < size / 4);
    assert_eq!(
        fs::read(&restored).unwrap(),
        fs::read(p.root.join("sparse.img")).unwrap()
    );
}

#[test]
fn a_second_snapshot_with_the_same_id_is_refused_and_bad_ids_too() {
    let p = project();
    take(&p, "s1");
    for (id, code) in [
        ("s1", "EEXIST"),
        ("../x", "EBADLABEL"),
        (".hidden", "EBADLABEL"),
    ] {
        assert_eq!(snap(&p, id, &[], &[]).unwrap_err().code().as_str(), code);
    }
}

#[test]
fn a_substitute_is_stored_in_place_of_the_live_file_without_its_side_files() {
    let p = project();
    fs::write(p.root.join("db.sqlite"), "live bytes").unwrap();
    fs::write(p.root.join("db.sqlite-wal"), "wal").unwrap();
    let copy = p.root.join("backups/copy.sqlite");
    fs::write(&copy, "consistent copy").unwrap();
    let subs = vec![("db.sqlite".to_string(), copy)];
    let stats = snap(&p, "s1", &crate::backup::archive::default_excludes(), &subs).unwrap();
    // every file was read, the substitute once, its side file not at all
    assert_eq!(
        (stats.files_read, stats.files_reused),
        (stats.record.files, 0)
    );
    assert_eq!(stats.record.files, 7);
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    assert_eq!(fs::read(out.join("db.sqlite")).unwrap(), b"consistent copy");
    assert!(!out.join("db.sqlite-wal").exists());
}

#[test]
fn a_store_of_another_format_or_version_is_refused() {
    let p = project();
    take(&p, "s1");
    let config = p.store.join("store.json");
    let text = fs::read_to_string(&config)
        .unwrap()
        .replace("\"version\": 4", "\"version\": 5");
    fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&config, text).unwrap();
    let err = Store::open(&p.store, false).err().unwrap();
    assert_eq!(err.code().as_str(), "ECORRUPT");
}

/// The `store.json` a first snapshot writes is the one docs/store-format.md specifies: its
/// version, hash, codecs and the chunker's sizes (the cut points the JS backend must share).
#[test]
fn the_store_json_written_is_the_one_the_format_document_specifies() {
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/store-format.md"))
            .unwrap();
    let section = &doc[doc.find("## `store.json`").unwrap()..];
    let block = &section[section.find("```json\n").unwrap() + 8..];
    let specified: serde_json::Value =
        serde_json::from_str(&block[..block.find("```").unwrap()]).unwrap();
    let (_tmp, root, store) = super::testkit::project();
    super::testkit::snap(&root, &store, "s1");
    let written: serde_json::Value =
        serde_json::from_slice(&fs::read(store.join("store.json")).unwrap()).unwrap();
    assert_eq!(written, specified);
}

#[test]
fn gc_removes_only_the_chunks_no_record_references_and_stops_on_a_damaged_record() {
    let p = two_snapshots();
    let store = Store::open(&p.store, false).unwrap();
    let before = store.chunks().list().unwrap().len() as u64;
    let none = collect_garbage(&p.store).unwrap();
    assert_eq!((none.chunks, none.removed), (before, 0));
    snapshot::remove(store.snapshots_dir(), "s2").unwrap();
    let gone = collect_garbage(&p.store).unwrap();
    // the file only s2 had, and the chunks of s2's tree
    assert!(gone.removed >= 2, "{gone:?}");
    let store = Store::open(&p.store, false).unwrap();
    assert!(!store
        .chunks()
        .has(&ChunkId::of(b"second snapshot only\n"))
        .unwrap());
    assert!(verify_store(&p.store, None).unwrap().ok());
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    assert!(out.join("src/a.txt").exists());
    // a damaged record: nothing is removed
    fs::write(p.store.join("snapshots/s9.json"), "{ not json").unwrap();
    take(&p, "s3");
    snapshot::remove(store.snapshots_dir(), "s3").unwrap();
    let count = || {
        let store = Store::open(&p.store, false).unwrap();
        store.chunks().list().unwrap().len()
    };
    let left = count();
    assert_eq!(
        collect_garbage(&p.store).unwrap_err().code().as_str(),
        "ECORRUPT"
    );
    assert_eq!(count(), left);
}

/// Format version 2: a file of more than `list::INLINE` chunks keeps its list in list chunks,
/// the tree is cut between entries; both restore byte-identical, verify reaches the list
/// chunks (a damaged one names the snapshot), and garbage collection keeps them.
#[test]
fn long_chunk_lists_live_in_list_chunks_that_verify_and_gc_reach() {
    let p = project();
    // 6 MB of content-cut data: ~90 chunks, more than INLINE
    let data = noise(0x9e37_79b9_7f4a_7c15, 6_000_000);
    fs::write(p.root.join("large.bin"), &data).unwrap();
    take(&p, "s1");
    let store = Store::open(&p.store, false).unwrap();
    let record = store.record("s1").unwrap();
    assert_eq!(record.version, 4);
    // the stored line names list chunks (depth 1), the reader gives the data chunks
    let raw: Vec<u8> = record
        .tree_ids()
        .unwrap()
        .iter()
        .flat_map(|id| store.chunks().get(id).unwrap())
        .collect();
    let line = String::from_utf8(raw)
        .unwrap()
        .lines()
        .find(|l| l.contains("\"path\":\"large.bin\""))
        .unwrap()
        .to_string();
    let stored: tree::Entry = serde_json::from_str(&line).unwrap();
    assert_eq!(stored.depth, 1, "{line}");
    let entry = store
        .tree(&record)
        .unwrap()
        .map(Result::unwrap)
        .find(|e| e.path == "large.bin")
        .unwrap();
    assert!(entry.chunks.len() > list::INLINE, "{}", entry.chunks.len());
    assert_eq!(entry.depth, 0);
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    assert_eq!(fs::read(out.join("large.bin")).unwrap(), data);
    // gc removes nothing a snapshot needs: the list chunks stay, the snapshot still restores
    let gc = collect_garbage(&p.store).unwrap();
    assert_eq!(gc.removed, 0);
    assert!(verify_store(&p.store, None).unwrap().ok());
    // verify reaches the list chunks: damage one, the snapshot is named broken
    let list_id = ChunkId::parse(&stored.chunks[0]).unwrap();
    flip_chunk(&p, &list_id);
    let report = verify_store(&p.store, None).unwrap();
    let bad = report.bad_chunks.iter().find(|b| b.id == list_id.hex());
    assert_eq!(bad.map(|b| b.snapshots.clone()), Some(vec!["s1".into()]));
    assert!(report.broken.contains_key("s1"));
    let tmp = tempfile::tempdir().unwrap();
    let err = restore_snapshot(&p.store, "s1", tmp.path(), &[]).unwrap_err();
    assert_eq!(err.code().as_str(), "ECORRUPT");
    // a damaged list stops gc (the chunks it names are unknown): nothing removed
    let err = collect_garbage(&p.store).unwrap_err();
    assert_eq!(err.code().as_str(), "ECORRUPT");
}

#[test]
fn a_changed_file_rewrites_only_the_tree_runs_around_it() {
    let p = project();
    for d in 0..20 {
        fs::create_dir_all(p.root.join(format!("many/d{d}"))).unwrap();
        for f in 0..50 {
            fs::write(
                p.root.join(format!("many/d{d}/f{f}.txt")),
                format!("{d} {f}\n"),
            )
            .unwrap();
        }
    }
    take(&p, "s1");
    let store = Store::open(&p.store, false).unwrap();
    let record = store.record("s1").unwrap();
    // 1,000 entries: ~170 runs, more than a record lists inline
    assert_eq!(record.tree_depth, 1);
    let tree_bytes: usize = store
        .tree(&record)
        .unwrap()
        .map(|e| e.unwrap().line().len())
        .sum();
    fs::write(p.root.join("many/d7/f3.txt"), "changed\n").unwrap();
    let s2 = take(&p, "s2");
    // the changed file's chunk, its run of the tree (its folder's line did not change: a
    // file rewritten in place), and the run of the tree's list that names that run; that
    // list is grouped by content (a cut after an id chosen from the id itself), and the
    // changed run's new id (it holds the new mtime) may become a cut: then that list run is
    // two new chunks instead of one (one time in eight: list.rs CUT_MASK)
    assert!((3..=4).contains(&s2.record.new_chunks), "{:?}", s2.record);
    // a few runs of ids and lines, not the tree: a list run's length is random (the cut
    // rule), so the bound leaves room for a long one (2,766 bytes seen with 4 chunks)
    assert!(
        s2.record.new_bytes < 8192 && tree_bytes > 100_000,
        "{} bytes new of a {tree_bytes}-byte tree",
        s2.record.new_bytes
    );
}

/// A version 1 store (trees cut anywhere, lists inline, `version: 1`) stays readable: listed,
/// verified and restored as it is; the next snapshot turns `store.json` to version 2 and
/// the old record keeps working beside the new one.
/// Make the store of `p` a version 1 store whose one snapshot `s1` has a version 1 tree: its
/// lines cut every `cut` bytes (across lines, as version 1 cut trees), lists inline. The ids
/// of its tree chunks.
fn to_version_1(p: &Project, cut: usize) -> Vec<String> {
    let store = Store::open(&p.store, false).unwrap();
    let record = store.record("s1").unwrap();
    let text: String = store
        .tree(&record)
        .unwrap()
        .map(|e| e.unwrap().line())
        .collect();
    let ids: Vec<String> = text
        .as_bytes()
        .chunks(cut)
        .map(|part| {
            let id = ChunkId::of(part);
            store.chunks().put(&id, &chunk::encode(part)).unwrap();
            id.hex()
        })
        .collect();
    store.chunks().flush().unwrap();
    let rewrite = |name: &str, from: &str, to: &str| rewrite(p, name, from, to);
    rewrite("store.json", "\"version\": 4", "\"version\": 1");
    let v1_tree = serde_json::to_string(&ids).unwrap();
    let old_tree = serde_json::to_string_pretty(&record.tree).unwrap();
    rewrite("snapshots/s1.json", "\"version\": 4", "\"version\": 1");
    rewrite(
        "snapshots/s1.json",
        &old_tree.replace('\n', "\n  "),
        &v1_tree,
    );
    assert_eq!(store.record("s1").unwrap().tree, ids);
    ids
}

#[test]
fn a_version_1_store_is_read_as_is_and_upgraded_by_the_next_snapshot() {
    let p = project();
    take(&p, "s1");
    // make it a version 1 store: one tree chunk holding every line, a version 1 record
    to_version_1(&p, usize::MAX);
    let rewrite = |name: &str, from: &str, to: &str| rewrite(&p, name, from, to);
    assert!(verify_store(&p.store, None).unwrap().ok());
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    assert_eq!(listing(&out), listing(&p.root));
    // the next snapshot upgrades the store and reuses s1's entries
    fs::write(p.root.join("new.txt"), "new\n").unwrap();
    let s2 = take(&p, "s2");
    assert!(s2.files_reused > 0);
    let config = fs::read_to_string(p.store.join("store.json")).unwrap();
    assert!(config.contains("\"version\": 4"), "{config}");
    assert_eq!(
        Store::open(&p.store, false)
            .unwrap()
            .record("s1")
            .unwrap()
            .version,
        1
    );
    // gc keeps what both need (it may drop s1's version 2 tree chunks this test replaced)
    collect_garbage(&p.store).unwrap();
    assert!(verify_store(&p.store, None).unwrap().ok());
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    assert!(!out.join("new.txt").exists() && out.join("src/a.txt").exists());
    // a version 1 record that claims a list is damage
    rewrite(
        "snapshots/s1.json",
        "\"version\": 1,",
        "\"version\": 1, \"treeDepth\": 1,",
    );
    let err = Store::open(&p.store, false)
        .unwrap()
        .record("s1")
        .unwrap_err();
    assert_eq!(err.code().as_str(), "ECORRUPT");
    // verify names the snapshot broken though no chunk is bad: the store is not sound
    let report = verify_store(&p.store, None).unwrap();
    assert!(report.bad_chunks.is_empty(), "{report:?}");
    assert_eq!(report.broken.keys().collect::<Vec<_>>(), ["s1"]);
    assert!(!report.ok());
}

/// A store of format 2 (loose chunk files) is read as it is, then written to by this code:
/// its snapshots verify and restore, the next snapshot reuses their chunks and writes only
/// packs, and garbage collection removes the loose chunks nothing references any more.
#[test]
fn a_version_2_store_of_loose_chunks_is_read_extended_with_packs_and_collected() {
    let p = project();
    take(&p, "s1");
    to_version_2(&p);
    assert!(verify_store(&p.store, None).unwrap().ok());
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    assert_eq!(listing(&out), listing(&p.root));
    fs::write(p.root.join("src/a.txt"), "alpha, changed\n").unwrap();
    let s2 = take(&p, "s2");
    assert!(s2.files_reused > 0 && s2.record.new_chunks > 0);
    let config = fs::read_to_string(p.store.join("store.json")).unwrap();
    assert!(config.contains("\"version\": 4"), "{config}");
    let store = Store::open(&p.store, false).unwrap();
    let index = store.chunks().load().unwrap();
    assert_eq!(index.packs.len(), 1);
    // nothing of s2 went into a loose file
    let loose_before = index.loose.len();
    assert!(index.packs[0]
        .entries
        .iter()
        .all(|e| !index.loose.contains(&e.id)));
    assert!(verify_store(&p.store, None).unwrap().ok());
    store.remove_snapshot("s1").unwrap();
    let sizes_before = loose_files(&p);
    let gc = collect_garbage(&p.store).unwrap();
    assert!(gc.removed > 0, "{gc:?}");
    // the bytes it reports are those of the loose files it removed (no pack had a dead chunk)
    let sizes_after = loose_files(&p);
    let removed: u64 = sizes_before
        .iter()
        .filter(|(name, _)| !sizes_after.contains_key(*name))
        .map(|(_, size)| size)
        .sum();
    assert!(removed > 0);
    assert_eq!(gc.removed_bytes, removed, "{gc:?}");
    let left = Store::open(&p.store, false)
        .unwrap()
        .chunks()
        .load()
        .unwrap();
    assert!(left.loose.len() < loose_before);
    assert!(!left.loose.contains(&ChunkId::of(b"alpha\n")));
    assert!(verify_store(&p.store, None).unwrap().ok());
    let (_tmp, out) = restore_into(&p, "s2", &[]);
    assert_eq!(listing(&out), listing(&p.root));
}

/// Damage inside a pack stays local: a flipped byte breaks the chunk it is in and no other;
/// a truncated pack, or an index entry past the pack's end, is reported by verify (and
/// refused by restore), never a crash; a damaged index stops garbage collection.
#[test]
fn damage_in_a_pack_breaks_only_the_chunks_it_touches() {
    let p = two_snapshots();
    // a.txt and only-in-s2.txt are in different packs; flip a chunk in the middle of s1's
    let alpha = ChunkId::of(b"alpha\n");
    let (pack1, _, _) = place(&p, &alpha);
    let (pack2, _, _) = place(&p, &ChunkId::of(b"second snapshot only\n"));
    assert_ne!(pack1, pack2);
    flip_chunk(&p, &alpha);
    let report = verify_store(&p.store, None).unwrap();
    assert_eq!(report.bad_chunks.len(), 1, "{report:?}");
    assert_eq!(report.bad_chunks[0].id, alpha.hex());
    assert_eq!(report.bad_chunks[0].snapshots, ["s1", "s2"]);
    let (_tmp, out) = restore_into(&p, "s1", &["src/big.bin".to_string()]);
    assert!(out.join("src/big.bin").exists());
    // truncate s2's pack to nothing: its chunks are reported, s1 is still whole
    fs::write(&pack2, b"").unwrap();
    let report = verify_store(&p.store, None).unwrap();
    let cut = report
        .bad_chunks
        .iter()
        .find(|b| b.reason.contains("ends before"));
    assert_eq!(
        cut.map(|b| b.snapshots.clone()),
        Some(vec!["s2".to_string()]),
        "{report:?}"
    );
    assert!(report.broken.contains_key("s2"));
    let tmp = tempfile::tempdir().unwrap();
    let err = restore_snapshot(&p.store, "s2", tmp.path(), &[]).unwrap_err();
    assert_eq!(err.code().as_str(), "ECORRUPT", "{err}");
    // an index that does not hash to its name: gc stops, removes nothing
    let idx = pack2.with_extension("idx");
    let mut bytes = fs::read(&idx).unwrap();
    bytes[20] ^= 1;
    fs::set_permissions(&idx, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&idx, bytes).unwrap();
    Store::open(&p.store, false)
        .unwrap()
        .remove_snapshot("s2")
        .unwrap();
    let err = collect_garbage(&p.store).unwrap_err();
    assert_eq!(err.code().as_str(), "ECORRUPT", "{err}");
    assert!(pack2.exists() && idx.exists());
}

/// Garbage collection of packs: a pack of dead chunks goes (index, then pack), a mostly
/// dead pack is rewritten with its live chunks, an unindexed pack or temp file is removed
/// only once older than the grace period; what is left verifies and restores.
#[test]
fn gc_drops_dead_packs_repacks_mostly_dead_ones_and_waits_out_the_grace() {
    let p = project();
    fs::write(p.root.join("gone.bin"), noise(7, 3_000_000)).unwrap();
    take(&p, "s1");
    fs::remove_file(p.root.join("gone.bin")).unwrap();
    fs::write(p.root.join("later.bin"), noise(9, 200_000)).unwrap();
    take(&p, "s2");
    fs::write(p.root.join("third.txt"), "third\n").unwrap();
    take(&p, "s3");
    let packs = |p: &Project| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(p.store.join("packs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".pack"))
            .collect();
        names.sort();
        names
    };
    assert_eq!(packs(&p).len(), 3);
    let (pack3, _, _) = place(&p, &ChunkId::of(b"third\n"));
    // s3 goes: its pack (third.txt, its tree runs) has no live chunk left
    let store = Store::open(&p.store, false).unwrap();
    store.remove_snapshot("s3").unwrap();
    let gc = collect_garbage(&p.store).unwrap();
    assert!(gc.removed > 0, "{gc:?}");
    assert!(!pack3.exists() && !pack3.with_extension("idx").exists());
    assert_eq!(packs(&p).len(), 2);
    // s1 goes: its pack is mostly gone.bin, dead now; the rest is copied into a new pack
    store.remove_snapshot("s1").unwrap();
    let alpha = ChunkId::of(b"alpha\n");
    let (pack1, _, _) = place(&p, &alpha);
    // a reader that knows where alpha was (its indexes read, the pack not opened yet)
    let reader = Store::open(&p.store, false).unwrap();
    assert!(reader.chunks().size(&alpha).unwrap() > 0);
    let gc = collect_garbage(&p.store).unwrap();
    assert!(gc.removed_bytes > 2_000_000, "{gc:?}");
    assert!(!pack1.exists());
    let (moved, _, _) = place(&p, &alpha);
    assert_ne!(moved, pack1);
    // finds the pack gone, reads the indexes again and follows alpha to its new pack
    assert_eq!(reader.chunks().get(&alpha).unwrap(), b"alpha\n");
    // the pack the collection wrote records its digest: every pack is hashed whole, no chunk
    // alone
    let report = verify_store(&p.store, None).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!((report.packs, report.chunks_hashed), (2, 0), "{report:?}");
    let (_tmp, out) = restore_into(&p, "s2", &[]);
    assert_eq!(
        listing(&out),
        listing(&p.root)[..]
            .iter()
            .filter(|e| e.0 != "third.txt")
            .cloned()
            .collect::<Vec<_>>()
    );
    // a pack without an index: kept while young, removed once old; a temp file: removed once
    // its writer is gone (pid 1 started before the moment its name says), ours kept
    let orphan = p
        .store
        .join(format!("packs/{}.pack", ChunkId::of(b"o").hex()));
    let dead = p.store.join("packs/.pack.sr-1-2-3.tmp");
    let ours = p.store.join(format!(
        "packs/.pack.sr-{}-{}-0.tmp",
        std::process::id(),
        crate::time::now_ms()
    ));
    for path in [&orphan, &dead, &ours] {
        fs::write(path, b"partial").unwrap();
    }
    collect_garbage(&p.store).unwrap();
    assert!(orphan.exists() && !dead.exists() && ours.exists());
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * gc::GRACE as u64);
    fs::File::options()
        .write(true)
        .open(&orphan)
        .unwrap()
        .set_modified(old)
        .unwrap();
    collect_garbage(&p.store).unwrap();
    assert!(!orphan.exists() && ours.exists());
    assert!(verify_store(&p.store, None).unwrap().ok());
}

/// A verify thread that panics makes the call an error, and the call returns: the other
/// threads, waiting for that walk to end, are not left waiting.
#[test]
fn a_verify_thread_that_panics_is_an_error_of_the_call_not_a_hang() {
    let p = project();
    for id in ["s1", "s2", "s3", "test-panic-1", "s4"] {
        take(&p, id);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let store = p.store.clone();
    std::thread::spawn(move || {
        let _ = tx.send(verify_store(&store, None));
    });
    let result = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("verify returned");
    let err = result.unwrap_err();
    assert_eq!(err.code().as_str(), "EIO", "{err}");
    assert!(err.to_string().contains("test panic in the walk"), "{err}");
    // the store itself is fine: the same call without that snapshot succeeds
    let ids: Vec<String> = ["s1", "s2", "s3", "s4"].map(String::from).to_vec();
    assert!(verify_store(&p.store, Some(&ids)).unwrap().ok());
}

/// The packs of the store: (name, entries, digest), by name.
fn packs_of(p: &Project) -> Vec<(String, Vec<pack::IndexEntry>, Option<pack::PackDigest>)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(p.store.join("packs")).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        if let Some(name) = pack::stem(&file, ".idx") {
            let bytes = fs::read(p.store.join("packs").join(&file)).unwrap();
            let (entries, digest) = pack::parse_index(name, &bytes).unwrap();
            out.push((name.to_string(), entries, digest));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Replace pack `name`'s index by one of `entries` and `digest` (a version 3 index when
/// `None`), valid in itself (it hashes to its new name); the pack renamed after it.
fn reindex(p: &Project, name: &str, entries: &[pack::IndexEntry], digest: Option<[u8; 32]>) {
    let packs = p.store.join("packs");
    let (new, bytes) = match digest {
        Some(d) => pack::encode_index(
            entries,
            &pack::PackDigest {
                hash: pack::PackHash::Blake3,
                digest: d,
            },
        ),
        None => {
            // format version 3's layout: the old magic, no pack digest
            let (_, v4) = pack::encode_index(entries, &pack::PackHasher::default().finish());
            let mut v3 = b"SRIDX\0\0\x03".to_vec();
            v3.extend_from_slice(&v4[8..28 + 40 * entries.len()]);
            let digest: [u8; 32] = sha2::Digest::finalize(sha2::Digest::chain_update(
                <sha2::Sha256 as sha2::Digest>::new(),
                &v3,
            ))
            .into();
            v3.extend_from_slice(&digest);
            (ChunkId(digest).hex(), v3)
        }
    };
    fs::rename(
        packs.join(pack::pack_file(name)),
        packs.join(pack::pack_file(&new)),
    )
    .unwrap();
    fs::write(packs.join(pack::index_file(&new)), bytes).unwrap();
    fs::remove_file(packs.join(pack::index_file(name))).unwrap();
}

/// The chunks of `report` without how they were checked: what deep and default must agree on.
fn verdicts(r: &VerifyReport) -> (u64, u64, Vec<BadChunk>, Vec<(String, String)>) {
    let broken = r.broken.iter().map(|(a, b)| (a.clone(), b.clone()));
    (r.chunks, r.bytes, r.bad_chunks.clone(), broken.collect())
}

use super::verify::BadChunk;

/// Issue 14: verify hashes each pack whole once (BLAKE3, the digest its index records); a
/// pack that matches needs no chunk inflated or hashed; a flipped byte makes its pack not
/// match, and that pack alone is then checked chunk by chunk, the damage named per chunk and
/// per snapshot exactly as a deep verify names it.
#[test]
fn verify_hashes_packs_whole_and_checks_a_pack_that_does_not_match_chunk_by_chunk() {
    let p = two_snapshots();
    let packs = packs_of(&p);
    assert_eq!(packs.len(), 2);
    assert!(packs
        .iter()
        .all(|(_, _, d)| d.map(|d| d.hash) == Some(pack::PackHash::Blake3)));
    let deep = VerifyOptions { deep: true };
    let report = verify_store(&p.store, None).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!((report.packs, report.chunks_hashed), (2, 0));
    // every chunk the two packs hold is referenced (nothing is dead yet): counted with the
    // bytes it takes in its pack, once
    let entries = packs.iter().flat_map(|(_, e, _)| e);
    let stored = entries.clone().map(|e| u64::from(e.len)).sum::<u64>();
    assert_eq!(
        (report.snapshots, report.chunks, report.bytes),
        (2, entries.count() as u64, stored)
    );
    assert!(report.packs_mismatched.is_empty());
    let full = verify_store_with(&p.store, None, deep).unwrap();
    assert_eq!((full.packs, full.chunks_hashed), (0, full.chunks));
    assert_eq!(verdicts(&full), verdicts(&report));
    // a flipped byte in s2's pack: only that pack's chunks are hashed, the bad one named
    let only2 = flip_chunk(&p, &ChunkId::of(b"second snapshot only\n"));
    let (name2, entries2, _) = packs
        .iter()
        .find(|(_, e, _)| e.iter().any(|e| e.id.hex() == only2))
        .unwrap()
        .clone();
    let report = verify_store(&p.store, None).unwrap();
    assert_eq!(report.packs, 1);
    assert_eq!(report.packs_mismatched, std::slice::from_ref(&name2));
    assert_eq!(report.chunks_hashed as usize, entries2.len());
    assert_eq!(report.bad_chunks.len(), 1);
    assert_eq!(report.bad_chunks[0].id, only2);
    assert_eq!(report.bad_chunks[0].snapshots, ["s2"]);
    assert_eq!(report.broken.keys().collect::<Vec<_>>(), ["s2"]);
    let full = verify_store_with(&p.store, None, deep).unwrap();
    assert_eq!(verdicts(&full), verdicts(&report));
    // damage in bytes no chunk covers (here bytes after the last chunk: a dead chunk's bytes
    // in a pack are the same case): the pack does not match, its chunks are all checked alone
    // and good, so every snapshot is whole; the pack is named
    let (name1, entries1, _) = packs.iter().find(|(n, _, _)| *n != name2).unwrap().clone();
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(p.store.join("packs").join(pack::pack_file(&name1)))
        .unwrap();
    std::io::Write::write_all(&mut file, b"junk").unwrap();
    let report = verify_store(&p.store, None).unwrap();
    assert_eq!(report.packs, 0);
    assert_eq!(report.packs_mismatched.len(), 2);
    assert!(report.packs_mismatched.contains(&name1));
    assert_eq!(
        report.chunks_hashed as usize,
        entries1.len() + entries2.len()
    );
    assert_eq!(verdicts(&full), verdicts(&report));
}

/// Issue 14: the pack digest is not trusted blindly. A digest field damaged in the index
/// makes the index fail its own hash (its chunks missing, the snapshots named); an index that
/// hashes right but records a wrong digest, or a digest of a pack its entries overrun, has
/// its pack checked chunk by chunk.
#[test]
fn a_damaged_or_wrong_pack_digest_is_reported_not_trusted() {
    let p = project();
    take(&p, "s1");
    let (name, entries, digest) = packs_of(&p).remove(0);
    let digest = digest.unwrap().digest;
    // the digest's bytes flipped in place: the index no longer hashes to its name
    let idx = p.store.join("packs").join(pack::index_file(&name));
    let mut bytes = fs::read(&idx).unwrap();
    let at = 28 + 40 * entries.len() + 1;
    bytes[at] ^= 1;
    fs::write(&idx, &bytes).unwrap();
    let report = verify_store(&p.store, None).unwrap();
    assert!(!report.ok());
    assert!(report.bad_chunks.iter().all(|b| b.reason == "missing"));
    assert_eq!(report.broken.keys().collect::<Vec<_>>(), ["s1"]);
    bytes[at] ^= 1;
    fs::write(&idx, &bytes).unwrap();
    assert!(verify_store(&p.store, None).unwrap().ok());
    // a wrong digest in an index that hashes right: the pack is checked chunk by chunk (all
    // good: the store is whole) and named
    let mut wrong = digest;
    wrong[0] ^= 1;
    reindex(&p, &name, &entries, Some(wrong));
    let (name, _, _) = packs_of(&p).remove(0);
    let report = verify_store(&p.store, None).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.packs_mismatched, std::slice::from_ref(&name));
    assert_eq!(report.chunks_hashed, report.chunks);
    // the right digest, and a file chunk's entry that lies past the pack's end: that chunk is
    // damaged (a pack that matches vouches for its bytes, not for entries outside them)
    let size = fs::metadata(p.store.join("packs").join(pack::pack_file(&name)))
        .unwrap()
        .len();
    let alpha = ChunkId::of(b"alpha\n");
    let past: Vec<_> = entries
        .iter()
        .map(|e| match e.id == alpha {
            true => pack::IndexEntry {
                offset: size as u32,
                ..*e
            },
            false => *e,
        })
        .collect();
    assert_ne!(past, entries);
    reindex(&p, &name, &past, Some(digest));
    let report = verify_store(&p.store, None).unwrap();
    assert_eq!(report.packs, 1);
    assert_eq!(report.bad_chunks.len(), 1, "{report:?}");
    assert_eq!(report.bad_chunks[0].id, alpha.hex());
    assert!(report.bad_chunks[0]
        .reason
        .contains("ends before its bytes"));
}

/// A store written before pack digests (format version 3 indexes) verifies as it is: every
/// chunk checked alone; the next snapshot's pack gets a digest and is hashed whole.
#[test]
fn a_version_3_store_without_pack_digests_still_verifies() {
    let p = project();
    take(&p, "s1");
    for (name, entries, _) in packs_of(&p) {
        reindex(&p, &name, &entries, None);
    }
    rewrite(&p, "store.json", "\"version\": 4", "\"version\": 3");
    rewrite(&p, "snapshots/s1.json", "\"version\": 4", "\"version\": 3");
    assert!(packs_of(&p).iter().all(|(_, _, d)| d.is_none()));
    let report = verify_store(&p.store, None).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!((report.packs, report.chunks_hashed), (0, report.chunks));
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    assert_eq!(listing(&out), listing(&p.root));
    fs::write(p.root.join("new.txt"), "new\n").unwrap();
    take(&p, "s2");
    let report = verify_store(&p.store, None).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.packs, 1);
    assert!(report.chunks_hashed < report.chunks);
}

/// `s1`..`s<k>` of the project with 60 more small files in `many/`, only `z-changes.txt`
/// changed from one to the next: the tree runs that hold `many/` are the same chunks in every
/// snapshot (verify reads each once).
fn shared_runs(k: usize) -> (Project, Vec<String>) {
    let p = project();
    fs::create_dir(p.root.join("many")).unwrap();
    for i in 0..60 {
        fs::write(
            p.root.join(format!("many/f{i:03}.txt")),
            format!("file {i}\n"),
        )
        .unwrap();
    }
    let ids: Vec<String> = (1..=k).map(|i| format!("s{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        fs::write(p.root.join("z-changes.txt"), format!("round {i}\n")).unwrap();
        take(&p, id);
    }
    (p, ids)
}

/// The verdicts of a default and a deep verify, which must agree.
fn verify_both(p: &Project) -> VerifyReport {
    let report = verify_store(&p.store, None).unwrap();
    let deep = verify_store_with(&p.store, None, VerifyOptions { deep: true }).unwrap();
    assert_eq!(verdicts(&report), verdicts(&deep));
    report
}

/// A bad chunk reached through a tree run that every snapshot shares (read once by verify) is
/// named with every one of those snapshots, and each is broken: a file chunk the run lists,
/// and the run's own chunk.
#[test]
fn a_bad_chunk_of_a_run_many_snapshots_share_is_named_with_each_of_them() {
    let (p, ids) = shared_runs(4);
    assert!(verify_both(&p).ok());
    let names = |r: &VerifyReport| r.broken.keys().cloned().collect::<Vec<_>>();
    let file = ChunkId::of(b"file 30\n");
    flip_chunk(&p, &file);
    let report = verify_both(&p);
    assert_eq!(report.bad_chunks.len(), 1, "{report:?}");
    assert_eq!(report.bad_chunks[0].id, file.hex());
    assert_eq!(report.bad_chunks[0].snapshots, ids);
    assert_eq!(names(&report), ids);
    flip_chunk(&p, &file);
    assert!(verify_both(&p).ok());
    // the run that holds many/f030.txt's line: the same chunk in every tree
    let store = Store::open(&p.store, false).unwrap();
    let holds = |c: &ChunkId| {
        let text = store.chunks().get(c).unwrap();
        String::from_utf8_lossy(&text).contains("\"many/f030.txt\"")
    };
    let run = store.record("s1").unwrap().tree_ids().unwrap();
    let run = *run.iter().find(|c| holds(c)).unwrap();
    for id in &ids {
        assert!(store.record(id).unwrap().tree.contains(&run.hex()), "{id}");
    }
    flip_chunk(&p, &run);
    let report = verify_both(&p);
    let bad = report.bad_chunks.iter().find(|b| b.id == run.hex());
    assert_eq!(bad.map(|b| b.snapshots.clone()), Some(ids.clone()));
    assert_eq!(names(&report), ids);
}

/// A version 1 tree (cut across lines) that two snapshots share verifies with every chunk
/// counted, and a bad file chunk it lists is named with both.
#[test]
fn a_version_1_tree_cut_across_lines_verifies_and_names_its_snapshots() {
    let p = project();
    take(&p, "s1");
    let tree = to_version_1(&p, 50);
    assert!(tree.len() > 5, "{tree:?}");
    let s1 = fs::read_to_string(p.store.join("snapshots/s1.json")).unwrap();
    let s2 = s1.replace("\"id\": \"s1\"", "\"id\": \"s2\"");
    assert_ne!(s1, s2);
    fs::write(p.store.join("snapshots/s2.json"), s2).unwrap();
    let report = verify_both(&p);
    assert!(report.ok(), "{report:?}");
    let a = flip_chunk(&p, &ChunkId::of(b"alpha\n"));
    let report = verify_both(&p);
    assert_eq!(report.bad_chunks.len(), 1, "{report:?}");
    assert_eq!(report.bad_chunks[0].id, a);
    assert_eq!(report.bad_chunks[0].snapshots, ["s1", "s2"]);
}

/// What a restore says it wrote is what it wrote: each kind counted once, the files' bytes
/// summed (the whole snapshot, then a subset).
#[test]
fn a_restore_counts_what_it_wrote() {
    let p = project();
    let taken = take(&p, "s1").record;
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    let on_disk = listing(&out);
    let count = |kind: &str| on_disk.iter().filter(|e| e.1 == kind).count() as u64;
    let bytes: u64 = on_disk
        .iter()
        .filter(|e| e.1 == "file")
        .map(|e| e.3.len() as u64)
        .sum();
    let tmp = tempfile::tempdir().unwrap();
    let stats = restore_snapshot(&p.store, "s1", tmp.path(), &[]).unwrap();
    let expected = RestoreStats {
        files: count("file"),
        dirs: count("dir"),
        symlinks: count("link"),
        bytes,
    };
    assert_eq!(stats, expected);
    assert_eq!((stats.files, stats.dirs, stats.symlinks), (6, 5, 3));
    assert_eq!(
        (taken.files, taken.dirs, taken.symlinks, taken.bytes),
        (stats.files, stats.dirs, stats.symlinks, stats.bytes)
    );
    let tmp = tempfile::tempdir().unwrap();
    let only = ["src/deep".to_string(), "link-in".to_string()];
    let stats = restore_snapshot(&p.store, "s1", tmp.path(), &only).unwrap();
    let unicode = "unicode\n".len() as u64;
    let expected = RestoreStats {
        files: 1,
        dirs: 2,
        symlinks: 1,
        bytes: unicode,
    };
    assert_eq!(stats, expected);
}

/// Modification times come back to the nanosecond, before 1970 as after it (a negative
/// second count with its positive nanoseconds).
#[test]
fn mtimes_before_and_after_1970_are_restored_to_the_nanosecond() {
    use std::time::{Duration, UNIX_EPOCH};
    let p = project();
    let times = [
        (
            "src/a.txt",
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789),
        ),
        ("empty.txt", UNIX_EPOCH - Duration::new(1, 250_000_000)),
        (
            "run.sh",
            UNIX_EPOCH - Duration::new(86_400 * 365, 999_999_999),
        ),
    ];
    for (rel, when) in times {
        let f = fs::File::options()
            .write(true)
            .open(p.root.join(rel))
            .unwrap();
        f.set_modified(when).unwrap();
    }
    take(&p, "s1");
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    for (rel, when) in times {
        let got = fs::metadata(out.join(rel)).unwrap().modified().unwrap();
        assert_eq!(got, when, "{rel}");
    }
}

/// Selecting `src/deep` restores it and what is below it, not a sibling whose name only
/// begins the same (`src/deep.txt`); a trailing slash selects the same.
#[test]
fn a_selected_path_takes_no_sibling_that_only_shares_its_prefix() {
    let p = project();
    fs::write(p.root.join("src/deep.txt"), "a sibling\n").unwrap();
    take(&p, "s1");
    for only in ["src/deep", "src/deep/"] {
        let (_tmp, out) = restore_into(&p, "s1", &[only.to_string()]);
        let got: Vec<String> = listing(&out).into_iter().map(|e| e.0).collect();
        assert_eq!(
            got,
            [
                "src",
                "src/deep",
                "src/deep/er",
                "src/deep/er/ünïcødé 名前.txt"
            ],
            "{only}"
        );
    }
}

/// A restore into a folder that already holds more than the snapshot keeps what the
/// snapshot does not name (a folder where a folder goes is entered, not replaced), and a
/// file where a folder goes gives way to the folder.
#[test]
fn restore_keeps_unnamed_files_and_puts_a_folder_where_a_file_was() {
    let (p, _tmp, target) = taken_with_target("src");
    fs::write(target.join("src/extra.txt"), "not in the snapshot").unwrap();
    fs::write(target.join("empty"), "a file where a folder goes").unwrap();
    restore_snapshot(&p.store, "s1", &target, &[]).unwrap();
    assert_eq!(
        fs::read(target.join("src/extra.txt")).unwrap(),
        b"not in the snapshot"
    );
    fs::remove_file(target.join("src/extra.txt")).unwrap();
    assert_eq!(listing(&target), listing(&p.root));
}

/// A file whose chunk is damaged is not restored, and the file that was there stays as it
/// was (it is replaced only by a complete new one), with no temp left beside it.
#[test]
fn a_damaged_chunk_leaves_the_old_file_in_place_and_no_temp() {
    let (p, _tmp, target) = taken_with_target("src");
    fs::write(target.join("src/a.txt"), "the old alpha").unwrap();
    flip_chunk(&p, &ChunkId::of(b"alpha\n"));
    let only = ["src/a.txt".to_string()];
    let err = restore_snapshot(&p.store, "s1", &target, &only).unwrap_err();
    assert_eq!(err.code().as_str(), "ECORRUPT", "{err}");
    assert_eq!(
        fs::read(target.join("src/a.txt")).unwrap(),
        b"the old alpha"
    );
    assert_eq!(crate::testutil::names_in(&target.join("src")), ["a.txt"]);
}

/// A snapshot of the project with `databases` named as live SQLite databases.
fn take_with_databases(p: &Project, id: &str, databases: &[String]) -> SnapshotStats {
    let excludes = crate::backup::archive::default_excludes();
    let spec = SnapshotSpec {
        excludes: &excludes,
        databases,
        ..spec(&p.root, &p.store, id)
    };
    create_snapshot(&spec, &mut |_| {}).unwrap()
}

/// The rows of table `t` of the database at `path`.
fn rows(path: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT v FROM t ORDER BY rowid").unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

/// The entry of `path` in snapshot `id`.
fn entry_of(p: &Project, id: &str, path: &str) -> tree::Entry {
    let store = Store::open(&p.store, false).unwrap();
    let record = store.record(id).unwrap();
    let mut entries = store.tree(&record).unwrap().map(Result::unwrap);
    entries
        .find(|e| e.path == path)
        .expect("the entry is in the tree")
}

/// A rollback-journal database is stored from its own bytes (the restored file is the live
/// one, byte for byte), with SQLite's state in its entry; a `touch` alone reuses it unread, a
/// commit has it read again; its empty `-journal` is never stored.
#[test]
fn a_live_database_is_stored_as_is_and_read_again_only_when_sqlite_changed_it() {
    let p = project();
    let db = p.root.join("app.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('one');")
        .unwrap();
    fs::write(p.root.join("app.db-journal"), "").unwrap();
    let dbs = ["app.db".to_string()];
    let first = take_with_databases(&p, "s1", &dbs);
    let header = fs::read(&db).unwrap();
    let be = |at: usize| u64::from(u32::from_be_bytes(header[at..at + 4].try_into().unwrap()));
    let size = header.len() as u64;
    assert_eq!(
        entry_of(&p, "s1", "app.db").sqlite,
        Some([be(24), be(28), size])
    );
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    let same = fs::read(out.join("app.db")).unwrap() == header;
    assert!(
        same,
        "the restored database is the live file, byte for byte"
    );
    assert!(!out.join("app.db-journal").exists());
    assert_eq!(rows(&out.join("app.db")), ["one"]);
    // touched: the same state, reused unread
    let f = fs::File::options().write(true).open(&db).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(5))
        .unwrap();
    drop(f);
    let second = take_with_databases(&p, "s2", &dbs);
    assert_eq!(
        (second.files_read, second.files_reused),
        (0, first.files_read)
    );
    // a commit: read again
    conn.execute("INSERT INTO t VALUES ('two')", []).unwrap();
    let third = take_with_databases(&p, "s3", &dbs);
    assert_eq!(
        (third.files_read, third.files_reused),
        (1, first.files_read - 1)
    );
    let (_tmp, out) = restore_into(&p, "s3", &[]);
    let same = fs::read(out.join("app.db")).unwrap() == fs::read(&db).unwrap();
    assert!(
        same,
        "the restored database is the live file, byte for byte"
    );
    assert_eq!(rows(&out.join("app.db")), ["one", "two"]);
}

/// Database `name` of the project made by `sql`, whose side file `side` then holds
/// content: snapshots "s1" and "s2" both read it again (every other file reused the second
/// time), and "s2" restores its rows without any side file (`-journal`, `-wal`, `-shm`). Returns s1's stats and the
/// connection, still open.
fn read_at_two_snapshots(
    p: &Project,
    name: &str,
    sql: &str,
    side: &str,
    expected: &[&str],
) -> (SnapshotStats, rusqlite::Connection) {
    let conn = rusqlite::Connection::open(p.root.join(name)).unwrap();
    conn.execute_batch(sql).unwrap();
    assert!(fs::metadata(p.root.join(side)).unwrap().len() > 0);
    let dbs = [name.to_string()];
    let first = take_with_databases(p, "s1", &dbs);
    let second = take_with_databases(p, "s2", &dbs);
    assert_eq!(
        (second.files_read, second.files_reused),
        (1, first.files_read - 1)
    );
    let (_tmp, out) = restore_into(p, "s2", &[]);
    assert_eq!(rows(&out.join(name)), expected);
    let restored = crate::testutil::names_in(&out);
    let side_files: Vec<_> = restored
        .iter()
        .filter(|n| write::is_side_file_of(n, dbs.iter()))
        .collect();
    assert!(side_files.is_empty(), "{side_files:?}");
    (first, conn)
}

/// A WAL database whose `-wal` holds frames is copied through SQLite at every snapshot (the
/// copy has the rows still in the WAL; `-wal` and `-shm` are not stored); once checkpointed
/// (the `-wal` gone) it is reused unread while its file is unchanged.
#[test]
fn a_wal_database_is_copied_while_its_wal_has_frames_and_reused_once_checkpointed() {
    let p = project();
    let (db, dbs) = (p.root.join("wal.db"), ["wal.db".to_string()]);
    let (first, conn) = read_at_two_snapshots(
        &p,
        "wal.db",
        "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
         CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('in the wal');",
        "wal.db-wal",
        &["in the wal"],
    );
    drop(conn); // the last connection checkpoints and removes the -wal
    assert!(!p.root.join("wal.db-wal").exists());
    let third = take_with_databases(&p, "s3", &dbs);
    assert_eq!(third.files_read, 1);
    let fourth = take_with_databases(&p, "s4", &dbs);
    assert_eq!(
        (fourth.files_read, fourth.files_reused),
        (0, first.files_read)
    );
    // in WAL mode the file's own times count too: touched, it is read again
    let f = fs::File::options().write(true).open(&db).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(5))
        .unwrap();
    drop(f);
    let fifth = take_with_databases(&p, "s5", &dbs);
    assert_eq!(fifth.files_read, 1);
    let (_tmp, out) = restore_into(&p, "s4", &[]);
    assert_eq!(rows(&out.join("wal.db")), ["in the wal"]);
}

/// What a snapshot cannot hold is named in its stats and left out: a FIFO (never opened), a
/// name that is not UTF-8, a link whose target is not UTF-8.
#[test]
fn a_fifo_and_names_that_are_not_utf8_are_skipped_and_named() {
    use std::ffi::{CString, OsStr};
    use std::os::unix::ffi::OsStrExt;
    let p = project();
    let fifo = CString::new(p.root.join("src/pipe").as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo has no other precondition.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    fs::write(p.root.join(OsStr::from_bytes(b"bad-\xff.txt")), "x").unwrap();
    symlink(OsStr::from_bytes(b"to-\xfe"), p.root.join("odd-link")).unwrap();
    let stats = take(&p, "s1");
    let mut skipped = stats.skipped.clone();
    skipped.sort();
    assert_eq!(skipped, ["bad-\u{fffd}.txt", "odd-link", "src/pipe"]);
    assert_eq!((stats.record.files, stats.record.symlinks), (6, 3));
}

/// A snapshot cancelled before it starts stops at the walk's first entry: `ECANCELED`, no
/// record, no pack file, and no file walked (200 files would make a progress report).
#[test]
fn a_cancelled_snapshot_stops_before_it_walks_a_file() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let p = project();
    fs::create_dir(p.root.join("many")).unwrap();
    for i in 0..200 {
        fs::write(p.root.join(format!("many/f{i:03}")), format!("{i}")).unwrap();
    }
    let cancel = Cancel::on(&COUNTER);
    COUNTER.fetch_add(1, Ordering::SeqCst);
    let excludes = crate::backup::archive::default_excludes();
    let spec = SnapshotSpec {
        excludes: &excludes,
        cancel,
        ..spec(&p.root, &p.store, "s1")
    };
    let mut reports = 0;
    let err = create_snapshot(&spec, &mut |_| reports += 1).unwrap_err();
    assert_eq!(err.code().as_str(), "ECANCELED", "{err}");
    assert_eq!(reports, 0, "no progress: nothing was walked");
    let packs = p.store.join("packs");
    let written = packs.exists().then(|| crate::testutil::names_in(&packs));
    assert!(written.unwrap_or_default().is_empty(), "no pack written");
    assert!(Store::open(&p.store, false)
        .unwrap()
        .ids()
        .unwrap()
        .is_empty());
}

/// A database whose `-journal` has content (here a persisted journal, left after every
/// commit) may be mid-transaction: it is read again at every snapshot, never reused.
#[test]
fn a_database_with_a_journal_holding_content_is_read_at_every_snapshot() {
    let p = project();
    read_at_two_snapshots(
        &p,
        "app.db",
        "PRAGMA journal_mode=PERSIST; CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('kept');",
        "app.db-journal",
        &["kept"],
    );
}

/// A file named as a database that is not SQLite (shorter than a header, or another
/// format) is stored as any file: its bytes, no SQLite state.
#[test]
fn a_named_database_that_is_not_sqlite_is_stored_as_its_bytes() {
    let p = project();
    fs::write(p.root.join("short.db"), "not sqlite").unwrap();
    fs::write(p.root.join("other.db"), "x".repeat(300)).unwrap();
    let dbs = ["short.db".to_string(), "other.db".to_string()];
    take_with_databases(&p, "s1", &dbs);
    for name in ["short.db", "other.db"] {
        assert_eq!(entry_of(&p, "s1", name).sqlite, None, "{name}");
    }
    let (_tmp, out) = restore_into(&p, "s1", &[]);
    assert_eq!(listing(&out), listing(&p.root));
}

/// A rollback-journal database header (page size 4096) with change counter `counter` and
/// page count `pages`, then `rest` more bytes.
fn db_header(counter: u32, pages: u32, rest: usize) -> Vec<u8> {
    let mut head = vec![0u8; 100 + rest];
    head[..16].copy_from_slice(b"SQLite format 3\0");
    head[16..18].copy_from_slice(&4096u16.to_be_bytes());
    head[18] = 1;
    head[24..28].copy_from_slice(&counter.to_be_bytes());
    head[28..32].copy_from_slice(&pages.to_be_bytes());
    head
}

#[test]
fn the_state_is_the_headers_counter_and_page_count_and_the_size() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = crate::fsx::beneath::Dir::open(tmp.path()).unwrap();
    let bytes = db_header(0x0102_0304, 0x0506_0708, 4000);
    std::fs::write(tmp.path().join("db"), &bytes).unwrap();
    let mut file = fs::File::open(tmp.path().join("db")).unwrap();
    let state = database::state_of(&dir, std::ffi::OsStr::new("db"), &mut file, 4100)
        .unwrap()
        .unwrap();
    assert_eq!(state.key, [0x0102_0304, 0x0506_0708, 4100]);
    assert!(state.readable_in_place());
    // left at offset 0: the whole file is read next
    let mut again = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut again).unwrap();
    assert_eq!(again, bytes);
}

#[test]
fn a_header_that_cannot_be_read_is_an_error_and_a_short_file_no_database() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = crate::fsx::beneath::Dir::open(tmp.path()).unwrap();
    std::fs::create_dir(tmp.path().join("folder")).unwrap();
    // a read that fails (EISDIR): reported, not taken for a file that is no database
    let mut folder = fs::File::open(tmp.path().join("folder")).unwrap();
    let err = database::state_of(&dir, std::ffi::OsStr::new("folder"), &mut folder, 0).unwrap_err();
    assert_eq!(err.code().as_str(), "EISDIR", "{err}");
    // fewer than 100 bytes: stored as any file
    std::fs::write(tmp.path().join("short"), &db_header(1, 1, 0)[..99]).unwrap();
    let mut short = fs::File::open(tmp.path().join("short")).unwrap();
    assert_eq!(
        database::state_of(&dir, std::ffi::OsStr::new("short"), &mut short, 99).unwrap(),
        None
    );
}

/// A record whose tree is not a list (depth 0) says nothing of its depth
/// (docs/store-format.md: `treeDepth` omitted when 0; a version 1 reader finds no such field).
#[test]
fn a_record_of_a_tree_without_list_levels_has_no_tree_depth() {
    let (_tmp, root, store) = super::testkit::project();
    super::testkit::snap(&root, &store, "s1");
    let text = fs::read_to_string(store.join("snapshots/s1.json")).unwrap();
    assert!(
        text.contains("\"tree\":") && !text.contains("treeDepth"),
        "{text}"
    );
    assert_eq!(
        Store::open(&store, false)
            .unwrap()
            .record("s1")
            .unwrap()
            .tree_depth,
        0
    );
}

/// A pack of many small chunks (a database of pages that compress to a few hundred bytes
/// fills a pack with tens of thousands): its index, over 1 MiB, is read whole.
#[test]
fn the_index_of_a_pack_of_thirty_thousand_chunks_is_read() {
    let p = project();
    take(&p, "s1");
    let entries: Vec<pack::IndexEntry> = (0..30_000u32)
        .map(|i| pack::IndexEntry {
            id: ChunkId::of(&i.to_le_bytes()),
            offset: i * 5,
            len: 5,
        })
        .collect();
    let (name, bytes) = pack::encode_index(&entries, &pack::PackHasher::default().finish());
    assert!(bytes.len() > 1024 * 1024);
    fs::write(p.store.join("packs").join(pack::index_file(&name)), &bytes).unwrap();
    let store = Store::open(&p.store, false).unwrap();
    let index = store.chunks().load().unwrap();
    assert!(index.damaged.is_empty(), "{:?}", index.damaged);
    let read = index.packs.iter().find(|k| *k.name == *name).unwrap();
    assert_eq!(read.entries, entries);
}

/// A pack is sealed once it holds pack::TARGET bytes: chunks of 17.5 MiB make two packs, the
/// first of TARGET bytes and at most one chunk more.
#[test]
fn a_pack_is_sealed_at_its_target_size() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("store"), true).unwrap();
    let mut file = vec![chunk::CODEC_STORED];
    file.resize(chunker::MAX + 1, 7);
    for i in 0..70u32 {
        // put does not hash: any id names these bytes
        store
            .chunks()
            .put(&ChunkId::of(&i.to_le_bytes()), &file)
            .unwrap();
    }
    store.chunks().flush().unwrap();
    let mut sizes: Vec<u64> = store
        .chunks()
        .packs()
        .unwrap()
        .iter()
        .map(|p| p.1)
        .collect();
    sizes.sort();
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    assert!(sizes[1] >= pack::TARGET && sizes[1] < pack::TARGET + file.len() as u64);
    assert_eq!(sizes[0] + sizes[1], 70 * file.len() as u64);
}

/// A record is the snapshot its file names, of a version this code reads; a missing one is
/// named so.
#[test]
fn a_record_of_another_id_or_version_is_damaged_and_a_missing_one_named() {
    let p = project();
    take(&p, "s1");
    let dir = p.store.join("snapshots");
    let text = fs::read_to_string(dir.join("s1.json")).unwrap();
    fs::write(dir.join("s2.json"), &text).unwrap();
    let later = text.replace("\"version\": 4", "\"version\": 9");
    assert_ne!(later, text);
    fs::write(dir.join("s3.json"), later.replace("\"s1\"", "\"s3\"")).unwrap();
    let store = Store::open(&p.store, false).unwrap();
    assert_eq!(store.record("s1").unwrap().id, "s1");
    for id in ["s2", "s3"] {
        let err = store.record(id).unwrap_err();
        assert_eq!(err.code().as_str(), "ECORRUPT", "{id}: {err}");
    }
    let err = store.record("s4").unwrap_err();
    assert_eq!(err.code().as_str(), "ENOENT");
    assert!(
        err.to_string().contains("No snapshot s4 in the store"),
        "{err}"
    );
    // a record that cannot be read for another reason keeps its own error
    fs::create_dir(dir.join("s5.json")).unwrap();
    let err = store.record("s5").unwrap_err();
    assert!(!err.to_string().contains("No snapshot"), "{err}");
}

#[test]
fn opening_a_store_reads_store_json_as_it_is_and_refuses_a_folder_that_is_not_a_store() {
    let p = project();
    take(&p, "s1");
    let config = p.store.join("store.json");
    let open = |create: bool| Store::open(&p.store, create).map(|_| ());
    let code = |create: bool| open(create).unwrap_err().code().as_str().to_string();
    // a store.json of this version as another writer may lay it out (padded past 1 KiB) is
    // read, and opening to write leaves it byte for byte
    let current = fs::read_to_string(&config).unwrap();
    let padded = format!("{}{}\n", current.trim_end(), " ".repeat(2048));
    fs::write(&config, &padded).unwrap();
    open(false).unwrap();
    open(true).unwrap();
    assert_eq!(fs::read_to_string(&config).unwrap(), padded);
    // an older version's store.json is rewritten by a writer only, never by a reader
    let older = padded.replace("\"version\": 4", "\"version\": 3");
    assert_ne!(older, padded);
    fs::write(&config, &older).unwrap();
    open(false).unwrap();
    assert_eq!(fs::read_to_string(&config).unwrap(), older);
    open(true).unwrap();
    assert!(fs::read_to_string(&config)
        .unwrap()
        .contains("\"version\": 4"));
    // without store.json the folder is no store to read (a writer makes one)
    fs::remove_file(&config).unwrap();
    assert_eq!(code(false), "ENOENT");
    open(true).unwrap();
    assert!(config.exists());
    // a packs/ that is a file is damage, not a store without packs (which is a version 1-2 store)
    fs::remove_dir_all(p.store.join("packs")).unwrap();
    open(false).unwrap();
    fs::write(p.store.join("packs"), "not a folder").unwrap();
    assert_eq!(code(false), "ENOTDIR");
    assert_eq!(code(true), "ENOTDIR");
}

/// Set the modification time of the folder `dir`.
fn set_mtime(dir: &Path, when: std::time::SystemTime) {
    fs::File::open(dir)
        .unwrap()
        .set_times(fs::FileTimes::new().set_modified(when))
        .unwrap();
}

#[test]
fn a_store_held_open_reads_the_indexes_again_only_when_packs_changed() {
    let p = project();
    take(&p, "s1");
    let packs = p.store.join("packs");
    let put = |data: &[u8]| {
        let writer = Store::open(&p.store, true).unwrap();
        let id = ChunkId::of(data);
        writer.chunks().put(&id, &chunk::encode(data)).unwrap();
        writer.chunks().flush().unwrap();
        id
    };
    let first = put(b"a chunk another writer flushed before the reader looked");
    // packs/ dated well before the reader's look, so that the next flush changes its time
    // whatever the clock's granularity
    set_mtime(
        &packs,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000),
    );
    let reader = Store::open(&p.store, false).unwrap();
    assert_eq!(
        reader.chunks().get(&first).unwrap(),
        b"a chunk another writer flushed before the reader looked"
    );
    // a pack flushed since (packs/ changed) is found: the indexes are read again
    let second = put(b"a chunk flushed after the reader looked");
    assert_eq!(
        reader.chunks().get(&second).unwrap(),
        b"a chunk flushed after the reader looked"
    );
    // with packs/ as it was when they were read, a miss does not read them again: the
    // indexes removed behind its back (and packs/ dated back) go unnoticed
    let when = fs::metadata(&packs).unwrap().modified().unwrap();
    for entry in fs::read_dir(&packs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "idx") {
            fs::remove_file(path).unwrap();
        }
    }
    set_mtime(&packs, when);
    let unknown = ChunkId::of(b"no such chunk");
    assert_eq!(
        reader.chunks().get(&unknown).unwrap_err().code().as_str(),
        "ENOENT"
    );
    assert!(reader.chunks().get(&second).is_ok());
}

#[test]
fn a_tree_line_that_is_not_utf8_is_damage() {
    let p = project();
    take(&p, "s1");
    crafted_snapshot(&p, "bytes", &file_line(b"bad-\xff\xfe"));
    let tmp = tempfile::tempdir().unwrap();
    let err = restore_snapshot(&p.store, "bytes", tmp.path(), &[]).unwrap_err();
    assert_eq!(err.code().as_str(), "ECORRUPT", "{err}");
    assert!(err.to_string().contains("not UTF-8"), "{err}");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn a_writer_makes_the_store_owner_only_and_a_reader_changes_no_mode() {
    let p = project();
    take(&p, "s1");
    let folders = ["", "packs", "snapshots"].map(|name| p.store.join(name));
    let modes = || {
        folders
            .clone()
            .map(|f| fs::metadata(f).unwrap().mode() & 0o777)
    };
    assert_eq!(modes(), [0o700; 3]);
    for f in &folders {
        fs::set_permissions(f, fs::Permissions::from_mode(0o755)).unwrap();
    }
    Store::open(&p.store, false).unwrap();
    assert_eq!(modes(), [0o755; 3]);
    Store::open(&p.store, true).unwrap();
    assert_eq!(modes(), [0o700; 3]);
}

#[test]
fn a_version_2_chunk_whose_fan_folder_went_has_no_size_and_nothing_to_remove() {
    let p = project();
    take(&p, "s1");
    to_version_2(&p);
    let alpha = ChunkId::of(b"alpha\n");
    let fan = p.store.join(format!("chunks/{:02x}", alpha.0[0]));
    // two readers that listed the store while alpha's fan folder was there
    let readers = [(); 2].map(|()| Store::open(&p.store, false).unwrap());
    for r in &readers {
        assert!(r.chunks().list().unwrap().contains(&alpha));
    }
    // the fan folder removed behind their backs (another process collected it): gone
    fs::remove_dir_all(&fan).unwrap();
    assert_eq!(readers[0].chunks().size(&alpha).unwrap(), 0);
    assert!(!readers[0].chunks().remove_loose(&alpha).unwrap());
    // a file where the fan folder was is no such absence: an error
    fs::write(&fan, "not a folder").unwrap();
    let code = |e: crate::Error| e.code().as_str().to_string();
    assert_eq!(
        readers[1].chunks().size(&alpha).map_err(code),
        Err("ENOTDIR".into())
    );
    assert_eq!(
        readers[1].chunks().remove_loose(&alpha).map_err(code),
        Err("ENOTDIR".into())
    );
}

#[test]
fn a_pack_never_flushed_is_removed_with_its_writer() {
    let p = project();
    take(&p, "s1");
    let listing = || {
        let mut names: Vec<_> = fs::read_dir(p.store.join("packs"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let before = listing();
    {
        let writer = Store::open(&p.store, true).unwrap();
        let data = b"a chunk put but never flushed";
        writer
            .chunks()
            .put(&ChunkId::of(data), &chunk::encode(data))
            .unwrap();
        assert_eq!(
            listing().len(),
            before.len() + 1,
            "the open pack is on disk"
        );
    }
    assert_eq!(listing(), before);
}

/// A bad tree chunk sends verify to the exact walk, which still takes the chunks of a pack
/// that matched as good without hashing them: of the damaged pack, it hashes what it reads.
#[test]
fn the_exact_walk_hashes_only_chunks_outside_the_packs_that_matched() {
    let p = two_snapshots();
    let store = Store::open(&p.store, false).unwrap();
    let tree = |id: &str| store.record(id).unwrap().tree_ids().unwrap();
    let (s1, s2) = (tree("s1"), tree("s2"));
    let only2 = *s2
        .iter()
        .find(|c| !s1.contains(c))
        .expect("s2 has a run of its own");
    let bad = flip_chunk(&p, &only2);
    let report = verify_store(&p.store, None).unwrap();
    assert_eq!(report.bad_chunks.len(), 1, "{report:?}");
    assert_eq!(
        (report.bad_chunks[0].id.as_str(), report.packs),
        (bad.as_str(), 1)
    );
    assert_eq!(report.broken.keys().collect::<Vec<_>>(), ["s2"]);
    // s2's run, hashed and bad, is all its walk reads of the damaged pack (its tree stops
    // there); every chunk s1's walk reaches is in the pack that matched
    assert_eq!(report.chunks_hashed, 1, "{report:?}");
    assert!(report.chunks > 1);
}
