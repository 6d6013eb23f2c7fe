//! Net device usage: prints the device's MAC and MTU, then the first `--frames=N` frames it
//! receives (length, source, EtherType). Declares one net device, `service`.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::vec;
use morgana::BootArgs;
use morgana::net::{MacAddress, NetDevice};

morgana::main!(app, devices: { SERVICE: net = "service" });

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let frames: u32 = args.with_default("frames", 0)?;
    args.finish()?;

    let mut net = morgana::net::acquire(SERVICE)?;
    morgana::println!("service: mac {} mtu {}", net.mac(), net.mtu());
    let mut buf = vec![0u8; net.max_receive_len()];
    for i in 0..frames {
        let n = morgana::net::receive(&mut net, &mut buf).await?;
        let mut src = [0u8; 6];
        src.copy_from_slice(&buf[6..12]);
        let ethertype = u16::from_be_bytes([buf[12], buf[13]]);
        morgana::println!(
            "frame {}: {} bytes from {} type {:#06x}",
            i + 1,
            n,
            MacAddress(src),
            ethertype
        );
    }
    Ok(())
}
