//! The message shapes of Maelstrom's own workloads (`--workload lin-kv`, `kafka`, ...),
//! as Maelstrom's `doc/workloads.md` defines them, and how their replies become
//! history values (the shapes of `workloads::maelstrom`):
//!
//! | workload | request | reply -> ok value |
//! |---|---|---|
//! | `echo` | `echo {echo}` | `echo_ok {echo}` -> the echo |
//! | `unique-ids` | `generate` | `generate_ok {id}` -> the id |
//! | `g-set` | `add {element}`, `read` | `read_ok {value}` -> the elements, sorted |
//! | `lin-kv` | `read {key}`, `write {key, value}`, `cas {key, from, to}` (integers) | `read_ok {value}` |
//! | `kafka` | `send {key, msg}`, `poll {offsets}`, `commit_offsets {offsets}`, `list_committed_offsets {keys}` | `send_ok {offset}`, `poll_ok {msgs}`, `list_committed_offsets_ok {offsets}` |
//!
//! Broadcast, the counters and the transactions have the shapes of faultline's own
//! workloads on Maelstrom, spoken by [`client`](super::client): for them (and for
//! faultline's workloads) both functions answer `None`.

use checkers::{Value, F};
use serde_json::{json, Map, Value as Json};

use crate::client::Invocation;

fn pairs(v: &Value) -> Vec<(Json, Json)> {
    v.as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(|p| match p.as_list() {
            Some([a, b, ..]) => Some((a.to_json(), b.to_json())),
            _ => None,
        })
        .collect()
}

/// A map `{key: value}` from `[[key, value], ...]` (keys as strings).
fn object(v: &Value) -> Json {
    let mut m = Map::new();
    for (k, v) in pairs(v) {
        let k = k.as_str().map_or_else(|| k.to_string(), str::to_string);
        m.insert(k, v);
    }
    Json::Object(m)
}

/// The request for `op` in workload `workload`'s shapes; `None` when the faultline
/// shapes apply.
pub fn body(workload: Option<&str>, op: &Invocation) -> Result<Option<Json>, String> {
    let key = op.key.as_ref().map(Value::to_json).unwrap_or(Json::Null);
    let v = op.value.to_json();
    Ok(Some(match (workload, op.f.as_str()) {
        (Some("echo"), "echo") => json!({"type": "echo", "echo": v}),
        (Some("unique-ids"), "generate") => json!({"type": "generate"}),
        (Some("g-set"), "add") => json!({"type": "add", "element": v}),
        (Some("g-set"), "read") => json!({"type": "read"}),
        (Some("lin-kv"), "read") => json!({"type": "read", "key": key}),
        (Some("lin-kv"), "write") => json!({"type": "write", "key": key, "value": v}),
        (Some("lin-kv"), "cas") => match op.value.as_list() {
            Some([from, to]) => {
                json!({"type": "cas", "key": key, "from": from.to_json(), "to": to.to_json()})
            }
            _ => return Err(format!("cas value {v} is not [from, to]")),
        },
        (Some("kafka"), "send") => match op.value.as_list() {
            Some([k, m]) => json!({"type": "send", "key": k.to_json(), "msg": m.to_json()}),
            _ => return Err(format!("send value {v} is not [key, msg]")),
        },
        (Some("kafka"), "poll") => json!({"type": "poll", "offsets": object(&op.value)}),
        (Some("kafka"), "commit_offsets") => {
            json!({"type": "commit_offsets", "offsets": object(&op.value)})
        }
        (Some("kafka"), "list_committed_offsets") => {
            json!({"type": "list_committed_offsets", "keys": v})
        }
        (Some("echo" | "unique-ids" | "g-set" | "lin-kv" | "kafka"), f) => {
            return Err(format!(
                "Maelstrom's {} workload has no {f}",
                workload.unwrap_or("")
            ))
        }
        _ => return Ok(None),
    }))
}

/// What `reply` (a success) means for `op`; `None` when the faultline shapes apply.
pub fn value_of(
    workload: Option<&str>,
    op: &Invocation,
    reply: &Json,
) -> Result<Option<Value>, String> {
    let field = |name: &str| {
        reply
            .get(name)
            .cloned()
            .ok_or_else(|| format!("the reply has no `{name}`: {reply}"))
    };
    Ok(Some(match (workload, &op.f) {
        (Some("echo"), _) => Value::from_json(&field("echo")?),
        (Some("unique-ids"), _) => Value::from_json(&field("id")?),
        (Some("g-set"), F::Read) => {
            let all = field("value")?;
            let mut v: Vec<Value> = all
                .as_array()
                .ok_or_else(|| format!("a g-set read returned {all}, not a list"))?
                .iter()
                .map(Value::from_json)
                .collect();
            v.sort_by_key(|x| x.as_int());
            Value::List(v)
        }
        (Some("lin-kv"), F::Read) => Value::from_json(&field("value")?),
        (Some("kafka"), f) => match f.as_str() {
            "send" => {
                let offset = field("offset")?;
                let mut l = op.value.as_list().unwrap_or(&[]).to_vec();
                l.push(Value::from_json(&offset));
                Value::List(l)
            }
            "poll" => {
                let msgs = field("msgs")?;
                let msgs = msgs
                    .as_object()
                    .ok_or_else(|| format!("poll_ok msgs {msgs} is not an object"))?;
                Value::List(
                    msgs.iter()
                        .map(|(k, list)| Value::List(vec![Value::str(k), Value::from_json(list)]))
                        .collect(),
                )
            }
            "list_committed_offsets" => {
                let offsets = field("offsets")?;
                let offsets = offsets
                    .as_object()
                    .ok_or_else(|| format!("offsets {offsets} is not an object"))?;
                Value::List(
                    offsets
                        .iter()
                        .map(|(k, o)| Value::List(vec![Value::str(k), Value::from_json(o)]))
                        .collect(),
                )
            }
            _ => op.value.clone(),
        },
        (Some("g-set" | "lin-kv"), _) => op.value.clone(),
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::DataKind;

    fn op(f: &str, key: Option<Value>, value: Json) -> Invocation {
        Invocation {
            process: 1,
            data: DataKind::Register,
            f: F::parse(f),
            key,
            value: Value::from_json(&value),
        }
    }

    #[test]
    fn lin_kv_and_g_set_speak_integers_as_maelstrom_does() {
        let b = body(
            Some("lin-kv"),
            &op("cas", Some(Value::Int(3)), json!([1, 2])),
        )
        .unwrap()
        .unwrap();
        assert_eq!(b, json!({"type": "cas", "key": 3, "from": 1, "to": 2}));
        let b = body(Some("g-set"), &op("add", None, json!(7))).unwrap();
        assert_eq!(b, Some(json!({"type": "add", "element": 7})));
        assert_eq!(body(None, &op("add", None, json!(7))).unwrap(), None);
    }

    #[test]
    fn kafka_requests_and_replies_map_to_the_checkers_shapes() {
        let poll = op("poll", None, json!([["k0", 0]]));
        assert_eq!(
            body(Some("kafka"), &poll).unwrap().unwrap(),
            json!({"type": "poll", "offsets": {"k0": 0}})
        );
        let v = value_of(
            Some("kafka"),
            &poll,
            &json!({"type": "poll_ok", "msgs": {"k0": [[0, 5], [1, 6]]}}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(v.to_json(), json!([["k0", [[0, 5], [1, 6]]]]));
        let send = op("send", None, json!(["k0", 5]));
        let v = value_of(
            Some("kafka"),
            &send,
            &json!({"type": "send_ok", "offset": 4}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(v.to_json(), json!(["k0", 5, 4]));
    }
}
