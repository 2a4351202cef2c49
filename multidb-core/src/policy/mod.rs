//! Which replica serves the next read.
//!
//! Two kinds of policy:
//!
//! - **Load-aware**, by power of two choices: draw two usable replicas at
//!   random and take the less loaded, as tower's balancer does (two draws,
//!   never a scan of all, so the choice costs the same over 2 or 64
//!   replicas). [`LeastOutstanding`] compares the statements in flight on
//!   each; [`PeakEwma`] compares a peak-sensitive average of their latency ×
//!   (statements in flight + 1). The router measures both on the statements
//!   it routes, with one [`LoadMeter`] per replica, and offers them through
//!   a [`ReplicaView`].
//! - **Blind**: [`RoundRobin`] starts at a random replica and then cycles, as
//!   django-multidb-router does (it shuffles once per process); [`Random`]
//!   picks independently each time; [`Weighted`] gives each replica a share
//!   in proportion to its weight.
//!
//! **The default is [`PeakEwma`]** (`MultiDbBuilder::policy` sets another).
//! A replica that is up and caught up but slow (a backup or a vacuum on it,
//! a noisy neighbour, a longer network path) gets its full share under a
//! blind policy, so with one of two replicas 20 ms slow about half of all
//! reads take 20 ms more. [`LeastOutstanding`] sends it fewer, but still
//! one whenever it has fewer reads in flight than the other, so under
//! steady load some of its reads are always running there, slowly: in a
//! simulation with 8 readers and 1 ms replicas, 5 % of all reads, which
//! sets the p99. [`PeakEwma`] sees the first slow answer and then sends it
//! only a probe now and then until its latency is back (0.015 % in the same
//! simulation); a replica [`OUTLIER_RATIO`] times slower than the other
//! draw gets one probe per [`PROBE_EVERY`] even when many readers make the
//! fast one look busy. Where replicas are alike,
//! both spread reads evenly (each of N replicas within ±10 % of 1/N, as
//! round-robin). [`RoundRobin`] stays for those who want exact turns.
//!
//! Static weights do not combine with the load-aware policies: they already
//! give more reads to a replica that answers faster or holds fewer in flight,
//! which is what a bigger replica does under load, and a fixed share on top
//! would send reads to a replica the measurements say is busier. Use
//! [`Weighted`] for fixed shares.
//!
//! All are lock-free and deterministic when seeded, for tests. Implement
//! [`ReplicaPolicy`] for anything else.
//!
//! ```
//! use multidb_core::policy::{ReplicaPolicy, RoundRobin};
//!
//! let policy = RoundRobin::starting_at(0);
//! let picks: Vec<usize> = (0..5).map(|_| policy.pick(3)).collect();
//! assert_eq!(picks, [0, 1, 2, 0, 1]);
//! ```

mod meter;
mod p2c;

#[doc(hidden)]
pub use meter::stamp_ms;
pub use meter::{DEFAULT_DECAY, LoadMeter, Started};
pub use p2c::{LeastOutstanding, OUTLIER_MARGIN, OUTLIER_RATIO, PROBE_EVERY, PeakEwma};

use std::fmt::Debug;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

/// Chooses the index of the replica that serves the next read.
///
/// Shared by every clone of a routed connection, so it must be `Send + Sync`
/// and should not lock.
pub trait ReplicaPolicy: Debug + Send + Sync + 'static {
    /// The index, in `0..replicas`, of the replica for the next read.
    /// Called only with `replicas >= 1`; an index out of range is treated as
    /// `index % replicas`.
    fn pick(&self, replicas: usize) -> usize;

    /// The index of the replica for the next read, knowing which replicas
    /// are usable now and how loaded each is: what the router calls. The
    /// router still checks the answer: an unusable replica is passed over
    /// for the next usable one in order.
    ///
    /// The default ignores the view and calls [`pick`](Self::pick); the
    /// load-aware policies override it.
    ///
    /// ```
    /// use multidb_core::policy::{LeastOutstanding, LoadMeter, ReplicaPolicy};
    ///
    /// let meters = vec![LoadMeter::new(), LoadMeter::new()];
    /// let _busy = meters[0].start();
    /// assert_eq!(LeastOutstanding::new().choose(&meters), 1);
    /// ```
    fn choose(&self, replicas: &dyn ReplicaView) -> usize {
        self.pick(replicas.len())
    }
}

/// What the router knows of its replicas when it asks a policy to
/// [`choose`](ReplicaPolicy::choose) one: how many, which are usable (up,
/// within the lag limit, at the position the read needs, not already tried),
/// and the load of each.
///
/// `Vec<LoadMeter>` and `[LoadMeter; N]` are views where every replica is
/// usable, for tests.
pub trait ReplicaView {
    /// How many replicas there are (usable or not).
    fn len(&self) -> usize;

    /// There is no replica.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether replica `index` can take this read.
    fn usable(&self, index: usize) -> bool;

    /// The load meter of replica `index`.
    fn load(&self, index: usize) -> &LoadMeter;

    /// Replica `index`'s identity, which stays while other replicas come
    /// and go and its index shifts: for a routed connection the number of
    /// its `ReplicaId` (the replicas it was built with are `0..` in order,
    /// added ones come after). Policies that keep something per replica,
    /// like [`Weighted`]'s weights, key it by this. The default is `index`.
    ///
    /// ```
    /// use multidb_core::policy::{LoadMeter, ReplicaView};
    ///
    /// let meters = vec![LoadMeter::new(), LoadMeter::new()];
    /// assert_eq!(meters.id(1), 1);
    /// ```
    fn id(&self, index: usize) -> usize {
        index
    }

    /// Now, on the clock of the meters (a test's view may stop time).
    fn now(&self) -> Instant {
        Instant::now()
    }
}

impl ReplicaView for Vec<LoadMeter> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn usable(&self, _index: usize) -> bool {
        true
    }

    fn load(&self, index: usize) -> &LoadMeter {
        &self[index]
    }
}

impl<const N: usize> ReplicaView for [LoadMeter; N] {
    fn len(&self) -> usize {
        N
    }

    fn usable(&self, _index: usize) -> bool {
        true
    }

    fn load(&self, index: usize) -> &LoadMeter {
        &self[index]
    }
}

/// Round-robin from a random start: every replica gets the same share.
#[derive(Debug)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl RoundRobin {
    /// Start at a random replica, so that many processes started together do
    /// not all hit the first replica first.
    pub fn new() -> Self {
        Self::starting_at(random_seed() as usize)
    }

    /// Start at a given replica (taken modulo the number of replicas):
    /// deterministic, for tests.
    ///
    /// ```
    /// use multidb_core::policy::{ReplicaPolicy, RoundRobin};
    /// assert_eq!(RoundRobin::starting_at(4).pick(3), 1);
    /// ```
    pub fn starting_at(start: usize) -> Self {
        RoundRobin {
            next: AtomicUsize::new(start),
        }
    }
}

impl Default for RoundRobin {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplicaPolicy for RoundRobin {
    fn pick(&self, replicas: usize) -> usize {
        // Wrapping at usize::MAX breaks the cycle once, harmlessly.
        self.next.fetch_add(1, Ordering::Relaxed) % replicas.max(1)
    }
}

/// An independent uniform pick each time.
#[derive(Debug)]
pub struct Random {
    state: SplitMix,
}

impl Random {
    /// Seeded from the process's random hasher keys.
    pub fn new() -> Self {
        Self::with_seed(random_seed())
    }

    /// The same sequence of picks for the same seed: for tests.
    ///
    /// ```
    /// use multidb_core::policy::{Random, ReplicaPolicy};
    /// let (a, b) = (Random::with_seed(7), Random::with_seed(7));
    /// assert!((0..20).all(|_| a.pick(5) == b.pick(5)));
    /// ```
    pub fn with_seed(seed: u64) -> Self {
        Random {
            state: SplitMix::new(seed),
        }
    }
}

impl Default for Random {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplicaPolicy for Random {
    fn pick(&self, replicas: usize) -> usize {
        (self.state.next() % replicas.max(1) as u64) as usize
    }
}

/// Each replica gets a share of the reads in proportion to its weight,
/// interleaved (not in runs), lock-free.
///
/// A weight of 0 takes a replica out of the rotation (it still serves reads
/// when the others cannot); replicas beyond the list weigh 1. A weight
/// belongs to its replica ([`ReplicaView::id`]), not to a position: when a
/// replica is removed at runtime the others keep theirs, and a replica
/// added later weighs 1.
///
/// ```
/// use multidb_core::policy::{ReplicaPolicy, Weighted};
///
/// let policy = Weighted::new([3, 1]);
/// let mut counts = [0; 2];
/// for _ in 0..400 {
///     counts[policy.pick(2)] += 1;
/// }
/// assert_eq!(counts, [300, 100]);
/// ```
#[derive(Debug)]
pub struct Weighted {
    weights: Vec<u32>,
    next: AtomicU64,
}

impl Weighted {
    /// Weights in the order the replicas were given (replica ids `0..`).
    /// If every weight is 0, all count as 1.
    pub fn new(weights: impl IntoIterator<Item = u32>) -> Self {
        let mut weights: Vec<u32> = weights.into_iter().collect();
        if weights.iter().all(|&w| w == 0) {
            weights.iter_mut().for_each(|w| *w = 1);
        }
        Weighted {
            weights,
            next: AtomicU64::new(random_seed()),
        }
    }

    /// Start the rotation at a fixed point: deterministic, for tests.
    pub fn starting_at(mut self, start: u64) -> Self {
        self.next = AtomicU64::new(start);
        self
    }

    fn weight(&self, id: usize) -> u64 {
        u64::from(self.weights.get(id).copied().unwrap_or(1))
    }

    /// The next of `replicas`, replica `index` weighing the weight of
    /// `id(index)`.
    fn next_of(&self, replicas: usize, id: impl Fn(usize) -> usize) -> usize {
        let weight = |index| self.weight(id(index));
        let total: u64 = (0..replicas).map(weight).sum();
        if total == 0 {
            return 0;
        }
        // Walk the slots 0..total with a stride near total / golden ratio
        // and coprime to it: every slot once per cycle (exact shares), and
        // consecutive reads far apart (interleaved, not in runs).
        let near = (total * 618 / 1000).max(1);
        let stride = (near..).find(|&s| gcd(s, total) == 1).unwrap_or(1);
        let n = self.next.fetch_add(1, Ordering::Relaxed) % total;
        let mut slot = (n * stride) % total;
        for index in 0..replicas {
            let weight = weight(index);
            if slot < weight {
                return index;
            }
            slot -= weight;
        }
        0
    }
}

impl ReplicaPolicy for Weighted {
    fn pick(&self, replicas: usize) -> usize {
        self.next_of(replicas, |index| index)
    }

    fn choose(&self, replicas: &dyn ReplicaView) -> usize {
        self.next_of(replicas.len(), |index| replicas.id(index))
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn random_seed() -> u64 {
    RandomState::new().hash_one(0u8)
}

/// SplitMix64 over an atomic counter: lock-free, and each call gets its own
/// state even under contention.
#[derive(Debug)]
struct SplitMix(AtomicU64);

impl SplitMix {
    fn new(seed: u64) -> Self {
        SplitMix(AtomicU64::new(seed))
    }

    fn next(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_alternates_strictly() {
        for n in 1..6 {
            let policy = RoundRobin::new();
            let first = policy.pick(n);
            for i in 1..(3 * n) {
                assert_eq!(policy.pick(n), (first + i) % n);
            }
        }
    }

    #[test]
    fn round_robin_is_shared_across_threads_without_gaps() {
        let policy = std::sync::Arc::new(RoundRobin::starting_at(0));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let policy = policy.clone();
                std::thread::spawn(move || (0..300).map(|_| policy.pick(3)).collect::<Vec<_>>())
            })
            .collect();
        let mut counts = [0usize; 3];
        for handle in handles {
            for pick in handle.join().expect("picker thread") {
                counts[pick] += 1;
            }
        }
        assert_eq!(counts, [400, 400, 400]);
    }

    #[test]
    fn random_covers_every_replica_and_stays_in_range() {
        let policy = Random::with_seed(42);
        let mut counts = [0usize; 4];
        for _ in 0..4000 {
            counts[policy.pick(4)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn zero_replicas_does_not_divide_by_zero() {
        assert_eq!(RoundRobin::new().pick(0), 0);
        assert_eq!(Random::new().pick(0), 0);
        assert_eq!(Weighted::new([2, 1]).pick(0), 0);
    }

    #[test]
    fn weighted_shares_follow_the_weights_and_interleave() {
        let policy = Weighted::new([5, 0, 2, 1]).starting_at(3);
        let picks: Vec<usize> = (0..800).map(|_| policy.pick(4)).collect();
        let mut counts = [0usize; 4];
        picks.iter().for_each(|&p| counts[p] += 1);
        assert_eq!(counts, [500, 0, 200, 100]);
        let longest_run = picks
            .chunk_by(|a, b| a == b)
            .map(<[usize]>::len)
            .max()
            .unwrap_or(0);
        assert!(longest_run <= 3, "runs of {longest_run}");
        // More replicas than weights: the extra ones weigh 1.
        let mut counts = [0usize; 3];
        for _ in 0..40 {
            counts[policy.pick(3)] += 1;
        }
        assert_eq!(counts.iter().sum::<usize>(), 40);
        assert!(counts[1] == 0 && counts[2] > 0, "{counts:?}");
        // All zero: all equal.
        let even = Weighted::new([0, 0]);
        let mut counts = [0usize; 2];
        for _ in 0..10 {
            counts[even.pick(2)] += 1;
        }
        assert_eq!(counts, [5, 5]);
    }

    /// Replicas 0 and 2 of three, as after replica 1 was removed.
    struct WithoutTheSecond(Vec<LoadMeter>);

    impl ReplicaView for WithoutTheSecond {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn usable(&self, _index: usize) -> bool {
            true
        }
        fn load(&self, index: usize) -> &LoadMeter {
            &self.0[index]
        }
        fn id(&self, index: usize) -> usize {
            [0, 2][index]
        }
    }

    #[test]
    fn weighted_weights_stay_with_their_replicas_when_one_is_removed() {
        let policy = Weighted::new([1, 0, 3]);
        let view = WithoutTheSecond(vec![LoadMeter::new(), LoadMeter::new()]);
        let mut counts = [0usize; 2];
        for _ in 0..400 {
            counts[policy.choose(&view)] += 1;
        }
        // By position, the survivors would weigh 1 and 0: [400, 0].
        assert_eq!(counts, [100, 300]);
    }
}
