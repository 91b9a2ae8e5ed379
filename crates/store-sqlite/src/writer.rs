//! The one writing connection, on a thread of its own, committing in groups.
//!
//! Every write is a job sent to this thread. The thread takes the jobs waiting (up to
//! [`MAX_GROUP`]), opens one `IMMEDIATE` transaction, runs each job inside a savepoint of
//! its own (a job that fails is rolled back alone and gets its error), commits once, and
//! only then answers each job. A job that is alone in its group needs no savepoint: if it
//! fails, the transaction is rolled back (a savepoint makes SQLite copy every page the job
//! changes into a sub-journal, a cost paid for nothing when nothing else shares the commit). So a caller's write is on disk when it returns, exactly as
//! with a transaction per write, but concurrent writers share one commit and one `fsync`:
//! under load the cost of durability is paid per group, not per request.

use std::sync::mpsc::{self, Receiver, Sender};

use comity_store::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::db;

/// Most jobs committed together; bounds how long one commit keeps the first job waiting.
const MAX_GROUP: usize = 64;

/// Answers a job once its group's commit is known: `None` when it committed.
type Answer = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// How a failing job's writes are undone.
#[derive(Clone, Copy)]
enum Undo {
    /// Rolled back to the job's savepoint: other jobs share the transaction.
    Savepoint,
    /// The job is alone: the writer rolls back the whole transaction.
    Transaction,
}

/// A write: runs on the connection (or learns why it could not); says whether it
/// succeeded and how to answer.
type Job = Box<dyn FnOnce(Result<&mut Connection, &StoreError>, Undo) -> (bool, Answer) + Send>;

/// The handle through which writes reach the writing thread; dropping it stops the thread.
pub struct Writer {
    jobs: Sender<Job>,
}

impl Writer {
    /// Starts the writing thread on `conn`.
    pub fn start(conn: Connection) -> StoreResult<Writer> {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, queue))
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer { jobs })
    }

    /// Runs `f` in the next group and returns its result once the group is committed.
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn, undo| {
            let result = match (conn, undo) {
                (Ok(conn), Undo::Savepoint) => in_savepoint(conn, f),
                (Ok(conn), Undo::Transaction) => guarded(conn, f),
                (Err(e), _) => Err(StoreError::Backend(format!("cannot begin a write: {e}"))),
            };
            let ok = result.is_ok();
            let answer: Answer = Box::new(move |commit_error: Option<&StoreError>| {
                let outcome = match (result, commit_error) {
                    (Ok(_), Some(e)) => Err(StoreError::Backend(format!("commit failed: {e}"))),
                    (result, _) => result,
                };
                let _ = reply.send(outcome);
            });
            (ok, answer)
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Backend("the store is closing".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the writer thread stopped".into()))?
    }
}

fn run(mut conn: Connection, queue: Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE").map_err(db) {
            for job in group {
                job(Err(&e), Undo::Savepoint).1(Some(&e));
            }
            continue;
        }
        let undo = match group.len() {
            1 => Undo::Transaction,
            _ => Undo::Savepoint,
        };
        let (done, answers): (Vec<bool>, Vec<Answer>) = group
            .into_iter()
            .map(|job| job(Ok(&mut conn), undo))
            .unzip();
        let committed = match (undo, done.as_slice()) {
            // The lone job failed: its error is its answer, and nothing of it stays.
            (Undo::Transaction, [false]) => conn.execute_batch("ROLLBACK").map_err(db),
            _ => conn.execute_batch("COMMIT").map_err(db),
        };
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for answer in answers {
            answer(committed.as_ref().err());
        }
    }
}

/// Runs `f`, turning a panic into an error: a panicking job must not take the writing
/// thread, and every later write, with it.
fn guarded<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)))
        .unwrap_or_else(|_| Err(StoreError::Backend("a write panicked".into())))
}

/// Runs `f` inside a savepoint: kept if it succeeds, rolled back if it fails or panics.
fn in_savepoint<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    conn.execute_batch("SAVEPOINT job").map_err(db)?;
    match guarded(conn, f) {
        Ok(out) => {
            conn.execute_batch("RELEASE job").map_err(db)?;
            Ok(out)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("w.sqlite3")).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER);
             INSERT INTO t VALUES ('counter', 0);",
        )
        .unwrap();
        (dir, Writer::start(conn).unwrap())
    }

    fn insert(k: &'static str) -> impl FnOnce(&mut Connection) -> StoreResult<usize> {
        move |c| {
            c.execute("INSERT INTO t (k, n) VALUES (?1, 1)", [k])
                .map_err(db)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_succeed_or_fail_each_on_their_own() {
        let (dir, writer) = writer();
        let writer = std::sync::Arc::new(writer);
        let mut tasks = Vec::new();
        for i in 0..40 {
            let w = writer.clone();
            tasks.push(tokio::spawn(async move {
                // Half the writes collide on one key; a failing write must not undo the
                // others of its group, and must leave nothing of its own.
                let key: &'static str = if i % 2 == 0 {
                    "same"
                } else {
                    Box::leak(format!("k{i}").into_boxed_str())
                };
                w.write(move |c| {
                    c.execute("UPDATE t SET n = n + 1 WHERE k = 'counter'", [])
                        .map_err(db)?;
                    insert(key)(c)
                })
                .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            ok += usize::from(t.await.unwrap().is_ok());
        }
        assert_eq!(
            ok, 21,
            "20 distinct keys and the first of the colliding ones"
        );
        let conn = Connection::open(dir.path().join("w.sqlite3")).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM t WHERE k != 'counter'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(rows, 21);
        let counter: i64 = conn
            .query_row("SELECT n FROM t WHERE k = 'counter'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            counter, 21,
            "the failed writes' first statements were rolled back"
        );
    }

    #[tokio::test]
    async fn a_panicking_write_fails_alone_and_the_writer_goes_on() {
        let (_dir, writer) = writer();
        let panicked: StoreResult<usize> = writer
            .write(|c| {
                insert("lost")(c)?;
                panic!("a bug in a write")
            })
            .await;
        assert!(matches!(panicked, Err(StoreError::Backend(m)) if m.contains("panicked")));
        assert_eq!(writer.write(insert("kept")).await.unwrap(), 1);
        let n: i64 = writer
            .write(|c| {
                c.query_row("SELECT count(*) FROM t WHERE k = 'lost'", [], |r| r.get(0))
                    .map_err(db)
            })
            .await
            .unwrap();
        assert_eq!(n, 0, "the panicking write's insert was rolled back");
    }
}
