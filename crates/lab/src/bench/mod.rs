//! `cargo xtask bench net|tls|boot|xen`: each figure is a median of several runs, set against a
//! baseline measured in the same invocation (see [`crate::stats`]).

pub mod boot;
pub(crate) mod hvt_net;
pub mod net;
pub mod tls;
