//! The runtime on the host driving in-memory devices: frames cross the switch both ways
//! between two tasks, and timers fire on the monotonic clock.

use embassy_futures::join::join;
use morgana::net::{MacAddress, NetDevice, receive, transmit};
use morgana::time::{Duration, Instant, Timer, with_timeout};
use morgana_vnet::Switch;

const A: MacAddress = MacAddress([2, 0, 0, 0, 0, 1]);
const B: MacAddress = MacAddress([2, 0, 0, 0, 0, 2]);

fn frame(dst: MacAddress, src: MacAddress, payload: &[u8]) -> Vec<u8> {
    [&dst.0[..], &src.0[..], &[0x88, 0xb5], payload].concat()
}

#[test]
fn frames_cross_the_switch_in_both_directions_between_tasks() {
    let switch = Switch::new();
    let (mut a, mut b) = (switch.port(A), switch.port(B));
    let (got_at_a, got_at_b) = morgana::block_on(|_spawner| async move {
        let mut buf_a = vec![0u8; a.max_frame_len()];
        let mut buf_b = vec![0u8; b.max_frame_len()];
        // B waits first, so the frame arrives while its receiver is pending.
        let b_side = async {
            let n = receive(&mut b, &mut buf_b).await.unwrap();
            let got = buf_b[..n].to_vec();
            transmit(&mut b, &frame(A, B, b"pong")).await.unwrap();
            got
        };
        let a_side = async {
            Timer::after_millis(20).await;
            transmit(&mut a, &frame(B, A, b"ping")).await.unwrap();
            let n = receive(&mut a, &mut buf_a).await.unwrap();
            buf_a[..n].to_vec()
        };
        let (at_b, at_a) = join(b_side, a_side).await;
        (at_a, at_b)
    });
    assert_eq!(got_at_b, frame(B, A, b"ping"));
    assert_eq!(got_at_a, frame(A, B, b"pong"));
}

#[test]
fn timers_wait_at_least_their_duration_and_timeouts_fire() {
    let (elapsed, timed_out) = morgana::block_on(|_spawner| async {
        let start = Instant::now();
        Timer::after_millis(150).await;
        let elapsed = start.elapsed();
        let switch = Switch::new();
        let mut lonely = switch.port(A);
        let mut buf = vec![0u8; lonely.max_frame_len()];
        let timed_out = with_timeout(Duration::from_millis(50), receive(&mut lonely, &mut buf))
            .await
            .is_err();
        (elapsed, timed_out)
    });
    assert!(
        elapsed >= Duration::from_millis(150),
        "slept only {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "slept {elapsed:?}");
    assert!(timed_out);
}
