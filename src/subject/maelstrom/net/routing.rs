//! Routing: what happens to a message a node wrote on its stdout — to another node
//! (unless a partition blocks the pair), to a waiting client, or to a Maelstrom service
//! faultline runs itself — and what is recorded when a node's process ends.

use super::*;

impl Inner {
    pub(super) fn note(&self, f: &str, value: Json) {
        if let Some(r) = lock(&self.recorder).as_ref() {
            r.nemesis(f, &checkers::Value::from_json(&value));
        }
    }

    /// Node `name`'s `generation`-th process (pid `pid`) closed its stdout: it is
    /// unreachable from now on, and (unless the run is stopping) the exit is recorded.
    pub(in crate::subject::maelstrom) fn exited(&self, name: &str, generation: u64, pid: u32) {
        {
            let mut inboxes = lock(&self.inboxes);
            if inboxes
                .get(name)
                .is_some_and(|i| i.generation == generation)
            {
                inboxes.remove(name);
            }
        }
        self.stats.node_exits.fetch_add(1, Ordering::Relaxed);
        if !self.stopping.load(Ordering::SeqCst) {
            tracing::info!(node = %name, pid, "maelstrom node exited");
            self.note("node-exited", json!({"node": name, "pid": pid}));
        }
    }

    /// Writes `m` (sent by process `from` at `sent`) to node `dest`'s stdin, counting
    /// and journaling it delivered or (not reachable) dropped.
    fn deliver_to_node(
        &self,
        from: &str,
        sent: Option<u64>,
        dest: &str,
        m: &Message,
        client_side: bool,
    ) {
        let counts = self.stats.of(client_side);
        let ok = lock(&self.inboxes)
            .get(dest)
            .is_some_and(|i| i.tx.send(m.to_line()).is_ok());
        // A service's reply reaches a node still being initialized.
        let ok = ok
            || (SERVICES.contains(&m.src.as_str())
                && lock(&self.handshaking)
                    .get(dest)
                    .is_some_and(|i| i.tx.send(m.to_line()).is_ok()));
        let c = if ok {
            &counts.delivered
        } else {
            &counts.dropped
        };
        c.fetch_add(1, Ordering::Relaxed);
        let received = if ok { self.journal.now() } else { None };
        self.journal.record(from, dest, &m.body, sent, received);
    }

    /// Hands `m` (sent by process `from` at `sent`) to the client waiting for it,
    /// counting and journaling it delivered or (nobody waits any more) dropped.
    fn deliver_to_client(&self, from: &str, sent: Option<u64>, m: Message) {
        let waiter = m
            .in_reply_to()
            .and_then(|id| lock(&self.pending).remove(&(m.dest.clone(), id)));
        let (to, body) = (m.dest.clone(), m.body.clone());
        let ok = matches!(waiter.map(|w| w.send(m)), Some(Ok(())));
        let c = if ok {
            &self.stats.client.delivered
        } else {
            &self.stats.client.dropped
        };
        c.fetch_add(1, Ordering::Relaxed);
        let received = if ok { self.journal.now() } else { None };
        self.journal.record(from, &to, &body, sent, received);
    }

    /// Routes one message node `from`'s process sent.
    pub(in crate::subject::maelstrom) fn route(self: &Arc<Self>, from: &str, m: Message) {
        let sent = self.journal.now();
        let known_src = self.names.contains(&m.src) || is_client(&m.src);
        if !known_src {
            self.stats.bad_src.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%from, src = %m.src, "a message whose src is neither a node nor a client: dropped");
            return;
        }
        let client_side = is_client(&m.src) || is_client(&m.dest);
        let counts = self.stats.of(client_side);
        counts.sent.fetch_add(1, Ordering::Relaxed);
        if self.names.contains(&m.dest) {
            let cut = lock(&self.blocked).contains(&(from.to_string(), m.dest.clone()));
            let lost = self.config.loss > 0.0 && rand::thread_rng().gen_bool(self.config.loss);
            if cut || lost {
                counts.dropped.fetch_add(1, Ordering::Relaxed);
                self.journal.record(from, &m.dest, &m.body, sent, None);
                return;
            }
            if self.config.latency.is_zero() {
                self.deliver_to_node(from, sent, &m.dest, &m, client_side);
            } else {
                let me = self.clone();
                let latency = self
                    .config
                    .latency_dist
                    .sample(self.config.latency, &mut rand::thread_rng());
                let from = from.to_string();
                tokio::spawn(async move {
                    tokio::time::sleep(latency).await;
                    me.deliver_to_node(&from, sent, &m.dest, &m, client_side);
                });
            }
        } else if SERVICES.contains(&m.dest.as_str()) {
            counts.delivered.fetch_add(1, Ordering::Relaxed);
            self.journal.record(from, &m.dest, &m.body, sent, sent);
            self.stats.service_requests.fetch_add(1, Ordering::Relaxed);
            let body = lock(&self.services)
                .entry(m.dest.clone())
                .or_insert_with(|| KvService::new(&m.dest, self.config.services))
                .handle(&m);
            let reply = m.reply(body);
            let client_side = is_client(&reply.dest);
            self.stats
                .of(client_side)
                .sent
                .fetch_add(1, Ordering::Relaxed);
            let (service, now) = (m.dest.clone(), self.journal.now());
            if client_side {
                self.deliver_to_client(&service, now, reply);
            } else {
                self.deliver_to_node(&service, now, &reply.dest, &reply, false);
            }
        } else if is_client(&m.dest) {
            self.deliver_to_client(from, sent, m);
        } else {
            counts.dropped.fetch_add(1, Ordering::Relaxed);
            self.journal.record(from, &m.dest, &m.body, sent, None);
            tracing::debug!(%from, dest = %m.dest, "a message to an unknown destination");
        }
    }
}
