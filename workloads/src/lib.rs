//! Workloads: for each kind of test (register, cas-register, kv, set, counter,
//! list-append), the operation generator and the checkers that judge its history.
