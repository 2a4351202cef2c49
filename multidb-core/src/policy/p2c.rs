//! The load-aware policies: power of two choices over the replicas' load
//! meters.

use std::time::Duration;

use super::{ReplicaPolicy, ReplicaView, SplitMix, random_seed, stamp_ms};

/// A replica whose typical latency is this many times the other draw's is
/// an outlier for [`PeakEwma`]: it gets probes only.
pub const OUTLIER_RATIO: f64 = 2.0;

/// An outlier for [`PeakEwma`] must also be at least this much slower than
/// the other draw: below a few milliseconds a ratio says little (a replica
/// behind one more proxy hop is "four times" as slow, 2 ms later) and
/// does not make the tail.
pub const OUTLIER_MARGIN: Duration = Duration::from_millis(5);

/// How often [`PeakEwma`] sends a read to an outlier, to learn whether it is
/// fast again.
pub const PROBE_EVERY: Duration = Duration::from_millis(200);

/// Power of two choices on the statements in flight: draw two usable
/// replicas, take the one with fewer statements running on it (ties: the
/// first drawn). A slow replica holds its reads longer, so it is drawn as
/// often but chosen less.
///
/// Simple and without memory: it reacts to the present only. But a slow
/// replica still gets a read whenever it has fewer in flight than the other
/// draw, so under steady load some reads are always running on it; see
/// [`PeakEwma`] for one that avoids it.
///
/// Without a view ([`pick`](ReplicaPolicy::pick)) it draws at random.
///
/// ```
/// use multidb_core::policy::{LeastOutstanding, LoadMeter, ReplicaPolicy};
///
/// let policy = LeastOutstanding::with_seed(7);
/// let meters = [LoadMeter::new(), LoadMeter::new(), LoadMeter::new()];
/// let _a = meters[0].start();
/// let _b = meters[2].start();
/// // Replica 1 wins every draw it is in: it is chosen about 2/3 of the time.
/// let ones = (0..3000).filter(|_| policy.choose(&meters) == 1).count();
/// assert!((1800..2200).contains(&ones), "{ones}");
/// ```
#[derive(Debug)]
pub struct LeastOutstanding {
    draws: SplitMix,
}

impl LeastOutstanding {
    /// Draws seeded from the process's random hasher keys.
    pub fn new() -> Self {
        Self::with_seed(random_seed())
    }

    /// The same draws for the same seed: for tests.
    pub fn with_seed(seed: u64) -> Self {
        LeastOutstanding {
            draws: SplitMix::new(seed),
        }
    }
}

impl Default for LeastOutstanding {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplicaPolicy for LeastOutstanding {
    fn pick(&self, replicas: usize) -> usize {
        (self.draws.next() % replicas.max(1) as u64) as usize
    }

    fn choose(&self, replicas: &dyn ReplicaView) -> usize {
        two_choices(&self.draws, replicas, |a, b| {
            replicas.load(b).in_flight() < replicas.load(a).in_flight()
        })
    }
}

/// Power of two choices on a peak-sensitive moving average of latency ×
/// (statements in flight + 1), as tower's `PeakEwma` (and MaxScale's
/// adaptive routing): draw two usable replicas, take the cheaper one.
///
/// With one exception, for the tail: a replica whose typical latency (a
/// plain moving average, without the peaks) is [`OUTLIER_RATIO`] times the
/// other draw's, and [`OUTLIER_MARGIN`] more, is an outlier, and
/// gets one read per [`PROBE_EVERY`] (a probe), whatever its statements in
/// flight. Without it, many concurrent readers make the fast replica look
/// busy (its statements in flight multiply its cost), and a replica 20 ms
/// slower keeps getting a few percent of the reads, which is the p99. The
/// probes' answers bring its average down once it is fast again, and it
/// is compared as before.
///
/// The average is the [`LoadMeter`](super::LoadMeter)'s: a slow answer
/// raises it at once, faster ones bring it down with a time constant of
/// [`DEFAULT_DECAY`](super::DEFAULT_DECAY), and unrefreshed it decays towards
/// zero, so a replica avoided for being slow gets a probe within seconds and
/// its share back as soon as it answers fast again (within 10 s even after
/// a 1,000-fold slowdown). A replica with no sample yet (just added) is
/// compared on the statements in flight alone: it takes reads at once, as
/// many as its peers, not all of them.
///
/// Without a view ([`pick`](ReplicaPolicy::pick)) it draws at random.
///
/// ```
/// use std::time::{Duration, Instant};
/// use multidb_core::policy::{LoadMeter, PeakEwma, ReplicaPolicy};
///
/// let meters = [LoadMeter::new(), LoadMeter::new()];
/// let now = Instant::now();
/// for (meter, ms) in meters.iter().zip([20, 1]) {
///     let started = meter.start_at(now);
///     meter.finish_at(started, now + Duration::from_millis(ms));
/// }
/// let policy = PeakEwma::with_seed(7);
/// // 20× slower: an outlier, it gets one probe per PROBE_EVERY.
/// let slow = (0..100).filter(|_| policy.choose(&meters) == 0).count();
/// assert_eq!(slow, 1);
/// ```
#[derive(Debug)]
pub struct PeakEwma {
    draws: SplitMix,
}

impl PeakEwma {
    /// Draws seeded from the process's random hasher keys.
    pub fn new() -> Self {
        Self::with_seed(random_seed())
    }

    /// The same draws for the same seed: for tests.
    pub fn with_seed(seed: u64) -> Self {
        PeakEwma {
            draws: SplitMix::new(seed),
        }
    }
}

impl Default for PeakEwma {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplicaPolicy for PeakEwma {
    fn pick(&self, replicas: usize) -> usize {
        (self.draws.next() % replicas.max(1) as u64) as usize
    }

    fn choose(&self, replicas: &dyn ReplicaView) -> usize {
        two_choices(&self.draws, replicas, |a, b| {
            // One clock read per choice, however many meters it reads.
            let now = stamp_ms(replicas.now()) as u32;
            let (a, b) = (replicas.load(a), replicas.load(b));
            // Typical, not peak, latencies: a fast replica's estimate sits
            // near its recent peaks, which would hide a slow one.
            if let (Some(typical_a), Some(typical_b)) = (a.typical_ns(), b.typical_ns()) {
                let margin = OUTLIER_MARGIN.as_nanos() as f64;
                let outlier = |x: f64, y: f64| x > OUTLIER_RATIO * y && x - y > margin;
                if outlier(typical_a, typical_b) {
                    return !a.claim_probe_at(now, PROBE_EVERY);
                }
                if outlier(typical_b, typical_a) {
                    return b.claim_probe_at(now, PROBE_EVERY);
                }
            }
            let (latency_a, latency_b) = match (a.estimate_ns_at(now), b.estimate_ns_at(now)) {
                (Some(x), Some(y)) => (x, y),
                // No sample yet: as fast as the other, so the statements in
                // flight decide.
                (Some(x), None) | (None, Some(x)) => (x, x),
                (None, None) => (1.0, 1.0),
            };
            latency_b * f64::from(b.in_flight() + 1) < latency_a * f64::from(a.in_flight() + 1)
        })
    }
}

/// Draw two distinct replicas; of the usable ones, the first unless
/// `better(first, second)`. Neither usable: the first (the router scans on
/// from it).
fn two_choices(
    draws: &SplitMix,
    replicas: &dyn ReplicaView,
    better: impl Fn(usize, usize) -> bool,
) -> usize {
    let count = replicas.len();
    if count <= 1 {
        return 0;
    }
    // One 64-bit draw gives both: the high half for the first, the low half
    // for the distance to the second (never 0: distinct). Multiply-shift
    // maps 32 random bits onto a range without a division.
    let draw = draws.next();
    let first = (((draw >> 32) * count as u64) >> 32) as usize;
    let step = 1 + (((draw & 0xFFFF_FFFF) * (count as u64 - 1)) >> 32) as usize;
    let second = (first + step) % count;
    match (replicas.usable(first), replicas.usable(second)) {
        (true, true) if better(first, second) => second,
        (false, true) => second,
        _ => first,
    }
}

#[cfg(test)]
mod tests;
