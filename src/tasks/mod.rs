//! The async exports: one file per task, each running the core off the event loop on the
//! libuv thread pool.

mod acquire_lock;
mod atomic_write;
mod backup_archive;
mod backup_copy_database;
mod backup_git_bundle;
mod backup_manifest;
mod store;
mod store_query;
mod verify_checksum;
