//! Stepping through the legal order a checker found before it got stuck, as
//! Porcupine's visualization does, without a script (the page's policy forbids
//! them): one hidden radio button per step, labels as the "previous" / "next" /
//! "first" / "last" buttons, and a few generated CSS rules per step that show that
//! step's frame (the op placed, the state after it), mark its row in the list of the
//! order, and outline its bar in the drawing. The last frame is the op that cannot
//! be placed, with the state it could not follow and why.
//!
//! [`Steps::of`] builds the frames from a window's typed evidence; the drawing
//! ([`super::window`]) sits between [`Steps::inputs`] and [`Steps::panel`] so the
//! rules (`#input:checked ~ svg .step-k`) reach it.

use std::collections::HashMap;

use checkers::evidence::Window;
use checkers::{History, Op};
use maud::{html, Markup, PreEscaped};

use super::view::short;

/// Most steps a stepper shows (the last ones before the culprit).
pub const MAX_FRAMES: usize = 120;

/// One frame: the op placed (or, last, the op that cannot be placed) and the state.
struct Frame<'a> {
    /// The op.
    op: Option<&'a Op>,
    /// Its invoke index (also when the op is not in the history).
    index: u64,
    /// The state after it (for the culprit: the state it could not follow).
    state: Option<String>,
    /// Its position in the whole legal order, from 1 (`None`: the culprit).
    position: Option<u64>,
}

/// The frames of one window's stepper.
pub struct Steps<'a> {
    uid: usize,
    frames: Vec<Frame<'a>>,
    /// Steps of the order before the first frame.
    earlier: u64,
    /// The state before the first frame.
    start: Option<String>,
    /// Steps in the whole order.
    total: usize,
    /// Why the culprit cannot be placed.
    why: String,
}

/// What a step does, in a few words: "write 3", "read → 2", "cas [1,2]".
pub fn op_words(op: &Op) -> String {
    let f = op.f.as_str();
    if f == "read" {
        format!("read → {}", op.value)
    } else if op.invoke_value.is_null() {
        format!("{f} {}", op.value)
    } else {
        format!("{f} {}", op.invoke_value)
    }
}

impl<'a> Steps<'a> {
    /// The stepper of window `w` (`uid` unique in the page) through the steps of
    /// its order whose ops are `drawn`, or `None` when the window has no culprit.
    pub fn of(history: &'a History, w: &Window, drawn: &[&Op], uid: usize) -> Option<Steps<'a>> {
        let find = |i: u64| {
            history
                .ops
                .binary_search_by_key(&i, |o| o.invoke_index)
                .ok()
                .map(|n| &history.ops[n])
        };
        let states: HashMap<u64, &str> = w
            .linearization
            .iter()
            .flat_map(|l| &l.steps)
            .map(|s| (s.op, s.state.as_str()))
            .collect();
        let shown: std::collections::HashSet<u64> = drawn.iter().map(|o| o.invoke_index).collect();
        let mut steps: Vec<(usize, u64)> = w
            .prefix
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, i)| shown.contains(i))
            .collect();
        let cut = steps.len().saturating_sub(MAX_FRAMES);
        steps.drain(..cut);
        let earlier = steps.first().map_or(w.prefix.len(), |s| s.0);
        let mut frames: Vec<Frame<'a>> = steps
            .iter()
            .map(|&(n, i)| Frame {
                op: find(i),
                index: i,
                state: states.get(&i).map(|s| s.to_string()),
                position: Some((n + 1) as u64),
            })
            .collect();
        let culprit = w.culprit?;
        let end = w.linearization.as_ref().map(|l| l.end.clone());
        let start = match earlier {
            0 => w.linearization.as_ref().map(|l| l.start.clone()),
            _ => states.get(&w.prefix[earlier - 1]).map(|s| s.to_string()),
        };
        frames.push(Frame {
            op: find(culprit),
            index: culprit,
            state: end,
            position: None,
        });
        Some(Steps {
            uid,
            frames,
            earlier: earlier as u64,
            start,
            total: w.prefix.len(),
            why: w.explanation.clone(),
        })
    }

    /// The CSS class of the bar of op `index` when it is a step ("step-3").
    pub fn class_of(&self, index: u64) -> Option<String> {
        self.frames
            .iter()
            .position(|f| f.index == index)
            .map(|k| format!("step-{}", k + 1))
    }

    fn id(&self, k: usize) -> String {
        format!("st-{}-{k}", self.uid)
    }

    /// The hidden radio buttons (frame 0: before the first step) and the rules that
    /// tie each to its frame, row and bar; they must precede the drawing.
    pub fn inputs(&self) -> Markup {
        let n = self.frames.len();
        let mut css = String::new();
        for k in 0..=n {
            let id = self.id(k);
            css.push_str(&format!(
                "#{id}:checked~.frames .frame-{k}{{display:block}}#{id}:checked~.order .row-{k}{{background:#fff8c5}}"
            ));
            if k > 0 {
                css.push_str(&format!(
                    "#{id}:checked~svg .step-{k} rect{{stroke:#bf8700;stroke-width:4}}"
                ));
            }
        }
        let name = format!("st-{}", self.uid);
        html! {
            style { (PreEscaped(css)) }
            @for k in 0..=n {
                input type="radio" class="step-input" name=(name) id=(self.id(k)) checked[k == 0] aria-label={ "step " (k) };
            }
        }
    }

    fn button(&self, k: Option<usize>, class: &str, words: &str) -> Markup {
        html! {
            @match k {
                Some(k) => label class={ "step-button " (class) } for=(self.id(k)) { (words) },
                None => span class={ "step-button disabled " (class) } { (words) },
            }
        }
    }

    /// The frames with their buttons, and the order as a list; after the drawing.
    pub fn panel(&self) -> Markup {
        let n = self.frames.len();
        let state = |s: &Option<String>| short(s.as_deref().unwrap_or("—"), 200);
        let words = |f: &Frame<'_>| {
            f.op.map_or_else(
                || format!("op #{} (not in the history)", f.index),
                |o| format!("{} (process {})", op_words(o), o.process),
            )
        };
        html! {
            div class="frames" {
                @for k in 0..=n {
                    div class={ "frame frame-" (k) } {
                        div class="step-buttons" {
                            (self.button((k > 0).then_some(0), "first", "⏮ first"))
                            (self.button(k.checked_sub(1), "prev", "◀ previous"))
                            span class="step-count" { "step " (k) " of " (n) }
                            (self.button((k < n).then_some(k + 1), "next", "next ▶"))
                            (self.button((k < n).then_some(n), "last", "last ⏭"))
                        }
                        @if k == 0 {
                            p class="step-state" { "Before the first step" @if self.earlier > 0 { " shown (after " (self.earlier) " earlier steps of the order, outside the drawing)" } ": the state is " code class="state" { (state(&self.start)) } "." }
                        } @else if k < n {
                            @let f = &self.frames[k - 1];
                            p class="step-state" { "Step " (f.position.unwrap_or(0)) " of the legal order: " strong { (words(f)) } " — the state after it is " code class="state" { (state(&f.state)) } "." }
                        } @else {
                            @let f = &self.frames[k - 1];
                            p class="step-state stuck" { "After " (self.total) " steps the state is " code class="state" { (state(&f.state)) } ", and " strong { (words(f)) } " cannot be placed: " (self.why) }
                        }
                    }
                }
            }
            details class="order" open {
                summary { "The legal order found, step by step (the state after each op; the number is its place in the whole order)" }
                ul {
                    @for (k, f) in self.frames.iter().enumerate() {
                        @if f.position.is_some() {
                            li class={ "row-" (k + 1) } { "#" (f.position.unwrap_or(0)) ": " (words(f)) " → " code { (state(&f.state)) } }
                        } @else {
                            li class={ "row-" (k + 1) " stuck" } { "✗ " (words(f)) ": cannot be placed" }
                        }
                    }
                }
            }
        }
    }
}
