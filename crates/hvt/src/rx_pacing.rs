//! When a net device's receive path asks the tender for a frame (`NET_READ`), and when it
//! leaves that to `POLL`: fewer VM exits per frame, without delaying any.
//!
//! `NET_READ` only says whether one frame was there, so a read that finds the queue empty
//! (`AGAIN`) is an exit that moved nothing. Such reads came from two places: after every frame
//! (to learn that the queue is empty), and whenever the stack ran for another reason (a timer,
//! the application writing). The tender's `POLL` readiness is level-triggered: a frame waiting
//! on the tap makes `POLL` return at once with the device in its ready set. So:
//!
//! - after an empty read, the device is read again only once a `POLL` has reported it ready;
//! - after a lone frame the next read is left to `POLL` too; but when a full-size frame (as
//!   long as the device carries) is there right after such a deferral, frames are coming back
//!   to back (a burst), and then every read is made until `AGAIN` ends the burst.
//!
//! Only a full-size frame starts a burst because a `POLL` that reports the device ready cannot
//! say whether the frame was already waiting or came while it blocked. A sender with more to
//! send fills its frames (bulk data); a short frame after a deferral is most often all there
//! was (a request, an acknowledgement), and reading on after it would find nothing, an exit
//! per request of a request/response exchange.
//!
//! Per lone frame that is `POLL` + `NET_READ`, where it was `POLL` + `NET_READ` + `NET_READ`
//! and more; a burst of N frames costs one `POLL` more than before to be recognised.
//!
//! Leaving the read to `POLL` is only safe if a `POLL` comes. The executor makes a blocking
//! one when no task is runnable, and a non-blocking one (zero timeout) after a few passes in a
//! row with a task runnable (`morgana_rt::BUSY_PASSES_BEFORE_READINESS_CHECK`): a stack that
//! keeps itself runnable without sending anything (smoltcp asking to be polled again at once
//! while a TCP socket waits on its neighbour entry) still sees its device reported ready, and
//! the frames it waits for are read. So the device itself needs no bound on its deferrals.

/// The receive path's state for one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxPacing {
    /// A frame may be waiting: nothing has shown the queue empty since the last `POLL` that
    /// reported the device ready (true at the start: nothing is known).
    maybe_ready: bool,
    /// The last frame was followed by a deferral to `POLL`.
    deferred: bool,
    /// Frames are arriving back to back: read until `AGAIN`.
    burst: bool,
}

impl Default for RxPacing {
    fn default() -> Self {
        RxPacing {
            maybe_ready: true,
            deferred: false,
            burst: false,
        }
    }
}

/// What the receive path does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Ask the tender for a frame (`NET_READ`).
    Read,
    /// Make no hypercall: register for the device's readiness and let `POLL` tell.
    WaitForPoll,
}

impl RxPacing {
    /// Records that a `POLL` reported the device ready.
    pub fn polled_ready(&mut self) {
        self.maybe_ready = true;
    }

    /// Whether to read now.
    pub fn next(&self) -> Step {
        if self.maybe_ready {
            Step::Read
        } else {
            Step::WaitForPoll
        }
    }

    /// Records that a read returned a frame; `full_size` when it was as long as the device
    /// carries (its MTU plus the Ethernet header).
    pub fn got_frame(&mut self, full_size: bool) {
        if self.deferred {
            self.burst = full_size;
            self.deferred = false;
        }
        if !self.burst {
            self.maybe_ready = false;
            self.deferred = true;
        }
    }

    /// Records that a read found no frame (`AGAIN`) or failed.
    pub fn got_nothing(&mut self) {
        self.maybe_ready = false;
        self.deferred = false;
        self.burst = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_call_reads_and_an_empty_read_waits_for_poll() {
        let mut p = RxPacing::default();
        assert_eq!(p.next(), Step::Read);
        p.got_nothing();
        // The stack running again for another reason makes no exit, however often it runs:
        // the executor's POLL (blocking when idle, non-blocking when a task keeps running)
        // reports the device.
        for _ in 0..100 {
            assert_eq!(p.next(), Step::WaitForPoll);
        }
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
    }

    #[test]
    fn a_short_frame_after_a_deferral_is_no_burst() {
        let mut p = RxPacing::default();
        assert_eq!(p.next(), Step::Read);
        p.got_frame(false);
        assert_eq!(p.next(), Step::WaitForPoll);
        // Requests one at a time: each POLL reports one short frame, and nothing is read after
        // it until the next POLL.
        for _ in 0..3 {
            p.polled_ready();
            assert_eq!(p.next(), Step::Read);
            p.got_frame(false);
            assert_eq!(p.next(), Step::WaitForPoll);
        }
        // A full-size one after a deferral starts a burst, and a short one does not end it.
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        p.got_frame(true);
        assert_eq!(p.next(), Step::Read);
        p.got_frame(false);
        assert_eq!(p.next(), Step::Read);
        p.got_nothing();
        assert_eq!(p.next(), Step::WaitForPoll);
    }

    #[test]
    fn a_lone_frame_costs_no_second_read() {
        let mut p = RxPacing::default();
        p.got_nothing();
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        p.got_frame(true);
        // The queue is probably empty: POLL decides.
        assert_eq!(p.next(), Step::WaitForPoll);
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        // Nothing there after all (another device made POLL return): back to waiting.
        p.got_nothing();
        assert_eq!(p.next(), Step::WaitForPoll);
    }

    #[test]
    fn back_to_back_frames_are_read_until_again() {
        let mut p = RxPacing::default();
        assert_eq!(p.next(), Step::Read);
        p.got_frame(true);
        assert_eq!(p.next(), Step::WaitForPoll);
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        // A frame was there right after the deferral: a burst.
        p.got_frame(true);
        for _ in 0..5 {
            assert_eq!(p.next(), Step::Read);
            p.got_frame(true);
        }
        assert_eq!(p.next(), Step::Read);
        p.got_nothing();
        // The burst is over: wait for POLL, and the next lone frame is paced again.
        assert_eq!(p.next(), Step::WaitForPoll);
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        p.got_frame(true);
        assert_eq!(p.next(), Step::WaitForPoll);
    }
}
