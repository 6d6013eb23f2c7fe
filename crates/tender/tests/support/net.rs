//! The tender on real tap devices, inside network namespaces the tests make with the test kit
//! (`morgana_testkit::Netns`). All traffic stays inside: the host side of each tap has its own
//! address there and the tests only send to addresses on those links.

use super::image::Image;
use super::{TENDER, write_image};
use morgana_testkit::{Netns, Outcome, run};
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A namespace for test `label` holding one tap `tap0` with `mtu` and host address
/// 10.77.0.1/24, up.
pub fn netns_with_tap0(label: &str, mtu: u32) -> Netns {
    let ns = Netns::new(label);
    ns.add_tap("tap0", mtu, Some("10.77.0.1/24"));
    ns
}

/// Runs the tender inside `ns` with `--mem=4`, `options` and `image`.
pub fn tender_in(ns: &Netns, options: &[&str], image: &Image) -> Outcome {
    tender_in_passing(ns, options, image, None)
}

/// [`tender_in`], with `fd` (if any) inherited by the tender under the same number.
pub fn tender_in_passing(
    ns: &Netns,
    options: &[&str],
    image: &Image,
    fd: Option<RawFd>,
) -> Outcome {
    let path = write_image(&image.build());
    let mut cmd = ns.command(TENDER);
    cmd.arg("--mem=4").args(options).arg(&path);
    if let Some(fd) = fd {
        // SAFETY: runs in the child between fork and exec and only calls fcntl, which is
        // async-signal-safe. Clearing FD_CLOEXEC there lets this one child (and the
        // tender it execs) inherit `fd`; other children of the test process do not.
        unsafe {
            cmd.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    run(&mut cmd, Duration::from_secs(30))
}

/// A statistics counter of `tap0` in `ns`, e.g. `rx_packets`.
pub fn tap0_counter(ns: &Netns, counter: &str) -> u64 {
    ns.interface_counter("tap0", counter)
}

/// Sends UDP datagrams from `from` to `to` (port 9) inside `ns` until `stop`, so the kernel
/// keeps sending ARP requests for `to` out of the tap that holds `from`.
pub fn provoke_arp(
    ns: &Netns,
    from: &'static str,
    to: &'static str,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    ns.spawn_thread(move || {
        let sock = std::net::UdpSocket::bind((from, 0)).expect("bind");
        while !stop.load(Ordering::Relaxed) {
            let _ = sock.send_to(b"ping", (to, 9));
            std::thread::sleep(Duration::from_millis(50));
        }
    })
}
