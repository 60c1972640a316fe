//! The async exports: one file per task, each running the core off the event loop on the
//! libuv thread pool.

mod atomic_write;
mod verify_checksum;
mod backup_archive;
mod backup_manifest;
