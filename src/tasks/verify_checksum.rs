//! `verifyChecksumAsync(filePath, expected)`: the streaming SHA-256 on the thread pool.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::args;
use crate::error::{guarded, to_js};
use crate::safe_file_ops::{checksum_result, ChecksumResult};

pub struct VerifyChecksumTask {
    path: PathBuf,
    expected: Option<String>,
}

#[napi]
impl Task for VerifyChecksumTask {
    type Output = session_resilience_core::Result<ChecksumResult>;
    type JsValue = ChecksumResult;

    fn compute(&mut self) -> Result<Self::Output> {
        let (path, expected) = (&self.path, self.expected.take());
        Ok(guarded(|| Ok(checksum_result(path, expected))))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<ChecksumResult> {
        output.map_err(|e| to_js(&env, e))
    }
}

/// `verifyChecksum` off the event loop; resolves to the same result shape.
#[napi(catch_unwind)]
pub fn verify_checksum_async(
    env: &Env,
    #[napi(ts_arg_type = "string")] file_path: Unknown,
    expected_checksum: Option<String>,
) -> Result<AsyncTask<VerifyChecksumTask>> {
    let path = args::path(env, "filePath", file_path)?;
    Ok(AsyncTask::new(VerifyChecksumTask {
        path,
        expected: expected_checksum,
    }))
}
