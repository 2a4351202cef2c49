//! Which replica serves the next read.
//!
//! The default, [`RoundRobin`], starts at a random replica and then cycles,
//! as django-multidb-router does (it shuffles once per process). [`Random`]
//! picks independently each time. Both are lock-free and deterministic when
//! seeded, for tests. Implement [`ReplicaPolicy`] for anything else.
//!
//! ```
//! use multidb_core::policy::{ReplicaPolicy, RoundRobin};
//!
//! let policy = RoundRobin::starting_at(0);
//! let picks: Vec<usize> = (0..5).map(|_| policy.pick(3)).collect();
//! assert_eq!(picks, [0, 1, 2, 0, 1]);
//! ```

use std::fmt::Debug;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Chooses the index of the replica that serves the next read.
///
/// Shared by every clone of a routed connection, so it must be `Send + Sync`
/// and should not lock.
pub trait ReplicaPolicy: Debug + Send + Sync + 'static {
    /// The index, in `0..replicas`, of the replica for the next read.
    /// Called only with `replicas >= 1`; an index out of range is treated as
    /// `index % replicas`.
    fn pick(&self, replicas: usize) -> usize;
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
    state: AtomicU64,
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
            state: AtomicU64::new(seed),
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
        // SplitMix64 over an atomic counter: lock-free, and each call gets
        // its own state even under contention.
        let mut z = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z % replicas.max(1) as u64) as usize
    }
}

fn random_seed() -> u64 {
    RandomState::new().hash_one(0u8)
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
    }
}
