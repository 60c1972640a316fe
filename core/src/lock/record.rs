//! The JSON inside a lock file. The legacy fields come first and keep their meaning
//! (`pid`, `timestamp` as `toISOString()`, `identifier`), so legacy processes read our
//! locks; ours add what liveness needs: `hostname`, the holder's process `startTime`
//! (seconds since the epoch, as `sysinfo` and `/proc` give it), a random `token` naming
//! this one acquisition, and the `backend` (a `native` holder keeps an OS lock).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::{process, time};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub pid: u32,
    pub timestamp: String,
    #[serde(default)]
    pub identifier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
}

/// This host's name, as Node's `os.hostname()` gives it.
pub static HOSTNAME: LazyLock<String> =
    LazyLock::new(|| sysinfo::System::host_name().unwrap_or_default());

static OWN_START_S: LazyLock<Option<u64>> = LazyLock::new(process::own_start_time_s);

impl Record {
    /// A record for this process taking `identifier` now.
    pub fn ours(identifier: &str, token: &str) -> Record {
        Record {
            pid: std::process::id(),
            timestamp: time::now_iso(),
            identifier: identifier.to_string(),
            hostname: Some(HOSTNAME.clone()),
            start_time: *OWN_START_S,
            token: Some(token.to_string()),
            backend: Some("native".to_string()),
        }
    }

    /// 2-space pretty JSON, like the legacy `JSON.stringify(lock, null, 2)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// A record, or `None` for bytes that are empty, half-written, longer than a record
    /// ([`super::file::MAX_RECORD_BYTES`]) or not a lock record.
    pub fn parse(bytes: &[u8]) -> Option<Record> {
        if bytes.len() as u64 > super::file::MAX_RECORD_BYTES {
            return None;
        }
        serde_json::from_slice(bytes).ok()
    }

    /// Written on this host (legacy records carry no hostname: they are taken as local).
    pub fn is_local(&self) -> bool {
        self.hostname
            .as_deref()
            .is_none_or(|h| h == HOSTNAME.as_str())
    }

    /// Written by this very process (same host, pid and, when recorded, start time).
    pub fn is_own(&self) -> bool {
        self.is_local()
            && self.pid == std::process::id()
            && match (self.start_time, *OWN_START_S) {
                (Some(theirs), Some(mine)) => theirs.abs_diff(mine) <= 2,
                _ => true,
            }
    }

    pub fn is_native(&self) -> bool {
        self.backend.as_deref() == Some("native")
    }

    /// ms since the record's timestamp (0 when it does not parse).
    pub fn age_ms(&self, now_ms: i64) -> i64 {
        time::parse_iso8601(&self.timestamp).map_or(0, |t| (now_ms - t).max(0))
    }
}

/// A token unique to one acquisition: pid, clock and a counter, hex.
pub fn new_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!("{:x}-{nanos:x}-{n:x}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_fields_come_first_in_pretty_json() {
        let text = String::from_utf8(Record::ours("x", "t").to_bytes()).unwrap();
        assert!(text.starts_with("{\n  \"pid\": "), "{text}");
        let pid_at = text.find("\"pid\"").unwrap();
        let ts_at = text.find("\"timestamp\"").unwrap();
        let id_at = text.find("\"identifier\"").unwrap();
        assert!(pid_at < ts_at && ts_at < id_at);
        assert_eq!(
            Record::parse(text.as_bytes()).unwrap().token.as_deref(),
            Some("t")
        );
    }

    #[test]
    fn legacy_records_parse_and_garbage_does_not() {
        let legacy =
            br#"{ "pid": 12, "timestamp": "2025-09-08T15:14:28.688Z", "identifier": "x" }"#;
        let r = Record::parse(legacy).unwrap();
        assert!(r.is_local() && !r.is_native() && r.token.is_none());
        assert!(Record::parse(b"").is_none());
        assert!(Record::parse(b"{\"pid\": 1").is_none());
    }

    #[test]
    fn own_local_and_native_records_are_told_apart() {
        let mine = Record::ours("x", "t");
        assert!(mine.is_own() && mine.is_local() && mine.is_native());
        let mut other_pid = mine.clone();
        other_pid.pid = mine.pid + 1;
        assert!(!other_pid.is_own());
        let mut restarted = mine.clone();
        restarted.start_time = mine.start_time.map(|s| s + 3);
        assert!(
            !restarted.is_own(),
            "same pid, another start: not this process"
        );
        let mut slack = mine.clone();
        slack.start_time = mine.start_time.map(|s| s + 2);
        assert!(slack.is_own(), "two seconds of clock slack");
        let mut elsewhere = mine.clone();
        elsewhere.hostname = Some("elsewhere.invalid".into());
        assert!(!elsewhere.is_local() && !elsewhere.is_own());
        let mut legacy = mine.clone();
        legacy.hostname = None;
        legacy.backend = None;
        assert!(legacy.is_local() && !legacy.is_native());
        legacy.backend = Some("js".into());
        assert!(!legacy.is_native());
    }

    #[test]
    fn age_is_measured_from_the_timestamp_and_never_negative() {
        let mut r = Record::ours("x", "t");
        let now = time::now_ms();
        r.timestamp = time::iso8601(now - 5_000);
        assert_eq!(r.age_ms(now), 5_000);
        r.timestamp = time::iso8601(now + 5_000);
        assert_eq!(r.age_ms(now), 0);
        r.timestamp = "not a time".into();
        assert_eq!(r.age_ms(now), 0);
    }

    #[test]
    fn a_record_is_at_most_64_kib() {
        let record = br#"{"pid": 1, "timestamp": "t", "identifier": "x"}"#;
        let padded = |size: usize| {
            let mut bytes = vec![b' '; size - record.len()];
            bytes.extend_from_slice(record);
            bytes
        };
        assert!(Record::parse(&padded(64 * 1024)).is_some());
        assert!(Record::parse(&padded(64 * 1024 + 1)).is_none());
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(new_token(), new_token());
    }
}
