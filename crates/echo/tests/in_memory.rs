//! An echo client against the echo service, two stacks joined by the in-memory switch.

use embassy_futures::join::join_array;
use morgana::time::{Duration, Instant, with_timeout};
use morgana_echo::EchoConfig;
use morgana_net::MacAddress;
use morgana_tcpip::embedded_io_async::Read;
use morgana_tcpip::embedded_io_async::Write;
use morgana_tcpip::{Ipv4Address, Ipv4Cidr, NetConfig, SocketBuffers, Stack};
use morgana_vnet::Switch;

const SERVER: Ipv4Address = Ipv4Address::new(10, 8, 0, 2);
const CLIENT: Ipv4Address = Ipv4Address::new(10, 8, 0, 3);

fn start(spawner: morgana::Spawner, idle_secs: u64) -> Stack {
    let switch = Switch::new();
    let s = switch.port(MacAddress([2, 0, 0, 0, 8, 2]));
    let c = switch.port(MacAddress([2, 0, 0, 0, 8, 3]));
    let server = Stack::new(
        s,
        NetConfig::ipv4_static(Ipv4Cidr::new(SERVER, 24)),
        spawner,
        7,
    )
    .unwrap();
    let client = Stack::new(
        c,
        NetConfig::ipv4_static(Ipv4Cidr::new(CLIENT, 24)),
        spawner,
        8,
    )
    .unwrap();
    let config = EchoConfig {
        idle_timeout: Duration::from_secs(idle_secs),
        limits: morgana_tcpip::ConnectionLimits {
            max_connections: 8,
            backlog: 2,
        },
        ..EchoConfig::default()
    };
    morgana_echo::spawn(&server, spawner, &config).unwrap();
    client
}

/// Sends `data` in pieces, half-closes, and returns everything echoed until the server's FIN.
async fn exchange(client: &Stack, data: &[u8]) -> Vec<u8> {
    let mut buffers = SocketBuffers::new(4096, 4096);
    let mut socket = client.connect((SERVER, 7), &mut buffers).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    for piece in data.chunks(700) {
        socket.write_all(piece).await.unwrap();
        socket.flush().await.unwrap();
    }
    socket.close();
    loop {
        match socket.read(&mut buf).await.unwrap() {
            0 => break,
            n => got.extend_from_slice(&buf[..n]),
        }
    }
    // Acknowledge the server's FIN before the socket goes away.
    let _ = socket.flush().await;
    got
}

#[test]
fn four_concurrent_clients_get_their_bytes_back_and_a_fin() {
    let results = morgana::block_on(|spawner| async move {
        let client = start(spawner, 60);
        let data: [Vec<u8>; 4] =
            core::array::from_fn(|i| (0..5000u32).map(|b| (b as u8) ^ (i as u8)).collect());
        let futures = [0, 1, 2, 3].map(|i| {
            let (client, data) = (&client, &data);
            async move { exchange(client, &data[i]).await == data[i] }
        });
        with_timeout(Duration::from_secs(20), join_array(futures))
            .await
            .expect("echo exchanges took over 20 s")
    });
    assert_eq!(results, [true; 4]);
}

#[test]
fn an_idle_connection_is_closed_after_the_timeout() {
    let (waited, served) = morgana::block_on(|spawner| async move {
        let client = start(spawner, 1);
        let mut buffers = SocketBuffers::new(1024, 1024);
        let mut idle = client.connect((SERVER, 7), &mut buffers).await.unwrap();
        let start = Instant::now();
        let served = exchange(&client, b"still served").await;
        let mut buf = [0u8; 16];
        let n = with_timeout(Duration::from_secs(10), idle.read(&mut buf))
            .await
            .expect("the idle connection was not closed within 10 s")
            .unwrap();
        assert_eq!(n, 0, "expected end of stream");
        (start.elapsed(), served)
    });
    assert_eq!(served, b"still served");
    assert!(
        waited >= Duration::from_millis(900),
        "closed after {waited:?}"
    );
}
