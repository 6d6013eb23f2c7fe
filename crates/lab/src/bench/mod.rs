//! `cargo xtask bench net|boot|size|xen`: each figure is a median of several runs, set against a
//! baseline measured in the same invocation (see [`crate::stats`]).

pub mod boot;
mod hvt_net;
pub mod net;
pub mod size;
pub mod tender_stats;
