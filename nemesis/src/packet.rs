//! Packet faults: delay (mean ± jitter), loss, bandwidth — what they are, drawn from
//! the seed, and how each mechanism words them. The proxies ([`crate::proxy`]) apply
//! them in userspace; in namespaces ([`crate::netns`]) loss is an nftables `numgen`
//! rule and bandwidth a `tc tbf` qdisc (delay there needs netem, which not every
//! kernel has: then the run uses proxies).

use std::time::Duration;

use rand::Rng;

/// Packet faults on a link (all off by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PacketFault {
    /// Mean added one-way delay.
    #[serde(with = "millis")]
    pub delay: Duration,
    /// The delay varies uniformly by up to this much either way.
    #[serde(with = "millis")]
    pub jitter: Duration,
    /// The fraction of packets (proxies: of chunks, each severing its connection) lost.
    pub loss: f64,
    /// A bandwidth cap in bytes per second.
    pub rate: Option<u64>,
}

mod millis {
    use std::time::Duration;
    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms: u64 = serde::Deserialize::deserialize(d)?;
        Ok(Duration::from_millis(ms))
    }
}

impl PacketFault {
    /// Whether it does anything.
    pub fn is_active(&self) -> bool {
        !self.delay.is_zero() || !self.jitter.is_zero() || self.loss > 0.0 || self.rate.is_some()
    }

    /// A delay sample: mean ± uniform jitter, never negative.
    pub fn sample_delay(&self, rng: &mut impl Rng) -> Duration {
        if self.jitter.is_zero() {
            return self.delay;
        }
        let j = self.jitter.as_secs_f64();
        let d = self.delay.as_secs_f64() + rng.gen_range(-j..=j);
        Duration::from_secs_f64(d.max(0.0))
    }

    /// One of the packet faults a schedule draws: a delay with jitter, loss, or a
    /// bandwidth cap (moderate enough that a store still makes progress).
    pub fn draw(rng: &mut impl Rng) -> PacketFault {
        match rng.gen_range(0..3) {
            0 => PacketFault {
                delay: Duration::from_millis(rng.gen_range(20..=100)),
                jitter: Duration::from_millis(rng.gen_range(0..=20)),
                ..PacketFault::default()
            },
            1 => PacketFault {
                loss: f64::from(rng.gen_range(5..=30)) / 100.0,
                ..PacketFault::default()
            },
            _ => PacketFault {
                rate: Some(rng.gen_range(16..=128) * 1024),
                ..PacketFault::default()
            },
        }
    }

    /// The fault as a history event's value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn delay_samples_stay_within_the_jitter() {
        let f = PacketFault {
            delay: Duration::from_millis(50),
            jitter: Duration::from_millis(10),
            ..PacketFault::default()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..1000 {
            let d = f.sample_delay(&mut rng);
            assert!(d >= Duration::from_millis(40) && d <= Duration::from_millis(60));
        }
        assert!(f.is_active());
        assert!(!PacketFault::default().is_active());
    }
}
