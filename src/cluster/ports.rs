//! Free loopback ports: find some for a cluster's nodes, and tell whether one is taken.
//!
//! Ports are drawn below the kernel's ephemeral range (`ip_local_port_range`), so an
//! outgoing connection — a client's, a peer's, another test's — cannot take a node's
//! port between the moment it was found free and the moment the node binds it, as an
//! OS-chosen ephemeral port can.

use std::net::{Ipv4Addr, TcpListener};

use rand::Rng;

/// The lowest port drawn from.
const LOWEST: u16 = 10_000;

/// Whether `port` on 127.0.0.1 can be bound right now.
pub fn is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// The first port of the kernel's ephemeral range (32768 when it cannot be read).
fn ephemeral_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// `n` distinct ports on 127.0.0.1 that were free a moment ago, drawn at random below
/// the ephemeral range (or chosen by the OS if that range has no room).
pub fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    let top = ephemeral_start();
    let mut listeners: Vec<TcpListener> = Vec::with_capacity(n);
    if top > LOWEST + 1_000 {
        let mut rng = rand::thread_rng();
        for _ in 0..n.saturating_mul(50).max(200) {
            if listeners.len() == n {
                break;
            }
            if let Ok(l) = TcpListener::bind((Ipv4Addr::LOCALHOST, rng.gen_range(LOWEST..top))) {
                listeners.push(l);
            }
        }
    }
    while listeners.len() < n {
        listeners.push(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?);
    }
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_port_is_not_free_and_chosen_ports_are_distinct() {
        let ports = free_ports(3).unwrap();
        assert_eq!(ports.len(), 3);
        assert!(ports[0] != ports[1] && ports[1] != ports[2] && ports[0] != ports[2]);
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        assert!(!is_free(l.local_addr().unwrap().port()));
    }

    #[test]
    fn chosen_ports_lie_below_the_ephemeral_range() {
        let top = ephemeral_start();
        for port in free_ports(8).unwrap() {
            assert!(port < top || top <= LOWEST + 1_000, "{port} >= {top}");
        }
    }
}
