//! The tolerant tracker parser (`validate::parse`): any bytes, never a panic or an abort;
//! whatever the tolerant parser accepts, the strict-then-tolerant entry point accepts too,
//! and a strict JSON text parses to the same value both ways.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_resilience_core::validate::parse::{parse_tolerant, parse_tracker};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let tolerant = parse_tolerant(text);
    let tracker = parse_tracker(text);
    if tolerant.is_ok() {
        assert!(
            tracker.is_ok(),
            "tolerant accepted what parse_tracker refused"
        );
    }
    if let (Ok(strict), Ok(parsed)) = (serde_json::from_str::<serde_json::Value>(text), &tracker) {
        assert!(!parsed.tolerant);
        assert_eq!(&strict, &parsed.value);
    }
});
