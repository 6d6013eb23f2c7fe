//! `cargo xtask bench net|tls|boot|xen|frame-pointers|storage`: each figure is a median of
//! several runs, set against a baseline measured in the same invocation (see [`crate::stats`]).

pub mod boot;
pub mod framepointers;
mod hvt_net;
pub mod net;
pub mod storage;
pub mod tls;
