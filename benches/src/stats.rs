//! Percentiles and human-readable durations.

/// The `q`-quantile (0.0..=1.0) of `values`, by nearest rank; `NaN` when
/// empty. Sorts `values`.
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = (q * (values.len() - 1) as f64).round() as usize;
    values[rank.min(values.len() - 1)]
}

/// Nanoseconds as `812 ns`, `21.31 µs` or `3.20 ms`.
pub fn fmt_ns(ns: f64) -> String {
    let abs = ns.abs();
    if abs < 1_000.0 {
        format!("{ns:.0} ns")
    } else if abs < 1_000_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", ns / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(quantile(&mut v, 0.5), 3.0);
        assert_eq!(quantile(&mut v, 0.0), 1.0);
        assert_eq!(quantile(&mut v, 1.0), 5.0);
        assert!(quantile(&mut [], 0.5).is_nan());
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(fmt_ns(812.4), "812 ns");
        assert_eq!(fmt_ns(21_310.0), "21.31 µs");
        assert_eq!(fmt_ns(3_200_000.0), "3.20 ms");
    }
}
