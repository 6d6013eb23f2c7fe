//! An in-memory Ethernet switch: several [`Port`]s, each a [`NetDevice`], joined inside one
//! program, so two network stacks can talk in one `cargo test` without root or tap devices
//! (MirageOS's `vnetif` plays this part).
//!
//! Semantics are those of a switch that knows every port's MAC address: a unicast frame goes to
//! the port with that destination address (or nowhere), a broadcast or multicast frame to every
//! other port. A frame is never delivered back to its sender. Each port queues at most
//! [`QUEUE_LIMIT`] frames; further frames to it are dropped, as on a congested link, and counted.
//!
//! Everything runs on the caller's thread: a transmit copies the frame into the receivers'
//! queues and wakes their wakers, so whatever executor drives both stacks sees the frame at its
//! next poll.
#![forbid(unsafe_code)]
#![no_std]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::task::{Context, Poll, Waker};

use morgana_net::{MacAddress, NetDevice, NetError, check_frame_len, check_receive_buffer};

/// Frames a port holds before it drops new ones.
pub const QUEUE_LIMIT: usize = 512;

/// The MTU of ports made with [`Switch::port`], in bytes.
pub const DEFAULT_MTU: usize = 1500;

#[derive(Debug)]
struct PortState {
    mac: MacAddress,
    queue: VecDeque<Vec<u8>>,
    waker: Option<Waker>,
    dropped: u64,
}

/// The switch; cheap to clone (clones share the same ports).
#[derive(Debug, Clone, Default)]
pub struct Switch {
    ports: Rc<RefCell<Vec<PortState>>>,
}

impl Switch {
    /// A switch with no ports.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a port with address `mac` and MTU [`DEFAULT_MTU`].
    pub fn port(&self, mac: MacAddress) -> Port {
        self.port_with_mtu(mac, DEFAULT_MTU)
    }

    /// Adds a port with address `mac` and the given MTU in bytes.
    pub fn port_with_mtu(&self, mac: MacAddress, mtu: usize) -> Port {
        let mut ports = self.ports.borrow_mut();
        ports.push(PortState {
            mac,
            queue: VecDeque::new(),
            waker: None,
            dropped: 0,
        });
        Port {
            switch: self.clone(),
            index: ports.len() - 1,
            mac,
            mtu,
        }
    }

    /// Frames dropped so far because a receiver's queue was full, over all ports.
    pub fn dropped(&self) -> u64 {
        self.ports.borrow().iter().map(|p| p.dropped).sum()
    }

    fn deliver(&self, from: usize, frame: &[u8]) {
        let mut dst = [0u8; 6];
        dst.copy_from_slice(&frame[..6]);
        let dst = MacAddress(dst);
        let mut wake = Vec::new();
        for (i, port) in self.ports.borrow_mut().iter_mut().enumerate() {
            if i == from || (dst.is_unicast() && port.mac != dst) {
                continue;
            }
            if port.queue.len() >= QUEUE_LIMIT {
                port.dropped += 1;
                continue;
            }
            port.queue.push_back(frame.to_vec());
            wake.extend(port.waker.take());
        }
        // Woken after the borrow ends: a waker may poll a port of this switch at once.
        wake.into_iter().for_each(Waker::wake);
    }
}

/// One port of a [`Switch`].
#[derive(Debug)]
pub struct Port {
    switch: Switch,
    index: usize,
    mac: MacAddress,
    mtu: usize,
}

impl Port {
    /// Frames waiting in this port's receive queue.
    pub fn queued(&self) -> usize {
        self.switch.ports.borrow()[self.index].queue.len()
    }
}

impl NetDevice for Port {
    fn mac(&self) -> MacAddress {
        self.mac
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    fn poll_receive(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, NetError>> {
        check_receive_buffer(buf.len(), self.max_frame_len())?;
        let mut ports = self.switch.ports.borrow_mut();
        let port = &mut ports[self.index];
        match port.queue.pop_front() {
            Some(frame) => {
                buf[..frame.len()].copy_from_slice(&frame);
                Poll::Ready(Ok(frame.len()))
            }
            None => {
                port.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn poll_transmit(&mut self, _cx: &mut Context<'_>, frame: &[u8]) -> Poll<Result<(), NetError>> {
        check_frame_len(frame.len(), self.max_frame_len())?;
        self.switch.deliver(self.index, frame);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests;
