//! Answers ARP requests and ICMP echo requests for `--ip=A.B.C.D` on the `service` device,
//! without an IP stack, and exits 0 after answering `--pings=N` echo requests (default 3).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::vec;
use core::net::Ipv4Addr;
use morgana::BootArgs;
use morgana::net::{MacAddress, NetDevice};
use morgana::time::Timer;

morgana::main!(app, devices: { SERVICE: net = "service" });

/// The Internet checksum of `data`.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The reply to `frame` (length `n`) written into `out`, or `None` when it needs none;
/// `Some((len, is_echo))`.
fn answer(frame: &[u8], mac: MacAddress, ip: [u8; 4], out: &mut [u8]) -> Option<(usize, bool)> {
    if frame.len() < 14 {
        return None;
    }
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let body = &frame[14..];
    out[..6].copy_from_slice(&frame[6..12]);
    out[6..12].copy_from_slice(&mac.0);
    out[12..14].copy_from_slice(&frame[12..14]);
    match ethertype {
        0x0806 if body.len() >= 28 && body[6..8] == [0, 1] && body[24..28] == ip => {
            let r = &mut out[14..42];
            r[..6].copy_from_slice(&body[..6]);
            r[6..8].copy_from_slice(&[0, 2]);
            r[8..14].copy_from_slice(&mac.0);
            r[14..18].copy_from_slice(&ip);
            r[18..24].copy_from_slice(&body[8..14]);
            r[24..28].copy_from_slice(&body[14..18]);
            Some((42, false))
        }
        0x0800 if body.len() >= 20 => {
            let ihl = usize::from(body[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([body[2], body[3]]));
            if body[0] >> 4 != 4 || ihl < 20 || total < ihl + 8 || total > body.len() {
                return None;
            }
            if body[9] != 1 || body[16..20] != ip || body[ihl] != 8 {
                return None;
            }
            let r = &mut out[14..14 + total];
            r.copy_from_slice(&body[..total]);
            r[8] = 64;
            r[12..16].copy_from_slice(&body[16..20]);
            r[16..20].copy_from_slice(&body[12..16]);
            r[10..12].copy_from_slice(&[0, 0]);
            let c = checksum(&r[..ihl]);
            r[10..12].copy_from_slice(&c.to_be_bytes());
            r[ihl] = 0;
            r[ihl + 2..ihl + 4].copy_from_slice(&[0, 0]);
            let c = checksum(&r[ihl..]);
            r[ihl + 2..ihl + 4].copy_from_slice(&c.to_be_bytes());
            Some((14 + total, true))
        }
        _ => None,
    }
}

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let ip: Ipv4Addr = args.required("ip", "A.B.C.D")?;
    let pings: u32 = args.with_default("pings", 3)?;
    args.finish()?;

    let mut net = morgana::net::acquire(SERVICE)?;
    let mac = net.mac();
    let mut buf = vec![0u8; net.max_frame_len()];
    let mut out = vec![0u8; net.max_frame_len()];
    let mut answered = 0;
    while answered < pings {
        let n = morgana::net::receive(&mut net, &mut buf).await?;
        if let Some((len, echo)) = answer(&buf[..n], mac, ip.octets(), &mut out) {
            morgana::net::transmit(&mut net, &out[..len]).await?;
            answered += u32::from(echo);
        }
    }
    // Let the back end take the last reply before the domain goes away.
    Timer::after_millis(500).await;
    morgana::println!("net-responder: {ip} answered {answered} pings");
    Ok(())
}
