//! `cargo xtask bench net|tls|boot|size|exits|xen|frame-pointers|storage`: each figure is a
//! median of several runs, set against a baseline measured in the same invocation (see
//! [`crate::stats`]).

pub mod boot;
pub mod framepointers;
pub mod hvt_net;
pub mod net;
pub mod size;
pub mod storage;
pub mod tender_stats;
pub mod tls;
