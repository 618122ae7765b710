//! Every reader, through `read_path` on real files: what each format accepts, what
//! `--format auto` decides, and the `FILE:LINE: what is wrong` error of each kind of
//! malformed input.

use std::path::PathBuf;

use checkers::read::{read_path, sniff, Format, ReadError};
use checkers::{History, Outcome, Process, Value, F};

/// Writes `text` to a fresh file named `name` and returns its path.
fn file(name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-readers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn read(name: &str, text: &str, format: Format) -> Result<History, ReadError> {
    read_path(&file(name, text), format)
}

/// The error message, which must start with `NAME:LINE: `.
fn error(name: &str, text: &str, format: Format, line: usize) -> String {
    let e = read(name, text, format)
        .map(|h| format!("read {} ops", h.ops.len()))
        .expect_err("a malformed history must be an error")
        .to_string();
    let at = format!("{}:{line}: ", file(name, text).display());
    assert!(e.starts_with(&at), "expected `{at}…`, got `{e}`");
    e[at.len()..].to_string()
}

const JSONL_OK: &str = r#"{"index":0,"time":10,"process":0,"type":"invoke","f":"write","value":1}
{"index":1,"time":20,"process":0,"type":"ok","f":"write","value":1}
"#;

#[test]
fn jsonl_rule_breaks_are_named_with_their_line() {
    let cases: [(&str, usize, &str); 9] = [
        ("{\"index\":0,", 1, "malformed JSON"),
        (r#"{"index":0,"process":0,"type":"invoke","f":"read"}"#, 1, "missing field `time`"),
        (r#"{"index":0,"time":-1,"process":0,"type":"invoke","f":"read"}"#, 1, "invalid value"),
        (r#"{"index":0,"time":0,"process":-3,"type":"invoke","f":"read"}"#, 1, "process -3 is negative"),
        (r#"{"index":0,"time":0,"process":0,"type":"done","f":"read"}"#, 1, "`type` must be one of invoke, ok, fail, info"),
        ("{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n\n{\"index\":2,\"time\":0,\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}", 3, "index 2 out of order"),
        (r#"{"index":0,"time":0,"process":0,"type":"ok","f":"read"}"#, 1, "no outstanding invoke"),
        ("{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n{\"index\":1,\"time\":0,\"process\":0,\"type\":\"ok\",\"f\":\"write\"}", 2, "does not match the invoke on line 1"),
        ("{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n{\"index\":1,\"time\":0,\"process\":0,\"type\":\"info\",\"f\":\"read\"}\n{\"index\":2,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}", 3, "must not be reused"),
    ];
    for (text, line, what) in cases {
        let m = error("h.jsonl", text, Format::Jsonl, line);
        assert!(m.contains(what), "{text}: expected `{what}` in `{m}`");
    }
}

#[test]
fn a_jsonl_file_that_is_not_utf8_names_the_line() {
    let mut bytes = JSONL_OK.as_bytes().to_vec();
    bytes.extend_from_slice(b"{\"index\":2,\"f\":\"\xc3\x28\"}\n");
    let e = read_path(&file("bad-utf8.jsonl", &bytes), Format::Jsonl)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad-utf8.jsonl:3: the line is not valid UTF-8"),
        "{e}"
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let e = read_path(&PathBuf::from("/nonexistent/h.jsonl"), Format::Auto).unwrap_err();
    assert!(matches!(e, ReadError::Io { .. }));
    assert!(e.to_string().starts_with("/nonexistent/h.jsonl: "), "{e}");
}

const EDN_OK: &str = r#"[{:type :invoke, :f :write, :value 3, :process 0, :time 100, :index 0}
 #jepsen.history.Op{:index 1, :time 150, :type :info, :process :nemesis, :f :start-partition, :value [:isolated #{"n1" "n2"}]}
 {:type :ok, :f :write, :value 3, :process 0, :time 200, :index 2, :node "n1"}
 {:type :invoke, :f :cas, :value [3 4], :process 1, :time 300, :index 3}
 {:type :fail, :f :cas, :value [3 4], :process 1, :time 400, :index 4, :error :conflict}
 ; a comment
 {:type :invoke, :f :read, :value nil, :process 2, :time 500, :index 5, :extra {:a true}}
 {:type :ok, :f :read, :value 3, :process 2, :time 600, :index 6}]
"#;

#[test]
fn a_jepsen_edn_vector_reads_with_records_nemesis_and_errors_kept() {
    let h = read("history.edn", EDN_OK, Format::JepsenEdn).unwrap();
    assert_eq!(h.ops.len(), 3);
    assert_eq!(h.nemesis.len(), 1);
    assert_eq!(h.nemesis[0].process, Process::Nemesis);
    assert_eq!(
        h.nemesis[0].value.to_string(),
        r#"["isolated",["n1","n2"]]"#
    );
    assert_eq!(h.ops[0].complete_time, Some(200));
    assert_eq!(h.ops[0].node.as_deref(), Some("n1"));
    assert_eq!(h.ops[1].f, F::Cas);
    assert_eq!(h.ops[1].outcome, Outcome::Fail);
    assert_eq!(h.ops[1].error, Some(Value::str("conflict")));
    assert_eq!(h.ops[2].value, Value::Int(3));
    assert_eq!(
        sniff(&file("history.edn", EDN_OK)).unwrap(),
        Format::JepsenEdn
    );
}

#[test]
fn a_bare_edn_sequence_without_index_or_time_gets_dense_indices() {
    let text = "{:type :invoke, :f :add, :value 1, :process 0}\n{:type :ok, :f :add, :value 1, :process 0}\n{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :read, :value #{1}, :process 0}\n";
    let h = read("bare.edn", text, Format::Auto).unwrap();
    assert_eq!(h.ops.len(), 2);
    assert_eq!(
        (h.ops[1].invoke_index, h.ops[1].complete_index),
        (2, Some(3))
    );
    assert_eq!(h.ops[1].invoke_time, 2);
    assert_eq!(h.ops[1].value, Value::List(vec![Value::Int(1)]));
}

#[test]
fn edn_rule_breaks_are_named_with_their_line() {
    let op = "{:type :invoke, :f :read, :process 0}";
    let cases: Vec<(String, usize, &str)> = vec![
        (
            format!("[{op}\n{{:type :maybe, :f :read, :process 1}}]"),
            2,
            ":type :maybe is unknown",
        ),
        (
            format!("{op}\n{{:type :invoke, :f :read}}"),
            2,
            "missing :process",
        ),
        (
            "{:type :invoke, :f :read, :process \"p\"}".into(),
            1,
            ":process \"p\" is not understood",
        ),
        ("{:type :invoke, :process 1}".into(), 1, "missing :f"),
        (
            format!("[{op}\n"),
            2,
            "the vector of operations is not closed",
        ),
        (format!("[{op}] {op}"), 1, "after the closing `]`"),
        ("{:type :invoke :f}".into(), 1, "odd number of forms"),
        (format!("{op}\n[1 2]"), 2, "expected an operation map"),
        (
            "{:type :invoke, :f :read, :process 0, :value \"a\\qb\"}".into(),
            1,
            "unknown escape",
        ),
        (
            "{:type :invoke, :f :read, :process 0, :value 99999999999999999999}".into(),
            1,
            "too large",
        ),
        (
            format!("{op}\n\n{{:type :ok, :f :write,\n :process 0}}"),
            3,
            "does not match the invoke on line 1",
        ),
        (
            "{:type :invoke, :f :read, :process 0, :value [1 2}".into(),
            1,
            "unexpected `}`; expected `]`",
        ),
    ];
    for (text, line, what) in cases {
        let m = error("h.edn", &text, Format::JepsenEdn, line);
        assert!(m.contains(what), "{text}: expected `{what}` in `{m}`");
    }
}

const ETCD_OK: &str = "INFO  jepsen.util - 2\t:invoke\t:cas\t[2 4]\n\
INFO  jepsen.util - 3\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 2\t:fail\t:cas\t[2 4]\n\
INFO  jepsen.util - 3   :ok     :read   4\n\
INFO  jepsen.util - 5\t:invoke\t:write\t1\n\
INFO  jepsen.util - 5\t:info\t:write\t:timed-out\n";

#[test]
fn a_porcupine_etcd_log_reads_and_is_sniffed() {
    let h = read("etcd.log", ETCD_OK, Format::PorcupineEtcd).unwrap();
    assert_eq!(h.ops.len(), 3);
    assert_eq!(h.ops[0].outcome, Outcome::Fail);
    assert_eq!(h.ops[1].value, Value::Int(4));
    assert_eq!(h.ops[2].outcome, Outcome::Info);
    assert_eq!(h.ops[2].value, Value::Int(1));
    assert_eq!(
        sniff(&file("etcd.log", ETCD_OK)).unwrap(),
        Format::PorcupineEtcd
    );
}

#[test]
fn porcupine_etcd_rule_breaks_are_named_with_their_line() {
    let cases: [(&str, usize, &str); 5] = [
        ("INFO  jepsen.util - x\t:invoke\t:read\tnil", 1, "process `x` is not a number"),
        ("INFO  jepsen.util - 1\t:started\t:read\tnil", 1, "type `:started` is unknown"),
        ("INFO  jepsen.util - 1\t:invoke", 1, "missing f"),
        ("INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2", 1, "value `[1 2` is not understood"),
        ("INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:invoke\t:read\tnil", 2, "still outstanding"),
    ];
    for (text, line, what) in cases {
        let m = error("etcd.log", text, Format::PorcupineEtcd, line);
        assert!(m.contains(what), "{text}: expected `{what}` in `{m}`");
    }
}

const KV_OK: &str = "{:process 0, :type :invoke, :f :append, :key \"0\", :value \"x 0 0 y\"}\n\
{:process 1, :type :invoke, :f :get, :key \"0\", :value nil}\n\
{:process 0, :type :ok, :f :append, :key \"0\", :value \"x 0 0 y\"}\n\
{:process 1, :type :ok, :f :get, :key \"0\", :value \"x 0 0 y\"}\n\
{:process 2, :type :invoke, :f :put, :key \"1\", :value \"z\"}\n";

#[test]
fn a_porcupine_kv_log_reads_the_same_as_edn() {
    let h = read("c01.txt", KV_OK, Format::PorcupineKv).unwrap();
    assert_eq!(h.ops.len(), 3);
    assert_eq!(
        (&h.ops[0].f, &h.ops[1].f, &h.ops[2].f),
        (&F::Append, &F::Read, &F::Write)
    );
    assert_eq!(h.ops[2].key, Some(Value::str("1")));
    assert_eq!(h.ops[2].outcome, Outcome::Info);
    let edn = read("c01.txt", KV_OK, Format::Auto).unwrap();
    assert_eq!(edn.ops, h.ops);
}

#[test]
fn porcupine_kv_rule_breaks_are_named_with_their_line() {
    let cases: [(&str, usize, &str); 6] = [
        (
            "{:process 0, :type :invoke, :f :delete, :key \"0\"}",
            1,
            ":f \"delete\" is not understood",
        ),
        ("{:process 0, :type :invoke, :f :get}", 1, ":key (missing)"),
        (
            "{:process 0, :type :invoke, :f :get, :key \"0\", :value 5}",
            1,
            ":value 5 is not understood",
        ),
        (
            "{:process :nemesis, :type :info, :f :get, :key \"0\"}",
            1,
            ":process \"nemesis\" is not understood",
        ),
        (
            "\n{:process 0, :type :invoke, :f :get, :key \"0\"} x",
            2,
            "`x` after the map",
        ),
        (
            "{:process 0, :type :invoke, :f :get, :key \"0\"\n:value nil}",
            1,
            "unexpected end of input",
        ),
    ];
    for (text, line, what) in cases {
        let m = error("c.txt", text, Format::PorcupineKv, line);
        assert!(m.contains(what), "{text}: expected `{what}` in `{m}`");
    }
}

#[test]
fn sniffing_decides_each_format_from_the_first_lines() {
    assert_eq!(sniff(&file("a", JSONL_OK)).unwrap(), Format::Jsonl);
    assert_eq!(
        sniff(&file("b", format!("\n; comment\n{EDN_OK}"))).unwrap(),
        Format::JepsenEdn
    );
    assert_eq!(sniff(&file("c", KV_OK)).unwrap(), Format::JepsenEdn);
    assert_eq!(
        read("auto.jsonl", JSONL_OK, Format::Auto)
            .unwrap()
            .ops
            .len(),
        1
    );
}

#[test]
fn sniffing_tells_spaced_json_from_edn() {
    let spaced =
        "{ \"index\": 0, \"time\": 0, \"process\": 0, \"type\": \"invoke\", \"f\": \"read\" }\n";
    assert_eq!(sniff(&file("d", spaced)).unwrap(), Format::Jsonl);
    assert_eq!(
        sniff(&file("e", "{ :process 0 }")).unwrap(),
        Format::JepsenEdn
    );
    assert_eq!(sniff(&file("f", "hello\n")).unwrap(), Format::Jsonl);
}

#[test]
fn reading_bytes_in_memory_gives_what_reading_the_file_gives() {
    use checkers::read::{read_bytes_with, read_path_with, ReadOptions};
    let options = ReadOptions::default();
    let from_file = read_path_with(&file("same.jsonl", JSONL_OK), Format::Auto, &options).unwrap();
    let from_bytes =
        read_bytes_with(JSONL_OK.as_bytes(), "same.jsonl", Format::Auto, &options).unwrap();
    assert_eq!(from_bytes.format, Format::Jsonl);
    assert_eq!(from_bytes.history.ops, from_file.history.ops);
    let e = read_bytes_with(b"", "empty.edn", Format::Auto, &options).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("empty.edn:1: the history holds no events"),
        "{e}"
    );
    let e = read_bytes_with(
        b"[{:process 0 \xff}]",
        "bad.edn",
        Format::JepsenEdn,
        &options,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("bad.edn:1: the line is not valid UTF-8"),
        "{e}"
    );
}
