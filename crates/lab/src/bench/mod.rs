//! `cargo xtask bench net|boot|size|exits|xen`: each figure is a median of several runs, set against a
//! baseline measured in the same invocation (see [`crate::stats`]).

pub mod boot;
pub mod hvt_net;
pub mod net;
pub mod size;
pub mod tender_stats;
