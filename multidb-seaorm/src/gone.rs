//! [`GoneSignal`]: tells the reads waiting on one replica that it is gone,
//! with no lock on the read's side.
//!
//! A waiting read holds one of 64 waker slots, picked in a bitmask with one
//! compare-and-swap, and registers its waker there (an [`AtomicWaker`]);
//! [`fire`](GoneSignal::fire) bumps an epoch and wakes every held slot. A
//! read compares the epoch with the one it started at, so a fire between
//! its start and its first wait still counts. Past 64 reads waiting on one
//! replica at once, the others wait on a tokio [`Notify`] (which locks).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Context;

use futures_util::task::AtomicWaker;
use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// Waker slots per replica.
const SLOTS: u32 = 64;

#[derive(Debug)]
pub(crate) struct GoneSignal {
    /// How many times the replica was found gone.
    epoch: AtomicU64,
    /// Bit `i` set: slot `i` is held by a waiting read.
    held: AtomicU64,
    slots: [AtomicWaker; SLOTS as usize],
    /// For the reads that found every slot held.
    overflow: Notify,
}

impl Default for GoneSignal {
    fn default() -> Self {
        GoneSignal {
            epoch: AtomicU64::new(0),
            held: AtomicU64::new(0),
            slots: std::array::from_fn(|_| AtomicWaker::new()),
            overflow: Notify::new(),
        }
    }
}

impl GoneSignal {
    /// The replica is gone: every read watching it moves on.
    pub(crate) fn fire(&self) {
        // SeqCst on both sides: a read that took its slot after `held` is
        // read here sees the new epoch when it checks (see `Watch::gone`).
        self.epoch.fetch_add(1, Ordering::SeqCst);
        let mut held = self.held.load(Ordering::SeqCst);
        while held != 0 {
            self.slots[held.trailing_zeros() as usize].wake();
            held &= held - 1;
        }
        self.overflow.notify_waiters();
    }

    /// Watch for the next [`fire`](Self::fire) from now on.
    pub(crate) fn watch(&self) -> Watch<'_> {
        Watch {
            signal: self,
            epoch: self.epoch.load(Ordering::SeqCst),
            slot: None,
        }
    }

    fn claim(&self) -> Option<u32> {
        let mut held = self.held.load(Ordering::Relaxed);
        loop {
            let free = !held;
            if free == 0 {
                return None;
            }
            let bit = 1u64 << free.trailing_zeros();
            match self.held.compare_exchange_weak(
                held,
                held | bit,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(free.trailing_zeros()),
                Err(now) => held = now,
            }
        }
    }
}

/// One read's watch over its replica; gives its slot back when dropped.
pub(crate) struct Watch<'a> {
    signal: &'a GoneSignal,
    epoch: u64,
    /// `None` until the read first waits.
    slot: Option<Slot<'a>>,
}

enum Slot<'a> {
    /// The slot, and the waker registered there (its data and vtable
    /// addresses).
    Held(u32, Option<(usize, usize)>),
    Overflow(Pin<Box<Notified<'a>>>),
}

impl Watch<'_> {
    /// Whether the replica was found gone since the watch began; if not,
    /// `cx` is woken when it is.
    pub(crate) fn gone(&mut self, cx: &mut Context<'_>) -> bool {
        let signal = self.signal;
        let waker = cx.waker();
        let seen = (
            waker.data() as usize,
            std::ptr::from_ref(waker.vtable()) as usize,
        );
        let slot = self.slot.get_or_insert_with(|| match signal.claim() {
            Some(index) => Slot::Held(index, None),
            None => Slot::Overflow(Box::pin(signal.overflow.notified())),
        });
        match slot {
            // Registered with this very waker already: the slot still holds
            // it (so nothing else can have its address), unless a fire took
            // it, and then the epoch below has moved.
            Slot::Held(_, Some(registered)) if *registered == seen => {}
            Slot::Held(index, registered) => {
                signal.slots[*index as usize].register(waker);
                *registered = Some(seen);
            }
            Slot::Overflow(notified) => {
                if notified.as_mut().poll(cx).is_ready() {
                    return true;
                }
            }
        }
        signal.epoch.load(Ordering::SeqCst) != self.epoch
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if let Some(Slot::Held(index, _)) = self.slot {
            drop(self.signal.slots[index as usize].take());
            self.signal
                .held
                .fetch_and(!(1u64 << index), Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(std::sync::atomic::AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, std::task::Waker) {
        let count = Arc::new(Count(Default::default()));
        (count.clone(), count.into())
    }

    #[test]
    fn a_fire_wakes_each_waiting_watch_and_they_see_it() {
        let signal = GoneSignal::default();
        let (count, waker) = waker();
        let mut cx = Context::from_waker(&waker);
        // 70 watches: 64 in slots, 6 on the overflow.
        let mut watches: Vec<Watch<'_>> = (0..70).map(|_| signal.watch()).collect();
        assert!(watches.iter_mut().all(|w| !w.gone(&mut cx)));
        assert_eq!(signal.held.load(Ordering::SeqCst), u64::MAX);
        signal.fire();
        assert_eq!(count.0.load(Ordering::SeqCst), 70);
        assert!(watches.iter_mut().all(|w| w.gone(&mut cx)));
        drop(watches);
        assert_eq!(signal.held.load(Ordering::SeqCst), 0, "slots given back");
    }

    #[test]
    fn a_fire_before_the_first_wait_counts_and_one_before_the_watch_does_not() {
        let signal = GoneSignal::default();
        let (_, waker) = waker();
        let mut cx = Context::from_waker(&waker);
        signal.fire();
        let mut watch = signal.watch();
        assert!(!watch.gone(&mut cx), "fired before the read began");
        let mut later = signal.watch();
        signal.fire();
        assert!(later.gone(&mut cx), "fired before its first wait");
        assert!(watch.gone(&mut cx));
    }

    #[test]
    fn a_watch_polled_with_another_waker_wakes_that_one() {
        // A read moved to another task (or polled by a combinator with its
        // own waker) must be woken there, not where it first waited.
        let signal = GoneSignal::default();
        let (first, one) = waker();
        let (second, other) = waker();
        let mut watch = signal.watch();
        assert!(!watch.gone(&mut Context::from_waker(&one)));
        assert!(!watch.gone(&mut Context::from_waker(&one)));
        assert!(!watch.gone(&mut Context::from_waker(&other)));
        signal.fire();
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
        assert!(watch.gone(&mut Context::from_waker(&one)));
    }

    #[test]
    fn fires_racing_waits_are_never_lost() {
        // Each round: a thread waits on a fresh watch while another fires;
        // the waiter must see it (woken, or at its check).
        let signal = Arc::new(GoneSignal::default());
        for _ in 0..2_000 {
            let watcher = signal.clone();
            let started = Arc::new(std::sync::Barrier::new(2));
            let go = started.clone();
            let waiting = std::thread::spawn(move || {
                let (count, waker) = waker();
                let mut cx = Context::from_waker(&waker);
                let mut watch = watcher.watch();
                go.wait();
                let mut seen = watch.gone(&mut cx);
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                while !seen && std::time::Instant::now() < deadline {
                    if count.0.load(Ordering::SeqCst) > 0 {
                        seen = watch.gone(&mut cx);
                    }
                    std::hint::spin_loop();
                }
                seen
            });
            started.wait();
            signal.fire();
            assert!(waiting.join().expect("no panic"), "a fire was lost");
        }
    }
}
