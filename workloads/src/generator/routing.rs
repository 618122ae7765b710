//! Routing requests by slot: [`each_slot`] (a generator of its own per slot),
//! [`on_slots`] (a generator for some slots only), [`any`] (the first of several
//! that has an operation: e.g. clients on some slots, a nemesis on another) and
//! [`on_nemesis`] (clients on the first slots, the nemesis on the one after them:
//! Jepsen's `(gen/nemesis ...)`).

use super::{earliest, Completion, Context, Generator, Next, SlotSet};

/// A generator of its own for every slot, made by `make(slot)` when the slot first
/// asks; each sees only its slot (it serves that slot alone) and its completions.
pub fn each_slot<G, F>(make: F) -> EachSlot<G, F>
where
    G: Generator,
    F: FnMut(usize) -> G + Send,
{
    EachSlot {
        make,
        gens: Vec::new(),
    }
}

/// See [`each_slot`].
pub struct EachSlot<G, F> {
    make: F,
    gens: Vec<Option<(G, SlotSet)>>,
}

impl<G: Generator + 'static, F: FnMut(usize) -> G + Send> Generator for EachSlot<G, F> {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        let slot = ctx.slot;
        if self.gens.len() <= slot {
            self.gens.resize_with(slot + 1, || None);
        }
        let make = &mut self.make;
        let (g, only) = self.gens[slot].get_or_insert_with(|| (make(slot), SlotSet::one(slot)));
        g.op(&ctx.serving_only(only))
    }

    fn update(&mut self, ctx: &Context<'_>, completion: &Completion) {
        if let Some(Some((g, only))) = self.gens.get_mut(completion.slot) {
            g.update(&ctx.serving_only(only), completion);
        }
    }

    fn split(&mut self, slots: usize) -> Option<Vec<Box<dyn Generator>>> {
        let mut gens = std::mem::take(&mut self.gens);
        gens.resize_with(slots, || None);
        let make = &mut self.make;
        Some(
            gens.into_iter()
                .take(slots)
                .enumerate()
                .map(|(slot, g)| {
                    let g = g.map_or_else(|| make(slot), |(g, _)| g);
                    Box::new(g) as Box<dyn Generator>
                })
                .collect(),
        )
    }
}

/// `gen` for the slots `which` keeps (it serves them alone); done for every other.
pub fn on_slots<G, W>(which: W, gen: G) -> OnSlots<G, W>
where
    G: Generator,
    W: Fn(usize) -> bool + Send,
{
    OnSlots {
        which,
        serving: None,
        gen,
    }
}

/// See [`on_slots`].
pub struct OnSlots<G, W> {
    which: W,
    serving: Option<SlotSet>,
    gen: G,
}

impl<G: Generator, W: Fn(usize) -> bool + Send> OnSlots<G, W> {
    fn serving(&mut self, all: &SlotSet) -> &SlotSet {
        let which = &self.which;
        self.serving.get_or_insert_with(|| {
            let n = all.iter().last().map_or(0, |s| s + 1);
            SlotSet::from_fn(n, |s| all.contains(s) && which(s))
        })
    }
}

impl<G: Generator, W: Fn(usize) -> bool + Send> Generator for OnSlots<G, W> {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        if !(self.which)(ctx.slot) {
            return Next::Done;
        }
        let serving = self.serving(ctx.serving()).clone();
        self.gen.op(&ctx.serving_only(&serving))
    }

    fn update(&mut self, ctx: &Context<'_>, completion: &Completion) {
        if (self.which)(completion.slot) {
            let serving = self.serving(ctx.serving()).clone();
            self.gen.update(&ctx.serving_only(&serving), completion);
        }
    }
}

/// Asks `gens` in order and gives the first operation any has; pending (until the
/// earliest time any asks for) if none has one but some are not done; done when all
/// are done for the asking slot. A completion goes to the generator that gave it.
pub fn any(gens: Vec<Box<dyn Generator>>) -> Any {
    Any {
        gens,
        issued: Vec::new(),
    }
}

/// See [`any`].
pub struct Any {
    gens: Vec<Box<dyn Generator>>,
    issued: Vec<Option<usize>>,
}

impl Generator for Any {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        let mut pending: Option<Option<std::time::Duration>> = None;
        for (i, g) in self.gens.iter_mut().enumerate() {
            match g.op(ctx) {
                Next::Op(op) => {
                    if self.issued.len() <= ctx.slot {
                        self.issued.resize(ctx.slot + 1, None);
                    }
                    self.issued[ctx.slot] = Some(i);
                    return Next::Op(op);
                }
                Next::Pending { until } => {
                    pending = Some(match pending {
                        None => until,
                        Some(p) => match (p, until) {
                            (Some(_), Some(_)) => earliest(p, until),
                            _ => None,
                        },
                    });
                }
                Next::Done => {}
            }
        }
        match pending {
            Some(until) => Next::Pending { until },
            None => Next::Done,
        }
    }

    fn update(&mut self, ctx: &Context<'_>, completion: &Completion) {
        if let Some(i) = self.issued.get_mut(completion.slot).and_then(Option::take) {
            self.gens[i].update(ctx, completion);
        }
    }
}

/// `clients` on slots `0..n`, `nemesis` on slot `n` (it serves that slot alone),
/// done for any other slot; each is told only its own completions. It splits
/// ([`Generator::split`]) when `clients` does: the client parts, then the nemesis.
pub fn on_nemesis(n: usize, clients: Box<dyn Generator>, nemesis: Box<dyn Generator>) -> OnNemesis {
    OnNemesis {
        n,
        clients,
        nemesis,
        client_slots: None,
        nemesis_slot: SlotSet::one(n),
    }
}

/// See [`on_nemesis`].
pub struct OnNemesis {
    n: usize,
    clients: Box<dyn Generator>,
    nemesis: Box<dyn Generator>,
    client_slots: Option<SlotSet>,
    nemesis_slot: SlotSet,
}

impl OnNemesis {
    /// The client slots among those `all` serves.
    fn client_slots(&mut self, all: &SlotSet) -> &SlotSet {
        let n = self.n;
        self.client_slots
            .get_or_insert_with(|| SlotSet::from_fn(n, |s| all.contains(s)))
    }
}

/// A generator that is done: what [`OnNemesis::split`] leaves behind.
struct Finished;

impl Generator for Finished {
    fn op(&mut self, _ctx: &Context<'_>) -> Next {
        Next::Done
    }
}

impl Generator for OnNemesis {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        match ctx.slot {
            s if s < self.n => {
                let serving = self.client_slots(ctx.serving()).clone();
                self.clients.op(&ctx.serving_only(&serving))
            }
            s if s == self.n => self.nemesis.op(&ctx.serving_only(&self.nemesis_slot)),
            _ => Next::Done,
        }
    }

    fn update(&mut self, ctx: &Context<'_>, completion: &Completion) {
        match completion.slot {
            s if s < self.n => {
                let serving = self.client_slots(ctx.serving()).clone();
                self.clients.update(&ctx.serving_only(&serving), completion);
            }
            s if s == self.n => self
                .nemesis
                .update(&ctx.serving_only(&self.nemesis_slot), completion),
            _ => {}
        }
    }

    fn split(&mut self, slots: usize) -> Option<Vec<Box<dyn Generator>>> {
        if slots != self.n + 1 {
            return None;
        }
        let mut parts = self.clients.split(self.n)?;
        parts.push(std::mem::replace(&mut self.nemesis, Box::new(Finished)));
        self.clients = Box::new(Finished);
        Some(parts)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use checkers::{Value, F};

    use super::*;
    use crate::generator::testing::{all_ok, simulate};
    use crate::generator::{limit, once, phases, stream, time_limit};
    use crate::OpSpec;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn of(f: &'static str) -> impl Generator {
        stream(move || OpSpec {
            f: F::parse(f),
            key: None,
            value: Value::Null,
        })
    }

    #[test]
    fn on_slots_routes_client_and_nemesis_operations_to_their_slots() {
        let mut g = time_limit(
            MS(200),
            any(vec![
                Box::new(on_slots(|s| s < 3, of("read"))),
                Box::new(on_slots(
                    |s| s == 3,
                    crate::generator::stagger(MS(50), 1, of("kill")),
                )),
            ]),
        );
        let ops = simulate(&mut g, 4, MS(5), MS(10_000), all_ok);
        assert!(ops
            .iter()
            .all(|o| (o.op.f.as_str() == "kill") == (o.slot == 3)));
        let kills = ops.iter().filter(|o| o.slot == 3).count();
        assert!(
            (1..=8).contains(&kills),
            "{kills} kills in 200 ms at ~50 ms"
        );
        assert!(ops.iter().filter(|o| o.slot < 3).count() > 100);
    }

    #[test]
    fn on_nemesis_gives_the_nemesis_its_own_slot_and_its_own_completions() {
        use std::sync::{Arc, Mutex};
        /// A kill every 40 ms; remembers the completions it is told.
        struct Kills(Arc<Mutex<Vec<usize>>>, Duration);
        impl Generator for Kills {
            fn op(&mut self, ctx: &Context<'_>) -> Next {
                assert_eq!(ctx.serving().iter().collect::<Vec<_>>(), [ctx.slot]);
                if ctx.time < self.1 {
                    return Next::pending_until(self.1);
                }
                self.1 = ctx.time + MS(40);
                Next::Op(OpSpec {
                    f: F::parse("start-kill"),
                    key: None,
                    value: Value::Null,
                })
            }
            fn update(&mut self, _ctx: &Context<'_>, c: &Completion) {
                self.0.lock().unwrap().push(c.slot);
            }
        }
        let told = Arc::new(Mutex::new(Vec::new()));
        let mut g = time_limit(
            MS(200),
            on_nemesis(
                3,
                Box::new(each_slot(|_| of("read"))),
                Box::new(Kills(told.clone(), MS(40))),
            ),
        );
        let ops = simulate(&mut g, 4, MS(5), MS(10_000), all_ok);
        assert!(ops
            .iter()
            .all(|o| (o.op.f.as_str() == "start-kill") == (o.slot == 3)));
        let kills = ops.iter().filter(|o| o.slot == 3).count();
        assert_eq!(kills, 4, "at 40, 80, 120 and 160 ms");
        assert_eq!(*told.lock().unwrap(), vec![3; kills]);
        assert!(ops.iter().filter(|o| o.slot < 3).count() > 100);
        // Splits into the clients' parts and the nemesis, when the clients split.
        let mut whole = on_nemesis(
            2,
            Box::new(each_slot(|_| of("read"))),
            Box::new(once(OpSpec {
                f: F::parse("start-kill"),
                key: None,
                value: Value::Null,
            })),
        );
        let mut parts = whole.split(3).unwrap();
        assert_eq!(parts.len(), 3);
        use crate::generator::testing::ops_of;
        assert_eq!(ops_of(&mut *parts[2], 2, 3, 5).len(), 1);
        assert_eq!(ops_of(&mut *parts[0], 0, 3, 5).len(), 5);
        assert!(on_nemesis(2, Box::new(of("read")), Box::new(of("kill")))
            .split(3)
            .is_none());
    }

    #[test]
    fn each_slot_splits_into_the_generators_it_would_have_asked() {
        use crate::generator::testing::ops_of;
        let counting = |slot: usize| {
            let mut n = 0;
            stream(move || {
                n += 1;
                OpSpec {
                    f: F::Read,
                    key: None,
                    value: Value::Int((slot * 100 + n) as i64),
                }
            })
        };
        let mut whole = each_slot(counting);
        let mut parts = each_slot(counting).split(3).unwrap();
        assert_eq!(parts.len(), 3);
        for (slot, part) in parts.iter_mut().enumerate() {
            assert_eq!(
                ops_of(&mut **part, slot, 3, 5),
                ops_of(&mut whole, slot, 3, 5)
            );
        }
        assert!(
            any(vec![]).split(3).is_none(),
            "shared generators do not split"
        );
    }

    #[test]
    fn each_slot_gives_every_slot_its_own_generator_with_its_own_phases() {
        // Phases inside each_slot wait for their own slot only.
        let mut g = each_slot(|slot| {
            phases(vec![
                Box::new(limit(slot + 1, of("write"))),
                Box::new(limit(1, of("read"))),
            ])
        });
        let ops = simulate(&mut g, 3, MS(5), MS(10_000), all_ok);
        for slot in 0..3 {
            let fs: Vec<&str> = ops
                .iter()
                .filter(|o| o.slot == slot)
                .map(|o| o.op.f.as_str())
                .collect();
            let mut want = vec!["write"; slot + 1];
            want.push("read");
            assert_eq!(fs, want, "slot {slot}");
        }
        // Slot 0 read before slot 2 finished writing: no barrier across slots.
        let read0 = ops
            .iter()
            .find(|o| o.slot == 0 && o.op.f.as_str() == "read")
            .unwrap();
        let last2 = ops.iter().filter(|o| o.slot == 2).nth(2).unwrap();
        assert!(read0.invoked < last2.invoked);
    }
}
