extern crate std;

use super::*;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec;
use core::sync::atomic::{AtomicUsize, Ordering};

const A: MacAddress = MacAddress([2, 0, 0, 0, 0, 0xa]);
const B: MacAddress = MacAddress([2, 0, 0, 0, 0, 0xb]);
const C: MacAddress = MacAddress([2, 0, 0, 0, 0, 0xc]);

struct CountingWaker(AtomicUsize);
impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn frame(dst: MacAddress, src: MacAddress, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![];
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&[0x88, 0xb5]); // local experimental EtherType
    f.extend_from_slice(payload);
    f
}

fn send(port: &mut Port, f: &[u8]) {
    let waker = Waker::from(Arc::new(CountingWaker(AtomicUsize::new(0))));
    let r = port.poll_transmit(&mut Context::from_waker(&waker), f);
    assert_eq!(r, Poll::Ready(Ok(())));
}

fn recv(port: &mut Port) -> Option<Vec<u8>> {
    let waker = Waker::from(Arc::new(CountingWaker(AtomicUsize::new(0))));
    let mut buf = vec![0u8; port.max_frame_len()];
    match port.poll_receive(&mut Context::from_waker(&waker), &mut buf) {
        Poll::Ready(Ok(n)) => Some(buf[..n].to_vec()),
        Poll::Ready(Err(e)) => panic!("receive failed: {e}"),
        Poll::Pending => None,
    }
}

#[test]
fn unicast_frames_cross_in_both_directions() {
    let switch = Switch::new();
    let (mut a, mut b) = (switch.port(A), switch.port(B));
    let ab = frame(B, A, b"from a");
    let ba = frame(A, B, b"from b");
    send(&mut a, &ab);
    send(&mut b, &ba);
    assert_eq!(recv(&mut b), Some(ab));
    assert_eq!(recv(&mut a), Some(ba));
    assert_eq!(recv(&mut a), None);
    assert_eq!(recv(&mut b), None);
}

#[test]
fn broadcast_reaches_every_other_port_and_unicast_only_its_target() {
    let switch = Switch::new();
    let (mut a, mut b, mut c) = (switch.port(A), switch.port(B), switch.port(C));
    let bcast = frame(MacAddress::BROADCAST, A, b"who has");
    send(&mut a, &bcast);
    assert_eq!(recv(&mut b).as_deref(), Some(&bcast[..]));
    assert_eq!(recv(&mut c).as_deref(), Some(&bcast[..]));
    assert_eq!(recv(&mut a), None, "no echo to the sender");
    send(&mut a, &frame(C, A, b"to c"));
    assert_eq!(recv(&mut b), None);
    assert!(recv(&mut c).is_some());
    send(&mut a, &frame(MacAddress([2, 9, 9, 9, 9, 9]), A, b"nobody"));
    assert_eq!((b.queued(), c.queued()), (0, 0));
}

#[test]
fn arrival_wakes_the_waiting_receiver() {
    let switch = Switch::new();
    let (mut a, mut b) = (switch.port(A), switch.port(B));
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut buf = vec![0u8; 1514];
    assert_eq!(
        b.poll_receive(&mut Context::from_waker(&waker), &mut buf),
        Poll::Pending
    );
    send(&mut a, &frame(B, A, b"wake up"));
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    assert!(matches!(
        b.poll_receive(&mut Context::from_waker(&waker), &mut buf),
        Poll::Ready(Ok(21))
    ));
}

#[test]
fn bad_lengths_are_refused_and_full_queues_drop() {
    let switch = Switch::new();
    let (mut a, mut b) = (switch.port_with_mtu(A, 100), switch.port(B));
    let waker = Waker::from(Arc::new(CountingWaker(AtomicUsize::new(0))));
    let mut cx = Context::from_waker(&waker);
    assert_eq!(
        a.poll_transmit(&mut cx, &[0u8; 13]),
        Poll::Ready(Err(NetError::BadFrameLength { len: 13, max: 114 }))
    );
    assert_eq!(
        a.poll_transmit(&mut cx, &[0u8; 115]),
        Poll::Ready(Err(NetError::BadFrameLength { len: 115, max: 114 }))
    );
    let mut small = [0u8; 100];
    assert_eq!(
        a.poll_receive(&mut cx, &mut small),
        Poll::Ready(Err(NetError::BufferTooSmall {
            len: 100,
            needed: 114
        }))
    );
    for _ in 0..QUEUE_LIMIT + 3 {
        send(&mut a, &frame(B, A, b"x"));
    }
    assert_eq!(b.queued(), QUEUE_LIMIT);
    assert_eq!(switch.dropped(), 3);
    while recv(&mut b).is_some() {}
}
