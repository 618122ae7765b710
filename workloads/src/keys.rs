//! Key choice: uniform, or Zipf-skewed (a few hot keys, a long tail).

use rand::Rng;
use rand_distr::{Distribution, Zipf};

/// How a generator picks keys.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyDistribution {
    /// Every key equally likely.
    Uniform,
    /// Zipf with this exponent: key `i` (0-based) has weight `1 / (i + 1)^s`.
    Zipf(f64),
}

impl std::str::FromStr for KeyDistribution {
    type Err = String;
    /// `uniform`, `zipf` (exponent 1) or `zipf:S`.
    fn from_str(s: &str) -> Result<KeyDistribution, String> {
        match s {
            "uniform" => Ok(KeyDistribution::Uniform),
            "zipf" => Ok(KeyDistribution::Zipf(1.0)),
            _ => match s.strip_prefix("zipf:").map(str::parse::<f64>) {
                Some(Ok(e)) if e.is_finite() && e > 0.0 => Ok(KeyDistribution::Zipf(e)),
                _ => Err(format!(
                    "unknown key distribution \"{s}\"; expected uniform, zipf or zipf:S with S > 0"
                )),
            },
        }
    }
}

impl std::fmt::Display for KeyDistribution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyDistribution::Uniform => f.write_str("uniform"),
            KeyDistribution::Zipf(s) => write!(f, "zipf:{s}"),
        }
    }
}

/// Picks key indices in `0..n` by a distribution.
#[derive(Clone, Debug)]
pub struct KeyChooser {
    n: usize,
    zipf: Option<Zipf<f64>>,
}

impl KeyChooser {
    /// A chooser over `n >= 1` keys. A Zipf exponent that is not positive is treated
    /// as uniform (callers validate first).
    pub fn new(n: usize, distribution: KeyDistribution) -> KeyChooser {
        let zipf = match distribution {
            KeyDistribution::Zipf(s) if n > 1 => Zipf::new(n as u64, s).ok(),
            _ => None,
        };
        KeyChooser { n: n.max(1), zipf }
    }

    /// The next key index.
    pub fn choose(&self, rng: &mut impl Rng) -> usize {
        match &self.zipf {
            // Zipf samples ranks 1..=n as floats.
            Some(z) => ((z.sample(rng) as usize).clamp(1, self.n)) - 1,
            None => rng.gen_range(0..self.n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn zipf_makes_the_first_key_much_hotter_than_the_last() {
        let c = KeyChooser::new(10, KeyDistribution::Zipf(1.2));
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut counts = [0usize; 10];
        for _ in 0..20_000 {
            counts[c.choose(&mut rng)] += 1;
        }
        assert!(counts[0] > 5 * counts[9], "{counts:?}");
        assert!(counts.iter().all(|&c| c > 0), "{counts:?}");
    }

    #[test]
    fn uniform_keys_are_roughly_even() {
        let c = KeyChooser::new(4, KeyDistribution::Uniform);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut counts = [0usize; 4];
        for _ in 0..20_000 {
            counts[c.choose(&mut rng)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (4_000..6_000).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn distributions_parse_and_bad_ones_are_refused() {
        assert_eq!("zipf:1.5".parse(), Ok(KeyDistribution::Zipf(1.5)));
        assert_eq!("uniform".parse(), Ok(KeyDistribution::Uniform));
        assert!("zipf:-1".parse::<KeyDistribution>().is_err());
        assert!("gauss".parse::<KeyDistribution>().is_err());
    }
}
