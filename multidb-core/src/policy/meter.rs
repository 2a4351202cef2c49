//! [`LoadMeter`]: how loaded one replica is right now, measured by the router
//! on the statements it sends there (no extra queries).

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The time constant of a [`LoadMeter`]'s latency average, unless set with
/// [`LoadMeter::with_decay`].
///
/// One second: an estimate left by a slow spell falls 1,000-fold in about
/// 7 s (e^7 ≈ 1,100), so a replica 100 ms slow that became as fast as its
/// 0.1 ms peers gets its share back within 10 s, and one stale peak cannot
/// starve a replica for longer than that.
pub const DEFAULT_DECAY: Duration = Duration::from_secs(1);

/// The load of one replica: the statements in flight on it and a
/// peak-sensitive moving average of their latency, as tower's `PeakEwma`.
///
/// - A latency above the estimate replaces it at once (a replica that turns
///   slow is avoided from its first slow answer).
/// - One below it pulls the estimate down with a time constant
///   ([`DEFAULT_DECAY`]): each sample weighs in proportion to the time since
///   the previous one, not to how many there were.
/// - Read between samples, the estimate decays towards zero with the same
///   time constant, so a replica that gets no reads because it was slow is
///   tried again after a while: one read, and if it is fast again its
///   estimate follows at once (no starvation by a stale average).
/// - A replica with no sample yet has no estimate ([`latency`](Self::latency)
///   is `None`); [`PeakEwma`](super::PeakEwma) then compares it on the
///   statements in flight alone, so a new replica is neither flooded nor
///   ignored.
///
/// Lock-free: atomics only. The router calls [`start`](Self::start) before
/// each statement it sends to the replica and [`finish`](Self::finish) after
/// it, failed or not; a [`Started`] dropped without `finish` (the statement's
/// future was cancelled) still leaves the in-flight count, and counts as a
/// peak: the statement took at least that long.
///
/// ```
/// use std::time::{Duration, Instant};
/// use multidb_core::policy::LoadMeter;
///
/// let meter = LoadMeter::new();
/// let t0 = Instant::now();
/// let started = meter.start_at(t0);
/// assert_eq!(meter.in_flight(), 1);
/// meter.finish_at(started, t0 + Duration::from_millis(20));
/// assert_eq!(meter.in_flight(), 0);
/// let estimate = meter.latency_at(t0 + Duration::from_millis(20)).unwrap();
/// assert_eq!(estimate.as_millis(), 20);
///
/// // Not read for a second: it decays by e.
/// let later = meter.latency_at(t0 + Duration::from_millis(1020)).unwrap();
/// assert_eq!(later.as_micros() / 100, 73); // 20 ms / e ≈ 7.36 ms
/// ```
pub struct LoadMeter {
    in_flight: AtomicU32,
    /// The estimate (f32 nanoseconds, high half) and the millisecond of its
    /// last update (of [`stamp_ms`], low half, wrapping); 0: no sample yet.
    /// One word, so that a compare-and-swap updates both together.
    estimate: AtomicU64,
    /// A plain moving average of the latency (same packing and time
    /// constant, no peaks): how the replica answers typically, for telling
    /// an outlier from a fast replica with a few slow answers.
    typical: AtomicU64,
    /// The millisecond (of [`stamp_ms`], wrapping) of the last probe
    /// [`claim_probe_at`](Self::claim_probe_at) granted, plus one; 0: never.
    probed: AtomicU32,
    decay_ms: f64,
}

impl LoadMeter {
    /// A meter with no sample and nothing in flight, and the
    /// [`DEFAULT_DECAY`].
    pub fn new() -> Self {
        Self::with_decay(DEFAULT_DECAY)
    }

    /// A meter whose latency average has the time constant `decay` (at least
    /// 1 ms): shorter reacts faster to a replica that became fast again,
    /// longer smooths more.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multidb_core::policy::LoadMeter;
    /// let meter = LoadMeter::with_decay(Duration::from_secs(5));
    /// assert_eq!(meter.latency(), None);
    /// ```
    pub fn with_decay(decay: Duration) -> Self {
        LoadMeter {
            in_flight: AtomicU32::new(0),
            estimate: AtomicU64::new(0),
            typical: AtomicU64::new(0),
            probed: AtomicU32::new(0),
            decay_ms: decay.as_secs_f64().max(0.001) * 1000.0,
        }
    }

    /// A statement starts on this replica now.
    pub fn start(&self) -> Started<'_> {
        self.start_at(Instant::now())
    }

    /// A statement starts at `now` (an explicit clock: for tests and
    /// simulations).
    pub fn start_at(&self, now: Instant) -> Started<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Started {
            meter: self,
            at: now,
        }
    }

    /// The statement `started` finished now, with or without an error: its
    /// latency updates the estimate.
    pub fn finish(&self, started: Started<'_>) {
        self.finish_at(started, Instant::now());
    }

    /// The statement `started` finished at `now` (an explicit clock).
    pub fn finish_at(&self, started: Started<'_>, now: Instant) {
        let took = now.saturating_duration_since(started.at);
        self.finish_took(started, took, stamp_ms(now));
    }

    /// [`finish_at`](Self::finish_at) for a statement that took `took` and
    /// ended at millisecond `ended_ms` of [`stamp_ms`]: the router reads
    /// the clock once at each end of a statement and derives the rest.
    #[doc(hidden)]
    pub fn finish_took(&self, started: Started<'_>, took: Duration, ended_ms: u64) {
        debug_assert!(
            std::ptr::eq(self, started.meter),
            "finished on another meter"
        );
        // Done here rather than in Drop: the sample is not just a peak.
        std::mem::forget(started);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let stamp = ended_ms as u32;
        let sample = nanos(took);
        self.update(&self.estimate, sample, stamp, Rule::Peak);
        self.update(&self.typical, sample, stamp, Rule::Plain);
    }

    /// Statements started and not yet finished (or dropped).
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// How long before `now` the last statement finished (to the
    /// millisecond), or `None` before the first: with statements in flight,
    /// a replica idle this long may have stopped answering.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use multidb_core::policy::LoadMeter;
    ///
    /// let meter = LoadMeter::new();
    /// let t0 = Instant::now();
    /// assert_eq!(meter.idle_for(t0), None);
    /// meter.finish_at(meter.start_at(t0), t0 + Duration::from_millis(5));
    /// let idle = meter.idle_for(t0 + Duration::from_millis(105)).unwrap();
    /// assert_eq!(idle.as_millis(), 100);
    /// ```
    pub fn idle_for(&self, now: Instant) -> Option<Duration> {
        let (_, last) = unpack(self.typical.load(Ordering::Relaxed))?;
        Some(Duration::from_millis(u64::from(elapsed(
            last,
            self.stamp(now),
        ))))
    }

    /// The latency estimate now, or `None` before the first sample.
    pub fn latency(&self) -> Option<Duration> {
        self.latency_at(Instant::now())
    }

    /// The latency estimate at `now` (an explicit clock), or `None` before
    /// the first sample.
    pub fn latency_at(&self, now: Instant) -> Option<Duration> {
        self.estimate_ns(now)
            .map(|ns| Duration::from_nanos(ns as u64))
    }

    /// The estimate in nanoseconds at `now`, decayed towards zero since its
    /// last update.
    pub(crate) fn estimate_ns(&self, now: Instant) -> Option<f64> {
        self.estimate_ns_at(self.stamp(now))
    }

    /// [`estimate_ns`](Self::estimate_ns) at millisecond `now` of
    /// [`stamp_ms`] (wrapped): a policy reads the clock once per choice.
    pub(crate) fn estimate_ns_at(&self, now: u32) -> Option<f64> {
        let (estimate, stamp) = unpack(self.estimate.load(Ordering::Relaxed))?;
        Some(estimate * self.weight_between(stamp, now))
    }

    /// The plain (not peak-sensitive) moving average of the latency, as its
    /// last sample left it: how the replica typically answered when last
    /// asked. `None` before the first sample.
    pub(crate) fn typical_ns(&self) -> Option<f64> {
        unpack(self.typical.load(Ordering::Relaxed)).map(|(typical, _)| typical)
    }

    /// Claim the next probe of this replica at millisecond `stamp` of
    /// [`stamp_ms`] (wrapped): true for one caller per `every` (whole
    /// milliseconds), false for everyone else.
    pub(crate) fn claim_probe_at(&self, stamp: u32, every: Duration) -> bool {
        let last = self.probed.load(Ordering::Relaxed);
        let every = every.as_millis().min(u128::from(u32::MAX)) as u32;
        if last != 0 && elapsed(last - 1, stamp) < every {
            return false;
        }
        self.probed
            .compare_exchange(
                last,
                stamp.wrapping_add(1).max(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// The weight left at stamp `to` to an estimate made at stamp `from`:
    /// e^(-elapsed/decay).
    fn weight_between(&self, from: u32, to: u32) -> f64 {
        match elapsed(from, to) {
            // Under load most reads come within the millisecond of the last
            // sample: no `exp` for them.
            0 => 1.0,
            ms => (-f64::from(ms) / self.decay_ms).exp(),
        }
    }

    /// [`stamp_ms`], wrapping after 49 days.
    fn stamp(&self, now: Instant) -> u32 {
        stamp_ms(now) as u32
    }

    /// Fold a sample of `sample` ns, taken at `stamp`, into `word` by `rule`.
    fn update(&self, word: &AtomicU64, sample: f64, stamp: u32, rule: Rule) {
        let mut current = word.load(Ordering::Relaxed);
        loop {
            let next = match unpack(current) {
                None => sample,
                Some((estimate, _)) if sample >= estimate && rule != Rule::Plain => sample,
                Some(_) if rule == Rule::PeakOnly => return,
                Some((estimate, last)) => {
                    let keep = self.weight_between(last, stamp);
                    if keep == 1.0 {
                        // Within the millisecond of the last update: a
                        // sample weighs by the time since, here nothing.
                        return;
                    }
                    estimate * keep + sample * (1.0 - keep)
                }
            };
            // A sample timed before the last update (a race) keeps its stamp.
            let stamp = match unpack(current) {
                Some((_, last)) if elapsed(last, stamp) == 0 => last,
                _ => stamp,
            };
            match word.compare_exchange_weak(
                current,
                pack(next, stamp),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }
}

/// Milliseconds from the process's stamp epoch to `now`: the clock of the
/// meters' stamps, and the router's. The epoch is an hour before its first
/// use, so that instants taken a little earlier still count.
#[doc(hidden)]
pub fn stamp_ms(now: Instant) -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(|| {
        let now = Instant::now();
        now.checked_sub(Duration::from_secs(3600)).unwrap_or(now)
    });
    u64::try_from(now.saturating_duration_since(epoch).as_millis()).unwrap_or(u64::MAX / 2)
}

/// `took` in nanoseconds, without 128-bit arithmetic.
fn nanos(took: Duration) -> f64 {
    took.as_secs() as f64 * 1e9 + f64::from(took.subsec_nanos())
}

/// How [`LoadMeter::update`] folds a sample in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Above the average: replaces it; below: pulls it down with the time
    /// since the last update.
    Peak,
    /// Only a sample above the average counts (a cancelled statement: its
    /// time so far is a lower bound).
    PeakOnly,
    /// Every sample pulls the average with the time since the last update.
    Plain,
}

/// Milliseconds from stamp `from` to stamp `to`: 0 when `to` is earlier (a
/// reader that took its time before another thread's update), and the
/// stamps' wrapping makes a meter idle for about 25 days (or a multiple)
/// look fresh: harmless.
fn elapsed(from: u32, to: u32) -> u32 {
    (to.wrapping_sub(from) as i32).max(0) as u32
}

fn pack(estimate_ns: f64, stamp: u32) -> u64 {
    // At least 1 ns, so that a packed sample is never the 0 of "no sample".
    let bits = (estimate_ns.max(1.0) as f32).to_bits();
    (u64::from(bits) << 32) | u64::from(stamp)
}

fn unpack(packed: u64) -> Option<(f64, u32)> {
    (packed != 0).then(|| {
        (
            f64::from(f32::from_bits((packed >> 32) as u32)),
            packed as u32,
        )
    })
}

impl Default for LoadMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LoadMeter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadMeter")
            .field("in_flight", &self.in_flight())
            .field("latency", &self.latency())
            .finish()
    }
}

/// A statement in flight on a replica, from [`LoadMeter::start`]: hand it
/// back to [`LoadMeter::finish`]. Dropped instead (the statement was
/// cancelled), it is no longer counted in flight and its time so far counts
/// only if it raises the estimate.
#[must_use = "hand it to LoadMeter::finish when the statement is done"]
#[derive(Debug)]
pub struct Started<'a> {
    meter: &'a LoadMeter,
    at: Instant,
}

impl Drop for Started<'_> {
    fn drop(&mut self) {
        self.meter.in_flight.fetch_sub(1, Ordering::Relaxed);
        let now = Instant::now();
        let latency = nanos(now.saturating_duration_since(self.at));
        self.meter.update(
            &self.meter.estimate,
            latency,
            self.meter.stamp(now),
            Rule::PeakOnly,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn run(meter: &LoadMeter, at: Instant, latency: Duration) {
        let started = meter.start_at(at);
        meter.finish_at(started, at + latency);
    }

    #[test]
    fn a_peak_replaces_the_estimate_and_a_lower_sample_decays_towards_it() {
        let t0 = Instant::now();
        let meter = LoadMeter::new();
        assert_eq!(meter.latency_at(t0), None);
        run(&meter, t0, ms(1));
        assert_eq!(meter.latency_at(t0 + ms(1)), Some(ms(1)));
        run(&meter, t0 + ms(1), ms(50));
        assert_eq!(meter.latency_at(t0 + ms(51)), Some(ms(50)));
        // A fast sample one decay time later: the estimate keeps 1/e of the
        // old one.
        run(&meter, t0 + ms(1050), ms(1));
        let estimate = meter.latency_at(t0 + ms(1051)).expect("sampled");
        let expected = 50.0 / std::f64::consts::E + 1.0 * (1.0 - 1.0 / std::f64::consts::E);
        assert!(
            (estimate.as_secs_f64() * 1000.0 - expected).abs() < 0.1,
            "{estimate:?}"
        );
    }

    #[test]
    fn a_read_timed_before_the_last_update_sees_no_decay() {
        let meter = LoadMeter::new();
        let t0 = Instant::now() + ms(10);
        run(&meter, t0 + ms(100), ms(5));
        assert_eq!(meter.latency_at(t0), Some(ms(5)));
        // Nor does a sample timed before it move the stamp back.
        run(&meter, t0, ms(1));
        assert_eq!(meter.latency_at(t0 + ms(105)), Some(ms(5)));
    }

    #[test]
    fn many_fast_samples_converge_to_their_latency() {
        let t0 = Instant::now();
        let meter = LoadMeter::new();
        run(&meter, t0, ms(100));
        for i in 0..5_000 {
            run(&meter, t0 + ms(2 * i), ms(2));
        }
        let estimate = meter.latency_at(t0 + ms(10_000)).expect("sampled");
        assert!(
            (1_900..=2_100).contains(&estimate.as_micros()),
            "{estimate:?}"
        );
    }

    #[test]
    fn a_dropped_statement_leaves_and_counts_only_as_a_peak() {
        let meter = LoadMeter::new();
        let t0 = Instant::now();
        run(&meter, t0, ms(1));
        let started = meter.start();
        let other = meter.start();
        assert_eq!(meter.in_flight(), 2);
        drop(started);
        meter.finish(other);
        assert_eq!(meter.in_flight(), 0);
        // Below the estimate: ignored (it only ran for microseconds).
        let estimate = meter.latency_at(t0 + ms(1)).expect("sampled");
        assert!(estimate >= Duration::from_micros(900), "{estimate:?}");
        // Above it: raises it.
        let slow = meter.start_at(Instant::now() - ms(30));
        drop(slow);
        assert!(meter.latency().expect("sampled") >= ms(29));
    }

    #[test]
    fn concurrent_statements_are_all_counted() {
        let meter = std::sync::Arc::new(LoadMeter::new());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let meter = meter.clone();
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        let started = meter.start();
                        meter.finish(started);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("meter thread");
        }
        assert_eq!(meter.in_flight(), 0);
        assert!(meter.latency().is_some());
    }
}
