//! Conformance `net`: answers ARP requests and ICMP echo requests for 10.0.0.2 on the net
//! device `service0`, hand-written over the net interface (no TCP/IP stack).
//!
//! With `--limit=N` it prints `SUCCESS` and exits 0 once N echo requests were answered;
//! without, it serves until stopped. Every other frame is ignored.
//!
//! With `--busy-task` it also runs a task that keeps itself runnable forever and never
//! finishes, as a network stack does that asks to run again at once: the pings must still be
//! answered, because the run loop checks device readiness after a few busy passes.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::vec;
use morgana::BootArgs;
use morgana::net::{MacAddress, NetDevice, receive, transmit};

morgana::main!(app, devices: { SERVICE: net = "service0" });

/// Our IPv4 address.
const ADDRESS: [u8; 4] = [10, 0, 0, 2];
const ETHERTYPE_ARP: [u8; 2] = [0x08, 0x06];
const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];

/// The Internet checksum of `data`.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Turns an ARP request for our address into the reply, in place.
fn arp_reply(frame: &mut [u8], mac: MacAddress) -> bool {
    let Some(arp) = frame.get_mut(14..42) else {
        return false;
    };
    // Ethernet/IPv4, 6-byte and 4-byte addresses, a request, for us.
    if arp[..8] != [0, 1, 8, 0, 6, 4, 0, 1] || arp[24..28] != ADDRESS {
        return false;
    }
    arp[7] = 2;
    let (sender_mac, sender_ip) = (
        <[u8; 6]>::try_from(&arp[8..14]),
        <[u8; 4]>::try_from(&arp[14..18]),
    );
    let (Ok(sender_mac), Ok(sender_ip)) = (sender_mac, sender_ip) else {
        return false;
    };
    arp[18..24].copy_from_slice(&sender_mac);
    arp[24..28].copy_from_slice(&sender_ip);
    arp[8..14].copy_from_slice(&mac.0);
    arp[14..18].copy_from_slice(&ADDRESS);
    frame[..6].copy_from_slice(&sender_mac);
    frame[6..12].copy_from_slice(&mac.0);
    true
}

/// Turns an ICMP echo request to our address into the reply, in place.
fn echo_reply(frame: &mut [u8], mac: MacAddress) -> bool {
    let Some(&version_ihl) = frame.get(14) else {
        return false;
    };
    let header_len = usize::from(version_ihl & 0x0f) * 4;
    if version_ihl >> 4 != 4 || header_len < 20 {
        return false;
    }
    let Some(ip) = frame.get(14..34) else {
        return false;
    };
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if ip[9] != 1 || ip[16..20] != ADDRESS || total < header_len + 8 || 14 + total > frame.len() {
        return false;
    }
    let (header, icmp) = frame[14..14 + total].split_at_mut(header_len);
    if icmp[0] != 8 || icmp[1] != 0 {
        return false;
    }
    icmp[0] = 0;
    icmp[2..4].fill(0);
    let sum = checksum(icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let src: [u8; 4] = [header[12], header[13], header[14], header[15]];
    header.copy_within(16..20, 12);
    header[16..20].copy_from_slice(&src);
    header[10..12].fill(0);
    let sum = checksum(header);
    header[10..12].copy_from_slice(&sum.to_be_bytes());
    let peer: [u8; 6] = [frame[6], frame[7], frame[8], frame[9], frame[10], frame[11]];
    frame[..6].copy_from_slice(&peer);
    frame[6..12].copy_from_slice(&mac.0);
    true
}

/// Wakes itself on every poll and never finishes.
async fn stay_runnable() {
    core::future::poll_fn(|cx| {
        cx.waker().wake_by_ref();
        core::task::Poll::<()>::Pending
    })
    .await
}

async fn app(spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let limit: Option<u64> = args.optional("limit")?;
    let busy_task = args.flag("busy-task")?;
    args.finish()?;
    if busy_task {
        morgana::spawn(spawner, stay_runnable())?;
    }
    let mut nic = morgana::net::acquire(SERVICE)?;
    let mac = nic.mac();
    morgana::println!(
        "Serving ping on 10.0.0.2, with MAC {mac}, MTU {}",
        nic.mtu()
    );
    let mut frame = vec![0u8; nic.max_frame_len()];
    let mut answered = 0u64;
    while limit.is_none_or(|l| answered < l) {
        let len = receive(&mut nic, &mut frame).await?;
        let frame = &mut frame[..len];
        let reply = match frame.get(12..14) {
            Some(t) if t == ETHERTYPE_ARP => arp_reply(frame, mac),
            Some(t) if t == ETHERTYPE_IPV4 => {
                let ok = echo_reply(frame, mac);
                answered += u64::from(ok);
                ok
            }
            _ => false,
        };
        if reply {
            transmit(&mut nic, frame).await?;
        }
    }
    morgana::println!("answered {answered} pings");
    morgana::println!("SUCCESS");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_a_known_header() {
        // RFC 1071 example words.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn echo_request_becomes_reply() {
        let ours = MacAddress([2, 0, 0, 0, 0, 2]);
        let mut f = vec![0u8; 14 + 20 + 8 + 4];
        f[..6].copy_from_slice(&ours.0);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        f[12..14].copy_from_slice(&ETHERTYPE_IPV4);
        let ip = &mut f[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&32u16.to_be_bytes());
        ip[8] = 64;
        ip[9] = 1;
        ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
        ip[16..20].copy_from_slice(&ADDRESS);
        f[34] = 8;
        f[42..].copy_from_slice(b"ping");
        assert!(echo_reply(&mut f, ours));
        assert_eq!(&f[..6], &[2, 0, 0, 0, 0, 1]);
        assert_eq!(&f[14 + 12..14 + 16], &ADDRESS);
        assert_eq!(&f[14 + 16..14 + 20], &[10, 0, 0, 1]);
        assert_eq!(f[34], 0);
        assert_eq!(checksum(&f[14..34]), 0);
        assert_eq!(checksum(&f[34..]), 0);
        // Not for us: untouched.
        f[14 + 16..14 + 20].copy_from_slice(&[10, 0, 0, 3]);
        assert!(!echo_reply(&mut f, ours));
    }
}
