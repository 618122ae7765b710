//! What a model's histories may contain: the operations (`f`) each model knows and
//! the shape of the value each one carries. A history that breaks these is refused
//! by the reader (`FILE:LINE: …`), never judged: an operation the model does not
//! know would otherwise be "impossible" and make a false `invalid`.

use super::{Event, EventKind, F};
use crate::value::Value;

/// The operations a model (by its command-line name) knows, or `None` for a model
/// this table does not describe (then every operation is let through to it).
pub fn operations(model: &str) -> Option<&'static [&'static str]> {
    Some(match model {
        "register" => &["read", "write"],
        "cas-register" => &["read", "write", "cas"],
        "kv" => &["read", "write", "cas", "append"],
        "set" => &["add", "read"],
        "counter" => &["add", "read"],
        "queue" => &["enqueue", "dequeue"],
        _ => return None,
    })
}

/// Whether `event` (a client event) is one `model`'s histories may contain; if not,
/// what is wrong and what was expected.
pub fn check(model: &str, event: &Event) -> Result<(), String> {
    if let Some(known) = operations(model) {
        if !known.contains(&event.f.as_str()) {
            let hint = if event.f == F::Txn {
                " (a txn operation is a transaction: check it with a transactional model, not this one)"
            } else {
                ""
            };
            return Err(format!(
                "the {model} model has no operation f \"{}\"{hint}; expected one of {}",
                event.f,
                known.join(", ")
            ));
        }
    }
    // What an ok completion carries may be null (it then repeats the invoke's value).
    if event.kind != EventKind::Invoke && (event.kind != EventKind::Ok || event.value.is_null()) {
        return Ok(());
    }
    shape(model, &event.f, event.kind, &event.value)
}

/// Whether `value` has the shape operation `f` needs.
fn shape(model: &str, f: &F, kind: EventKind, value: &Value) -> Result<(), String> {
    match f {
        F::Cas => match value.as_list() {
            Some([_, _]) => Ok(()),
            _ => Err(format!(
                "cas value {value} is not [expected, new]; expected a list of two values such as [1, 2]"
            )),
        },
        F::Add if model == "counter" && value.as_int().is_none() => Err(format!(
            "add value {value} is not an integer; a counter adds a signed integer delta such as 1 or -2"
        )),
        F::Read if model == "counter" && kind == EventKind::Ok && value.as_int().is_none() => {
            Err(format!(
                "read returned {value}, which is not an integer; a counter's read returns its integer value"
            ))
        }
        F::Read if model == "set" && kind == EventKind::Ok && value.as_list().is_none() => {
            Err(format!(
                "read returned {value}, which is not a list; a set's read returns its elements as a list such as [1, 2]"
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Process;

    fn ev(kind: EventKind, f: &str, value: Value) -> Event {
        Event {
            index: 0,
            time: 0,
            process: Process::Client(0),
            kind,
            f: F::parse(f),
            key: None,
            value,
            node: None,
            error: None,
            latency: None,
        }
    }

    #[test]
    fn an_unknown_f_is_refused_with_the_known_ones() {
        let m = check("kv", &ev(EventKind::Invoke, "frobnicate", Value::Null)).unwrap_err();
        assert!(m.contains("no operation f \"frobnicate\""), "{m}");
        assert!(m.contains("read, write, cas, append"), "{m}");
    }

    #[test]
    fn a_txn_checked_as_kv_is_refused_with_a_hint() {
        let m = check("kv", &ev(EventKind::Invoke, "txn", Value::List(vec![]))).unwrap_err();
        assert!(m.contains("transactional model"), "{m}");
    }

    #[test]
    fn a_cas_value_must_be_a_pair() {
        let m = check("cas-register", &ev(EventKind::Invoke, "cas", Value::Int(5))).unwrap_err();
        assert!(m.starts_with("cas value 5 is not [expected, new]"), "{m}");
        let ok = Value::List(vec![Value::Int(1), Value::Int(2)]);
        assert!(check("cas-register", &ev(EventKind::Invoke, "cas", ok)).is_ok());
        // An ok completion that carries null repeats the invoke's value.
        assert!(check("cas-register", &ev(EventKind::Ok, "cas", Value::Null)).is_ok());
    }

    #[test]
    fn a_model_this_table_does_not_know_lets_everything_through() {
        assert!(check("list-append", &ev(EventKind::Invoke, "txn", Value::Null)).is_ok());
    }
}
