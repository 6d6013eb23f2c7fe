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
//! - after a lone frame the next read is left to `POLL` too; but when a frame is there right
//!   after such a deferral, frames are coming back to back (a burst), and then every read is
//!   made until `AGAIN` ends the burst.
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

    /// Records that a read returned a frame.
    pub fn got_frame(&mut self) {
        if self.deferred {
            self.burst = true;
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
    fn a_lone_frame_costs_no_second_read() {
        let mut p = RxPacing::default();
        p.got_nothing();
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        p.got_frame();
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
        p.got_frame();
        assert_eq!(p.next(), Step::WaitForPoll);
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        // A frame was there right after the deferral: a burst.
        p.got_frame();
        for _ in 0..5 {
            assert_eq!(p.next(), Step::Read);
            p.got_frame();
        }
        assert_eq!(p.next(), Step::Read);
        p.got_nothing();
        // The burst is over: wait for POLL, and the next lone frame is paced again.
        assert_eq!(p.next(), Step::WaitForPoll);
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        p.got_frame();
        assert_eq!(p.next(), Step::WaitForPoll);
    }
}
