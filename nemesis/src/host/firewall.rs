//! The firewall and traffic-control fault primitives of a host, written once over
//! [`Host::run`] so they apply the same way wherever the host is: faultline's own
//! nftables table (`inet faultline`; or iptables chains `FL-*` where nft is missing)
//! with a chain for partitions in each direction and one for packet loss, and `tc`
//! qdiscs for delay (netem) and bandwidth (tbf). Every rule lives in faultline's own
//! table or chains, so a heal is a flush and nothing else on the host is touched.

use std::net::Ipv4Addr;

use super::{Host, HostError, COMMAND_TIMEOUT};
use crate::packet::PacketFault;

/// The packet filter used on a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Firewall {
    /// nftables (`nft`).
    Nft,
    /// iptables.
    Iptables,
}

impl Firewall {
    /// nft if installed on this machine, else iptables.
    pub fn detect() -> Option<Firewall> {
        if super::local::which("nft").is_some() {
            Some(Firewall::Nft)
        } else if super::local::which("iptables").is_some() {
            Some(Firewall::Iptables)
        } else {
            None
        }
    }
}

impl Firewall {
    /// nft if `host` has it, else iptables; `None` when it has neither.
    pub fn detect_on(host: &dyn Host) -> Result<Option<Firewall>, HostError> {
        for (program, fw) in [("nft", Firewall::Nft), ("iptables", Firewall::Iptables)] {
            let found = host.run(
                "sh",
                &[
                    "-c",
                    &format!("PATH=\"$PATH:/usr/sbin:/sbin\" command -v {program}"),
                ],
                None,
                COMMAND_TIMEOUT,
            )?;
            if found.success() {
                return Ok(Some(fw));
            }
        }
        Ok(None)
    }
}

fn nft(host: &dyn Host, script: &str) -> Result<(), HostError> {
    host.run_ok(
        "nft",
        &["-f", "-"],
        Some(script.as_bytes()),
        COMMAND_TIMEOUT,
    )
    .map(|_| ())
}

fn iptables(host: &dyn Host, args: &[&str]) -> Result<(), HostError> {
    host.run_ok("iptables", args, None, COMMAND_TIMEOUT)
        .map(|_| ())
}

/// Creates faultline's (empty) table and chains on `host`.
pub fn install(host: &dyn Host, fw: Firewall) -> Result<(), HostError> {
    match fw {
        Firewall::Nft => nft(
            host,
            "table inet faultline {\n\
             chain input { type filter hook input priority 0; policy accept; jump partition_in; jump packet_in; }\n\
             chain output { type filter hook output priority 0; policy accept; jump partition_out; }\n\
             chain partition_in { }\n chain partition_out { }\n chain packet_in { }\n}\n",
        ),
        Firewall::Iptables => {
            for (chain, hook) in [
                ("FL-PART-IN", "INPUT"),
                ("FL-PART-OUT", "OUTPUT"),
                ("FL-PACKET-IN", "INPUT"),
            ] {
                iptables(host, &["-N", chain])?;
                iptables(host, &["-A", hook, "-j", chain])?;
            }
            Ok(())
        }
    }
}

/// Removes faultline's table (nft) or chains (iptables) from `host`; a host that has
/// none is fine.
pub fn uninstall(host: &dyn Host, fw: Firewall) {
    match fw {
        Firewall::Nft => {
            let _ = host.run(
                "nft",
                &["delete", "table", "inet", "faultline"],
                None,
                COMMAND_TIMEOUT,
            );
        }
        Firewall::Iptables => {
            for (chain, hook) in [
                ("FL-PART-IN", "INPUT"),
                ("FL-PART-OUT", "OUTPUT"),
                ("FL-PACKET-IN", "INPUT"),
            ] {
                let _ = host.run(
                    "iptables",
                    &["-D", hook, "-j", chain],
                    None,
                    COMMAND_TIMEOUT,
                );
                let _ = host.run("iptables", &["-F", chain], None, COMMAND_TIMEOUT);
                let _ = host.run("iptables", &["-X", chain], None, COMMAND_TIMEOUT);
            }
        }
    }
}

/// Cuts `host` off from `peers`: drops everything from them and to them.
pub fn drop_peers(host: &dyn Host, fw: Firewall, peers: &[Ipv4Addr]) -> Result<(), HostError> {
    if peers.is_empty() {
        return Ok(());
    }
    match fw {
        Firewall::Nft => {
            let set = peers
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            nft(
                host,
                &format!(
                    "add rule inet faultline partition_in ip saddr {{ {set} }} drop\n\
                     add rule inet faultline partition_out ip daddr {{ {set} }} drop\n"
                ),
            )
        }
        Firewall::Iptables => {
            for i in peers {
                let i = i.to_string();
                iptables(host, &["-A", "FL-PART-IN", "-s", &i, "-j", "DROP"])?;
                iptables(host, &["-A", "FL-PART-OUT", "-d", &i, "-j", "DROP"])?;
            }
            Ok(())
        }
    }
}

/// Removes every partition rule of `host`.
pub fn heal_partition(host: &dyn Host, fw: Firewall) -> Result<(), HostError> {
    match fw {
        Firewall::Nft => nft(
            host,
            "flush chain inet faultline partition_in\nflush chain inet faultline partition_out\n",
        ),
        Firewall::Iptables => {
            iptables(host, &["-F", "FL-PART-IN"])?;
            iptables(host, &["-F", "FL-PART-OUT"])
        }
    }
}

/// Drops `percent` % (1..=100) of the packets `host` receives from `from`.
pub fn drop_share(
    host: &dyn Host,
    fw: Firewall,
    from: Ipv4Addr,
    percent: u32,
) -> Result<(), HostError> {
    match fw {
        Firewall::Nft => nft(
            host,
            &format!(
                "add rule inet faultline packet_in ip saddr {from} numgen random mod 100 < {percent} drop\n"
            ),
        ),
        Firewall::Iptables => {
            let p = format!("{:.2}", f64::from(percent) / 100.0);
            let src = from.to_string();
            iptables(
                host,
                &[
                    "-A", "FL-PACKET-IN", "-s", &src, "-m", "statistic", "--mode", "random",
                    "--probability", &p, "-j", "DROP",
                ],
            )
        }
    }
}

/// Shapes what `host` sends on `dev`: delay (netem, where the kernel has it) and
/// bandwidth (in netem, or a tbf qdisc when there is no delay).
pub fn shape(host: &dyn Host, dev: &str, fault: &PacketFault) -> Result<(), HostError> {
    if fault.rate.is_none() && fault.delay.is_zero() {
        return Ok(());
    }
    let mut args: Vec<String> = ["qdisc", "replace", "dev", dev, "root"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if !fault.delay.is_zero() {
        args.extend([
            "netem".into(),
            "delay".into(),
            format!("{}ms", fault.delay.as_millis()),
        ]);
        if !fault.jitter.is_zero() {
            args.push(format!("{}ms", fault.jitter.as_millis()));
        }
        if let Some(r) = fault.rate {
            args.extend(["rate".into(), format!("{}bit", r * 8)]);
        }
    } else if let Some(r) = fault.rate {
        let burst = (r / 10).max(4096);
        args.extend([
            "tbf".into(),
            "rate".into(),
            format!("{}bit", r * 8),
            "burst".into(),
            format!("{burst}"),
            "latency".into(),
            "1s".into(),
        ]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    host.run_ok("tc", &refs, None, COMMAND_TIMEOUT).map(|_| ())
}

/// Clears the packet faults of `host`: its qdisc on `dev` and its loss rules.
pub fn clear_packets(host: &dyn Host, fw: Firewall, dev: &str) -> Result<(), HostError> {
    let _ = host.run(
        "tc",
        &["qdisc", "del", "dev", dev, "root"],
        None,
        COMMAND_TIMEOUT,
    );
    match fw {
        Firewall::Nft => host
            .run_ok(
                "nft",
                &["flush", "chain", "inet", "faultline", "packet_in"],
                None,
                COMMAND_TIMEOUT,
            )
            .map(|_| ()),
        Firewall::Iptables => iptables(host, &["-F", "FL-PACKET-IN"]),
    }
}
