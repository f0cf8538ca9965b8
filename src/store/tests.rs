//! One test suite, two back ends: every test runs on SQLite and on `PostgreSQL`.
//!
//! `PostgreSQL` comes from `FTBENCH_TEST_POSTGRES` (a URL to a database this test may fill;
//! `scripts/test.sh` starts a throw-away cluster and sets it). Each test gets its own database,
//! created fresh. In CI a missing URL fails the tests instead of skipping them.

use super::*;
use crate::results::Settings;
use crate::results::testing::{test_point, test_variant};

/// A small run on `machine`: two labels, serial and 2 threads of one test.
fn run(machine: &str, created: &str, slower: u64) -> ResultsFile {
    let mut results = ResultsFile::new(
        Settings {
            threads: vec![2],
            ..Settings::default()
        },
        vec![test_variant("ft"), test_variant("gil")],
    );
    results.created = created.to_string();
    results.system.machine = Some(machine.to_string());
    for label in ["ft", "gil"] {
        results.add_point(test_point("parallel_compute", label, 0, &[1000, 1010, 990]));
        results.add_point(test_point(
            "parallel_compute",
            label,
            2,
            &[500 + slower, 505 + slower, 495 + slower],
        ));
    }
    results
}

/// The `PostgreSQL` URL for a fresh database named after `test`, or `None` outside CI without
/// one.
fn postgres_url(test: &str) -> Option<String> {
    let Some(url) = std::env::var("FTBENCH_TEST_POSTGRES").ok() else {
        assert!(
            !crate::running_under_ci(),
            "FTBENCH_TEST_POSTGRES is not set: run scripts/test.sh"
        );
        // Past libtest's capture of `eprintln!`, so the skip shows in the run's output.
        let _ = std::io::Write::write_fmt(
            &mut std::io::stderr(),
            format_args!(
                "SKIPPED {}: no PostgreSQL (FTBENCH_TEST_POSTGRES is not set; run scripts/test.sh)\n",
                std::thread::current().name().unwrap_or("a store test")
            ),
        );
        return None;
    };
    let database = format!("ftbench_unit_{test}");
    let mut admin = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .unwrap();
    Some(with_database(&url, &database))
}

/// `url` pointing at `database` instead of its own.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| {
        i + 3 + base[i + 3..].find('/').unwrap_or(base.len() - i - 3)
    });
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Run `check` on a fresh SQLite store and a fresh `PostgreSQL` one.
fn on_both(test: &str, check: impl Fn(&Location)) {
    let dir = tempfile::tempdir().unwrap();
    check(&Location::Sqlite(dir.path().join("history.sqlite")));
    if let Some(url) = postgres_url(test) {
        check(&Location::Postgres(url));
    }
}

#[test]
fn a_run_is_recorded_once_and_read_back_whole() {
    on_both("record", |location| {
        let mut store = open(location, Access::Write).unwrap();
        let a = run("a", "2026-11-01T10:00:00Z", 0);
        let first = store.record(&a, Some(Path::new("/tmp/a.json"))).unwrap();
        assert!(first.new);
        // The same run again (another `history add` of the same file): the same id, no copy.
        assert_eq!(
            store.record(&a, None).unwrap(),
            Recorded {
                id: first.id,
                new: false
            }
        );
        let runs = store.runs(None).unwrap();
        assert_eq!(runs.len(), 1, "{}", store.name());
        assert_eq!(runs[0].key, a.run_key());
        assert_eq!(runs[0].machine, "a");
        assert_eq!(runs[0].points, 4);
        assert_eq!(runs[0].threads, vec![2]);
        assert_eq!(runs[0].labels, ["ft", "gil"]);
        assert_eq!(runs[0].results_path.as_deref(), Some("/tmp/a.json"));
        let loaded = store.load(first.id).unwrap();
        assert_eq!(loaded.run_id, a.run_id);
        assert_eq!(loaded.points().len(), 4);
        assert!(matches!(
            store.load(first.id + 100),
            Err(Error::NoSuchRun { .. })
        ));
    });
}

#[test]
fn machines_trends_and_filters() {
    on_both("fleet", |location| {
        let mut store = open(location, Access::Write).unwrap();
        store
            .record(&run("a", "2026-11-01T10:00:00Z", 0), None)
            .unwrap();
        store
            .record(&run("b", "2026-11-02T10:00:00Z", 100), None)
            .unwrap();
        store
            .record(&run("a", "2026-11-03T10:00:00Z", 300), None)
            .unwrap();
        let machines = store.machines().unwrap();
        let names: Vec<&str> = machines.iter().map(|m| m.machine.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(machines[0].runs, 2);
        assert_eq!(machines[0].first_seen, "2026-11-01T10:00:00Z");
        assert_eq!(machines[0].last_seen, "2026-11-03T10:00:00Z");
        assert!(machines[0].fingerprint["logical_cores"].as_u64().unwrap() >= 1);
        assert_eq!(store.runs(Some("a")).unwrap().len(), 2);
        assert_eq!(store.runs(Some("nobody")).unwrap().len(), 0);
        let trend = store.trend("parallel_compute", "ft", 2, None).unwrap();
        let dates: Vec<&str> = trend.iter().map(|p| p.created.as_str()).collect();
        assert_eq!(
            dates,
            [
                "2026-11-01T10:00:00Z",
                "2026-11-02T10:00:00Z",
                "2026-11-03T10:00:00Z"
            ]
        );
        assert!(trend[0].median > trend[2].median);
        assert_eq!(trend[0].samples.len(), 3);
        let only_a = store.trend("parallel_compute", "ft", 2, Some("a")).unwrap();
        assert_eq!(only_a.len(), 2);
        assert!(only_a.iter().all(|p| p.machine == "a"));
        assert_eq!(
            store.thread_counts("parallel_compute", "ft").unwrap(),
            [0, 2]
        );
        assert_eq!(store.labels("parallel_compute").unwrap(), ["ft", "gil"]);
    });
}

#[test]
fn a_store_of_a_newer_schema_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.sqlite");
    SqliteStore::open(&path, Access::Write)
        .unwrap()
        .set_schema(STORE_SCHEMA + 6);
    let sqlite_err = SqliteStore::open(&path, Access::Write)
        .unwrap_err()
        .to_string();
    let mut messages = vec![sqlite_err];
    if let Some(url) = postgres_url("future") {
        PgStore::open(&url, Access::Write)
            .unwrap()
            .set_schema(STORE_SCHEMA + 6);
        messages.push(PgStore::open(&url, Access::Write).unwrap_err().to_string());
    }
    for message in messages {
        assert!(
            message.contains(&format!("schema {}", STORE_SCHEMA + 6))
                && message.contains(&format!("this one knows schema {STORE_SCHEMA}")),
            "{message}"
        );
    }
}

#[test]
fn stores_copy_both_ways_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Location::Sqlite(dir.path().join("a.sqlite"));
    let other = postgres_url("copy").map_or_else(
        || Location::Sqlite(dir.path().join("b.sqlite")),
        Location::Postgres,
    );
    let mut from = open(&sqlite, Access::Write).unwrap();
    from.record(&run("a", "2026-11-01T10:00:00Z", 0), None)
        .unwrap();
    from.record(&run("b", "2026-11-02T10:00:00Z", 0), None)
        .unwrap();
    let mut to = open(&other, Access::Write).unwrap();
    assert_eq!(copy(from.as_ref(), to.as_mut()).unwrap(), (2, 0));
    assert_eq!(copy(from.as_ref(), to.as_mut()).unwrap(), (0, 2));
    // And back: nothing new.
    assert_eq!(copy(to.as_ref(), from.as_mut()).unwrap(), (0, 2));
    let keys = |store: &dyn Store| -> Vec<String> {
        store
            .runs(None)
            .unwrap()
            .into_iter()
            .map(|r| r.key)
            .collect()
    };
    assert_eq!(keys(from.as_ref()), keys(to.as_ref()));
}

#[test]
fn old_sqlite_stores_are_migrated_with_keys_machines_and_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    // A schema-2 store, as ftbench wrote it before fleets, holding one run twice (once by
    // `run`, once by an older `history add`).
    {
        let connection = rusqlite::Connection::open(&path).unwrap();
        for migration in &sqlite::MIGRATIONS[..2] {
            connection.execute_batch(migration).unwrap();
        }
        connection.execute_batch("PRAGMA user_version = 2").unwrap();
        let mut old = run("ignored", "2026-10-01T10:00:00Z", 0);
        old.run_id = None;
        old.system.machine = None;
        old.settings.quick = true;
        let document = serde_json::to_string(&old).unwrap();
        for _ in 0..2 {
            connection
                .execute(
                    "INSERT INTO runs (created, hostname, cpu_model, logical_cores, labels, tests, document)
                     VALUES (?1, ?2, 'cpu', 2, 'ft', 'parallel_compute', ?3)",
                    rusqlite::params![old.created, old.system.hostname, document],
                )
                .unwrap();
        }
    }
    let store = SqliteStore::open(&path, Access::Write).unwrap();
    let runs = store.runs(None).unwrap();
    assert_eq!(runs.len(), 2);
    assert!(
        runs[0].key.ends_with("@2026-10-01T10:00:00Z"),
        "{}",
        runs[0].key
    );
    assert_ne!(runs[0].key, runs[1].key);
    assert!(runs[0].quick);
    assert_eq!(runs[0].threads, vec![2]);
    assert_eq!(runs[0].machine, runs[0].hostname);
    let machines = store.machines().unwrap();
    assert_eq!(
        machines[0].fingerprint["cpu_model"],
        serde_json::json!(run("x", "", 0).system.cpu_model)
    );
}

/// Reading never creates, migrates or writes (issue 22, item 7): a missing path stays missing,
/// an empty file stays empty, a device is refused without a journal beside it, and a store in
/// WAL mode that may not be written is read as an immutable file.
#[test]
fn reading_a_store_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sqlite");
    let err = SqliteStore::open(&missing, Access::Read)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is missing, not a history store"), "{err}");
    assert!(!missing.exists());
    let empty = dir.path().join("empty.sqlite");
    fs_err::write(&empty, b"").unwrap();
    let err = SqliteStore::open(&empty, Access::Read)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is an empty file, not a history store"),
        "{err}"
    );
    assert_eq!(fs_err::metadata(&empty).unwrap().len(), 0);
    for access in [Access::Read, Access::Write] {
        let err = SqliteStore::open(Path::new("/dev/null"), access)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a regular file"), "{err}");
    }
    assert!(!Path::new("/dev/null-journal").exists());
    assert!(!Path::new("/dev/null-wal").exists());
    // A real store, read while its WAL files cannot be made: opened immutable, listed.
    let path = dir.path().join("history.sqlite");
    {
        let mut store = SqliteStore::open(&path, Access::Write).unwrap();
        store
            .record(&run("a", "2026-11-27T00:00:00Z", 0), None)
            .unwrap();
    }
    let before = fs_err::read(&path).unwrap();
    let store = SqliteStore::open(&path, Access::Read).unwrap();
    assert_eq!(store.runs(None).unwrap().len(), 1);
    drop(store);
    assert_eq!(
        fs_err::read(&path).unwrap(),
        before,
        "reading changed the store"
    );
    // Another database is not a store, and reading does not make it one.
    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x INTEGER)")
        .unwrap();
    let err = SqliteStore::open(&other, Access::Read)
        .unwrap_err()
        .to_string();
    assert!(err.contains("without ftbench's tables"), "{err}");
}

/// A `PostgreSQL` store is shared by many machines and may hold rows this ftbench did not write:
/// a NULL where it expects text is an error that names the store, never a panic.
#[test]
fn a_null_in_a_shared_store_is_an_error_not_a_panic() {
    let Some(url) = postgres_url("null_row") else {
        return;
    };
    let mut store = open(&Location::Postgres(url.clone()), Access::Write).unwrap();
    store
        .record(&run("a", "2026-11-01T10:00:00Z", 0), None)
        .unwrap();
    let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    client
        .batch_execute(
            "ALTER TABLE runs ALTER COLUMN hostname DROP NOT NULL; UPDATE runs SET hostname = NULL",
        )
        .unwrap();
    let err = store.runs(None).unwrap_err().to_string();
    assert!(err.contains(&store.name()), "{err}");
}
