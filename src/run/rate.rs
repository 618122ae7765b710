//! A global rate limit shared by every worker: operations are spaced evenly at
//! `1 / rate` seconds (each caller reserves the next free slot and sleeps until it).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces operations at most `rate` per second, across all callers.
#[derive(Debug)]
pub struct RateLimit {
    interval: Option<Duration>,
    next: Mutex<Option<Instant>>,
}

impl RateLimit {
    /// At most `rate` operations per second; `rate <= 0` means no limit.
    pub fn new(rate: f64) -> RateLimit {
        let interval =
            (rate > 0.0 && rate.is_finite()).then(|| Duration::from_secs_f64(1.0 / rate));
        RateLimit {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Whether there is a limit at all.
    pub fn is_limited(&self) -> bool {
        self.interval.is_some()
    }

    /// Waits for the caller's slot.
    pub async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            // Do not bank unused slots from idle periods: at most one interval of burst.
            let slot = match *next {
                Some(n) if n > now => n,
                _ => now,
            };
            *next = Some(slot + interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_rate_limit_spaces_operations_across_callers() {
        let r = std::sync::Arc::new(RateLimit::new(200.0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let r = r.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    r.wait().await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // 40 operations at 200/s take at least 39 intervals of 5 ms.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(190), "{took:?}");
        assert!(took < Duration::from_millis(1000), "{took:?}");
    }
}
