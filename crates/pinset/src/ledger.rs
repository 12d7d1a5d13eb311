//! The ledger of issued certificates: an SQLite database in `pki/` recording every
//! certificate a site issued (serial, kind, subject, SANs, validity, pin, status), the
//! source of truth for revocation and CRLs.
//!
//! One rule is the database's own: an identity has at most one `active` certificate (a
//! partial unique index on kind and name). It is created with the table and, on a ledger
//! made before it existed, when the ledger is opened; the schema version stays the same,
//! since a pinset without the index reads and writes such a ledger as before.
//!
//! A missing ledger is never created anew beside an existing site: the plan names
//! certificates the ledger would then not know. Only a new site starts an empty one.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags, params};

use crate::error::{Error, Remedy, Result};

/// File name of the ledger inside `pki/`.
pub const LEDGER_FILE: &str = "ledger.sqlite3";

/// Schema version, kept in SQLite's `user_version`. Version 2 added the revocation reason;
/// a version-1 ledger is migrated when opened (one `ALTER TABLE`, in a transaction).
const SCHEMA_VERSION: i64 = 2;

/// The index that keeps one active certificate per identity (created if missing, with
/// `IF NOT EXISTS`, so a ledger of any schema version that has the table takes it).
const ONE_ACTIVE_INDEX: &str = "CREATE UNIQUE INDEX IF NOT EXISTS one_active_certificate
     ON certificates (kind, name) WHERE status = 'active'";

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
    one_active: bool,
}

impl Ledger {
    /// Opens the existing ledger at `path`. A missing one is an error: pinset never starts
    /// an empty ledger beside a site whose plan names certificates.
    pub fn open(path: &Path) -> Result<Ledger> {
        match std::fs::symlink_metadata(path) {
            Ok(_) => Ledger::open_with(path, false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::BadInput {
                path: path.display().to_string(),
                problem: "the site's certificate ledger is missing; pinset does not start an empty one beside a \
                          plan that names certificates, as the record of what this site issued, and may have to \
                          revoke, would be lost"
                    .into(),
                hint: Some(Remedy::RestoreLedger),
            }),
            Err(e) => Err(Error::io("cannot read", path, e)),
        }
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
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if staged {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags).map_err(err)?;
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
                     CREATE UNIQUE INDEX one_active_certificate
                         ON certificates (kind, name) WHERE status = 'active';
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
        let mut ledger = Ledger { conn, path: path.to_path_buf(), one_active: false };
        ledger.one_active = ledger.enforce_one_active()?;
        Ok(ledger)
    }

    /// Creates the one-active index when missing. `false` when it cannot be created: the
    /// ledger already breaks the rule (see [`Ledger::settle_duplicates`]) or is read-only.
    fn enforce_one_active(&self) -> Result<bool> {
        let err = |source| Error::Ledger { path: self.path.clone(), source };
        let present: bool = self
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'one_active_certificate')",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if present {
            return Ok(true);
        }
        match self.conn.execute_batch(ONE_ACTIVE_INDEX) {
            Ok(()) => Ok(true),
            Err(e) if matches!(e.sqlite_error_code(), Some(ErrorCode::ConstraintViolation | ErrorCode::ReadOnly)) => {
                Ok(false)
            }
            Err(e) => Err(err(e)),
        }
    }

    /// Whether the ledger enforces one active certificate per identity. Only a ledger
    /// changed by two commands at once, before pinset locked sites, does not.
    pub fn enforces_one_active(&self) -> bool {
        self.one_active
    }

    /// Makes a ledger that lists several active certificates for one identity keep one:
    /// of each such group, the certificates `keep` refuses (those the plan does not name)
    /// are marked revoked now. Then the one-active rule is enforced. Returns the serials
    /// revoked. A group where `keep` accepts none, or more than one, is left as it is and
    /// named in the error.
    pub fn settle_duplicates(&mut self, keep: &dyn Fn(&str) -> bool) -> Result<Vec<String>> {
        if self.one_active {
            return Ok(Vec::new());
        }
        let err = |source| Error::Ledger { path: self.path.clone(), source };
        let groups: Vec<(String, String, String)> = {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT kind, name, group_concat(serial, ' ') FROM certificates WHERE status = 'active'
                     GROUP BY kind, name HAVING count(*) > 1",
                )
                .map_err(err)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(err)?;
            rows.collect::<std::result::Result<_, _>>().map_err(err)?
        };
        let mut revoked = Vec::new();
        let tx = self.conn.transaction().map_err(err)?;
        for (kind, name, serials) in &groups {
            let serials: Vec<&str> = serials.split(' ').collect();
            let kept = serials.iter().filter(|s| keep(s)).count();
            if kept != 1 {
                return Err(Error::BadInput {
                    path: self.path.display().to_string(),
                    problem: format!(
                        "lists {} active certificates for {kind} {name:?} (serials {}), and the plan names {}",
                        serials.len(),
                        serials.join(", "),
                        if kept == 0 { "none of them" } else { "several" }
                    ),
                    hint: Some(Remedy::RestoreLedger),
                });
            }
            for serial in serials.iter().filter(|s| !keep(s)) {
                tx.execute(
                    "UPDATE certificates SET status = 'revoked',
                     revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE serial = ?1",
                    [serial],
                )
                .map_err(err)?;
                revoked.push((*serial).to_string());
            }
        }
        tx.execute_batch(ONE_ACTIVE_INDEX).map_err(err)?;
        tx.commit().map_err(err)?;
        self.one_active = true;
        Ok(revoked)
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
            .map_err(|e| match &e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE && row.status == "active" =>
                {
                    Error::bad_value(
                        row.kind.as_str(),
                        &row.name,
                        format!("the ledger {} already lists an active certificate for it", self.path.display()),
                        Some("choose another name; an identity has one active certificate, renewing it is a rotation"),
                    )
                }
                _ => err(e),
            })?;
        }
        tx.commit().map_err(err)
    }

    /// Removes rows: to undo a record whose plan could not be written, or the rows of an
    /// issue that never reached the plan. Returns how many there were.
    pub fn forget(&mut self, serials: &[String]) -> Result<usize> {
        let err = |source| Error::Ledger { path: self.path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        let mut removed = 0;
        for serial in serials {
            removed += tx.execute("DELETE FROM certificates WHERE serial = ?1", [serial]).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(removed)
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
        // Whole seconds: what a revocation list records (RFC 5280 UTCTime), and what people read.
        let at = at.replace_nanosecond(0).unwrap_or(at);
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

#[cfg(test)]
mod one_active_tests {
    use super::*;

    fn certificate(cn: &str) -> Vec<u8> {
        let key = crate::pki::KeyType::P256.generate().expect("key");
        crate::pki::new_root(cn, "test", &key, time::OffsetDateTime::now_utc()).expect("certificate").cert_der
    }

    fn record(kind: CertKind, name: &str, status: &'static str) -> Record {
        Record { kind, name: name.into(), cert_der: certificate(name), status }
    }

    fn serial(der: &[u8]) -> String {
        crate::cert::serial_to_string(crate::cert::parse("", der).expect("parse").raw_serial())
    }

    #[test]
    fn an_identity_has_one_active_certificate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(LEDGER_FILE);
        let mut ledger = Ledger::create_staged(&path).expect("create");
        assert!(ledger.enforces_one_active());
        ledger.record(&[record(CertKind::Server, "a", "active")]).expect("first");
        let err = ledger.record(&[record(CertKind::Server, "a", "active")]).expect_err("second active");
        assert!(
            err.to_string().contains("server \"a\"") && err.to_string().contains("already lists an active"),
            "{err}"
        );
        // Other kinds, other names and standby certificates are not limited.
        ledger
            .record(&[
                record(CertKind::ServerStandby, "a", "standby"),
                record(CertKind::Client, "a", "active"),
                record(CertKind::Server, "b", "active"),
            ])
            .expect("others");
        // A refused batch leaves nothing of itself.
        let err = ledger
            .record(&[record(CertKind::Server, "c", "active"), record(CertKind::Server, "b", "active")])
            .expect_err("one of them breaks the rule");
        assert!(err.to_string().contains("\"b\""), "{err}");
        assert!(ledger.entries().expect("entries").iter().all(|e| e.name != "c"));
        drop(ledger);
        assert!(Ledger::open(&path).expect("reopen").enforces_one_active());
    }

    #[test]
    fn a_missing_ledger_is_refused_not_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(LEDGER_FILE);
        let err = Ledger::open(&path).err().expect("missing");
        assert!(err.to_string().contains("ledger is missing"), "{err}");
        assert_eq!(err.remedy(), Some(&Remedy::RestoreLedger));
        assert!(!path.exists(), "nothing is created");
    }

    #[test]
    fn a_ledger_made_without_the_rule_takes_it_and_its_extra_active_rows_are_revoked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(LEDGER_FILE);
        let mut ledger = Ledger::create_staged(&path).expect("create");
        // A ledger written before the rule existed, by two commands at once.
        ledger.conn.execute_batch("DROP INDEX one_active_certificate").expect("drop");
        let (kept, extra) = (record(CertKind::Server, "same", "active"), record(CertKind::Server, "same", "active"));
        let (kept_serial, extra_serial) = (serial(&kept.cert_der), serial(&extra.cert_der));
        ledger.record(&[kept, extra]).expect("no rule yet");
        drop(ledger);

        let mut ledger = Ledger::open(&path).expect("open");
        assert!(!ledger.enforces_one_active(), "the rule cannot hold yet");
        let err = ledger.settle_duplicates(&|_| false).expect_err("the plan names neither");
        assert!(err.to_string().contains("2 active certificates for server \"same\""), "{err}");
        let revoked = ledger.settle_duplicates(&|s| s == kept_serial).expect("settle");
        assert_eq!(revoked, vec![extra_serial.clone()]);
        assert!(ledger.enforces_one_active());
        let entries = ledger.entries().expect("entries");
        let status = |s: &str| entries.iter().find(|e| e.serial == s).map(|e| e.status.clone());
        assert_eq!(status(&kept_serial).as_deref(), Some("active"));
        assert_eq!(status(&extra_serial).as_deref(), Some("revoked"));
        assert!(entries.iter().find(|e| e.serial == extra_serial).is_some_and(|e| e.revoked_at.is_some()));
        ledger.record(&[record(CertKind::Server, "same", "active")]).expect_err("the rule holds now");
    }
}
