//! JUnit XML for CI: one test suite per run, one test case per checker; a checker
//! that found an anomaly is a failure, one that could not decide is an error, each
//! with the plain-words summary as its message.

use checkers::{CheckResult, Verdict};

/// Escapes text for XML attributes and content.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}

/// The JUnit XML of a run named `name` with `results`, taking `seconds`.
pub fn render(name: &str, results: &[CheckResult], seconds: f64) -> String {
    let failures = results
        .iter()
        .filter(|r| r.verdict == Verdict::Invalid)
        .count();
    let errors = results
        .iter()
        .filter(|r| r.verdict == Verdict::Unknown)
        .count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"faultline\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{seconds:.3}\">\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{seconds:.3}\">\n",
        results.len(),
        esc(name),
        results.len()
    ));
    for r in results {
        x.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{} ({})\">\n",
            esc(name),
            esc(&r.checker),
            esc(&r.model)
        ));
        match r.verdict {
            Verdict::Valid => {}
            Verdict::Invalid => x.push_str(&format!(
                "      <failure message=\"{}\" type=\"invalid\">{}</failure>\n",
                esc(&r.summary),
                esc(&r.summary)
            )),
            Verdict::Unknown => x.push_str(&format!(
                "      <error message=\"{}\" type=\"unknown\">{}</error>\n",
                esc(&r.summary),
                esc(&r.summary)
            )),
        }
        x.push_str("    </testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
