//! `faultline check`: judge a recorded history against a model and a consistency
//! level, print the verdict and its evidence, exit 0 valid / 1 invalid / 2 unknown /
//! 3 error.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use checkers::model::{ModelKind, ModelSpec};
use checkers::read::{read_path_with, Format, Independent, NilRead, ReadOptions};
use checkers::{Budget, CheckResult, ConsistencyRequest, Value};
use clap::Args;

/// Arguments of `faultline check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The history file (faultline JSONL, Jepsen history.edn, Porcupine logs).
    pub history: PathBuf,
    /// The model: register, cas-register, kv, set, counter, queue.
    #[arg(long, value_parser = parse_model)]
    pub model: ModelKind,
    /// The consistency model to check (repeat for several; `all` for every model that
    /// applies). Each name is defined under "Consistency models" below.
    #[arg(long, value_parser = parse_consistency, default_value = "linearizable")]
    pub consistency: Vec<ConsistencyRequest>,
    /// The history's format: auto, jsonl, jepsen-edn, porcupine-etcd, porcupine-kv.
    #[arg(long, default_value = "auto", value_parser = parse_format)]
    pub format: Format,
    /// What an `ok` read that returned nil (null) means. `value` (the default): the
    /// read saw nil, i.e. the register held nothing. `any`: the read's value is
    /// unknown and it matches any state, as Knossos's cas-register reads Jepsen
    /// histories.
    #[arg(long, value_parser = parse_nil_read, default_value = "value", value_name = "value|any")]
    pub nil_read: NilRead,
    /// Read every op of an EDN history as a Jepsen `independent` tuple `:value [k v]`
    /// (key k, value v). Without it such histories are still detected when every op is
    /// a tuple.
    #[arg(long)]
    pub independent: bool,
    /// The initial value of every key, as JSON (default: absent, read as null).
    #[arg(long, value_parser = parse_initial)]
    pub initial: Option<Value>,
    /// Give up after this many seconds; what is not decided by then is `unknown`.
    #[arg(long, value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// Print the results as JSON instead of words.
    #[arg(long)]
    pub json: bool,
    /// Also write an HTML report of the check to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Also write JUnit XML (one test case per checker) to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

fn parse_consistency(s: &str) -> Result<ConsistencyRequest, String> {
    s.parse()
}

fn parse_nil_read(s: &str) -> Result<NilRead, String> {
    s.parse()
}

fn parse_model(s: &str) -> Result<ModelKind, String> {
    s.parse()
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| {
            format!("--timeout takes a number of seconds such as 30 or 0.5, not \"{s}\"")
        })
}

fn parse_initial(s: &str) -> Result<Value, String> {
    serde_json::from_str(s)
        .map_err(|e| format!("--initial must be JSON (e.g. 0, \"x\", [1,2], null): {e}"))
}

/// The text after `faultline check --help`: every consistency model with its
/// definition, then examples to paste.
pub fn after_help() -> String {
    let mut out = String::from("Consistency models (--consistency):\n");
    for c in checkers::Consistency::EVERY {
        out.push_str(&format!("  {:<34} {}\n", c.as_str(), c.definition()));
    }
    out.push_str(&format!(
        "  {:<34} every model that applies to the history's model\n",
        "all"
    ));
    out.push_str(
        "\nExamples:\n  \
         faultline check results/faultline-kv/latest/history.jsonl --model kv\n  \
         faultline check history.edn --model cas-register --initial 0 --consistency all\n  \
         faultline check etcd_000.log --model kv --consistency sequential --timeout 30 --json\n  \
         faultline check knossos/data/cas-register/good/memstress3-1.edn --model cas-register --initial 0 --nil-read any\n",
    );
    out
}

/// Runs `faultline check`; returns the exit code.
pub fn main(args: CheckArgs, quiet: bool) -> anyhow::Result<i32> {
    let started = Instant::now();
    let status = crate::cli::status::Status::new(quiet || args.json);
    let options = ReadOptions {
        model: Some(args.model.as_str().to_string()),
        nil_read: args.nil_read,
        independent: if args.independent {
            Independent::Always
        } else {
            Independent::Auto
        },
    };
    let reading = ticking(&status, "reading the history", || {
        read_path_with(&args.history, args.format, &options)
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let notes = reading_notes(&reading, args.nil_read);
    let history = reading.history;
    tracing::info!(events = history.event_count, ops = history.ops.len(), elapsed = ?started.elapsed(), "history read");
    let spec = ModelSpec {
        kind: args.model,
        initial: args.initial.clone().unwrap_or(Value::Null),
    };
    let budget = Budget {
        deadline: args.timeout.and_then(|t| Instant::now().checked_add(t)),
        memory_bytes: None,
    };
    let models = checkers::factory::expand(&args.consistency, &spec);
    let results: Vec<CheckResult> = models
        .iter()
        .map(|&c| {
            let what = format!("checking {} ({} ops)", c.as_str(), history.ops.len());
            ticking(&status, &what, || {
                checkers::factory::check(c, &spec, &history, &budget)
            })
        })
        .collect();
    let verdict = checkers::factory::overall(&results);
    let models = (results.len() > 1).then(|| models_line(&results));
    if args.json {
        let mut out = serde_json::json!({
            "history": args.history.display().to_string(),
            "verdict": verdict,
            "models": models,
            "notes": notes,
            "availability": crate::report::availability::of_history(&history),
            "checkers": results,
        });
        if verdict == checkers::Verdict::Unknown {
            if let Some(why) = checkers::factory::unjudgeable(&history) {
                out["verdict_reason"] = why.into();
            }
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for note in &notes {
            println!("note: {note}");
        }
        let width = results.iter().map(|r| r.checker.len()).max().unwrap_or(0);
        for r in &results {
            println!(
                "{:<width$} {:<8} {}",
                r.checker,
                r.verdict.as_str().to_uppercase(),
                r.summary
            );
        }
        if let Some(line) = &models {
            println!("models: {line}");
        }
        if !quiet {
            println!(
                "checked {} ops in {:.2} s",
                history.ops.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    if let Some(path) = &args.report {
        crate::report::write_check_report(path, &args.history, &history, &results)
            .with_context(|| format!("writing the report {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        let seconds = started.elapsed().as_secs_f64();
        crate::report::write_check_junit(path, &args.history, &history, &results, seconds)
            .with_context(|| format!("writing the JUnit file {}", path.display()))?;
    }
    Ok(verdict.exit_code())
}

/// The one-line answer over several models: for transactions, the strongest models the
/// history is consistent with and the models ruled out (the transactional checker's
/// lattice); otherwise the strongest models that held and every model that broke
/// (`checkers::lattice`).
fn models_line(results: &[CheckResult]) -> String {
    let txn = results.iter().find(|r| {
        r.checker
            .parse::<checkers::Consistency>()
            .is_ok_and(|c| c.is_transactional())
    });
    match txn {
        Some(r) => {
            let list = |field: &str| {
                let names: Vec<&str> = r.evidence[field]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            };
            format!(
                "consistent with: {}; ruled out: {} (and so {})",
                list("strongest_consistent"),
                list("not"),
                list("also_not")
            )
        }
        None => checkers::lattice::spectrum(results).line(),
    }
}

/// What the reading found that changes how the history is understood: split
/// independent tuples, and (in an EDN history) `ok` reads of nil and their meaning.
fn reading_notes(reading: &checkers::read::Reading, nil_read: NilRead) -> Vec<String> {
    let mut notes = Vec::new();
    if reading.history.untimed {
        notes.push(
            "the history records no times; its order is the real-time order, and times are shown as op #N (the op's :index: its position in the file, counting from 0)"
                .to_string(),
        );
    }
    if reading.independent {
        notes.push(
            "the ops carry Jepsen independent tuples [key value]; each was read as an op on that key"
                .to_string(),
        );
    }
    if reading.nil_reads > 0 && reading.format == Format::JepsenEdn {
        let n = reading.nil_reads;
        notes.push(match nil_read {
            NilRead::Value => format!(
                "{n} ok reads returned nil; they were read as \"the register held nil\" (--nil-read value). Knossos reads them as \"value unknown\": use --nil-read any for its meaning"
            ),
            NilRead::Any => format!(
                "{n} ok reads returned nil; as --nil-read any says, their value is unknown and they constrain nothing"
            ),
        });
    }
    notes
}

/// Runs `work` while the status line shows `what` and the seconds so far.
fn ticking<T: Send>(
    status: &crate::cli::status::Status,
    what: &str,
    work: impl FnOnce() -> T + Send,
) -> T {
    if !status.is_on() {
        return work();
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    let started = Instant::now();
    let out = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                status.say(&format!(
                    "{what}... {:.1} s",
                    started.elapsed().as_secs_f64()
                ));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let out = work();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        out
    });
    status.clear();
    out
}
