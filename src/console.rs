//! The legacy module talks to its user through `console.warn` / `console.error`; so do we,
//! through the JS console itself, so that a caller who captures the console sees our lines.

use napi::bindgen_prelude::*;

pub fn warn(env: &Env, message: &str) {
    write(env, "warn", message)
}

pub fn error(env: &Env, message: &str) {
    write(env, "error", message)
}

pub fn log(env: &Env, message: &str) {
    write(env, "log", message)
}

fn write(env: &Env, level: &str, message: &str) {
    let printed = env
        .get_global()
        .and_then(|g| g.get_named_property::<Object>("console"))
        .and_then(|c| c.get_named_property::<Function<&str, Unknown>>(level))
        .and_then(|f| f.call(message));
    if printed.is_err() {
        eprintln!("{message}");
    }
}
