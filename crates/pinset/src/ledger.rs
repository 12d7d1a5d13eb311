//! The ledger of issued certificates: an SQLite database in `pki/` recording every
//! certificate a site issued (serial, kind, subject, SANs, validity, pin, status), the
//! source of truth for revocation and CRLs.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use crate::error::{Error, Result};

/// File name of the ledger inside `pki/`.
pub const LEDGER_FILE: &str = "ledger.sqlite3";

/// Schema version, kept in SQLite's `user_version`. Version 2 added the revocation reason;
/// a version-1 ledger is migrated when opened (one `ALTER TABLE`, in a transaction).
const SCHEMA_VERSION: i64 = 2;

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
    /// Why it was revoked: an RFC 5280 reason name ([`RevocationReason::name`]).
    pub revocation_reason: Option<String>,
}

/// Why a certificate was revoked: the reason codes of RFC 5280 §5.3.1 that apply to a
/// site's own certificates (certificateHold is left out: a revocation here is final).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RevocationReason {
    /// No reason given.
    Unspecified,
    /// The private key was, or may have been, disclosed (a lost or stolen device).
    KeyCompromise,
    /// The site's CA key was compromised.
    CaCompromise,
    /// The holder changed (a device moved to another shop).
    AffiliationChanged,
    /// Replaced by a new certificate.
    Superseded,
    /// The device or app is no longer in use.
    CessationOfOperation,
    /// The holder is no longer allowed to connect.
    PrivilegeWithdrawn,
}

impl RevocationReason {
    /// Every reason, in RFC 5280 order.
    pub const ALL: [RevocationReason; 7] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::PrivilegeWithdrawn,
    ];

    /// The reason's name, kebab-case (`key-compromise`), as the ledger stores it.
    pub fn name(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "key-compromise",
            RevocationReason::CaCompromise => "ca-compromise",
            RevocationReason::AffiliationChanged => "affiliation-changed",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessation-of-operation",
            RevocationReason::PrivilegeWithdrawn => "privilege-withdrawn",
        }
    }

    /// The reason named `name`.
    pub fn from_name(name: &str) -> Option<RevocationReason> {
        RevocationReason::ALL.into_iter().find(|r| r.name() == name)
    }

    /// rcgen's code for the CRL entry.
    pub(crate) fn to_rcgen(self) -> rcgen::RevocationReason {
        match self {
            RevocationReason::Unspecified => rcgen::RevocationReason::Unspecified,
            RevocationReason::KeyCompromise => rcgen::RevocationReason::KeyCompromise,
            RevocationReason::CaCompromise => rcgen::RevocationReason::CaCompromise,
            RevocationReason::AffiliationChanged => rcgen::RevocationReason::AffiliationChanged,
            RevocationReason::Superseded => rcgen::RevocationReason::Superseded,
            RevocationReason::CessationOfOperation => rcgen::RevocationReason::CessationOfOperation,
            RevocationReason::PrivilegeWithdrawn => rcgen::RevocationReason::PrivilegeWithdrawn,
        }
    }
}

impl std::fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
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
                     ALTER TABLE certificates ADD COLUMN revocation_reason TEXT;
                     PRAGMA user_version = 2;
                     COMMIT;",
                )
                .map_err(err)?;
            }
            1 => {
                // Version 1 lacked the reason; every row keeps its status and time.
                conn.execute_batch(
                    "BEGIN;
                     ALTER TABLE certificates ADD COLUMN revocation_reason TEXT;
                     PRAGMA user_version = 2;
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
                "SELECT serial, kind, name, subject, sans, not_before, not_after, spki_pin, status, revoked_at,
                        revocation_reason
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
                    revocation_reason: r.get(10)?,
                })
            })
            .map_err(err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(err)
    }

    /// The entry with this serial, if any.
    pub fn get(&self, serial: &str) -> Result<Option<LedgerEntry>> {
        Ok(self.entries()?.into_iter().find(|e| e.serial == serial))
    }

    /// Marks the certificate `serial` revoked at `at` for `reason`. Returns false, changing
    /// nothing, when it was revoked already (the first revocation's time and reason stay).
    pub fn revoke(&self, serial: &str, at: time::OffsetDateTime, reason: RevocationReason) -> Result<bool> {
        let at = at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let changed = self
            .conn
            .execute(
                "UPDATE certificates SET status = 'revoked', revoked_at = ?2, revocation_reason = ?3
                 WHERE serial = ?1 AND status != 'revoked'",
                params![serial, at, reason.name()],
            )
            .map_err(|source| Error::Ledger { path: self.path.clone(), source })?;
        Ok(changed == 1)
    }

    /// The revoked certificates, oldest first.
    pub fn revoked(&self) -> Result<Vec<LedgerEntry>> {
        Ok(self.entries()?.into_iter().filter(|e| e.status == "revoked").collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The version-1 schema exactly as the first release created it.
    const V1: &str = "CREATE TABLE certificates (
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
         PRAGMA user_version = 1;";

    #[test]
    fn a_version_1_ledger_is_migrated_and_keeps_its_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(LEDGER_FILE);
        {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(V1).expect("v1 schema");
            conn.execute(
                "INSERT INTO certificates (serial, kind, name, subject, sans, not_before, not_after, spki_pin, status,
                 revoked_at) VALUES ('aa01', 'client', 'till-1', 'CN=till-1', '[]', 'x', 'y', 'p', 'revoked',
                 '2026-01-01T00:00:00Z'), ('bb02', 'client', 'till-2', 'CN=till-2', '[]', 'x', 'y', 'p', 'active', NULL)",
                [],
            )
            .expect("v1 rows");
        }
        let ledger = Ledger::open(&path).expect("migrate");
        let version: i64 = ledger.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
        assert_eq!(version, SCHEMA_VERSION);
        let old = ledger.get("aa01").expect("read").expect("row kept");
        assert_eq!(old.status, "revoked");
        assert_eq!(old.revoked_at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(old.revocation_reason, None);
        let at = time::macros::datetime!(2026-02-03 04:05:06 UTC);
        assert!(ledger.revoke("bb02", at, RevocationReason::KeyCompromise).expect("revoke"));
        assert!(!ledger.revoke("bb02", at, RevocationReason::Superseded).expect("again"), "revoked twice");
        drop(ledger);
        let reopened = Ledger::open(&path).expect("reopen v2");
        let e = reopened.get("bb02").expect("read").expect("row");
        assert_eq!(
            (e.status.as_str(), e.revoked_at.as_deref(), e.revocation_reason.as_deref()),
            ("revoked", Some("2026-02-03T04:05:06Z"), Some("key-compromise"))
        );
        assert_eq!(reopened.revoked().expect("revoked").len(), 2);
    }

    #[test]
    fn reason_names_round_trip() {
        for r in RevocationReason::ALL {
            assert_eq!(RevocationReason::from_name(r.name()), Some(r));
        }
    }
}
