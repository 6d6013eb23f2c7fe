//! HTTP/1.1 over Morgana's network stack, for unikernels.
//!
//! - [`server`]: serves a static website from a read-only KV store ([`morgana_kv::KvRo`]), with
//!   keep-alive, `Content-Type` by extension, and limits on header size and idle time
//!   (MirageOS's `static_website`).
//! - [`redirect`]: answers plain HTTP with a redirect to the same URL over HTTPS.
//! - [`client`]: fetches one `http://` URL and summarises the response (status, body length,
//!   CRC-32 of the body).
//!
//! Requests and responses are parsed with [`httparse`]; this crate only frames them.
#![forbid(unsafe_code)]
#![no_std]
#![allow(async_fn_in_trait)]

extern crate alloc;

pub mod client;
pub mod redirect;
pub mod server;

pub use client::{FetchError, Fetched, Url, fetch};
pub use server::{ServerConfig, content_type};
