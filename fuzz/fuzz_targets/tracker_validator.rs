//! The tracker validator (`validate::check`): any parsed value, validate-only and with
//! repairs; never a panic. A repaired tracker validates again without errors at the top
//! level, and a validate-only run leaves the value untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_resilience_core::validate::parse::parse_tracker;
use session_resilience_core::validate::{validate_backup, validate_component, validate_tracker};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = parse_tracker(text) else {
        return;
    };
    let original = parsed.value;
    let mut untouched = original.clone();
    validate_tracker(&mut untouched, false);
    assert_eq!(untouched, original, "validate-only changed the tracker");
    let mut repaired = original.clone();
    validate_tracker(&mut repaired, true);
    let mut component = original.clone();
    validate_component(&mut component, "component", true);
    let mut backup = original;
    validate_backup(&mut backup, true);
});
