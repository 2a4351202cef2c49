//! Side-by-side measurement: the bare alternative and multidb in
//! alternating rounds of the same run, so both see the same noise.
//!
//! Each round times one batch of the bare operation and one batch of the
//! routed one, right after each other (which goes first alternates). The
//! figures are medians over rounds: the routed time per operation, the bare
//! one, their ratio *within each round*, and the difference within each
//! round (what multidb adds).

use std::time::{Duration, Instant};

use crate::Mode;
use crate::stats::{fmt_ns, quantile};

/// What one paired comparison found. Times are per operation.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The comparison's name, e.g. `point_read/sqlite`.
    pub name: String,
    /// Rounds measured.
    pub rounds: usize,
    /// Operations per batch.
    pub batch: u64,
    /// The fastest rounds' times: 10th percentile of bare and routed times
    /// per operation, ns (the least disturbed by other load).
    pub fast_ns: (f64, f64),
    /// Median bare time per operation, ns.
    pub bare_ns: f64,
    /// Median routed time per operation, ns.
    pub routed_ns: f64,
    /// Median of the per-round ratios routed / bare.
    pub ratio: f64,
    /// 10th and 90th percentiles of the per-round ratios.
    pub ratio_p10_p90: (f64, f64),
    /// 95 % confidence interval of the median ratio (order statistics).
    pub ratio_ci95: (f64, f64),
    /// Median of the per-round differences routed − bare, ns.
    pub added_ns: f64,
    /// 10th and 90th percentiles of the per-round differences, ns.
    pub added_p10_p90: (f64, f64),
    /// 95 % confidence interval of the median difference, ns.
    pub added_ci95: (f64, f64),
}

impl Comparison {
    /// One line for the log and for `BENCHMARKS.md`.
    pub fn line(&self) -> String {
        format!(
            "paired {}: bare {}, multidb {} (medians of {} rounds x {} ops); \
             ratio {:.3} [95% CI {:.3}..{:.3}; p10 {:.3}, p90 {:.3}]; \
             added {} [95% CI {}..{}; p10 {}, p90 {}]; \
             fastest decile: bare {}, multidb {}, ratio {:.3}",
            self.name,
            fmt_ns(self.bare_ns),
            fmt_ns(self.routed_ns),
            self.rounds,
            self.batch,
            self.ratio,
            self.ratio_ci95.0,
            self.ratio_ci95.1,
            self.ratio_p10_p90.0,
            self.ratio_p10_p90.1,
            fmt_ns(self.added_ns),
            fmt_ns(self.added_ci95.0),
            fmt_ns(self.added_ci95.1),
            fmt_ns(self.added_p10_p90.0),
            fmt_ns(self.added_p10_p90.1),
            fmt_ns(self.fast_ns.0),
            fmt_ns(self.fast_ns.1),
            self.fast_ns.1 / self.fast_ns.0,
        )
    }
}

/// Compare `bare` and `routed`, each a function that runs its operation
/// `n` times and returns how long that took (criterion's `iter_custom`
/// shape, so the same closures serve both). Runs for `mode.budget()`.
pub fn compare<A, B>(name: &str, mode: &Mode, bare: A, routed: B) -> Comparison
where
    A: FnMut(u64) -> Duration,
    B: FnMut(u64) -> Duration,
{
    compare_scaled(name, mode, 1, bare, routed)
}

/// [`compare`] for functions that run `n × ops_per_n` operations (many
/// tasks at once, say) and return the time for all of them.
pub fn compare_scaled<A, B>(
    name: &str,
    mode: &Mode,
    ops_per_n: u64,
    mut bare: A,
    mut routed: B,
) -> Comparison
where
    A: FnMut(u64) -> Duration,
    B: FnMut(u64) -> Duration,
{
    let budget = mode.budget();
    // Warm up both, then size a batch to about 2 ms of work (so timer
    // resolution and the round's bookkeeping do not count): double it while
    // a batch is shorter, until three batches in a row are long enough.
    let mut batch = 1u64;
    let warm_until = Instant::now() + budget / 10;
    let mut long_enough = 0;
    while mode.measure && long_enough < 3 && Instant::now() < warm_until {
        let took = bare(batch).max(routed(batch));
        if took < Duration::from_millis(2) {
            batch = batch.saturating_mul(2);
            long_enough = 0;
        } else {
            long_enough += 1;
        }
    }
    let min_rounds = if mode.measure { 20 } else { 2 };
    let (mut bare_ns, mut routed_ns, mut ratios, mut added) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let until = Instant::now() + budget;
    let mut round = 0usize;
    while round < min_rounds || Instant::now() < until {
        let (b, r) = if round.is_multiple_of(2) {
            let b = bare(batch);
            (b, routed(batch))
        } else {
            let r = routed(batch);
            (bare(batch), r)
        };
        let per = |d: Duration| d.as_nanos() as f64 / (batch * ops_per_n) as f64;
        let (b, r) = (per(b), per(r));
        bare_ns.push(b);
        routed_ns.push(r);
        ratios.push(r / b);
        added.push(r - b);
        round += 1;
    }
    let comparison = Comparison {
        name: name.to_owned(),
        rounds: round,
        batch: batch * ops_per_n,
        fast_ns: (quantile(&mut bare_ns, 0.1), quantile(&mut routed_ns, 0.1)),
        bare_ns: quantile(&mut bare_ns, 0.5),
        routed_ns: quantile(&mut routed_ns, 0.5),
        ratio: quantile(&mut ratios, 0.5),
        ratio_p10_p90: (quantile(&mut ratios, 0.1), quantile(&mut ratios, 0.9)),
        ratio_ci95: median_ci95(&mut ratios),
        added_ns: quantile(&mut added, 0.5),
        added_p10_p90: (quantile(&mut added, 0.1), quantile(&mut added, 0.9)),
        added_ci95: median_ci95(&mut added),
    };
    if mode.measure {
        println!("{}", comparison.line());
    } else {
        println!("{} (test run: not a measurement)", comparison.line());
    }
    comparison
}

/// A distribution-free 95 % confidence interval of the median of `values`: the order
/// statistics n/2 ± 0.98·√n.
pub fn median_ci95(values: &mut [f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    values.sort_by(f64::total_cmp);
    let n = values.len() as f64;
    let half = 0.98 * n.sqrt();
    let lo = (n / 2.0 - half).floor().max(0.0) as usize;
    let hi = ((n / 2.0 + half).ceil() as usize).min(values.len() - 1);
    (values[lo], values[hi])
}
