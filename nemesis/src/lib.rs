//! The nemesis: faults (process, network, clock) with a guaranteed heal.
