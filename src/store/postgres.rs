//! A fleet's store: one `PostgreSQL` database that every machine records into.
//!
//! The `postgres` crate is synchronous (it runs its own small runtime inside), which suits this
//! code base: no async anywhere else. Connection strings follow libpq's conventions: the URL's
//! password, else `PGPASSWORD`, else `~/.pgpass` (or `PGPASSFILE`); `sslmode` `disable`,
//! `prefer`, `require` (encrypted, certificate not checked, as libpq does), `verify-ca` and
//! `verify-full` (both check the certificate chain and the host name here, against
//! `sslrootcert`, default `~/.postgresql/root.crt`, else the system's roots). TLS is rustls,
//! so no system OpenSSL is needed to build.
//!
//! Several machines may open a store at once: migrations take a transaction-scoped advisory lock,
//! and a run is inserted with `ON CONFLICT (run_key) DO NOTHING`, so concurrent writers of the
//! same run record it once.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use postgres::{Client, Config};

use super::{
    Access, BoxError, Error, MachineSummary, Recorded, RunRow, RunSummary, STORE_SCHEMA, Store,
    TrendPoint, parse_document, split,
};
use crate::results::ResultsFile;

/// Each entry takes a store from schema `index` to `index + 1`, as in `sqlite.rs`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE runs (
        id BIGSERIAL PRIMARY KEY,
        created TEXT NOT NULL,
        hostname TEXT NOT NULL,
        cpu_model TEXT NOT NULL,
        logical_cores BIGINT NOT NULL,
        labels TEXT NOT NULL,
        tests TEXT NOT NULL,
        results_path TEXT,
        document TEXT NOT NULL
    );
    CREATE TABLE points (
        run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        test TEXT NOT NULL,
        label TEXT NOT NULL,
        thread_count BIGINT NOT NULL,
        interpreter TEXT NOT NULL,
        median DOUBLE PRECISION NOT NULL,
        ci_low DOUBLE PRECISION NOT NULL,
        ci_high DOUBLE PRECISION NOT NULL,
        samples TEXT NOT NULL
    );
    CREATE INDEX points_by_series ON points(test, label, thread_count);",
    // 1 -> 2
    "ALTER TABLE points ADD COLUMN disturbed BOOLEAN NOT NULL DEFAULT FALSE;",
    // 2 -> 3 (no PostgreSQL store existed before schema 3, so nothing to fill in)
    "ALTER TABLE runs ADD COLUMN run_key TEXT;
    ALTER TABLE runs ADD COLUMN machine TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE runs ADD COLUMN quick BOOLEAN NOT NULL DEFAULT FALSE;
    ALTER TABLE runs ADD COLUMN threads TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE runs ADD COLUMN failed BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN resumed BIGINT NOT NULL DEFAULT 0;
    CREATE UNIQUE INDEX runs_by_key ON runs(run_key);
    CREATE INDEX runs_by_machine ON runs(machine, created);
    CREATE INDEX points_by_run ON points(run_id);
    CREATE TABLE documents (
        run_id BIGINT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        document TEXT NOT NULL
    );
    ALTER TABLE runs DROP COLUMN document;",
];

/// The advisory lock every ftbench holds while it checks and migrates the schema.
const MIGRATION_LOCK: i64 = 0x0066_7462_656e_6368; // "ftbench" in ASCII

/// A `PostgreSQL` store.
pub struct PgStore {
    name: String,
    client: RefCell<Client>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client holds sockets and a runtime: nothing to show.
        f.debug_struct("PgStore")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

pub use crate::secrets::redact_url as redact;

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How the connection is encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tls {
    /// Check the server's certificate (`verify-ca`, `verify-full`).
    verify: bool,
    /// `sslrootcert`: the CA certificates to check it against.
    root_cert: Option<String>,
}

/// The URL the `postgres` crate understands (it knows `sslmode` up to `require` and no
/// `sslrootcert`), and what TLS must do beyond it.
fn split_tls(url: &str) -> (String, Tls) {
    let mut tls = Tls {
        verify: false,
        root_cert: None,
    };
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), tls);
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (key, value) {
            ("sslmode", "verify-ca" | "verify-full") => {
                tls.verify = true;
                kept.push("sslmode=require".to_string());
            }
            ("sslrootcert", path) => tls.root_cert = Some(percent_decode(path)),
            _ => kept.push(pair.to_string()),
        }
    }
    if kept.is_empty() {
        (base.to_string(), tls)
    } else {
        (format!("{base}?{}", kept.join("&")), tls)
    }
}

/// The password libpq would use for this connection when the URL has none: `PGPASSWORD`, else
/// the first matching line of `PGPASSFILE` or `~/.pgpass` (`host:port:db:user:password`, `*`
/// matches anything, `\:` is a colon).
fn libpq_password(config: &Config) -> Option<String> {
    if let Some(password) = std::env::var_os("PGPASSWORD") {
        return Some(password.to_string_lossy().into_owned());
    }
    let file = std::env::var_os("PGPASSFILE").map_or_else(
        || std::env::home_dir().map(|home| home.join(".pgpass")),
        |f| Some(f.into()),
    )?;
    let text = fs_err::read_to_string(file).ok()?;
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(_)) | None => "localhost".to_string(),
        #[cfg(not(unix))]
        None => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    let db = config.get_dbname().unwrap_or(&user).to_string();
    let wanted = [host, port, db, user];
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .find_map(|line| {
            let fields = pgpass_fields(line);
            (fields.len() == 5
                && fields[..4]
                    .iter()
                    .zip(&wanted)
                    .all(|(field, want)| field == "*" || field == want))
            .then(|| fields[4].clone())
        })
}

/// A `.pgpass` line's fields: split at `:`, with `\:` and `\\` escaped.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("never empty").push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("never empty").push(c),
        }
    }
    fields
}

/// Accepts any certificate but checks that the server holds its key: libpq's `require`
/// (encryption against eavesdroppers, no defence against an impostor).
#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_config(tls: &Tls) -> Result<rustls::ClientConfig, BoxError> {
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?;
    if !tls.verify {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    let default_root = std::env::home_dir().map(|h| h.join(".postgresql/root.crt"));
    let root_file = tls
        .root_cert
        .clone()
        .map(std::path::PathBuf::from)
        .or_else(|| default_root.filter(|p| p.exists()));
    if let Some(file) = root_file {
        for cert in rustls::pki_types::CertificateDer::pem_file_iter(&file)
            .map_err(|err| format!("sslrootcert `{}`: {err}", file.display()))?
        {
            roots.add(cert.map_err(|err| format!("sslrootcert `{}`: {err}", file.display()))?)?;
        }
    } else {
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

impl PgStore {
    /// Connect to the database at `url`: to write, migrating its schema as needed; to read,
    /// only checking that it holds a store of this schema.
    pub fn open(url: &str, access: Access) -> Result<Self, Error> {
        let name = redact(url);
        let (plain_url, tls) = split_tls(url);
        let mut config: Config =
            plain_url
                .parse()
                .map_err(|err: postgres::Error| Error::BadUrl {
                    url: name.clone(),
                    reason: err.to_string(),
                })?;
        if config.get_password().is_none()
            && let Some(password) = libpq_password(&config)
        {
            config.password(password);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let open_error = |err: BoxError| Error::Open {
            store: name.clone(),
            err,
        };
        let connector =
            tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(&tls).map_err(open_error)?);
        let client = config
            .connect(connector)
            .map_err(|err| open_error(Box::new(err)))?;
        let store = Self {
            name,
            client: RefCell::new(client),
        };
        match access {
            Access::Write => store.migrate()?,
            Access::Read => store.check_schema()?,
        }
        Ok(store)
    }

    /// A reader's check: the database holds a store of this schema (nothing is written).
    fn check_schema(&self) -> Result<(), Error> {
        let fail = self.fail();
        let mut client = self.client.borrow_mut();
        let exists: bool = client
            .query_one("SELECT to_regclass('ftbench_schema') IS NOT NULL", &[])
            .and_then(|row| row.try_get(0))
            .map_err(&fail)?;
        let version: Option<i64> = if exists {
            client
                .query_opt("SELECT version FROM ftbench_schema", &[])
                .and_then(|row| row.map(|row| row.try_get(0)).transpose())
                .map_err(&fail)?
        } else {
            None
        };
        match version {
            None | Some(0) => Err(Error::NotAStore {
                store: self.name.clone(),
                what: "a database without ftbench's tables",
            }),
            Some(found) if found > STORE_SCHEMA => Err(Error::NewerSchema {
                store: self.name.clone(),
                found,
            }),
            Some(found) if found < STORE_SCHEMA => Err(Error::OlderSchema {
                store: self.name.clone(),
                found,
            }),
            Some(_) => Ok(()),
        }
    }

    fn fail(&self) -> impl Fn(postgres::Error) -> Error + '_ {
        |err| {
            if err.code() == Some(&postgres::error::SqlState::DISK_FULL) {
                return Error::DiskFull {
                    store: self.name.clone(),
                };
            }
            Error::Query {
                store: self.name.clone(),
                err: Box::new(err),
            }
        }
    }

    fn migrate(&self) -> Result<(), Error> {
        let fail = self.fail();
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().map_err(&fail)?;
        // One migrating ftbench at a time, across every machine; the lock ends with the
        // transaction.
        tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .map_err(&fail)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS ftbench_schema (version BIGINT NOT NULL)")
            .map_err(&fail)?;
        let version: Option<i64> = tx
            .query_opt("SELECT version FROM ftbench_schema", &[])
            .and_then(|row| row.map(|row| row.try_get(0)).transpose())
            .map_err(&fail)?;
        let version = if let Some(version) = version {
            version
        } else {
            tx.execute("INSERT INTO ftbench_schema (version) VALUES (0)", &[])
                .map_err(&fail)?;
            0
        };
        if version > STORE_SCHEMA {
            return Err(Error::NewerSchema {
                store: self.name.clone(),
                found: version,
            });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(migration).map_err(&fail)?;
            tx.execute(
                "UPDATE ftbench_schema SET version = $1",
                &[&i64::try_from(index + 1).unwrap_or(i64::MAX)],
            )
            .map_err(&fail)?;
        }
        tx.commit().map_err(&fail)
    }

    /// Set the schema version (tests: a store from a newer ftbench).
    #[cfg(test)]
    pub fn set_schema(&self, version: i64) {
        self.client
            .borrow_mut()
            .execute("UPDATE ftbench_schema SET version = $1", &[&version])
            .unwrap();
    }
}

/// A run's summary from its row. Every column is read with `try_get`: a store many machines
/// write to may hold what this ftbench did not write (a NULL, another type), which is an
/// error to report, never a panic.
fn summary(row: &postgres::Row) -> Result<RunSummary, postgres::Error> {
    Ok(RunSummary {
        id: row.try_get(0)?,
        key: row.try_get(1)?,
        created: row.try_get(2)?,
        machine: row.try_get(3)?,
        hostname: row.try_get(4)?,
        cpu_model: row.try_get(5)?,
        logical_cores: row.try_get(6)?,
        labels: split(row.try_get(7)?),
        tests: split(row.try_get(8)?),
        results_path: row.try_get(9)?,
        points: row.try_get(10)?,
        quick: row.try_get(11)?,
        threads: serde_json::from_str(row.try_get(12)?).unwrap_or_default(),
        failed: row.try_get(13)?,
        resumed: row.try_get(14)?,
    })
}

impl Store for PgStore {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn record(
        &mut self,
        results: &ResultsFile,
        results_path: Option<&Path>,
    ) -> Result<Recorded, Error> {
        let row = RunRow::of(results, results_path);
        let fail = self.fail();
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().map_err(&fail)?;
        let inserted = tx
            .query_opt(
                "INSERT INTO runs (run_key, created, machine, hostname, fingerprint, cpu_model,
                     logical_cores, labels, tests, results_path, quick, threads, failed, resumed)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                 ON CONFLICT (run_key) DO NOTHING RETURNING id",
                &[
                    &row.key,
                    &row.created,
                    &row.machine,
                    &row.hostname,
                    &row.fingerprint,
                    &row.cpu_model,
                    &row.logical_cores,
                    &row.labels,
                    &row.tests,
                    &row.results_path,
                    &row.quick,
                    &row.threads,
                    &row.failed,
                    &row.resumed,
                ],
            )
            .map_err(&fail)?;
        let Some(inserted) = inserted else {
            let id: i64 = tx
                .query_one("SELECT id FROM runs WHERE run_key = $1", &[&row.key])
                .and_then(|row| row.try_get(0))
                .map_err(&fail)?;
            tx.commit().map_err(&fail)?;
            return Ok(Recorded { id, new: false });
        };
        let id: i64 = inserted.try_get(0).map_err(&fail)?;
        tx.execute(
            "INSERT INTO documents (run_id, document) VALUES ($1, $2)",
            &[&id, &row.document],
        )
        .map_err(&fail)?;
        // One statement for all points: arrays, unnested server-side.
        let column =
            |f: fn(&super::PointRow) -> String| row.points.iter().map(f).collect::<Vec<_>>();
        let tests = column(|p| p.test.clone());
        let labels = column(|p| p.label.clone());
        let interpreters = column(|p| p.interpreter.clone());
        let samples = column(|p| p.samples.clone());
        let threads: Vec<i64> = row.points.iter().map(|p| p.thread_count).collect();
        let medians: Vec<f64> = row.points.iter().map(|p| p.median).collect();
        let lows: Vec<f64> = row.points.iter().map(|p| p.ci_low).collect();
        let highs: Vec<f64> = row.points.iter().map(|p| p.ci_high).collect();
        let disturbed: Vec<bool> = row.points.iter().map(|p| p.disturbed).collect();
        tx.execute(
            "INSERT INTO points (run_id, test, label, thread_count, interpreter, median, ci_low,
                 ci_high, samples, disturbed)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::text[],
                 $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::bool[])",
            &[
                &id,
                &tests,
                &labels,
                &threads,
                &interpreters,
                &medians,
                &lows,
                &highs,
                &samples,
                &disturbed,
            ],
        )
        .map_err(&fail)?;
        tx.commit().map_err(&fail)?;
        Ok(Recorded { id, new: true })
    }

    fn runs(&self, machine: Option<&str>) -> Result<Vec<RunSummary>, Error> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT r.id, r.run_key, r.created, r.machine, r.hostname, r.cpu_model,
                        r.logical_cores, r.labels, r.tests, r.results_path,
                        (SELECT COUNT(*) FROM points p WHERE p.run_id = r.id),
                        r.quick, r.threads, r.failed, r.resumed
                 FROM runs r WHERE $1::text IS NULL OR r.machine = $1 ORDER BY r.id",
                &[&machine],
            )
            .map_err(self.fail())?;
        rows.iter()
            .map(summary)
            .collect::<Result<_, _>>()
            .map_err(self.fail())
    }

    fn machines(&self) -> Result<Vec<MachineSummary>, Error> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT r.machine, COUNT(*), MIN(r.created), MAX(r.created),
                        (SELECT l.fingerprint FROM runs l WHERE l.machine = r.machine
                         ORDER BY l.created DESC, l.id DESC LIMIT 1)
                 FROM runs r GROUP BY r.machine ORDER BY r.machine",
                &[],
            )
            .map_err(self.fail())?;
        rows.iter()
            .map(|row| {
                Ok(MachineSummary {
                    machine: row.try_get(0)?,
                    runs: row.try_get(1)?,
                    first_seen: row.try_get(2)?,
                    last_seen: row.try_get(3)?,
                    fingerprint: serde_json::from_str(row.try_get(4)?).unwrap_or_default(),
                })
            })
            .collect::<Result<_, postgres::Error>>()
            .map_err(self.fail())
    }

    fn load(&self, id: i64) -> Result<ResultsFile, Error> {
        let row = self
            .client
            .borrow_mut()
            .query_opt("SELECT document FROM documents WHERE run_id = $1", &[&id])
            .map_err(self.fail())?
            .ok_or_else(|| Error::NoSuchRun {
                store: self.name.clone(),
                id,
            })?;
        parse_document(self.name.clone(), id, row.try_get(0).map_err(self.fail())?)
    }

    fn trend(
        &self,
        test: &str,
        label: &str,
        thread_count: u32,
        machine: Option<&str>,
    ) -> Result<Vec<TrendPoint>, Error> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT p.run_id, r.created, r.machine, r.hostname, p.median, p.ci_low,
                        p.ci_high, p.samples, p.disturbed
                 FROM points p JOIN runs r ON r.id = p.run_id
                 WHERE p.test = $1 AND p.label = $2 AND p.thread_count = $3
                   AND ($4::text IS NULL OR r.machine = $4)
                 ORDER BY r.created, p.run_id",
                &[&test, &label, &i64::from(thread_count), &machine],
            )
            .map_err(self.fail())?;
        rows.iter()
            .map(|row| {
                Ok(TrendPoint {
                    run_id: row.try_get(0)?,
                    created: row.try_get(1)?,
                    machine: row.try_get(2)?,
                    hostname: row.try_get(3)?,
                    median: row.try_get(4)?,
                    ci_low: row.try_get(5)?,
                    ci_high: row.try_get(6)?,
                    samples: serde_json::from_str(row.try_get(7)?).unwrap_or_default(),
                    disturbed: row.try_get(8)?,
                })
            })
            .collect::<Result<_, postgres::Error>>()
            .map_err(self.fail())
    }

    fn thread_counts(&self, test: &str, label: &str) -> Result<Vec<u32>, Error> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT DISTINCT thread_count FROM points WHERE test = $1 AND label = $2
                 ORDER BY thread_count",
                &[&test, &label],
            )
            .map_err(self.fail())?;
        let counts: Vec<i64> = rows
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(self.fail())?;
        Ok(counts
            .into_iter()
            .filter_map(|n| u32::try_from(n).ok())
            .collect())
    }

    fn labels(&self, test: &str) -> Result<Vec<String>, Error> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT DISTINCT label FROM points WHERE test = $1 ORDER BY label",
                &[&test],
            )
            .map_err(self.fail())?;
        rows.iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(self.fail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_and_tls_options_split_off() {
        assert_eq!(
            redact("postgresql://bench:s3cret@db:5432/ftbench?sslmode=require"),
            "postgresql://bench:***@db:5432/ftbench?sslmode=require"
        );
        assert_eq!(
            redact("postgresql://bench@db/ftbench"),
            "postgresql://bench@db/ftbench"
        );
        // Unencoded `/`, `?` and `@` in the password, which the driver accepts.
        assert_eq!(
            redact("postgresql://bench:pa/ss?w@rd@db:5432/ftbench"),
            "postgresql://bench:***@db:5432/ftbench"
        );
        assert_eq!(
            redact("postgres://u@h/db?sslmode=require&password=s3cret&x=1"),
            "postgres://u@h/db?sslmode=require&password=***&x=1"
        );
        assert_eq!(
            redact("postgresql://u@h/db?PASSWORD=x"),
            "postgresql://u@h/db?PASSWORD=***"
        );
        assert_eq!(
            redact("postgresql://u@h/db?sslmode=require"),
            "postgresql://u@h/db?sslmode=require"
        );
        let (url, tls) = split_tls(
            "postgresql://u@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&application_name=x",
        );
        assert_eq!(
            url,
            "postgresql://u@h/db?sslmode=require&application_name=x"
        );
        assert!(tls.verify);
        assert_eq!(tls.root_cert.as_deref(), Some("/tmp/ca.pem"));
        let (url, tls) = split_tls("postgresql://u@h/db?sslmode=require");
        assert_eq!(url, "postgresql://u@h/db?sslmode=require");
        assert!(!tls.verify);
    }

    #[test]
    fn pgpass_lines_split_at_unescaped_colons() {
        assert_eq!(
            pgpass_fields(r"db.example:5432:*:bench:pa\:ss\\word"),
            ["db.example", "5432", "*", "bench", r"pa:ss\word"]
        );
    }
}
