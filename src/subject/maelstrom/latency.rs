//! How long the routed network delays each node-to-node message
//! (`--maelstrom-latency-ms MS` with `--maelstrom-latency-dist`), after Maelstrom's
//! `--latency` and its distributions:
//!
//! - `constant` (the default): every message takes exactly MS;
//! - `uniform`: uniformly between 0 and 2·MS (mean MS);
//! - `exponential`: exponentially distributed with mean MS (most messages fast, a
//!   long tail of slow ones).

use std::time::Duration;

use rand::Rng;

/// A latency distribution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LatencyDist {
    /// Exactly the latency.
    #[default]
    Constant,
    /// Uniform in `0..=2·latency`.
    Uniform,
    /// Exponential with the latency as its mean.
    Exponential,
}

impl LatencyDist {
    /// The `--maelstrom-latency-dist` values.
    pub const NAMES: &'static [&'static str] = &["constant", "uniform", "exponential"];

    /// The distribution called `name`.
    pub fn parse(name: &str) -> Option<LatencyDist> {
        match name {
            "constant" => Some(LatencyDist::Constant),
            "uniform" => Some(LatencyDist::Uniform),
            "exponential" => Some(LatencyDist::Exponential),
            _ => None,
        }
    }

    /// One message's delay, for a network whose latency is `mean`.
    pub fn sample(self, mean: Duration, rng: &mut impl Rng) -> Duration {
        if mean.is_zero() {
            return Duration::ZERO;
        }
        match self {
            LatencyDist::Constant => mean,
            LatencyDist::Uniform => mean.mul_f64(rng.gen_range(0.0..=2.0)),
            LatencyDist::Exponential => {
                // Inverse transform: -ln(U) is exponential with mean 1, U in (0, 1].
                let u: f64 = 1.0 - rng.gen::<f64>();
                mean.mul_f64(-u.ln())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn mean_ms(samples: &[Duration]) -> f64 {
        samples.iter().map(|d| d.as_secs_f64() * 1e3).sum::<f64>() / samples.len() as f64
    }

    fn samples(dist: LatencyDist) -> Vec<Duration> {
        let mut rng = StdRng::seed_from_u64(7);
        (0..20_000)
            .map(|_| dist.sample(Duration::from_millis(100), &mut rng))
            .collect()
    }

    #[test]
    fn every_distribution_has_the_latency_as_its_mean() {
        for name in LatencyDist::NAMES {
            let dist = LatencyDist::parse(name).unwrap();
            let m = mean_ms(&samples(dist));
            assert!((95.0..105.0).contains(&m), "{name}: mean {m:.1} ms");
        }
    }

    #[test]
    fn constant_is_exact_uniform_is_bounded_and_exponential_has_a_tail() {
        assert!(samples(LatencyDist::Constant)
            .iter()
            .all(|d| *d == Duration::from_millis(100)));
        let uniform = samples(LatencyDist::Uniform);
        assert!(uniform.iter().all(|d| *d <= Duration::from_millis(200)));
        let exponential = samples(LatencyDist::Exponential);
        let slow = exponential
            .iter()
            .filter(|d| **d > Duration::from_millis(300))
            .count();
        // P(X > 3·mean) = e^-3 ≈ 5 %.
        assert!((600..1400).contains(&slow), "{slow} of 20000 over 300 ms");
        assert_eq!(
            LatencyDist::Exponential.sample(Duration::ZERO, &mut rand::thread_rng()),
            Duration::ZERO
        );
    }
}
