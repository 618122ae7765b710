//! Every kind of history that cannot be judged is refused with `FILE:LINE: what is
//! wrong, what was expected`, one row per bad input.

use checkers::read::{read_path_with, Format, ReadOptions};

/// (file name, content, model, the line the error names, words the message holds).
const CASES: &[(&str, &str, &str, usize, &[&str])] = &[
    (
        "empty.jsonl",
        "",
        "register",
        1,
        &["holds no events", "expected at least one client operation"],
    ),
    (
        "blank.jsonl",
        "\n   \n\n",
        "register",
        1,
        &["holds no events", "empty or blank"],
    ),
    (
        "blank.edn",
        "; only a comment\n",
        "register",
        1,
        &["holds no events"],
    ),
    (
        "nemesis-only.jsonl",
        "{\"index\":0,\"time\":0,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"start-partition\",\"value\":null}\n",
        "register",
        1,
        &["no client operation", "1 nemesis events only"],
    ),
    (
        "frobnicate.jsonl",
        "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n{\"index\":1,\"time\":1,\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n{\"index\":2,\"time\":2,\"process\":0,\"type\":\"invoke\",\"f\":\"frobnicate\",\"value\":1}\n",
        "kv",
        3,
        &["the kv model has no operation f \"frobnicate\"", "expected one of read, write, cas, append"],
    ),
    (
        "cas5.jsonl",
        "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"cas\",\"value\":5}\n",
        "cas-register",
        1,
        &["cas value 5 is not [expected, new]", "expected a list of two values"],
    ),
    (
        "txn-as-kv.jsonl",
        "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"append\",\"x\",1]]}\n",
        "kv",
        1,
        &["no operation f \"txn\"", "transactional model"],
    ),
    (
        "cas-on-register.edn",
        "[{:process 0, :type :invoke, :f :cas, :value [1 2]}]",
        "register",
        1,
        &["the register model has no operation f \"cas\"", "expected one of read, write"],
    ),
    (
        "backwards.jsonl",
        "{\"index\":0,\"time\":500,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n{\"index\":1,\"time\":400,\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n",
        "register",
        2,
        &["time 400 is earlier than its invoke's time 500 (line 1)", "never to go backwards"],
    ),
    (
        "array.jsonl",
        "[1,2,3]\n",
        "register",
        1,
        &["found a JSON array, not an object", "expected one JSON object per line"],
    ),
    (
        "wrongtype_time.jsonl",
        "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n{\"index\":1,\"time\":\"late\",\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n",
        "register",
        2,
        &["invalid type", "(at column"],
    ),
    (
        "unclosed-list.edn",
        "({:process 0, :type :invoke, :f :read, :value nil}\n",
        "register",
        2,
        &["the list of operations is not closed; expected `)`"],
    ),
];

#[test]
fn each_bad_input_is_refused_naming_its_file_and_one_line() {
    let dir = std::env::temp_dir().join(format!("checkers-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut wrong = Vec::new();
    for (name, text, model, line, words) in CASES {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let options = ReadOptions {
            model: Some(model.to_string()),
            ..ReadOptions::default()
        };
        let m = match read_path_with(&path, Format::Auto, &options) {
            Ok(r) => {
                wrong.push(format!(
                    "{name}: read {} ops, expected an error",
                    r.history.ops.len()
                ));
                continue;
            }
            Err(e) => e.to_string(),
        };
        let prefix = format!("{}:{line}: ", path.display());
        if !m.starts_with(&prefix) {
            wrong.push(format!("{name}: expected the prefix {prefix:?}: {m}"));
        }
        // One line named: no second "line N" from a parser inside the message.
        if m.contains(" at line ") {
            wrong.push(format!("{name}: names a second line: {m}"));
        }
        for w in *words {
            if !m.contains(w) {
                wrong.push(format!("{name}: expected {w:?} in: {m}"));
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_good_history_with_the_same_options_reads() {
    let dir = std::env::temp_dir().join(format!("checkers-good-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("good.jsonl");
    std::fs::write(&path, "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"cas\",\"value\":[1,2]}\n{\"index\":1,\"time\":0,\"process\":0,\"type\":\"ok\",\"f\":\"cas\",\"value\":[1,2]}\n").unwrap();
    let options = ReadOptions {
        model: Some("cas-register".into()),
        ..ReadOptions::default()
    };
    let r = read_path_with(&path, Format::Auto, &options).unwrap();
    assert_eq!(r.history.ops.len(), 1);
    std::fs::remove_dir_all(&dir).ok();
}
