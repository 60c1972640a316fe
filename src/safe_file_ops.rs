//! Legacy `safe-file-operations.js` functions (all but the locks), under their legacy names.

use std::path::Path;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::fsx::{self, json::recover_from_backup, WriteOptions};

use crate::args;
use crate::console;
use crate::error::{guarded, run};

pub const BACKUP_DIR_ENV: &str = "SESSION_RESILIENCE_BACKUP_DIR";
pub const BACKUP_DIR_NAME: &str = "agenthive-backups";
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
        BACKUP_DIR_ENV,
        BACKUP_DIR_NAME,
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
/// `null` when the file does not exist or could not be copied (logged, as legacy).
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
    match guarded(|| fsx::backup_file(&path, &label, &dir)) {
        Ok(found) => Ok(found.map(|p| p.to_string_lossy().into_owned())),
        // An OS failure while copying is the legacy "log and return null"; bad input throws.
        // A source that is not a regular file (a FIFO, a device, a link) is refused: EINVAL.
        Err(e) if matches!(e.code(), session_resilience_core::Code::Os(c) if c != "EINVAL") => {
            console::error(env, &format!("Failed to create backup: {}", e.message()));
            Ok(None)
        }
        Err(e) => Err(crate::error::to_js(env, e)),
    }
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
    Ok(checksum_result(&path, expected_checksum))
}

/// Delete this package's backups older than `maxAge` ms (default 7 days); returns how many.
#[napi(catch_unwind)]
pub fn cleanup_old_backups(
    env: &Env,
    max_age: Option<f64>,
    options: Option<BackupDirOptions>,
) -> u32 {
    let max_age = max_age
        .filter(|a| a.is_finite())
        .unwrap_or(SEVEN_DAYS_MS)
        .max(0.0);
    let dir = backup_dir(options);
    match guarded(|| fsx::cleanup_old_backups(&dir, Duration::from_millis(max_age as u64))) {
        Ok(n) => {
            if n > 0 {
                console::log(env, &format!("Cleaned up {n} old backup files"));
            }
            n
        }
        Err(e) => {
            console::error(
                env,
                &format!("Failed to cleanup old backups: {}", e.message()),
            );
            0
        }
    }
}

/// Read and parse a JSON file; never throws for I/O or parse problems. A file that does not
/// parse is moved aside and its newest parsable backup restored; otherwise `defaultValue`.
#[napi(catch_unwind, ts_generic_types = "T = any", ts_return_type = "T")]
pub fn safe_json_read<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] file_path: Unknown<'env>,
    #[napi(ts_arg_type = "T")] default_value: Option<Unknown<'env>>,
    #[napi(
        ts_arg_type = "((data: T) => { valid: boolean, error?: string, repair?: (data: T) => T }) | null"
    )]
    validator: Option<Unknown<'env>>,
    options: Option<BackupDirOptions>,
) -> Result<Unknown<'env>> {
    let path = args::path(env, "filePath", file_path)?;
    let default = match default_value {
        Some(v) if v.get_type()? != ValueType::Undefined => v,
        _ => Null.into_unknown(env)?,
    };
    let shown = path.display().to_string();
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            console::warn(
                env,
                &format!("File {shown} does not exist, using default value"),
            );
            return Ok(default);
        }
        Err(e) => {
            let err = session_resilience_core::Error::io(&shown, e);
            console::error(
                env,
                &format!("Failed to read JSON from {shown}: {}", err.message()),
            );
            return Ok(default);
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    if text.trim().is_empty() {
        console::warn(env, &format!("File {shown} is empty, using default value"));
        return Ok(default);
    }
    let data = match json_parse(env, &text) {
        Ok(data) => data,
        Err(reason) => {
            console::error(env, &format!("Failed to read JSON from {shown}: {reason}"));
            match recover(env, &path, backup_dir(options)) {
                Some(data) => data,
                None => return Ok(default),
            }
        }
    };
    apply_validator(env, &shown, data, default, validator)
}

/// `JSON.parse` itself: both backends must agree on what parses.
fn json_parse<'env>(env: &'env Env, text: &str) -> std::result::Result<Unknown<'env>, String> {
    let parse = env
        .get_global()
        .and_then(|g| g.get_named_property::<Object>("JSON"))
        .and_then(|json| json.get_named_property::<Function<&str, Unknown>>("parse"))
        .map_err(|e| e.reason.clone())?;
    parse.call(text).map_err(|e| e.reason.clone())
}

fn recover<'env>(
    env: &'env Env,
    path: &Path,
    backup_dir: std::path::PathBuf,
) -> Option<Unknown<'env>> {
    let parses = |text: &str| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
    match guarded(|| recover_from_backup(path, &backup_dir, parses)) {
        Ok(recovery) => {
            let kept = recovery.corrupt_copy.display().to_string();
            match recovery.restored {
                Some((from, text)) => {
                    console::warn(
                        env,
                        &format!(
                            "Restored {} from backup {} (damaged file kept as {kept})",
                            path.display(),
                            from.display()
                        ),
                    );
                    json_parse(env, &text).ok()
                }
                None => {
                    console::warn(
                        env,
                        &format!(
                            "No usable backup of {}; damaged file kept as {kept}",
                            path.display()
                        ),
                    );
                    None
                }
            }
        }
        Err(e) => {
            console::error(
                env,
                &format!("Recovery of {} failed: {}", path.display(), e.message()),
            );
            None
        }
    }
}

/// The legacy validator protocol: `validator(data)` returns `{ valid, error, repair? }`;
/// invalid data is replaced by `repair(data)` when given, else by the default.
fn apply_validator<'env>(
    env: &'env Env,
    shown: &str,
    data: Unknown<'env>,
    default: Unknown<'env>,
    validator: Option<Unknown<'env>>,
) -> Result<Unknown<'env>> {
    let Some(validator) = validator.filter(|v| matches!(v.get_type(), Ok(ValueType::Function)))
    else {
        return Ok(data);
    };
    let validator: Function<Unknown, Unknown> = unsafe { validator.cast()? };
    let verdict = match validator.call(data) {
        Ok(v) => v,
        Err(e) => {
            console::error(env, &format!("Validator failed for {shown}: {}", e.reason));
            return Ok(default);
        }
    };
    let verdict = verdict.coerce_to_object()?;
    let valid = verdict
        .get_named_property::<Unknown>("valid")?
        .coerce_to_bool()?;
    if valid {
        return Ok(data);
    }
    let error: Unknown = verdict.get_named_property("error")?;
    let error = error.coerce_to_string()?.into_utf8()?.into_owned()?;
    console::warn(env, &format!("Validation failed for {shown}: {error}"));
    let repair: Unknown = verdict.get_named_property("repair")?;
    if repair.get_type()? == ValueType::Function {
        let repair: Function<Unknown, Unknown> = unsafe { repair.cast()? };
        return repair.call(data);
    }
    Ok(default)
}
