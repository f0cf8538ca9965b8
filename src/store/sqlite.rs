//! The local store: one SQLite file, bundled SQLite (no system library), WAL mode.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{
    Access, Error, MachineSummary, Recorded, RunRow, RunSummary, STORE_SCHEMA, Store, TrendPoint,
    parse_document, split,
};
use crate::results::ResultsFile;

/// Each entry takes a store from schema `index` to `index + 1`; `PRAGMA user_version` holds
/// the schema. `postgres.rs` has the same steps in its dialect.
pub(super) const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created TEXT NOT NULL,
        hostname TEXT NOT NULL,
        cpu_model TEXT NOT NULL,
        logical_cores INTEGER NOT NULL,
        labels TEXT NOT NULL,
        tests TEXT NOT NULL,
        results_path TEXT,
        document TEXT NOT NULL
    );
    CREATE TABLE points (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        test TEXT NOT NULL,
        label TEXT NOT NULL,
        thread_count INTEGER NOT NULL,
        interpreter TEXT NOT NULL,
        median REAL NOT NULL,
        ci_low REAL NOT NULL,
        ci_high REAL NOT NULL,
        samples TEXT NOT NULL
    );
    CREATE INDEX points_by_series ON points(test, label, thread_count);",
    // 1 -> 2: points other work on the machine disturbed are never a significant step.
    "ALTER TABLE points ADD COLUMN disturbed INTEGER NOT NULL DEFAULT 0;",
    // 2 -> 3: a fleet. Runs are keyed by their run id (recorded once), carry the machine's
    // name and fingerprint, and the summary `history` lists without parsing documents. The
    // documents move to their own table: SQLite stores a row's columns in order, so reading a
    // column after a 500 kB document walked its overflow pages (publish of 100 runs: 18 s).
    "ALTER TABLE runs ADD COLUMN run_key TEXT;
    ALTER TABLE runs ADD COLUMN machine TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE runs ADD COLUMN quick INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN threads TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE runs ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN resumed INTEGER NOT NULL DEFAULT 0;
    UPDATE runs SET
        run_key = COALESCE(json_extract(document, '$.run_id'), hostname || '@' || created),
        machine = COALESCE(json_extract(document, '$.system.machine'), hostname),
        fingerprint = COALESCE(json_remove(json_extract(document, '$.system'),
            '$.hostname', '$.machine', '$.check', '$.available_parallelism', '$.numa_nodes',
            '$.cgroup_cpu_limit'), '{}'),
        quick = COALESCE(json_extract(document, '$.settings.quick'), 0),
        threads = COALESCE(json_extract(document, '$.settings.threads'), '[]'),
        failed = COALESCE(json_array_length(document, '$.errors'), 0),
        resumed = COALESCE(json_array_length(document, '$.resumes'), 0);
    UPDATE runs SET run_key = run_key || '#' || id
        WHERE id NOT IN (SELECT MIN(id) FROM runs GROUP BY run_key);
    CREATE TABLE documents (
        run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        document TEXT NOT NULL
    );
    INSERT INTO documents (run_id, document) SELECT id, document FROM runs;
    ALTER TABLE runs DROP COLUMN document;
    CREATE UNIQUE INDEX runs_by_key ON runs(run_key);
    CREATE INDEX runs_by_machine ON runs(machine, created);
    CREATE INDEX points_by_run ON points(run_id);",
];

/// The local store: SQLite.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    connection: Connection,
}

/// Build a store error from SQLite's: its result code tells a full disk from damage.
fn classify(
    path: &Path,
    err: rusqlite::Error,
    otherwise: fn(String, rusqlite::Error) -> Error,
) -> Error {
    let store = path.display().to_string();
    if err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        return Error::DiskFull { store };
    }
    otherwise(store, err)
}

fn corrupt(store: String, err: rusqlite::Error) -> Error {
    Error::Corrupt {
        store,
        err: Box::new(err),
    }
}

fn query(store: String, err: rusqlite::Error) -> Error {
    Error::Query {
        store,
        err: Box::new(err),
    }
}

/// Whether `path` can be the store `access` wants: a file (to read: one that is not empty); to
/// write, a missing one gets its folder.
fn check_file(path: &Path, access: Access) -> Result<(), Error> {
    let store = path.display().to_string();
    match fs_err::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(Error::NotAFile { store }),
        Ok(meta) if access == Access::Read && meta.len() == 0 => Err(Error::NotAStore {
            store,
            what: "an empty file",
        }),
        Ok(_) => Ok(()),
        Err(_) if access == Access::Read => Err(Error::NotAStore {
            store,
            what: "missing",
        }),
        Err(_) => {
            if let Some(parent) = path.parent()
                && !parent.as_os_str().is_empty()
            {
                let _ = fs_err::create_dir_all(parent);
            }
            Ok(())
        }
    }
}

impl SqliteStore {
    /// Open the store at `path`: to write, creating and migrating it as needed; to read,
    /// read-only, refusing what is not a store of this schema.
    pub fn open(path: &Path, access: Access) -> Result<Self, Error> {
        let store = path.display().to_string();
        check_file(path, access)?;
        let flags = match access {
            Access::Read => OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            Access::Write => OpenFlags::default(),
        };
        let open_error = |err| {
            classify(path, err, |store, err| Error::Open {
                store,
                err: Box::new(err),
            })
        };
        let corrupt = |err| classify(path, err, corrupt);
        let version_of = |connection: &Connection| -> rusqlite::Result<i64> {
            // Concurrent runs queue on the lock instead of failing.
            connection.busy_timeout(Duration::from_secs(30))?;
            connection.query_row("PRAGMA user_version", [], |row| row.get(0))
        };
        let mut connection = Connection::open_with_flags(path, flags).map_err(open_error)?;
        let version = match version_of(&connection) {
            Ok(version) => version,
            // A store in WAL mode on a disk this process may not write (another user's folder,
            // read-only media) cannot get its shared-memory file: read it as an immutable file.
            Err(err)
                if access == Access::Read
                    && matches!(
                        err.sqlite_error_code(),
                        Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
                    ) =>
            {
                let uri = format!(
                    "file:{}?immutable=1",
                    path.display()
                        .to_string()
                        .replace('%', "%25")
                        .replace('?', "%3f")
                        .replace('#', "%23")
                );
                connection = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                    .map_err(open_error)?;
                version_of(&connection).map_err(corrupt)?
            }
            Err(err) => return Err(corrupt(err)),
        };
        if version > STORE_SCHEMA {
            return Err(Error::NewerSchema {
                store,
                found: version,
            });
        }
        if access == Access::Read {
            if version == 0 {
                return Err(Error::NotAStore {
                    store,
                    what: "an SQLite database without ftbench's tables",
                });
            }
            if version < STORE_SCHEMA {
                return Err(Error::OlderSchema {
                    store,
                    found: version,
                });
            }
            return Ok(Self {
                path: path.to_path_buf(),
                connection,
            });
        }
        connection
            .query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .map_err(corrupt)?;
        let mut store = Self {
            path: path.to_path_buf(),
            connection,
        };
        store.migrate(version)?;
        Ok(store)
    }

    fn query_error(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        |err| classify(&self.path, err, query)
    }

    fn migrate(&mut self, from: i64) -> Result<(), Error> {
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(from as usize) {
            let path = self.path.clone();
            let fail = |err| classify(&path, err, query);
            let tx = self
                .connection
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(&fail)?;
            // Another process may have migrated meanwhile; the transaction re-checks.
            let current: i64 = tx
                .query_row("PRAGMA user_version", [], |row| row.get(0))
                .map_err(&fail)?;
            if current > i64::try_from(index).unwrap_or(i64::MAX) {
                continue;
            }
            tx.execute_batch(migration).map_err(&fail)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", index + 1))
                .map_err(&fail)?;
            tx.commit().map_err(&fail)?;
        }
        Ok(())
    }

    /// Set the schema version (tests: a store from a newer ftbench).
    #[cfg(test)]
    pub fn set_schema(&self, version: i64) {
        self.connection
            .execute_batch(&format!("PRAGMA user_version = {version}"))
            .unwrap();
    }
}

impl Store for SqliteStore {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn record(
        &mut self,
        results: &ResultsFile,
        results_path: Option<&Path>,
    ) -> Result<Recorded, Error> {
        let path = self.path.clone();
        let fail = |err| classify(&path, err, query);
        let row = RunRow::of(results, results_path);
        let tx = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&fail)?;
        let existing: Option<i64> = tx
            .query_row("SELECT id FROM runs WHERE run_key = ?1", [&row.key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(&fail)?;
        if let Some(id) = existing {
            return Ok(Recorded { id, new: false });
        }
        tx.execute(
            "INSERT INTO runs (run_key, created, machine, hostname, fingerprint, cpu_model,
                 logical_cores, labels, tests, results_path, quick, threads, failed, resumed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                row.key,
                row.created,
                row.machine,
                row.hostname,
                row.fingerprint,
                row.cpu_model,
                row.logical_cores,
                row.labels,
                row.tests,
                row.results_path,
                row.quick,
                row.threads,
                row.failed,
                row.resumed,
            ],
        )
        .map_err(&fail)?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO documents (run_id, document) VALUES (?1, ?2)",
            params![id, row.document],
        )
        .map_err(&fail)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO points (run_id, test, label, thread_count, interpreter, median,
                         ci_low, ci_high, samples, disturbed)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(&fail)?;
            for point in &row.points {
                insert
                    .execute(params![
                        id,
                        point.test,
                        point.label,
                        point.thread_count,
                        point.interpreter,
                        point.median,
                        point.ci_low,
                        point.ci_high,
                        point.samples,
                        point.disturbed,
                    ])
                    .map_err(&fail)?;
            }
        }
        tx.commit().map_err(&fail)?;
        Ok(Recorded { id, new: true })
    }

    fn runs(&self, machine: Option<&str>) -> Result<Vec<RunSummary>, Error> {
        let fail = self.query_error();
        let mut statement = self
            .connection
            .prepare(
                "SELECT r.id, r.run_key, r.created, r.machine, r.hostname, r.cpu_model,
                        r.logical_cores, r.labels, r.tests, r.results_path,
                        (SELECT COUNT(*) FROM points p WHERE p.run_id = r.id),
                        r.quick, r.threads, r.failed, r.resumed
                 FROM runs r WHERE ?1 IS NULL OR r.machine = ?1 ORDER BY r.id",
            )
            .map_err(&fail)?;
        let rows = statement
            .query_map([machine], |row| {
                Ok(RunSummary {
                    id: row.get(0)?,
                    key: row.get(1)?,
                    created: row.get(2)?,
                    machine: row.get(3)?,
                    hostname: row.get(4)?,
                    cpu_model: row.get(5)?,
                    logical_cores: row.get(6)?,
                    labels: split(&row.get::<_, String>(7)?),
                    tests: split(&row.get::<_, String>(8)?),
                    results_path: row.get(9)?,
                    points: row.get(10)?,
                    quick: row.get(11)?,
                    threads: serde_json::from_str(&row.get::<_, String>(12)?).unwrap_or_default(),
                    failed: row.get(13)?,
                    resumed: row.get(14)?,
                })
            })
            .map_err(&fail)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&fail)
    }

    fn machines(&self) -> Result<Vec<MachineSummary>, Error> {
        let fail = self.query_error();
        let mut statement = self
            .connection
            .prepare(
                "SELECT r.machine, COUNT(*), MIN(r.created), MAX(r.created),
                        (SELECT l.fingerprint FROM runs l WHERE l.machine = r.machine
                         ORDER BY l.created DESC, l.id DESC LIMIT 1)
                 FROM runs r GROUP BY r.machine ORDER BY r.machine",
            )
            .map_err(&fail)?;
        let rows = statement
            .query_map([], |row| {
                Ok(MachineSummary {
                    machine: row.get(0)?,
                    runs: row.get(1)?,
                    first_seen: row.get(2)?,
                    last_seen: row.get(3)?,
                    fingerprint: serde_json::from_str(&row.get::<_, String>(4)?)
                        .unwrap_or_default(),
                })
            })
            .map_err(&fail)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&fail)
    }

    fn load(&self, id: i64) -> Result<ResultsFile, Error> {
        let document: Option<String> = self
            .connection
            .query_row(
                "SELECT document FROM documents WHERE run_id = ?1",
                [id],
                |row| row.get(0),
            )
            .optional()
            .map_err(self.query_error())?;
        let document = document.ok_or_else(|| Error::NoSuchRun {
            store: self.name(),
            id,
        })?;
        parse_document(self.name(), id, &document)
    }

    fn trend(
        &self,
        test: &str,
        label: &str,
        thread_count: u32,
        machine: Option<&str>,
    ) -> Result<Vec<TrendPoint>, Error> {
        let fail = self.query_error();
        let mut statement = self
            .connection
            .prepare(
                "SELECT p.run_id, r.created, r.machine, r.hostname, p.median, p.ci_low,
                        p.ci_high, p.samples, p.disturbed
                 FROM points p JOIN runs r ON r.id = p.run_id
                 WHERE p.test = ?1 AND p.label = ?2 AND p.thread_count = ?3
                   AND (?4 IS NULL OR r.machine = ?4)
                 ORDER BY r.created, p.run_id",
            )
            .map_err(&fail)?;
        let rows = statement
            .query_map(params![test, label, thread_count, machine], |row| {
                let samples: String = row.get(7)?;
                Ok(TrendPoint {
                    run_id: row.get(0)?,
                    created: row.get(1)?,
                    machine: row.get(2)?,
                    hostname: row.get(3)?,
                    median: row.get(4)?,
                    ci_low: row.get(5)?,
                    ci_high: row.get(6)?,
                    samples: serde_json::from_str(&samples).unwrap_or_default(),
                    disturbed: row.get(8)?,
                })
            })
            .map_err(&fail)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&fail)
    }

    fn thread_counts(&self, test: &str, label: &str) -> Result<Vec<u32>, Error> {
        let fail = self.query_error();
        let mut statement = self
            .connection
            .prepare(
                "SELECT DISTINCT thread_count FROM points WHERE test = ?1 AND label = ?2
                 ORDER BY thread_count",
            )
            .map_err(&fail)?;
        let rows = statement
            .query_map(params![test, label], |row| row.get(0))
            .map_err(&fail)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&fail)
    }

    fn labels(&self, test: &str) -> Result<Vec<String>, Error> {
        let fail = self.query_error();
        let mut statement = self
            .connection
            .prepare("SELECT DISTINCT label FROM points WHERE test = ?1 ORDER BY label")
            .map_err(&fail)?;
        let rows = statement
            .query_map(params![test], |row| row.get(0))
            .map_err(&fail)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&fail)
    }
}
