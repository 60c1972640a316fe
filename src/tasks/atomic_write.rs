//! `atomicWriteAsync(filePath, content, options)`: `atomicWrite` on the thread pool.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use session_resilience_core::fsx::{self, WriteOptions};

use crate::args;
use crate::error::{guarded, to_js};
use crate::safe_file_ops::{write_options, AtomicWriteOptions};

pub struct AtomicWriteTask {
    path: PathBuf,
    data: Vec<u8>,
    options: WriteOptions,
}

#[napi]
impl Task for AtomicWriteTask {
    type Output = session_resilience_core::Result<()>;
    type JsValue = bool;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(guarded(|| {
            fsx::atomic_write(&self.path, &self.data, self.options)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<bool> {
        output.map(|()| true).map_err(|e| to_js(&env, e))
    }
}

/// `atomicWrite` off the event loop; resolves `true`, rejects with the errno `code`.
#[napi(catch_unwind)]
pub fn atomic_write_async(
    env: &Env,
    #[napi(ts_arg_type = "string")] file_path: Unknown,
    content: Either<String, &[u8]>,
    options: Option<AtomicWriteOptions>,
) -> Result<AsyncTask<AtomicWriteTask>> {
    let path = args::path(env, "filePath", file_path)?;
    // The bytes are copied: the JS buffer may change or be collected while the task runs.
    let data = match content {
        Either::A(text) => text.into_bytes(),
        Either::B(buffer) => buffer.to_vec(),
    };
    Ok(AsyncTask::new(AtomicWriteTask {
        path,
        data,
        options: write_options(options),
    }))
}
