//! `verifyChecksumAsync(filePath, expected)`: the streaming SHA-256 on the thread pool.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::args;
use crate::safe_file_ops::{checksum_result, ChecksumResult};

pub struct VerifyChecksumTask {
    path: PathBuf,
    expected: Option<String>,
}

#[napi]
impl Task for VerifyChecksumTask {
    type Output = ChecksumResult;
    type JsValue = ChecksumResult;

    fn compute(&mut self) -> Result<ChecksumResult> {
        let (path, expected) = (&self.path, self.expected.take());
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            checksum_result(path, expected)
        }))
        .map_err(|_| Error::from_reason("Internal error in session-resilience: checksum panicked"))
    }

    fn resolve(&mut self, _env: Env, output: ChecksumResult) -> Result<ChecksumResult> {
        Ok(output)
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
