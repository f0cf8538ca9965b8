//! The history store: every run, recorded with its machine and interpreters, so runs can be
//! listed, compared and followed over time, on one machine or across a fleet.
//!
//! Callers see the [`Store`] trait only, opened from a [`Location`]: a path is a SQLite file
//! ([`SqliteStore`], the zero-setup default, WAL mode so concurrent runs wait for each other), a
//! `postgresql://` URL is a shared `PostgreSQL` database ([`PgStore`]) that every machine of a
//! fleet records into. Both hold the same schema, migrated the same way ([`STORE_SCHEMA`]), and
//! one test suite (below) runs against both.

mod postgres;
mod sqlite;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::results::ResultsFile;

pub use self::postgres::PgStore;
pub use self::sqlite::SqliteStore;

/// The schema this ftbench writes, in both back ends (SQLite's `PRAGMA user_version`,
/// `PostgreSQL`'s `ftbench_schema` table).
pub const STORE_SCHEMA: i64 = 3;

/// Any back end's error, kept as the source of ours.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why the store cannot be used. `store` names it: a path, or a URL without its password.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open the history store `{store}`")]
    Open {
        store: String,
        #[source]
        err: BoxError,
    },
    #[error("`{store}` is not a regular file: a history store is a file (or a postgresql:// URL)")]
    NotAFile { store: String },
    #[error(
        "`{store}` is {what}, not a history store: `ftbench run` or `ftbench history add` create one"
    )]
    NotAStore { store: String, what: &'static str },
    #[error(
        "the history store `{store}` has schema {found}, older than this ftbench's {STORE_SCHEMA}, and reading does not change it: record a run into it (`ftbench history add FILE --store …`) to upgrade it"
    )]
    OlderSchema { store: String, found: i64 },
    #[error("the disk holding the history store `{store}` is full; free some space")]
    DiskFull { store: String },
    #[error("the history store `{store}` is damaged or not a store (truncated?)")]
    Corrupt {
        store: String,
        #[source]
        err: BoxError,
    },
    #[error(
        "the history store `{store}` has schema {found}, written by a newer ftbench; this one knows schema {STORE_SCHEMA}"
    )]
    NewerSchema { store: String, found: i64 },
    #[error("the history store `{store}` has no run {id}; `ftbench history` lists them")]
    NoSuchRun { store: String, id: i64 },
    #[error("history store `{store}`")]
    Query {
        store: String,
        #[source]
        err: BoxError,
    },
    #[error("run {id} in `{store}` holds an unreadable document")]
    Document {
        store: String,
        id: i64,
        #[source]
        err: serde_json::Error,
    },
    #[error("the history store URL `{url}` is not valid: {reason}")]
    BadUrl { url: String, reason: String },
}

/// Where a store is: a SQLite file or a `PostgreSQL` database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// A `postgresql://` (or `postgres://`) URL, libpq style.
    Postgres(String),
}

impl Location {
    /// A path, or a URL that starts with `postgresql://` or `postgres://`.
    pub fn parse(spec: &std::ffi::OsStr) -> Self {
        match spec.to_str() {
            Some(url) if url.starts_with("postgresql://") || url.starts_with("postgres://") => {
                Self::Postgres(url.to_string())
            }
            _ => Self::Sqlite(PathBuf::from(spec)),
        }
    }

    /// `--store`, else `$FTBENCH_STORE`, else `history.sqlite` in ftbench's data dir.
    pub fn from_arg(arg: Option<&std::ffi::OsStr>) -> Self {
        match arg {
            Some(spec) => Self::parse(spec),
            None => std::env::var_os("FTBENCH_STORE").map_or_else(
                || Self::Sqlite(crate::dirs::data_dir().join("history.sqlite")),
                |spec| Self::parse(&spec),
            ),
        }
    }

    /// How messages name the store: the path, or the URL with any password replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => postgres::redact(url),
        }
    }

    /// Whether there is a store here to read. A database may hold one; a missing file does not.
    pub fn exists(&self) -> bool {
        match self {
            Self::Sqlite(path) => path.exists(),
            Self::Postgres(_) => true,
        }
    }
}

/// Open (creating and migrating as needed) the store at `location`.
pub fn open(location: &Location, access: Access) -> Result<Box<dyn Store>, Error> {
    Ok(match location {
        Location::Sqlite(path) => Box::new(SqliteStore::open(path, access)?),
        Location::Postgres(url) => Box::new(PgStore::open(url, access)?),
    })
}

/// What a command does with a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Lists and compares: the store is opened read-only, never created or migrated, so
    /// another user's store (or one on a read-only disk) can be read, and a mistyped path
    /// never becomes an empty store.
    Read,
    /// Records runs: the store is created and migrated as needed.
    Write,
}

/// One run as `ftbench history` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub id: i64,
    /// The key the run is recorded under (its run id).
    pub key: String,
    pub created: String,
    pub machine: String,
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

/// One machine of the fleet, as `ftbench history --machines` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineSummary {
    pub machine: String,
    pub runs: i64,
    pub first_seen: String,
    pub last_seen: String,
    /// The fingerprint of its latest run (CPU, cores, memory, kernel, OS, governor, SMT).
    pub fingerprint: serde_json::Value,
}

/// One point of a trend: a run's median with its interval and samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub run_id: i64,
    pub created: String,
    pub machine: String,
    pub hostname: String,
    pub median: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub samples: Vec<f64>,
    /// Other work on the machine disturbed this point when it was measured.
    pub disturbed: bool,
}

/// What recording a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub id: i64,
    /// False when the run was already in the store (the same run key): nothing was added.
    pub new: bool,
}

/// Where runs are kept.
pub trait Store {
    /// How messages name this store.
    fn name(&self) -> String;
    /// Record a run, once: a run already recorded (by its run key) is not added again.
    fn record(
        &mut self,
        results: &ResultsFile,
        results_path: Option<&Path>,
    ) -> Result<Recorded, Error>;
    /// Every run (of one machine, if given), oldest first.
    fn runs(&self, machine: Option<&str>) -> Result<Vec<RunSummary>, Error>;
    /// Every machine that recorded a run, by name.
    fn machines(&self) -> Result<Vec<MachineSummary>, Error>;
    /// A run's whole results document.
    fn load(&self, id: i64) -> Result<ResultsFile, Error>;
    /// One point's history across runs (test, label, thread count; one machine's, if given),
    /// oldest first.
    fn trend(
        &self,
        test: &str,
        label: &str,
        thread_count: u32,
        machine: Option<&str>,
    ) -> Result<Vec<TrendPoint>, Error>;
    /// The thread counts any run measured `test` on `label` at, ascending.
    fn thread_counts(&self, test: &str, label: &str) -> Result<Vec<u32>, Error>;
    /// Every label any run measured `test` on.
    fn labels(&self, test: &str) -> Result<Vec<String>, Error>;
}

/// A run as both back ends write it.
struct RunRow {
    key: String,
    created: String,
    machine: String,
    hostname: String,
    fingerprint: String,
    cpu_model: String,
    logical_cores: i64,
    labels: String,
    tests: String,
    results_path: Option<String>,
    document: String,
    quick: bool,
    threads: String,
    failed: i64,
    resumed: i64,
    points: Vec<PointRow>,
}

struct PointRow {
    test: String,
    label: String,
    thread_count: i64,
    interpreter: String,
    median: f64,
    ci_low: f64,
    ci_high: f64,
    samples: String,
    disturbed: bool,
}

/// Lists are stored as text joined by the unit separator.
const SEPARATOR: char = '\u{1f}';

fn split(text: &str) -> Vec<String> {
    text.split(SEPARATOR)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl RunRow {
    fn of(results: &ResultsFile, results_path: Option<&Path>) -> Self {
        let points = results
            .points()
            .iter()
            .map(|point| PointRow {
                test: point.test.clone(),
                label: point.label.clone(),
                thread_count: i64::from(point.thread_count),
                interpreter: results
                    .variants
                    .iter()
                    .find(|v| v.label == point.label)
                    .map(|v| format!("{} {}", v.info.version_tag(), v.path.display()))
                    .unwrap_or_default(),
                median: point.throughput.median,
                ci_low: point.throughput.ci_low,
                ci_high: point.throughput.ci_high,
                samples: serde_json::to_string(&results.throughputs(point))
                    .expect("numbers serialize"),
                disturbed: point.disturbed(),
            })
            .collect();
        let sep = SEPARATOR.to_string();
        Self {
            key: results.run_key(),
            created: results.created.clone(),
            machine: results.system.machine_name().to_string(),
            hostname: results.system.hostname.clone(),
            fingerprint: results.system.fingerprint().to_string(),
            cpu_model: results.system.cpu_model.clone(),
            logical_cores: i64::try_from(results.system.logical_cores).unwrap_or(i64::MAX),
            labels: results.labels().join(&sep),
            tests: results.tests().join(&sep),
            results_path: results_path.map(|p| p.display().to_string()),
            document: serde_json::to_string(results).expect("results always serialize"),
            quick: results.settings.quick,
            threads: serde_json::to_string(&results.settings.threads).expect("numbers serialize"),
            failed: i64::try_from(results.errors.len()).unwrap_or(i64::MAX),
            resumed: i64::try_from(results.resumes.len()).unwrap_or(i64::MAX),
            points,
        }
    }
}

/// A stored document back as a results file (its seed section as it was written).
fn parse_document(store: String, id: i64, document: &str) -> Result<ResultsFile, Error> {
    serde_json::from_str(document).map_err(|err| Error::Document { store, id, err })
}

/// Copy every run of `from` into `to` (each once); returns (copied, already there).
pub fn copy(from: &dyn Store, to: &mut dyn Store) -> Result<(usize, usize), Error> {
    let (mut copied, mut present) = (0, 0);
    for run in from.runs(None)? {
        let results = from.load(run.id)?;
        let path = run.results_path.as_deref().map(Path::new);
        if to.record(&results, path)?.new {
            copied += 1;
        } else {
            present += 1;
        }
    }
    Ok((copied, present))
}

#[cfg(test)]
mod tests;
