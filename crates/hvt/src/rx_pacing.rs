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
//! Leaving the read to `POLL` is only safe if a `POLL` comes: the executor makes one only when
//! no task is runnable. The stack can keep itself runnable without sending anything (smoltcp
//! asks to be polled again at once, seen while a TCP socket waited on its neighbour entry,
//! and the frames that would have ended the wait sat in the tap); then no `POLL` ever came,
//! the frames were never read, and the connection hung until a timeout. So a device skips
//! at most [`MAX_SKIPS_BETWEEN_POLLS`] reads between two `POLL`s of the executor; after that it
//! reads on every call, as without pacing, until the next `POLL`.

/// How many reads the receive path may leave to `POLL` before a `POLL` has come. A request
/// answered at once needs two (the read right after the request, and the stack's run when the
/// application writes its answer); a few more leave room for answers written in pieces.
pub const MAX_SKIPS_BETWEEN_POLLS: u32 = 4;

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
    /// The executor's `POLL` count when `skips` was last reset.
    poll_count: u32,
    /// Reads left to `POLL` since then.
    skips: u32,
}

impl Default for RxPacing {
    fn default() -> Self {
        RxPacing {
            maybe_ready: true,
            deferred: false,
            burst: false,
            poll_count: 0,
            skips: 0,
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

    /// Whether to read now, when the executor has made `poll_count` `POLL`s so far (any
    /// `POLL`, whatever its ready set: each one shows that the executor went idle).
    pub fn next(&mut self, poll_count: u32) -> Step {
        if poll_count != self.poll_count {
            self.poll_count = poll_count;
            self.skips = 0;
        }
        if self.maybe_ready || self.skips >= MAX_SKIPS_BETWEEN_POLLS {
            Step::Read
        } else {
            self.skips += 1;
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
        let mut polls = 0;
        assert_eq!(p.next(polls), Step::Read);
        p.got_nothing();
        // The stack running again for another reason makes no exit.
        assert_eq!(p.next(polls), Step::WaitForPoll);
        assert_eq!(p.next(polls), Step::WaitForPoll);
        polls += 1;
        p.polled_ready();
        assert_eq!(p.next(polls), Step::Read);
    }

    #[test]
    fn a_lone_frame_costs_no_second_read() {
        let mut p = RxPacing::default();
        let mut polls = 0;
        p.got_nothing();
        polls += 1;
        p.polled_ready();
        assert_eq!(p.next(polls), Step::Read);
        p.got_frame();
        // The queue is probably empty: POLL decides.
        assert_eq!(p.next(polls), Step::WaitForPoll);
        polls += 1;
        p.polled_ready();
        assert_eq!(p.next(polls), Step::Read);
        // Nothing there after all (another device made POLL return): back to waiting.
        p.got_nothing();
        assert_eq!(p.next(polls), Step::WaitForPoll);
    }

    #[test]
    fn back_to_back_frames_are_read_until_again() {
        let mut p = RxPacing::default();
        let mut polls = 0;
        assert_eq!(p.next(polls), Step::Read);
        p.got_frame();
        assert_eq!(p.next(polls), Step::WaitForPoll);
        polls += 1;
        p.polled_ready();
        assert_eq!(p.next(polls), Step::Read);
        // A frame was there right after the deferral: a burst.
        p.got_frame();
        for _ in 0..5 {
            assert_eq!(p.next(polls), Step::Read);
            p.got_frame();
        }
        assert_eq!(p.next(polls), Step::Read);
        p.got_nothing();
        // The burst is over: wait for POLL, and the next lone frame is paced again.
        assert_eq!(p.next(polls), Step::WaitForPoll);
        polls += 1;
        p.polled_ready();
        assert_eq!(p.next(polls), Step::Read);
        p.got_frame();
        assert_eq!(p.next(polls), Step::WaitForPoll);
    }

    #[test]
    fn a_stack_that_runs_without_poll_still_reads() {
        // The stack keeps itself runnable and the executor makes no POLL: after the allowed
        // skips every call reads, so the frame the stack waits for is taken.
        let mut p = RxPacing::default();
        let polls = 7;
        p.got_nothing();
        for _ in 0..MAX_SKIPS_BETWEEN_POLLS {
            assert_eq!(p.next(polls), Step::WaitForPoll);
        }
        assert_eq!(p.next(polls), Step::Read);
        p.got_nothing();
        assert_eq!(p.next(polls), Step::Read);
        p.got_frame();
        assert_eq!(p.next(polls), Step::Read);
        // A POLL, even one that reported nothing for this device, restores the budget.
        assert_eq!(p.next(polls + 1), Step::WaitForPoll);
    }
}
