//! The load-aware policies in a simulation on a stopped clock: closed-loop
//! readers, each starting its next read as soon as the last one finished,
//! on replicas whose latency the test sets over time. Deterministic: seeded
//! draws, seeded jitter, simulated time.

use std::cell::Cell;
use std::time::{Duration, Instant};

use super::*;
use crate::policy::LoadMeter;

/// Replicas on a simulated clock; `active` of them are visible (a replica
/// added at runtime appears when `active` grows).
struct Cluster {
    t0: Instant,
    now: Cell<Duration>,
    meters: Vec<LoadMeter>,
    active: Cell<usize>,
}

impl ReplicaView for Cluster {
    fn len(&self) -> usize {
        self.active.get()
    }

    fn usable(&self, _index: usize) -> bool {
        true
    }

    fn load(&self, index: usize) -> &LoadMeter {
        &self.meters[index]
    }

    fn now(&self) -> Instant {
        self.t0 + self.now.get()
    }
}

impl Cluster {
    fn new(replicas: usize) -> Self {
        let t0 = Instant::now();
        Cluster {
            t0,
            now: Cell::new(Duration::ZERO),
            meters: (0..replicas).map(|_| LoadMeter::new()).collect(),
            active: Cell::new(replicas),
        }
    }
}

/// The latency of replica `i` at time `t` (before jitter).
type Latencies<'a> = &'a dyn Fn(usize, Duration) -> Duration;

/// Run `readers` closed-loop readers until `until`; `record(t, i)` for each
/// read started at `t` on replica `i`. Latencies get ±10 % seeded jitter.
fn simulate(
    policy: &dyn ReplicaPolicy,
    cluster: &Cluster,
    readers: usize,
    until: Duration,
    latency: Latencies<'_>,
    mut record: impl FnMut(Duration, usize),
) {
    let mut jitter = 0x2545_F491_4F6C_DD1D_u64;
    let mut start = || {
        let now = cluster.now.get();
        let index = policy.choose(cluster) % cluster.len();
        record(now, index);
        jitter = jitter
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let factor = 0.9 + 0.2 * ((jitter >> 11) as f64 / (1u64 << 53) as f64);
        let done = now + latency(index, now).mul_f64(factor);
        let started = cluster.meters[index].start_at(cluster.t0 + now);
        (done, index, started)
    };
    let mut running: Vec<_> = (0..readers).map(|_| start()).collect();
    while cluster.now.get() < until {
        let (next, _) = running
            .iter()
            .enumerate()
            .min_by_key(|(_, (done, _, _))| *done)
            .expect("readers");
        let (done, index, started) = running.swap_remove(next);
        cluster.now.set(done);
        cluster.meters[index].finish_at(started, cluster.t0 + done);
        running.push(start());
    }
    // Whatever is still running is dropped: the meters' counts go back to 0.
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn policies() -> [(&'static str, Box<dyn ReplicaPolicy>); 2] {
    [
        ("LeastOutstanding", Box::new(LeastOutstanding::with_seed(1))),
        ("PeakEwma", Box::new(PeakEwma::with_seed(1))),
    ]
}

/// The share of replica `index` among the reads started in `from..to`.
fn share(reads: &[(Duration, usize)], index: usize, from: Duration, to: Duration) -> f64 {
    let window: Vec<_> = reads
        .iter()
        .filter(|(t, _)| (from..to).contains(t))
        .collect();
    window.iter().filter(|(_, i)| *i == index).count() as f64 / window.len().max(1) as f64
}

#[test]
fn equal_replicas_get_equal_shares() {
    for (name, policy) in policies() {
        for replicas in [2, 3, 4, 8] {
            for readers in [1, 8, 16] {
                let cluster = Cluster::new(replicas);
                let mut counts = vec![0usize; replicas];
                simulate(
                    &*policy,
                    &cluster,
                    readers,
                    ms(10_000),
                    &|_, _| ms(1),
                    |_, i| counts[i] += 1,
                );
                let total: usize = counts.iter().sum();
                let fair = total as f64 / replicas as f64;
                assert!(
                    counts
                        .iter()
                        .all(|&c| (c as f64 - fair).abs() <= 0.1 * fair),
                    "{name}, {replicas} replicas, {readers} readers: {counts:?}"
                );
            }
        }
    }
}

#[test]
fn a_slow_replica_is_avoided() {
    for (name, policy) in policies() {
        let cluster = Cluster::new(2);
        let slow = |i: usize, _| if i == 0 { ms(20) } else { ms(1) };
        let mut reads = Vec::new();
        simulate(&*policy, &cluster, 8, ms(20_000), &slow, |t, i| {
            reads.push((t, i))
        });
        let on_slow = share(&reads, 0, ms(1_000), ms(20_000));
        // PeakEwma only probes it; LeastOutstanding keeps reads on it while
        // it has fewer in flight than the fast one (about 4 of 8 readers).
        let limit = if name == "PeakEwma" { 0.005 } else { 0.06 };
        assert!(
            on_slow <= limit,
            "{name}: {:.2} % on the slow replica",
            on_slow * 100.0
        );
        assert!(
            on_slow > 0.0,
            "{name}: the slow replica is never tried again"
        );
    }
}

#[test]
fn a_replica_fast_again_gets_its_share_back_within_10_s() {
    for slow_ms in [5, 20, 100, 1_000] {
        for (name, policy) in policies() {
            let cluster = Cluster::new(2);
            let fast_at = ms(30_000);
            let latency = |i: usize, t: Duration| {
                if i == 0 && t < fast_at {
                    ms(slow_ms)
                } else {
                    ms(1)
                }
            };
            let mut reads = Vec::new();
            simulate(&*policy, &cluster, 8, ms(45_000), &latency, |t, i| {
                reads.push((t, i))
            });
            // The first 100 ms window from which replica 0 has 40 % or more.
            let back = (0..150u64)
                .map(|step| fast_at + ms(100 * step))
                .find(|&from| share(&reads, 0, from, from + ms(100)) >= 0.4)
                .map(|from| from - fast_at);
            assert!(
                back.is_some_and(|after| after <= ms(10_000)),
                "{name}, {slow_ms} ms slow: share back after {back:?}"
            );
            // And it stays back.
            let later = share(&reads, 0, fast_at + ms(10_000), ms(45_000));
            assert!(later >= 0.45, "{name}, {slow_ms} ms slow: {later}");
        }
    }
}

#[test]
fn one_stale_peak_does_not_starve_a_replica() {
    // One statement of 1 s on replica 0 at 1 s (a lock wait, a stall);
    // everything else 1 ms: it is avoided once the stall is over (not
    // during: it is not known until it ends), then not left out for long.
    let policy = PeakEwma::with_seed(3);
    let cluster = Cluster::new(2);
    let stalled = Cell::new(false);
    let latency = |i: usize, t: Duration| {
        if i == 0 && t >= ms(1_000) && !stalled.replace(true) {
            ms(1_000)
        } else {
            ms(1)
        }
    };
    let mut reads = Vec::new();
    simulate(&policy, &cluster, 8, ms(20_000), &latency, |t, i| {
        reads.push((t, i))
    });
    let avoided = share(&reads, 0, ms(2_200), ms(4_000));
    assert!(avoided <= 0.01, "{avoided}");
    let back = share(&reads, 0, ms(12_000), ms(20_000));
    assert!(back >= 0.45, "{back}");
}

#[test]
fn a_new_replica_is_neither_flooded_nor_ignored() {
    for (name, policy) in policies() {
        let cluster = Cluster::new(3);
        cluster.active.set(2);
        let added_at = ms(5_000);
        let mut reads = Vec::new();
        let cluster = &cluster;
        let latency = move |_, t: Duration| {
            if t >= added_at {
                cluster.active.set(3);
            }
            ms(1)
        };
        simulate(&*policy, cluster, 8, ms(10_000), &latency, |t, i| {
            reads.push((t, i))
        });
        let first = reads
            .iter()
            .position(|&(_, i)| i == 2)
            .expect("the new replica gets reads");
        let before: usize = reads[..first]
            .iter()
            .filter(|(t, _)| *t >= added_at)
            .count();
        assert!(
            before <= 8,
            "{name}: {before} reads before the new replica got one"
        );
        // From its first read on: about a third, in the first 10 ms and
        // over the next seconds.
        let at = reads[first].0;
        for span in [ms(10), ms(100), ms(5_000)] {
            let new = share(&reads, 2, at, at + span);
            assert!(
                (0.2..=0.5).contains(&new),
                "{name}: {:.1} % on the new replica over {span:?}",
                new * 100.0
            );
        }
    }
}

/// The p99 of `latencies` (sorted in place).
fn p99(latencies: &mut [Duration]) -> Duration {
    latencies.sort_unstable();
    latencies[latencies.len() * 99 / 100]
}

#[test]
fn a_slow_replica_stays_out_of_the_tail_under_many_readers() {
    // As in the `policies` bench: 16 closed-loop readers on two replicas
    // that share a loaded machine (their latency grows with all the reads
    // in flight), so that the fast one looks busy; one of them then slower
    // by `extra`. The default policy keeps the p99 within 1.2× of the healthy
    // p99 and sends the slow replica at most 1 % of the reads.
    let run = |extra: Duration| {
        let cluster = Cluster::new(2);
        let latencies = std::cell::RefCell::new(Vec::new());
        let latency = |i: usize, _| {
            let in_flight = cluster.meters[0].in_flight() + cluster.meters[1].in_flight();
            let busy = ms(1) + Duration::from_micros(250) * in_flight;
            let latency = if i == 0 { busy + extra } else { busy };
            latencies.borrow_mut().push(latency);
            latency
        };
        let mut reads = Vec::new();
        simulate(
            &PeakEwma::with_seed(5),
            &cluster,
            16,
            ms(20_000),
            &latency,
            |t, i| reads.push((t, i)),
        );
        let on_slow = share(&reads, 0, ms(1_000), ms(20_000));
        (p99(&mut latencies.into_inner()), on_slow)
    };
    let (healthy, _) = run(Duration::ZERO);
    for extra in [20, 100] {
        let (slow, on_slow) = run(ms(extra));
        assert!(
            slow.as_secs_f64() <= 1.2 * healthy.as_secs_f64(),
            "+{extra} ms: p99 {slow:?}, healthy {healthy:?}"
        );
        assert!(
            on_slow <= 0.01,
            "+{extra} ms: {:.2} % on the slow replica",
            on_slow * 100.0
        );
    }
}
