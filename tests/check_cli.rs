//! `faultline check` end to end: the built binary on small histories and corpus files,
//! its exit codes and its error messages.

use std::path::PathBuf;
use std::process::Command;

fn faultline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
}

/// Porcupine's corpus (beside the checkout, or where `FAULTLINE_CORPUS` points), or
/// `None`, said on stderr, when it is absent: it is not part of the project.
fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("FAULTLINE_CORPUS") {
        Some(d) => PathBuf::from(d).join("porcupine"),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/porcupine"
        )),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "the Porcupine corpus is absent ({}; set FAULTLINE_CORPUS to run the tests on it): skipped",
        dir.display()
    );
    None
}

fn corpus(file: &str) -> PathBuf {
    corpus_dir()
        .expect("the caller checked corpus_dir()")
        .join(file)
}

fn temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-check-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_linearizable_corpus_history_exits_0_and_an_invalid_one_exits_1() {
    if corpus_dir().is_none() {
        return;
    }
    let ok = faultline()
        .args(["check", "--model", "cas-register"])
        .arg(corpus("jepsen/etcd_002.log"))
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("VALID"));
    let bad = faultline()
        .args(["check", "--model", "cas-register"])
        .arg(corpus("jepsen/etcd_000.log"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("not linearizable"));
}

#[test]
fn a_history_without_final_reads_is_unknown_for_eventual_and_exits_2() {
    let h = temp(
        "set.jsonl",
        "{\"index\":0,\"time\":0,\"process\":1,\"type\":\"invoke\",\"f\":\"add\",\"value\":1}\n{\"index\":1,\"time\":5,\"process\":1,\"type\":\"ok\",\"f\":\"add\",\"value\":1}\n",
    );
    let out = faultline()
        .args(["check", "--model", "set", "--consistency", "eventual"])
        .arg(&h)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_malformed_history_is_an_error_naming_file_and_line_and_exits_3() {
    let h = temp("bad.jsonl", "{\"index\":0,\"time\":0,\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n{\"index\":1,\n");
    let out = faultline()
        .args(["check", "--model", "register"])
        .arg(&h)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl:2: malformed JSON"), "{err}");
}

#[test]
fn json_output_carries_every_requested_checker() {
    if corpus_dir().is_none() {
        return;
    }
    let out = faultline()
        .args([
            "check",
            "--model",
            "cas-register",
            "--consistency",
            "linearizable",
            "--consistency",
            "sequential",
            "--json",
        ])
        .arg(corpus("jepsen/etcd_000.log"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checkers"].as_array().unwrap().len(), 2);
    assert_eq!(v["checkers"][0]["verdict"], "invalid");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn an_unknown_model_is_refused_with_the_list_of_models_and_exits_3() {
    let out = faultline()
        .args(["check", "--model", "tree", "x.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cas-register"));
}

#[test]
fn an_eventually_consistent_set_exits_0_and_its_json_carries_the_element_accounting() {
    let h = temp(
        "set-final.jsonl",
        concat!(
            "{\"index\":0,\"time\":0,\"process\":1,\"type\":\"invoke\",\"f\":\"add\",\"value\":1}\n",
            "{\"index\":1,\"time\":5,\"process\":1,\"type\":\"ok\",\"f\":\"add\",\"value\":1}\n",
            "{\"index\":2,\"time\":6,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"final-reads\",\"value\":null}\n",
            "{\"index\":3,\"time\":7,\"process\":2,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n",
            "{\"index\":4,\"time\":9,\"process\":2,\"type\":\"ok\",\"f\":\"read\",\"value\":[1]}\n",
        ),
    );
    let out = faultline()
        .args([
            "check",
            "--model",
            "set",
            "--consistency",
            "eventual",
            "--json",
        ])
        .arg(&h)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["checkers"][0]["checker"], "eventual");
    assert_eq!(v["checkers"][0]["evidence"]["elements"]["stable"], 1);
}

#[test]
fn a_lost_add_exits_1_and_says_so_in_plain_words() {
    let h = temp(
        "set-lost.jsonl",
        concat!(
            "{\"index\":0,\"time\":0,\"process\":1,\"type\":\"invoke\",\"f\":\"add\",\"value\":17}\n",
            "{\"index\":1,\"time\":2100000000,\"process\":1,\"type\":\"ok\",\"f\":\"add\",\"value\":17}\n",
            "{\"index\":2,\"time\":2200000000,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"final-reads\",\"value\":null}\n",
            "{\"index\":3,\"time\":2300000000,\"process\":2,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n",
            "{\"index\":4,\"time\":2400000000,\"process\":2,\"type\":\"ok\",\"f\":\"read\",\"value\":[]}\n",
        ),
    );
    let out = faultline()
        .args(["check", "--model", "set", "--consistency", "eventual"])
        .arg(&h)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("INVALID")
            && text.contains("lost 1 acknowledged adds: 17 (first acknowledged at 2.100 s)"),
        "{text}"
    );
}

#[test]
fn a_check_out_of_time_is_unknown_and_exits_2() {
    if corpus_dir().is_none() {
        return;
    }
    // A timeout of 0 s leaves the linearizability search no time at all.
    let out = faultline()
        .args([
            "check",
            "--model",
            "cas-register",
            "--timeout",
            "0",
            "--quiet",
        ])
        .arg(corpus("jepsen/etcd_002.log"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("UNKNOWN"));
}

#[test]
fn a_malformed_edn_history_names_file_and_line_and_exits_3() {
    let h = temp(
        "bad.edn",
        "[{:type :invoke, :f :read, :process 0}\n {:type :ok, :f :read, :process 0, :value 1}\n {:type :ok :f}]\n",
    );
    let out = faultline()
        .args(["check", "--model", "register"])
        .arg(&h)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("bad.edn:3: a map has an odd number of forms"),
        "{err}"
    );
}

#[test]
fn a_porcupine_kv_log_checks_with_an_explicit_format() {
    if corpus_dir().is_none() {
        return;
    }
    let out = faultline()
        .args([
            "check",
            "--model",
            "kv",
            "--format",
            "porcupine-kv",
            "--quiet",
        ])
        .arg(corpus("kv/c01-ok.txt"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let bad = faultline()
        .args([
            "check",
            "--model",
            "kv",
            "--format",
            "porcupine-kv",
            "--quiet",
        ])
        .arg(corpus("kv/c01-bad.txt"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn a_bad_timeout_or_format_is_refused_and_exits_3() {
    if corpus_dir().is_none() {
        return;
    }
    for args in [
        ["--timeout", "soon"],
        ["--timeout", "inf"],
        ["--format", "csv"],
    ] {
        let out = faultline()
            .args(["check", "--model", "register"])
            .args(args)
            .arg(corpus("jepsen/etcd_002.log"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
    }
}

/// (file name, content, model, the message's start after the path, words it holds).
const BAD_INPUTS: &[(&str, &str, &str, &str, &[&str])] = &[
    ("empty.jsonl", "", "register", ":1: ", &["holds no events"]),
    ("blank.jsonl", "\n \n", "register", ":1: ", &["holds no events"]),
    (
        "frobnicate.jsonl",
        "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"frobnicate\",\"value\":1}\n",
        "kv",
        ":1: ",
        &["no operation f \"frobnicate\"", "expected one of"],
    ),
    (
        "cas5.jsonl",
        "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"cas\",\"value\":5}\n",
        "cas-register",
        ":1: ",
        &["cas value 5 is not [expected, new]"],
    ),
    (
        "txn.jsonl",
        "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"r\",\"x\",null]]}\n",
        "kv",
        ":1: ",
        &["transactional model"],
    ),
    (
        "backwards.jsonl",
        "{\"index\":0,\"time\":9,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n{\"index\":1,\"time\":3,\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n",
        "register",
        ":2: ",
        &["earlier than its invoke"],
    ),
    (
        "array.jsonl",
        "[1,2,3]\n",
        "register",
        ":1: ",
        &["found a JSON array", "one JSON object per line"],
    ),
    (
        "completion_first.jsonl",
        "{\"index\":0,\"time\":1,\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n{\"index\":1,\"time\":2,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n",
        "register",
        ":1: ",
        &["an `ok` completion for process 0 with no outstanding invoke", "expected an invoke first"],
    ),
    (
        // The issue's wrongtype_time.jsonl: one line named, line 2, not "line 1 column 24".
        "wrongtype_time.jsonl",
        "{\"index\":0,\"time\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n{\"index\":1,\"time\":\"x\",\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n",
        "register",
        ":2: ",
        &["invalid type: string \"x\", expected u64 (at column 21)"],
    ),
];

#[test]
fn each_input_that_cannot_be_judged_exits_3_with_file_line_and_what_was_expected() {
    for (name, text, model, at, words) in BAD_INPUTS {
        let h = temp(name, text);
        let out = faultline()
            .args(["check", "--model", model])
            .arg(&h)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {err}");
        let prefix = format!("{}{at}", h.display());
        assert!(
            err.contains(&prefix),
            "{name}: expected {prefix:?} in {err}"
        );
        for w in *words {
            assert!(err.contains(w), "{name}: expected {w:?} in {err}");
        }
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("VALID"),
            "{name}: no verdict is printed"
        );
        assert!(
            !err.contains(" at line "),
            "{name}: one line is named, by the FILE:LINE prefix only: {err}"
        );
    }
}

#[test]
fn a_history_where_nothing_succeeded_is_unknown_and_says_why() {
    let h = temp(
        "allfail.jsonl",
        "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n{\"index\":1,\"time\":1,\"process\":0,\"type\":\"fail\",\"f\":\"write\",\"value\":1}\n",
    );
    let out = faultline()
        .args(["check", "--model", "register"])
        .arg(&h)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("UNKNOWN"), "{stdout}");
    assert!(stdout.contains("no operation succeeded"), "{stdout}");
}

const NIL_READ_EDN: &str = "(; Knossos-style: a list with comments, no :time\n\
 {:process 0, :type :invoke, :f :write, :value 3}\n\
 {:process 0, :type :ok, :f :write, :value 3}\n\
 {:process 1, :type :invoke, :f :read, :value nil}\n\
 {:process 1, :type :ok, :f :read, :value nil})\n";

#[test]
fn a_nil_read_is_a_value_by_default_and_any_value_with_nil_read_any() {
    let h = temp("nil.edn", NIL_READ_EDN);
    let by_value = faultline()
        .args(["check", "--model", "register", "--format", "jepsen-edn"])
        .arg(&h)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&by_value.stdout);
    assert_eq!(by_value.status.code(), Some(1), "{out}");
    assert!(out.contains("1 ok reads returned nil"), "{out}");
    assert!(out.contains("times are shown as op #N"), "{out}");
    assert!(!out.contains("0.000 s"), "{out}");
    assert!(out.contains("--nil-read any"), "{out}");
    let any = faultline()
        .args(["check", "--model", "register", "--nil-read", "any"])
        .arg(&h)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&any.stdout);
    assert_eq!(any.status.code(), Some(0), "{out}");
    assert!(out.contains("their value is unknown"), "{out}");
}

#[test]
fn jepsen_independent_tuples_are_read_as_keyed_ops() {
    let h = temp(
        "independent.edn",
        "[{:process 0, :type :invoke, :f :write, :value [1 5]}\n\
          {:process 0, :type :ok, :f :write, :value [1 5]}\n\
          {:process 1, :type :invoke, :f :read, :value [2 nil]}\n\
          {:process 1, :type :ok, :f :read, :value [2 nil]}]\n",
    );
    let out = faultline()
        .args(["check", "--model", "cas-register", "--json"])
        .arg(&h)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("independent tuples"), "{stdout}");
}

#[test]
fn check_help_says_what_each_nil_read_meaning_is() {
    let out = faultline().args(["check", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--nil-read"), "{help}");
    assert!(help.contains("the read saw nil"), "{help}");
    assert!(help.contains("Knossos"), "{help}");
    assert!(help.contains("--independent"), "{help}");
}

#[test]
fn json_output_carries_availability_overall_and_per_fault_window() {
    // Four ops: two before a partition (both ok), two during it (one ok, one fail).
    let h = temp(
        "availability.jsonl",
        r#"{"index":0,"time":0,"process":0,"type":"invoke","f":"write","value":1}
{"index":1,"time":10,"process":0,"type":"ok","f":"write","value":1}
{"index":2,"time":20,"process":1,"type":"invoke","f":"read","value":null}
{"index":3,"time":30,"process":1,"type":"ok","f":"read","value":1}
{"index":4,"time":40,"process":"nemesis","type":"info","f":"start-partition","value":{"kind":"halves","groups":[["n1"],["n2","n3"]]}}
{"index":5,"time":50,"process":0,"type":"invoke","f":"write","value":2}
{"index":6,"time":60,"process":0,"type":"fail","f":"write","value":2}
{"index":7,"time":70,"process":1,"type":"invoke","f":"read","value":null}
{"index":8,"time":80,"process":1,"type":"ok","f":"read","value":1}
{"index":9,"time":90,"process":"nemesis","type":"info","f":"stop-partition","value":null}
"#,
    );
    let out = faultline()
        .args(["check", "--model", "register", "--json"])
        .arg(&h)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = &v["availability"];
    assert_eq!(
        (a["ops"].as_u64(), a["ok"].as_u64()),
        (Some(4), Some(3)),
        "{a}"
    );
    assert_eq!(a["ok_fraction"].as_f64(), Some(0.75));
    let windows = a["per_fault"].as_array().unwrap();
    assert_eq!(windows.len(), 1, "{a}");
    let w = &windows[0];
    assert_eq!(
        (w["ops"].as_u64(), w["ok"].as_u64()),
        (Some(2), Some(1)),
        "{w}"
    );
    assert_eq!(w["ok_fraction"].as_f64(), Some(0.5));
    assert!(w["fault"].as_str().unwrap().contains("partition"), "{w}");
    assert!(
        v.get("verdict_reason").is_none(),
        "a valid verdict needs no reason: {v}"
    );
}
