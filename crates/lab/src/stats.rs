//! The one statistics module of the benchmarks: medians and spreads of repeated measurements.
//!
//! Machines here are shared and noisy, so every benchmark reports medians of several runs and
//! ratios against a baseline measured in the same invocation, never a single sample.

/// Median and spread of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The median (mean of the middle two for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The 10th percentile (nearest rank).
    pub p10: f64,
    /// The 90th percentile (nearest rank).
    pub p90: f64,
    /// The largest value.
    pub max: f64,
}

/// The spread of `values`; `None` when there are none (or a NaN among them).
pub fn spread(values: &[f64]) -> Option<Spread> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    // Nearest rank: the smallest value with at least p% of the sample at or below it.
    let rank = |p: usize| v[(p * n).div_ceil(100).clamp(1, n) - 1];
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Spread {
        median,
        min: v[0],
        p10: rank(10),
        p90: rank(90),
        max: v[n - 1],
    })
}

/// The median of `values`; NaN when there are none (so a missing figure prints as such
/// instead of stopping the report).
pub fn median(values: &[f64]) -> f64 {
    spread(values).map_or(f64::NAN, |s| s.median)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_uses_nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        let sp = spread(&v).unwrap();
        assert_eq!(
            sp,
            Spread {
                median: 10.5,
                min: 1.0,
                p10: 2.0,
                p90: 18.0,
                max: 20.0
            }
        );
        let sp = spread(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((sp.median, sp.p10, sp.p90), (2.0, 1.0, 3.0));
        assert_eq!(spread(&[5.0]).unwrap().p10, 5.0);
        assert_eq!(spread(&[]), None);
        assert_eq!(spread(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn median_of_odd_even_and_empty_samples() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
