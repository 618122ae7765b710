//! The kinds of fault.

use std::fmt;

/// A fault the nemesis can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fault {
    /// `kill -9` the node's process group; heal: restart it on the same data dir.
    Kill,
    /// A graceful stop (SIGTERM, then SIGKILL after a grace); heal: restart it.
    Stop,
    /// `SIGSTOP` the node's process group; heal: `SIGCONT`.
    Pause,
    /// Cut the network between groups of nodes; heal: reconnect.
    Partition,
    /// Skew nodes' wall clocks (bump or strobe); heal: reset to the true time.
    Clock,
    /// Delay, lose or throttle nodes' packets; heal: clear.
    Packet,
    /// Fail the primary over, as the store does it ([`crate::Failover`], offered by
    /// the stores that have a primary: Redis): take the primary down (killed, or cut
    /// off from its replicas while it still serves clients, then killed) and have a
    /// replica promoted in its place, the other replicas re-pointed at it; heal: bring
    /// the old primary back as a replica of the new one.
    Failover,
}

impl Fault {
    /// Every fault.
    pub const ALL: &'static [Fault] = &[
        Fault::Kill,
        Fault::Stop,
        Fault::Pause,
        Fault::Partition,
        Fault::Clock,
        Fault::Packet,
        Fault::Failover,
    ];

    /// The faults the nemesis carries out by itself, on any store whose nodes it can
    /// reach: every fault but [`Fault::Failover`], which needs the store's own
    /// [`crate::Failover`].
    pub const ON_ANY_STORE: &'static [Fault] = &[
        Fault::Kill,
        Fault::Stop,
        Fault::Pause,
        Fault::Partition,
        Fault::Clock,
        Fault::Packet,
    ];

    /// The name used on the command line and in history events.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::Stop => "stop",
            Fault::Pause => "pause",
            Fault::Partition => "partition",
            Fault::Clock => "clock",
            Fault::Packet => "packet",
            Fault::Failover => "failover",
        }
    }

    /// Whether it acts on node processes (and so needs nodes faultline started).
    pub fn needs_processes(self) -> bool {
        matches!(self, Fault::Kill | Fault::Stop | Fault::Pause)
    }

    /// Whether it must be prepared before the nodes start (their network or clock).
    pub fn needs_layout(self) -> bool {
        matches!(self, Fault::Partition | Fault::Clock | Fault::Packet)
    }

    /// Parses a comma-separated list (`partition,kill`), sorted, without duplicates.
    pub fn parse_list(list: &[String]) -> Result<Vec<Fault>, String> {
        let mut v = Vec::new();
        for item in list.iter().flat_map(|s| s.split(',')) {
            let item = item.trim();
            if item.is_empty() || item == "none" {
                continue;
            }
            v.push(item.parse::<Fault>()?);
        }
        v.sort();
        v.dedup();
        Ok(v)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Fault, String> {
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown fault \"{s}\"; expected one of {}",
                    Fault::ALL
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_list_parses_names_and_rejects_unknown_ones() {
        let v = Fault::parse_list(&["partition,kill".into(), "kill".into()]).unwrap();
        assert_eq!(v, vec![Fault::Kill, Fault::Partition]);
        assert!(Fault::parse_list(&["none".into()]).unwrap().is_empty());
        let e = Fault::parse_list(&["fire".into()]).unwrap_err();
        assert!(e.contains("unknown fault \"fire\""), "{e}");
    }

    #[test]
    fn every_fault_parses_back_from_its_name_and_failover_is_one_of_them() {
        for f in Fault::ALL {
            assert_eq!(f.as_str().parse::<Fault>(), Ok(*f));
            assert_eq!(f.to_string(), f.as_str());
        }
        assert_eq!("failover".parse::<Fault>(), Ok(Fault::Failover));
        let v = Fault::parse_list(&["failover,kill".into()]).unwrap();
        assert_eq!(v, vec![Fault::Kill, Fault::Failover]);
        let e = Fault::parse_list(&["failure".into()]).unwrap_err();
        assert!(e.contains("failover"), "the error lists failover: {e}");
    }

    #[test]
    fn failover_is_the_only_fault_the_nemesis_cannot_carry_out_on_any_store() {
        let rest: Vec<Fault> = Fault::ALL
            .iter()
            .copied()
            .filter(|f| *f != Fault::Failover)
            .collect();
        assert_eq!(Fault::ON_ANY_STORE, rest.as_slice());
        assert!(!Fault::Failover.needs_processes() && !Fault::Failover.needs_layout());
    }
}
