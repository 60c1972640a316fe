//! Lock identifiers become file names (`<lockDir>/<identifier>.lock`), so they are checked
//! before they touch a path: no separator, no `..`, no NUL or control character, no
//! character Windows refuses in a name, bounded length. The JS backend applies the same
//! rules (`lib/js/lock/id.js`).

use crate::error::{Code, Error, Result};

/// Longest identifier, in bytes: room for `.lock` and our temp suffixes on any file system.
pub const MAX_IDENTIFIER_LEN: usize = 128;

pub fn check_identifier(identifier: &str) -> Result<()> {
    match problem(identifier) {
        None => Ok(()),
        Some(why) => Err(Error::new(
            Code::BadLockId,
            format!("Invalid lock identifier {identifier:?}: {why}"),
        )),
    }
}

fn problem(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        return Some("it must not be empty");
    }
    if id.len() > MAX_IDENTIFIER_LEN {
        return Some("it is longer than 128 bytes");
    }
    if id.contains('\0') {
        return Some("it must not contain a NUL byte");
    }
    if id.contains('/') || id.contains('\\') {
        return Some("it must not contain a path separator");
    }
    if id.contains("..") || id == "." {
        return Some("it must not contain '..' or be '.'");
    }
    if id.starts_with('.') {
        return Some("it must not start with '.' (hidden names are reserved for lock internals)");
    }
    if id.chars().any(|c| c.is_control() || "<>:\"|?*".contains(c)) {
        return Some("it must not contain control characters or any of <>:\"|?*");
    }
    // A JS string with an unpaired surrogate reaches us with U+FFFD in its place: two
    // different identifiers would share one lock file. Refuse it (the JS backend refuses
    // the unpaired surrogate itself).
    if id.contains('\u{FFFD}') {
        return Some("it must be well-formed Unicode (no unpaired surrogate or U+FFFD)");
    }
    crate::names::non_portable(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for good in [
            "session-manager",
            "backup-system",
            "tracker-3fa2",
            "a.b",
            "x y",
            "console",
            "com10",
            "nullable",
        ] {
            assert!(check_identifier(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn anything_that_could_leave_the_directory_is_refused() {
        let long = "x".repeat(129);
        for bad in [
            "", ".", "..", "../x", "a/b", "a\\b", "a\0b", "..x", ".hidden", "a:b", "a\nb", &long,
            "CON", "nul", "NUL.txt", "aux.lock", "Com1", "LPT9.x", "prn ", "a.", "a ", "conin$",
        ] {
            assert_eq!(
                check_identifier(bad).unwrap_err().code(),
                Code::BadLockId,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_length_limit_is_128_bytes_not_characters() {
        assert!(check_identifier(&"x".repeat(MAX_IDENTIFIER_LEN)).is_ok());
        // 64 two-byte characters are 128 bytes; one more byte is too many
        assert!(check_identifier(&"é".repeat(64)).is_ok());
        let over = format!("{}x", "é".repeat(64));
        assert_eq!(check_identifier(&over).unwrap_err().code(), Code::BadLockId);
    }

    #[test]
    fn dot_dot_anywhere_and_a_lone_dot_are_refused_for_that_reason() {
        // each alone: '..' inside a name (not at its start), and '.' itself (the same rule
        // as the JS backend's, with the same message)
        for bad in ["a..b", "."] {
            let message = check_identifier(bad).unwrap_err().message().to_string();
            assert!(
                message.ends_with("it must not contain '..' or be '.'"),
                "{bad:?}: {message}"
            );
        }
    }

    #[test]
    fn a_replacement_character_is_refused() {
        // what an unpaired surrogate of a JS string becomes on its way in (torture: hostile input)
        assert_eq!(
            check_identifier("\u{FFFD}bad").unwrap_err().code(),
            Code::BadLockId
        );
    }
}
