//! A PostgreSQL client for one logical process: each `txn` op is one SQL transaction
//! at the run's isolation level, over one connection (made on first use, and again
//! after it was lost).
//!
//! Lists live in `lists (k text PRIMARY KEY, v bigint[])`: an append is one upsert,
//! `INSERT … ON CONFLICT (k) DO UPDATE SET v = lists.v || $2`, a read one `SELECT v`
//! (no row: the empty list). Registers live in `registers (k text PRIMARY KEY, v
//! bigint)`: a write is an upsert, a read a `SELECT` (no row: `null`).
//!
//! Outcomes: a transaction PostgreSQL refused — a serialization failure (SQLSTATE
//! 40001), a deadlock (40P01) or any other error before `COMMIT` was answered — did
//! not happen (`fail`); a connection lost before `COMMIT` was sent cannot have
//! committed (PostgreSQL rolls back a dropped session's transaction: `fail`); a
//! connection lost while `COMMIT` was in flight may have committed (`info`). An
//! operation the driver gave up on (its timeout) left its transaction open on the
//! connection, so the next operation starts on a fresh connection.

use std::sync::Arc;
use std::time::Duration;

use checkers::{Value, F};
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

use crate::client::{Client, Completion, DataKind, Invocation};

/// How strongly transactions are isolated (`--isolation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// `READ COMMITTED` (PostgreSQL's default).
    ReadCommitted,
    /// `REPEATABLE READ` (snapshot isolation in PostgreSQL).
    RepeatableRead,
    /// `SERIALIZABLE` (serializable snapshot isolation).
    Serializable,
}

impl Isolation {
    /// The `--isolation` names.
    pub const NAMES: &'static [&'static str] =
        &["read-committed", "repeatable-read", "serializable"];

    /// The level `--isolation NAME` names.
    pub fn parse(name: &str) -> Option<Isolation> {
        match name {
            "read-committed" => Some(Isolation::ReadCommitted),
            "repeatable-read" => Some(Isolation::RepeatableRead),
            "serializable" => Some(Isolation::Serializable),
            _ => None,
        }
    }

    /// Its `--isolation` name.
    pub fn name(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "read-committed",
            Isolation::RepeatableRead => "repeatable-read",
            Isolation::Serializable => "serializable",
        }
    }

    fn begin(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "BEGIN ISOLATION LEVEL READ COMMITTED",
            Isolation::RepeatableRead => "BEGIN ISOLATION LEVEL REPEATABLE READ",
            Isolation::Serializable => "BEGIN ISOLATION LEVEL SERIALIZABLE",
        }
    }
}

/// The tables the clients use, made once the server is up.
pub const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS lists (k text PRIMARY KEY, v bigint[] NOT NULL);
CREATE TABLE IF NOT EXISTS registers (k text PRIMARY KEY, v bigint NOT NULL);";

/// One process's client.
pub struct PgClient {
    conninfo: String,
    isolation: Isolation,
    node: Arc<str>,
    connect_timeout: Duration,
    conn: Option<tokio_postgres::Client>,
    /// A transaction may be open on `conn` (an operation was abandoned mid-way).
    dirty: bool,
}

impl PgClient {
    /// A client of the server at 127.0.0.1:`port` (connects on first use).
    pub fn new(port: u16, isolation: Isolation, node: Arc<str>, op_timeout: Duration) -> Self {
        PgClient {
            conninfo: format!(
                "host=127.0.0.1 port={port} user={} dbname=postgres",
                super::server::USER
            ),
            isolation,
            node,
            connect_timeout: op_timeout,
            conn: None,
            dirty: false,
        }
    }

    async fn connect(&mut self) -> Result<(), String> {
        if self.dirty || self.conn.as_ref().is_some_and(|c| c.is_closed()) {
            self.conn = None;
            self.dirty = false;
        }
        if self.conn.is_none() {
            let mut config: tokio_postgres::Config =
                self.conninfo.parse().map_err(|e| format!("{e}"))?;
            config.connect_timeout(self.connect_timeout);
            let (client, connection) = config.connect(NoTls).await.map_err(|e| e.to_string())?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            self.conn = Some(client);
        }
        Ok(())
    }
}

/// One micro-op, understood.
enum Step {
    Append(String, i64),
    ReadList(String),
    Write(String, i64),
    ReadRegister(String),
}

fn key_text(k: &Value) -> String {
    match k.as_str() {
        Some(s) => s.to_string(),
        None => k.to_json().to_string(),
    }
}

fn steps(value: &Value, data: DataKind) -> Result<Vec<Step>, String> {
    let mops = value
        .as_list()
        .ok_or("a txn's value is not a list of micro-ops")?;
    mops.iter()
        .map(|m| {
            let m = m
                .as_list()
                .filter(|m| m.len() == 3)
                .ok_or("a micro-op is not [f, key, value]")?;
            let key = key_text(&m[1]);
            match (m[0].as_str(), data) {
                (Some("append"), _) => Ok(Step::Append(
                    key,
                    m[2].as_int().ok_or("an append's value is not an integer")?,
                )),
                (Some("w"), _) => Ok(Step::Write(
                    key,
                    m[2].as_int().ok_or("a write's value is not an integer")?,
                )),
                (Some("r"), DataKind::TxnRegister) => Ok(Step::ReadRegister(key)),
                (Some("r"), _) => Ok(Step::ReadList(key)),
                _ => Err(format!("unknown micro-op {}", m[0].to_json())),
            }
        })
        .collect()
}

/// How a transaction went wrong.
enum Failure {
    /// It certainly did not commit.
    Aborted(String),
    /// It may have committed.
    Unknown(String),
}

/// Whether `e` is PostgreSQL refusing the transaction (it did not commit), rather
/// than the connection failing.
fn refused(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_some()
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.code() {
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => {
            format!("serialization failure (40001): {e}")
        }
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => format!("deadlock (40P01): {e}"),
        _ => match e.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => e.to_string(),
        },
    }
}

impl PgClient {
    async fn transact(&mut self, steps: &[Step]) -> Result<Vec<Value>, Failure> {
        let isolation = self.isolation;
        self.connect()
            .await
            .map_err(|e| Failure::Aborted(format!("cannot connect: {e}")))?;
        // Until COMMIT is answered the transaction may be left open on the connection.
        self.dirty = true;
        let conn = self.conn.as_ref().expect("connected above");
        let before_commit = |e: tokio_postgres::Error| Failure::Aborted(describe(&e));
        conn.batch_execute(isolation.begin())
            .await
            .map_err(before_commit)?;
        let mut read = Vec::with_capacity(steps.len());
        for step in steps {
            let r = match step {
                Step::Append(k, v) => conn
                    .execute(
                        "INSERT INTO lists AS t (k, v) VALUES ($1, ARRAY[$2::bigint]) \
                         ON CONFLICT (k) DO UPDATE SET v = t.v || $2::bigint",
                        &[k, v],
                    )
                    .await
                    .map(|_| Value::Int(*v)),
                Step::Write(k, v) => conn
                    .execute(
                        "INSERT INTO registers AS t (k, v) VALUES ($1, $2) \
                         ON CONFLICT (k) DO UPDATE SET v = $2",
                        &[k, v],
                    )
                    .await
                    .map(|_| Value::Int(*v)),
                Step::ReadList(k) => conn
                    .query_opt("SELECT v FROM lists WHERE k = $1", &[k])
                    .await
                    .map(|row| {
                        let v: Vec<i64> = row.map(|r| r.get(0)).unwrap_or_default();
                        Value::List(v.into_iter().map(Value::Int).collect())
                    }),
                Step::ReadRegister(k) => conn
                    .query_opt("SELECT v FROM registers WHERE k = $1", &[k])
                    .await
                    .map(|row| row.map_or(Value::Null, |r| Value::Int(r.get(0)))),
            };
            match r {
                Ok(v) => read.push(v),
                Err(e) => {
                    if conn.batch_execute("ROLLBACK").await.is_ok() {
                        self.dirty = false;
                    }
                    return Err(before_commit(e));
                }
            }
        }
        match conn.batch_execute("COMMIT").await {
            Ok(()) => {
                self.dirty = false;
                Ok(read)
            }
            Err(e) if refused(&e) => {
                self.dirty = false;
                Err(Failure::Aborted(describe(&e)))
            }
            Err(e) => Err(Failure::Unknown(format!(
                "connection lost during COMMIT: {e}"
            ))),
        }
    }
}

/// The completed txn: the invocation's micro-ops with what each read returned.
fn completed(value: &Value, results: Vec<Value>) -> Value {
    let mops = value.as_list().unwrap_or(&[]);
    Value::List(
        mops.iter()
            .zip(results)
            .map(|(m, r)| {
                let mut m = m.as_list().map(<[Value]>::to_vec).unwrap_or_default();
                if m.len() == 3 {
                    m[2] = r;
                }
                Value::List(m)
            })
            .collect(),
    )
}

#[async_trait::async_trait]
impl Client for PgClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let node = self.node.clone();
        if op.f != F::Txn {
            return Completion::unsupported(
                op.value.clone(),
                format!(
                    "the postgres client runs transactions (list-append, rw-register), not {}",
                    op.f
                ),
            )
            .on(node);
        }
        let steps = match steps(&op.value, op.data) {
            Ok(s) => s,
            Err(e) => return Completion::unsupported(op.value.clone(), e).on(node),
        };
        match self.transact(&steps).await {
            Ok(results) => Completion::ok(completed(&op.value, results)).on(node),
            Err(Failure::Aborted(e)) => Completion::fail(op.value.clone(), e).on(node),
            Err(Failure::Unknown(e)) => Completion::info(op.value.clone(), e).on(node),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolation_names_round_trip() {
        for n in Isolation::NAMES {
            assert_eq!(Isolation::parse(n).unwrap().name(), *n);
        }
        assert!(Isolation::parse("snapshot").is_none());
    }

    #[test]
    fn reads_are_filled_in_and_writes_kept() {
        let v = Value::List(vec![
            Value::List(vec![Value::str("append"), Value::str("k1"), Value::Int(3)]),
            Value::List(vec![Value::str("r"), Value::str("k1"), Value::Null]),
        ]);
        let done = completed(&v, vec![Value::Int(3), Value::List(vec![Value::Int(3)])]);
        assert_eq!(
            done.to_json(),
            serde_json::json!([["append", "k1", 3], ["r", "k1", [3]]])
        );
        assert!(matches!(
            steps(&v, DataKind::List).unwrap()[1],
            Step::ReadList(_)
        ));
        assert!(matches!(
            steps(&v, DataKind::TxnRegister).unwrap()[1],
            Step::ReadRegister(_)
        ));
        assert!(steps(&Value::Int(1), DataKind::List).is_err());
    }
}
