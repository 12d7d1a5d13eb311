//! The ledger of issued certificates: an SQLite database in `pki/` recording every
//! certificate a site issued (serial, kind, subject, SANs, validity, pin, status), the
//! source of truth for revocation and CRLs.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use crate::error::{Error, Result};

/// File name of the ledger inside `pki/`.
pub const LEDGER_FILE: &str = "ledger.sqlite3";

/// Schema version, kept in SQLite's `user_version`.
const SCHEMA_VERSION: i64 = 1;

/// What an issued certificate is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertKind {
    /// The active root.
    Ca,
    /// The standby root, issued at once so apps can ship it as an anchor.
    CaStandby,
    /// A server certificate.
    Server,
    /// A self-signed server's standby certificate.
    ServerStandby,
    /// A client certificate for mutual TLS.
    Client,
}

impl CertKind {
    fn as_str(self) -> &'static str {
        match self {
            CertKind::Ca => "ca",
            CertKind::CaStandby => "ca-standby",
            CertKind::Server => "server",
            CertKind::ServerStandby => "server-standby",
            CertKind::Client => "client",
        }
    }
}

/// A certificate to record.
pub struct Record {
    /// What it is.
    pub kind: CertKind,
    /// The identity's name in the plan.
    pub name: String,
    /// The DER certificate.
    pub cert_der: Vec<u8>,
    /// `active` or `standby`.
    pub status: &'static str,
}

/// One row of the ledger.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LedgerEntry {
    /// Serial number, lower-case hex.
    pub serial: String,
    /// What it is.
    pub kind: String,
    /// The identity's name in the plan.
    pub name: String,
    /// Subject, as `pinset inspect` shows it.
    pub subject: String,
    /// subjectAltNames, `IP:…`/`DNS:…`.
    pub sans: Vec<String>,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// SPKI pin, base64.
    pub spki_pin: String,
    /// `active`, `standby` or `revoked`.
    pub status: String,
    /// When it was revoked, RFC 3339.
    pub revoked_at: Option<String>,
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl Ledger {
    /// Opens the ledger at `path`, creating it and its schema when missing.
    pub fn open(path: &Path) -> Result<Ledger> {
        Ledger::open_with(path, false)
    }

    /// Creates a ledger inside a staging folder, with SQLite's own flushes and rollback
    /// journal file turned off for this connection: the folder is flushed as a whole
    /// before it is moved into place (`atomic::sync_tree`), and a crash before that
    /// leaves only the staging folder. Later opens use SQLite's defaults again.
    pub fn create_staged(path: &Path) -> Result<Ledger> {
        Ledger::open_with(path, true)
    }

    fn open_with(path: &Path, staged: bool) -> Result<Ledger> {
        let err = |source| Error::Ledger { path: path.to_path_buf(), source };
        let conn = Connection::open(path).map_err(err)?;
        if staged {
            conn.pragma_update(None, "synchronous", "OFF").map_err(err)?;
            conn.pragma_update_and_check(None, "journal_mode", "MEMORY", |_| Ok(())).map_err(err)?;
        }
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
        match version {
            0 => {
                conn.execute_batch(
                    "BEGIN;
                     CREATE TABLE certificates (
                         serial      TEXT PRIMARY KEY,
                         kind        TEXT NOT NULL,
                         name        TEXT NOT NULL,
                         subject     TEXT NOT NULL,
                         sans        TEXT NOT NULL,
                         not_before  TEXT NOT NULL,
                         not_after   TEXT NOT NULL,
                         spki_pin    TEXT NOT NULL,
                         status      TEXT NOT NULL CHECK (status IN ('active', 'standby', 'revoked')),
                         revoked_at  TEXT,
                         issued_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
                     );
                     CREATE INDEX certificates_by_name ON certificates (kind, name);
                     PRAGMA user_version = 1;
                     COMMIT;",
                )
                .map_err(err)?;
            }
            SCHEMA_VERSION => {}
            other => {
                return Err(Error::Plan {
                    path: path.to_path_buf(),
                    problem: format!(
                        "ledger schema version {other} is newer than this pinset understands ({SCHEMA_VERSION})"
                    ),
                    hint: Some("use the pinset release that created this site, or a newer one".into()),
                });
            }
        }
        Ok(Ledger { conn, path: path.to_path_buf() })
    }

    /// Records issued certificates in one transaction: all rows or none.
    pub fn record(&mut self, rows: &[Record]) -> Result<()> {
        let err = |source| Error::Ledger { path: self.path.clone(), source };
        let rfc3339 =
            |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let tx = self.conn.transaction().map_err(err)?;
        for row in rows {
            let summary = crate::cert::summarize(&row.name, &row.cert_der, time::OffsetDateTime::now_utc())?;
            let sans: Vec<String> = summary.sans.iter().map(ToString::to_string).collect();
            let sans_json = serde_json::to_string(&sans).unwrap_or_else(|_| "[]".into());
            tx.execute(
                "INSERT INTO certificates (serial, kind, name, subject, sans, not_before, not_after, spki_pin, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    summary.serial,
                    row.kind.as_str(),
                    row.name,
                    summary.subject,
                    sans_json,
                    rfc3339(summary.not_before),
                    rfc3339(summary.not_after),
                    summary.spki_sha256.to_base64(),
                    row.status
                ],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Removes rows (only to undo a record whose plan could not be written).
    pub fn forget(&self, serials: &[String]) -> Result<()> {
        for serial in serials {
            self.conn
                .execute("DELETE FROM certificates WHERE serial = ?1", [serial])
                .map_err(|source| Error::Ledger { path: self.path.clone(), source })?;
        }
        Ok(())
    }

    /// Every certificate, oldest first.
    pub fn entries(&self) -> Result<Vec<LedgerEntry>> {
        let err = |source| Error::Ledger { path: self.path.clone(), source };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT serial, kind, name, subject, sans, not_before, not_after, spki_pin, status, revoked_at
                 FROM certificates ORDER BY issued_at, rowid",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                let sans: String = r.get(4)?;
                Ok(LedgerEntry {
                    serial: r.get(0)?,
                    kind: r.get(1)?,
                    name: r.get(2)?,
                    subject: r.get(3)?,
                    sans: serde_json::from_str(&sans).unwrap_or_default(),
                    not_before: r.get(5)?,
                    not_after: r.get(6)?,
                    spki_pin: r.get(7)?,
                    status: r.get(8)?,
                    revoked_at: r.get(9)?,
                })
            })
            .map_err(err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(err)
    }

    /// The entry with this serial, if any.
    pub fn get(&self, serial: &str) -> Result<Option<LedgerEntry>> {
        Ok(self.entries()?.into_iter().find(|e| e.serial == serial))
    }
}
