//! The history store: every run, recorded with its machine and interpreters, so runs can be
//! listed, compared and followed over time.
//!
//! Callers see the [`Store`] trait only; [`SqliteStore`] is the local implementation (one file
//! in the data dir, WAL mode so concurrent runs wait for each other instead of failing). A
//! `PostgreSQL` store for a fleet of runner machines would implement the same trait.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::results::ResultsFile;

/// The schema this ftbench writes; `PRAGMA user_version` holds a store's.
pub const STORE_SCHEMA: i64 = 2;

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open the history store `{}`", path.display())]
    Open {
        path: PathBuf,
        #[source]
        err: rusqlite::Error,
    },
    #[error("the disk holding the history store `{}` is full; free some space", path.display())]
    DiskFull { path: PathBuf },
    #[error("the history store `{}` is damaged or not a store (truncated?)", path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        err: rusqlite::Error,
    },
    #[error("the history store `{}` has schema {found}, written by a newer ftbench; this one knows schema {STORE_SCHEMA}", path.display())]
    NewerSchema { path: PathBuf, found: i64 },
    #[error("the history store `{}` has no run {id}; `ftbench history` lists them", path.display())]
    NoSuchRun { path: PathBuf, id: i64 },
    #[error("history store `{}`", path.display())]
    Query {
        path: PathBuf,
        #[source]
        err: rusqlite::Error,
    },
    #[error("run {id} in `{}` holds an unreadable document", path.display())]
    Document {
        path: PathBuf,
        id: i64,
        #[source]
        err: serde_json::Error,
    },
}

/// Build a store error from SQLite's: its result code tells a full disk from damage.
fn classify(
    path: &Path,
    err: rusqlite::Error,
    otherwise: fn(PathBuf, rusqlite::Error) -> Error,
) -> Error {
    if err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        return Error::DiskFull {
            path: path.to_path_buf(),
        };
    }
    otherwise(path.to_path_buf(), err)
}

fn corrupt(path: PathBuf, err: rusqlite::Error) -> Error {
    Error::Corrupt { path, err }
}

fn query(path: PathBuf, err: rusqlite::Error) -> Error {
    Error::Query { path, err }
}

/// One run as `ftbench history` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub created: String,
    pub hostname: String,
    pub cpu_model: String,
    pub logical_cores: i64,
    pub labels: Vec<String>,
    pub tests: Vec<String>,
    pub points: i64,
    pub results_path: Option<String>,
    /// `quick` or `default`, and the thread counts.
    pub quick: bool,
    pub threads: Vec<u32>,
    /// Points that failed (a partial run) and how often the file was resumed.
    pub failed: i64,
    pub resumed: i64,
}

/// One point of a trend: a run's median with its interval and samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub run_id: i64,
    pub created: String,
    pub hostname: String,
    pub median: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub samples: Vec<f64>,
    /// Other work on the machine disturbed this point when it was measured.
    pub disturbed: bool,
}

/// Where runs are kept.
pub trait Store {
    /// Record a run; returns its id.
    fn record(&mut self, results: &ResultsFile, results_path: Option<&Path>) -> Result<i64, Error>;
    /// Every run, oldest first.
    fn runs(&self) -> Result<Vec<RunSummary>, Error>;
    /// A run's whole results document.
    fn load(&self, id: i64) -> Result<ResultsFile, Error>;
    /// One point's history across runs (test, label, thread count), oldest first.
    fn trend(&self, test: &str, label: &str, thread_count: u32) -> Result<Vec<TrendPoint>, Error>;
    /// The thread counts any run measured `test` on `label` at, ascending.
    fn thread_counts(&self, test: &str, label: &str) -> Result<Vec<u32>, Error>;
    /// Every label any run measured `test` on.
    fn labels(&self, test: &str) -> Result<Vec<String>, Error>;
    /// The id of the run that started at `created` on `hostname`, if it is recorded: a run is
    /// recorded once, however often its file is added.
    fn find(&self, created: &str, hostname: &str) -> Result<Option<i64>, Error>;
}

/// The local store: SQLite.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    connection: Connection,
}

/// The default store: `$FTBENCH_STORE`, else `history.sqlite` in ftbench's data dir.
pub fn default_path() -> PathBuf {
    std::env::var_os("FTBENCH_STORE").map_or_else(
        || crate::dirs::data_dir().join("history.sqlite"),
        PathBuf::from,
    )
}

const MIGRATIONS: &[&str] = &[
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
];

impl SqliteStore {
    /// Open (creating and migrating as needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, Error> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            let _ = fs_err::create_dir_all(parent);
        }
        let connection = Connection::open(path)
            .map_err(|err| classify(path, err, |path, err| Error::Open { path, err }))?;
        let corrupt = |err| classify(path, err, corrupt);
        // Concurrent runs queue on the lock instead of failing.
        connection
            .busy_timeout(Duration::from_secs(30))
            .map_err(corrupt)?;
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(corrupt)?;
        if version > STORE_SCHEMA {
            return Err(Error::NewerSchema {
                path: path.to_path_buf(),
                found: version,
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
            let tx = self.connection.transaction().map_err(&fail)?;
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
}

fn split(text: &str) -> Vec<String> {
    text.split('\u{1f}')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Store for SqliteStore {
    fn record(&mut self, results: &ResultsFile, results_path: Option<&Path>) -> Result<i64, Error> {
        let path = self.path.clone();
        let fail = |err| classify(&path, err, query);
        let document = serde_json::to_string(results).expect("results always serialize");
        let tx = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&fail)?;
        tx.execute(
            "INSERT INTO runs (created, hostname, cpu_model, logical_cores, labels, tests, results_path, document)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                results.created,
                results.system.hostname,
                results.system.cpu_model,
                i64::try_from(results.system.logical_cores).unwrap_or(i64::MAX),
                results.labels().join("\u{1f}"),
                results.tests().join("\u{1f}"),
                results_path.map(|p| p.display().to_string()),
                document,
            ],
        )
        .map_err(&fail)?;
        let id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO points (run_id, test, label, thread_count, interpreter, median, ci_low, ci_high, samples, disturbed)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(&fail)?;
            for point in &results.points {
                let interpreter = results
                    .variants
                    .iter()
                    .find(|v| v.label == point.label)
                    .map(|v| format!("{} {}", v.info.version_tag(), v.path.display()))
                    .unwrap_or_default();
                let samples =
                    serde_json::to_string(&results.throughputs(point)).expect("numbers serialize");
                insert
                    .execute(params![
                        id,
                        point.test,
                        point.label,
                        point.thread_count,
                        interpreter,
                        point.throughput.median,
                        point.throughput.ci_low,
                        point.throughput.ci_high,
                        samples,
                        point.disturbed(),
                    ])
                    .map_err(&fail)?;
            }
        }
        tx.commit().map_err(&fail)?;
        Ok(id)
    }

    fn runs(&self) -> Result<Vec<RunSummary>, Error> {
        let fail = self.query_error();
        let mut statement = self
            .connection
            .prepare(
                "SELECT r.id, r.created, r.hostname, r.cpu_model, r.logical_cores, r.labels, r.tests,
                        r.results_path, (SELECT COUNT(*) FROM points p WHERE p.run_id = r.id),
                        COALESCE(json_extract(r.document, '$.settings.quick'), 0),
                        COALESCE(json_extract(r.document, '$.settings.threads'), '[]'),
                        COALESCE(json_array_length(r.document, '$.errors'), 0),
                        COALESCE(json_array_length(r.document, '$.resumes'), 0)
                 FROM runs r ORDER BY r.id",
            )
            .map_err(&fail)?;
        let rows = statement
            .query_map([], |row| {
                Ok(RunSummary {
                    id: row.get(0)?,
                    created: row.get(1)?,
                    hostname: row.get(2)?,
                    cpu_model: row.get(3)?,
                    logical_cores: row.get(4)?,
                    labels: split(&row.get::<_, String>(5)?),
                    tests: split(&row.get::<_, String>(6)?),
                    results_path: row.get(7)?,
                    points: row.get(8)?,
                    quick: row.get::<_, i64>(9)? != 0,
                    threads: serde_json::from_str(&row.get::<_, String>(10)?).unwrap_or_default(),
                    failed: row.get(11)?,
                    resumed: row.get(12)?,
                })
            })
            .map_err(&fail)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&fail)
    }

    fn load(&self, id: i64) -> Result<ResultsFile, Error> {
        let document: Option<String> = self
            .connection
            .query_row("SELECT document FROM runs WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .optional()
            .map_err(self.query_error())?;
        let document = document.ok_or_else(|| Error::NoSuchRun {
            path: self.path.clone(),
            id,
        })?;
        let mut results: ResultsFile =
            serde_json::from_str(&document).map_err(|err| Error::Document {
                path: self.path.clone(),
                id,
                err,
            })?;
        results.derive_results();
        Ok(results)
    }

    fn trend(&self, test: &str, label: &str, thread_count: u32) -> Result<Vec<TrendPoint>, Error> {
        let fail = self.query_error();
        let mut statement = self
            .connection
            .prepare(
                "SELECT p.run_id, r.created, r.hostname, p.median, p.ci_low, p.ci_high, p.samples,
                        p.disturbed
                 FROM points p JOIN runs r ON r.id = p.run_id
                 WHERE p.test = ?1 AND p.label = ?2 AND p.thread_count = ?3
                 ORDER BY r.created, p.run_id",
            )
            .map_err(&fail)?;
        let rows = statement
            .query_map(params![test, label, thread_count], |row| {
                let samples: String = row.get(6)?;
                Ok(TrendPoint {
                    run_id: row.get(0)?,
                    created: row.get(1)?,
                    hostname: row.get(2)?,
                    median: row.get(3)?,
                    ci_low: row.get(4)?,
                    ci_high: row.get(5)?,
                    samples: serde_json::from_str(&samples).unwrap_or_default(),
                    disturbed: row.get(7)?,
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

    fn find(&self, created: &str, hostname: &str) -> Result<Option<i64>, Error> {
        self.connection
            .query_row(
                "SELECT id FROM runs WHERE created = ?1 AND hostname = ?2 ORDER BY id LIMIT 1",
                params![created, hostname],
                |row| row.get(0),
            )
            .optional()
            .map_err(self.query_error())
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
