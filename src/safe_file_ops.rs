//! Legacy `safe-file-operations.js` functions (all but the locks), under their legacy names.

use std::path::Path;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::fsx::{self, json::recover_from_backup, WriteOptions};

use crate::args;
use crate::error::run;

const SEVEN_DAYS_MS: f64 = 7.0 * 24.0 * 3600.0 * 1000.0;

#[napi(object)]
#[derive(Default)]
pub struct AtomicWriteOptions {
    /// `false` skips the fsyncs: still atomic, not durable across a power loss.
    pub fsync: Option<bool>,
}

#[napi(object)]
#[derive(Default)]
pub struct BackupDirOptions {
    /// Where backups live; default `$SESSION_RESILIENCE_BACKUP_DIR` or `<tmpdir>/agenthive-backups`.
    pub backup_dir: Option<String>,
}

pub fn backup_dir(options: Option<BackupDirOptions>) -> std::path::PathBuf {
    args::dir_or_default(
        options.and_then(|o| o.backup_dir),
        session_resilience_core::defaults::default_backup_dir,
    )
}

pub fn write_options(options: Option<AtomicWriteOptions>) -> WriteOptions {
    WriteOptions {
        fsync: options.and_then(|o| o.fsync).unwrap_or(true),
    }
}

/// Replace a file's content atomically and durably; `true`, or throws
/// `Atomic write failed for <path>: <reason>` with the errno `code`.
#[napi(catch_unwind)]
pub fn atomic_write(
    env: &Env,
    #[napi(ts_arg_type = "string")] file_path: Unknown,
    content: Either<String, &[u8]>,
    options: Option<AtomicWriteOptions>,
) -> Result<bool> {
    let path = args::path(env, "filePath", file_path)?;
    let bytes: &[u8] = match &content {
        Either::A(text) => text.as_bytes(),
        Either::B(buffer) => buffer,
    };
    run(env, || {
        fsx::atomic_write(&path, bytes, write_options(options))
    })?;
    Ok(true)
}

/// Copy a file to the backup directory as `<basename>.<label>.<stamp>.bak`; the path, or
/// `null` when the file does not exist. Throws the coded error of any failure (the legacy
/// "log and return null" for an OS failure is in lib/safe-file-operations.js).
#[napi(catch_unwind)]
pub fn backup_file(
    env: &Env,
    #[napi(ts_arg_type = "string")] file_path: Unknown,
    label: Option<String>,
    options: Option<BackupDirOptions>,
) -> Result<Option<String>> {
    let path = args::path(env, "filePath", file_path)?;
    let label = label.unwrap_or_else(|| "auto".to_string());
    let dir = backup_dir(options);
    let found = run(env, || fsx::backup_file(&path, &label, &dir))?;
    Ok(found.map(|p| p.to_string_lossy().into_owned()))
}

#[napi(object)]
pub struct ChecksumResult {
    pub valid: bool,
    pub checksum: Option<String>,
    pub expected: Option<String>,
    pub error: Option<String>,
}

pub fn checksum_result(path: &Path, expected: Option<String>) -> ChecksumResult {
    let expected = expected.filter(|e| !e.is_empty());
    let failed = |error: String| ChecksumResult {
        valid: false,
        checksum: None,
        expected: None,
        error: Some(error),
    };
    if !path.exists() {
        return failed("File does not exist".to_string());
    }
    match fsx::sha256_file(path) {
        Ok(checksum) => ChecksumResult {
            valid: expected.as_ref().is_none_or(|e| *e == checksum),
            checksum: Some(checksum),
            expected,
            error: None,
        },
        Err(e) => failed(
            session_resilience_core::Error::io(path.display(), e)
                .message()
                .to_string(),
        ),
    }
}

/// Streaming SHA-256 of a file: `{ valid, checksum[, expected] }` or `{ valid: false, error }`.
#[napi(catch_unwind)]
pub fn verify_checksum(
    env: &Env,
    #[napi(ts_arg_type = "string")] file_path: Unknown,
    expected_checksum: Option<String>,
) -> Result<ChecksumResult> {
    let path = args::path(env, "filePath", file_path)?;
    run(env, || Ok(checksum_result(&path, expected_checksum)))
}

/// Delete this package's backups older than `maxAge` ms (default 7 days); returns how many.
#[napi(catch_unwind)]
pub fn cleanup_old_backups(
    env: &Env,
    max_age: Option<f64>,
    options: Option<BackupDirOptions>,
) -> Result<u32> {
    let max_age = max_age
        .filter(|a| a.is_finite())
        .unwrap_or(SEVEN_DAYS_MS)
        .max(0.0);
    let dir = backup_dir(options);
    run(env, || {
        fsx::cleanup_old_backups(&dir, Duration::from_millis(max_age as u64))
    })
}

/// What `recoverJsonFile` did: where the damaged bytes are now, and the backup restored
/// over the file with its text (both absent when no backup parses).
#[napi(object)]
pub struct JsonRecovery {
    pub kept_as: String,
    pub restored_from: Option<String>,
    pub text: Option<String>,
}

/// Move a JSON file that does not parse aside as `<name>.corrupt-<stamp>` and restore,
/// atomically, its newest backup that parses. The caller (lib/safe-file-operations.js)
/// decides when to call it and what to print.
#[napi(catch_unwind)]
pub fn recover_json_file(
    env: &Env,
    #[napi(ts_arg_type = "string")] file_path: Unknown,
    options: Option<BackupDirOptions>,
) -> Result<JsonRecovery> {
    let path = args::path(env, "filePath", file_path)?;
    let dir = backup_dir(options);
    let parses = |text: &str| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
    let recovery = run(env, || recover_from_backup(&path, &dir, parses))?;
    let (restored_from, text) = match recovery.restored {
        Some((from, text)) => (Some(from.to_string_lossy().into_owned()), Some(text)),
        None => (None, None),
    };
    Ok(JsonRecovery {
        kept_as: recovery.corrupt_copy.to_string_lossy().into_owned(),
        restored_from,
        text,
    })
}
