//! JUnit XML for CI: one test suite per run, one test case per checker. A checker
//! that found an anomaly is a `<failure>`, one that could not decide an `<error>`;
//! the message is the checker's verdict in plain words (see [`super::headline`]),
//! the body adds the checker's own summary and where the report is. The suite's
//! properties carry the store, workload, faults, seed and the re-run command.
//!
//! Written with quick-xml, which escapes every attribute and text; characters XML
//! 1.0 cannot carry at all (most control characters) are dropped first.

use checkers::{CheckResult, Verdict};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::headline::Headline;

/// What a JUnit file says about a run.
pub struct Suite<'a> {
    /// The test's name.
    pub name: &'a str,
    /// How long the run took, s.
    pub seconds: f64,
    /// When it started (RFC 3339), if known.
    pub timestamp: &'a str,
    /// Every checker's result.
    pub results: &'a [CheckResult],
    /// Every checker's verdict in words (same order as `results`).
    pub headlines: &'a [Headline],
    /// Properties of the suite (store, workload, seed, command, report, ...).
    pub properties: Vec<(&'static str, String)>,
}

/// Drops the characters XML 1.0 cannot hold.
fn xml_text(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect()
}

/// The JUnit XML of a suite.
pub fn render(s: &Suite) -> String {
    let count = |v: Verdict| {
        s.results
            .iter()
            .filter(|r| r.verdict == v)
            .count()
            .to_string()
    };
    let (tests, failures, errors) = (
        s.results.len().to_string(),
        count(Verdict::Invalid),
        count(Verdict::Unknown),
    );
    let time = format!("{:.3}", s.seconds);
    let name = xml_text(s.name);
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let result: quick_xml::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("testsuites")
            .with_attributes([
                ("name", "faultline"),
                ("tests", tests.as_str()),
                ("failures", failures.as_str()),
                ("errors", errors.as_str()),
                ("time", time.as_str()),
            ])
            .write_inner_content::<_, quick_xml::Error>(|w| {
                let ts = xml_text(s.timestamp);
                let mut suite = w.create_element("testsuite").with_attributes([
                    ("name", name.as_str()),
                    ("tests", tests.as_str()),
                    ("failures", failures.as_str()),
                    ("errors", errors.as_str()),
                    ("skipped", "0"),
                    ("time", time.as_str()),
                ]);
                if !ts.is_empty() {
                    suite = suite.with_attribute(("timestamp", ts.as_str()));
                }
                suite.write_inner_content::<_, quick_xml::Error>(|w| {
                    w.create_element("properties")
                        .write_inner_content::<_, quick_xml::Error>(|w| {
                            for (k, v) in &s.properties {
                                let v = xml_text(v);
                                w.create_element("property")
                                    .with_attributes([("name", *k), ("value", v.as_str())])
                                    .write_empty()?;
                            }
                            Ok(())
                        })?;
                    for (r, h) in s.results.iter().zip(s.headlines) {
                        case(w, &name, r, h)?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        Ok(())
    })();
    result.expect("writing XML to memory cannot fail");
    let mut out = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
    out.push('\n');
    out
}

fn case(
    w: &mut Writer<Vec<u8>>,
    suite: &str,
    r: &CheckResult,
    h: &Headline,
) -> quick_xml::Result<()> {
    let name = xml_text(&format!("{} ({})", r.checker, r.model));
    let class = format!("faultline.{suite}");
    let el = w.create_element("testcase").with_attributes([
        ("classname", class.as_str()),
        ("name", name.as_str()),
        ("time", "0"),
    ]);
    let (tag, kind) = match r.verdict {
        Verdict::Valid => {
            el.write_empty()?;
            return Ok(());
        }
        Verdict::Invalid => ("failure", "invalid"),
        Verdict::Unknown => ("error", "unknown"),
    };
    let message = xml_text(&h.text);
    let body = xml_text(&format!(
        "{}\n\nIn the checker's words: {}",
        h.text, r.summary
    ));
    el.write_inner_content::<_, quick_xml::Error>(|w| {
        w.create_element(tag)
            .with_attributes([("message", message.as_str()), ("type", kind)])
            .write_text_content(BytesText::new(&body))?;
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event as E;

    fn result(checker: &str, verdict: Verdict) -> CheckResult {
        CheckResult {
            checker: checker.into(),
            model: "kv".into(),
            verdict,
            summary: "a <b>\"quoted\"</b> & \u{1} summary".into(),
            evidence: serde_json::Value::Null,
        }
    }

    fn headline(r: &CheckResult) -> Headline {
        Headline {
            checker: r.checker.clone(),
            verdict: r.verdict,
            text: format!("not {} <&>", r.checker),
            first_anomaly_s: None,
            during: None,
            affected: None,
        }
    }

    #[test]
    fn junit_parses_back_with_one_case_per_checker_and_the_words_as_message() {
        let results = [
            result("linearizable", Verdict::Invalid),
            result("sequential", Verdict::Unknown),
            result("eventual", Verdict::Valid),
        ];
        let headlines: Vec<Headline> = results.iter().map(headline).collect();
        let xml = render(&Suite {
            name: "leaderless-kv \"x\"",
            seconds: 1.5,
            timestamp: "2026-01-01T00:00:00Z",
            results: &results,
            headlines: &headlines,
            properties: vec![("seed", "7".into())],
        });
        let mut reader = quick_xml::Reader::from_str(&xml);
        let (mut cases, mut messages) = (0, Vec::new());
        loop {
            match reader.read_event().expect("well-formed XML") {
                E::Eof => break,
                E::Start(e) | E::Empty(e) => {
                    if e.name().as_ref() == b"testcase" {
                        cases += 1;
                    }
                    if matches!(e.name().as_ref(), b"failure" | b"error") {
                        let m = e.try_get_attribute("message").unwrap().unwrap();
                        messages.push(m.unescape_value().unwrap().into_owned());
                    }
                }
                _ => {}
            }
        }
        assert_eq!(cases, 3);
        assert_eq!(messages, ["not linearizable <&>", "not sequential <&>"]);
        assert!(xml.contains("failures=\"1\"") && xml.contains("errors=\"1\""));
    }
}
