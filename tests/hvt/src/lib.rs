//! Tests only: `tests/image.rs` reads built hvt images as the tender will, `tests/boot.rs` boots
//! them on `/dev/kvm` with the Morgana tender and checks their output and status.
