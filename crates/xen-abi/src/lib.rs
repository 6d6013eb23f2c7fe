//! What a Morgana Xen image tells the host beyond the PVH boot protocol: the one definition
//! the xen backend (`morgana-backend-xen`, which writes it at compile time) and the build tool
//! (`morgana-build`, which reads it from the image) share.
//!
//! | module      | what                                                                  |
//! |-------------|-----------------------------------------------------------------------|
//! | [`devices`] | the `.morgana.devices` section: the declared devices, one line each  |
//!
//! The crate depends on nothing, so the build tool can read images without pulling in the
//! guest's runtime.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod devices;
