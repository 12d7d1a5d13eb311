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
//!
//! Schema 3 added the app releases a site supports (each with the pins it carries, see
//! [`Release`]), the statuses `retiring` and `superseded` that renewal and rotation give
//! replaced certificates, and the journal of changes in progress ([`ChangeRecord`]), which
//! a multi-file change writes before it touches a file, so that recovery can finish or
//! undo it (see [`crate::change`]).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags, params};

use crate::error::{Error, Remedy, Result};

/// File name of the ledger inside `pki/`.
pub const LEDGER_FILE: &str = "ledger.sqlite3";

/// Schema version, kept in SQLite's `user_version`. Version 2 added the revocation reason,
/// version 3 the releases, the change journal and two statuses; older ledgers are migrated
/// when opened, each step in one transaction.
const SCHEMA_VERSION: i64 = 3;

/// The certificates table of schema 3 (a `CHECK` cannot be altered in SQLite: version 2's
/// table is copied into this one).
const CERTIFICATES_V3: &str = "CREATE TABLE certificates (
         serial      TEXT PRIMARY KEY,
         kind        TEXT NOT NULL,
         name        TEXT NOT NULL,
         subject     TEXT NOT NULL,
         sans        TEXT NOT NULL,
         not_before  TEXT NOT NULL,
         not_after   TEXT NOT NULL,
         spki_pin    TEXT NOT NULL,
         status      TEXT NOT NULL
                     CHECK (status IN ('active', 'standby', 'retiring', 'superseded', 'revoked')),
         revoked_at  TEXT,
         issued_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
         revocation_reason TEXT
     );";

/// The tables schema 3 added.
const RELEASES_AND_CHANGES: &str = "CREATE TABLE releases (
         version     TEXT PRIMARY KEY,
         platforms   TEXT NOT NULL DEFAULT '[]',
         pins        TEXT NOT NULL,
         created     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
         retired     TEXT
     );
     CREATE TABLE changes (
         id          INTEGER PRIMARY KEY,
         operation   TEXT NOT NULL,
         phase       TEXT NOT NULL CHECK (phase IN ('prepare', 'apply')),
         record      TEXT NOT NULL,
         started     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
     );";

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

impl CertKind {
    /// The kind's name in the ledger.
    pub fn name(self) -> &'static str {
        self.as_str()
    }
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
                conn.execute_batch(&format!(
                    "BEGIN;
                     {CERTIFICATES_V3}
                     CREATE INDEX certificates_by_name ON certificates (kind, name);
                     {ONE_ACTIVE_INDEX};
                     {RELEASES_AND_CHANGES}
                     PRAGMA user_version = {SCHEMA_VERSION};
                     COMMIT;"
                ))
                .map_err(err)?;
            }
            1 | 2 => {
                // Version 1 lacked the reason; version 2 the releases, the journal and the
                // statuses of replaced certificates. Every row keeps its values; the
                // one-active index is made again below (when the rows allow it).
                // A reader may open the ledger at the same moment (no lock is needed to
                // read): the write lock is taken first and the version read again under it,
                // so one of them migrates and the other finds it done.
                conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
                let now: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
                if now != version {
                    conn.execute_batch("COMMIT").map_err(err)?;
                    return Ledger::open_with(path, staged);
                }
                let reason = if version == 1 { ", NULL" } else { ", revocation_reason" };
                conn.execute_batch(&format!(
                    "ALTER TABLE certificates RENAME TO certificates_v{version};
                     {CERTIFICATES_V3}
                     INSERT INTO certificates (serial, kind, name, subject, sans, not_before, not_after, spki_pin,
                                               status, revoked_at, issued_at, revocation_reason)
                         SELECT serial, kind, name, subject, sans, not_before, not_after, spki_pin, status,
                                revoked_at, issued_at{reason} FROM certificates_v{version};
                     DROP TABLE certificates_v{version};
                     CREATE INDEX certificates_by_name ON certificates (kind, name);
                     {RELEASES_AND_CHANGES}
                     PRAGMA user_version = {SCHEMA_VERSION};
                     COMMIT;"
                ))
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

    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |source| Error::Ledger { path: self.path.clone(), source }
    }

    /// Every release the site recorded, oldest first (supported and retired).
    pub fn releases(&self) -> Result<Vec<Release>> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare("SELECT version, platforms, pins, created, retired FROM releases ORDER BY created, rowid")
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                let platforms: String = r.get(1)?;
                let pins: String = r.get(2)?;
                Ok(Release {
                    version: r.get(0)?,
                    platforms: serde_json::from_str(&platforms).unwrap_or_default(),
                    pins: serde_json::from_str(&pins).unwrap_or_default(),
                    created: r.get(3)?,
                    retired: r.get(4)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(err)
    }

    /// The release `version`, if recorded.
    pub fn release(&self, version: &str) -> Result<Option<Release>> {
        Ok(self.releases()?.into_iter().find(|r| r.version == version))
    }

    /// Records a release with the pins it carries, or adds `platforms` to a release recorded
    /// with the same pins. A release recorded with other pins is refused: a shipped release
    /// carries what it carries.
    pub fn record_release(&mut self, version: &str, platforms: &[String], pins: &[ReleasePin]) -> Result<Release> {
        let existing = self.release(version)?;
        let err = self.err();
        match existing {
            Some(r) => {
                let same = r.pins.len() == pins.len() && pins.iter().all(|p| r.pins.iter().any(|q| q.pin == p.pin));
                if !same {
                    let listed =
                        |ps: &[ReleasePin]| ps.iter().map(|p| p.pin.to_string()).collect::<Vec<_>>().join(", ");
                    return Err(Error::BadValue {
                        what: "release",
                        value: version.to_string(),
                        problem: format!(
                            "was recorded carrying {}, and the site's pins are now {}",
                            listed(&r.pins),
                            listed(pins)
                        ),
                        hint: Some(Remedy::NewReleaseVersion),
                    });
                }
                let mut all = r.platforms.clone();
                for p in platforms {
                    if !all.contains(p) {
                        all.push(p.clone());
                    }
                }
                let json = serde_json::to_string(&all).unwrap_or_else(|_| "[]".into());
                self.conn
                    .execute("UPDATE releases SET platforms = ?2 WHERE version = ?1", params![version, json])
                    .map_err(&err)?;
            }
            None => {
                let platforms = serde_json::to_string(platforms).unwrap_or_else(|_| "[]".into());
                let pins = serde_json::to_string(pins).unwrap_or_else(|_| "[]".into());
                self.conn
                    .execute(
                        "INSERT INTO releases (version, platforms, pins) VALUES (?1, ?2, ?3)",
                        params![version, platforms, pins],
                    )
                    .map_err(&err)?;
            }
        }
        drop(err);
        self.release(version)?.ok_or_else(|| Error::bad_value("release", version, "was not recorded", None))
    }

    /// Marks a release no longer supported. Returns false, changing nothing, when it was
    /// retired already; an unknown release is an error naming the ones recorded.
    pub fn retire_release(&mut self, version: &str, at: time::OffsetDateTime) -> Result<bool> {
        let Some(release) = self.release(version)? else {
            let known: Vec<String> = self.releases()?.into_iter().map(|r| r.version).collect();
            return Err(Error::bad_value(
                "release",
                version,
                if known.is_empty() {
                    "is not recorded: this site has recorded no release".to_string()
                } else {
                    format!("is not recorded; the site's releases are {}", known.join(", "))
                },
                None,
            ));
        };
        if release.retired.is_some() {
            return Ok(false);
        }
        let at = at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        self.conn
            .execute("UPDATE releases SET retired = ?2 WHERE version = ?1", params![version, at])
            .map_err(self.err())?;
        Ok(true)
    }

    /// Starts a change: in one transaction, sets the statuses `status` gives, records
    /// `rows`, and journals `record` (with what undoes both) in phase `prepare`. Returns the
    /// journal id.
    pub(crate) fn begin_change(
        &mut self,
        operation: &str,
        record: &mut ChangeRecord,
        rows: &[Record],
        status: &[(String, CertKind, &'static str)],
    ) -> Result<i64> {
        let path = self.path.clone();
        let err = |source| Error::Ledger { path: path.clone(), source };
        record.inserted = rows
            .iter()
            .filter_map(|r| {
                crate::cert::parse("", &r.cert_der).ok().map(|c| crate::cert::serial_to_string(c.raw_serial()))
            })
            .collect();
        let tx = self.conn.transaction().map_err(err)?;
        for (serial, kind, new_status) in status {
            let before: Option<(String, String)> = tx
                .query_row("SELECT kind, status FROM certificates WHERE serial = ?1", [serial], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map(Some)
                .or_else(|e| if matches!(e, rusqlite::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })
                .map_err(err)?;
            let Some((old_kind, old_status)) = before else { continue };
            record.undo.push(StatusUndo { serial: serial.clone(), kind: old_kind, status: old_status });
            tx.execute(
                "UPDATE certificates SET kind = ?2, status = ?3 WHERE serial = ?1",
                params![serial, kind.as_str(), new_status],
            )
            .map_err(err)?;
        }
        let json = serde_json::to_string(&*record).map_err(|e| Error::crypto("cannot encode change", e))?;
        tx.execute(
            "INSERT INTO changes (operation, phase, record) VALUES (?1, 'prepare', ?2)",
            params![operation, json],
        )
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(err)?;
        if !rows.is_empty()
            && let Err(e) = self.record(rows)
        {
            let _ = self.undo_change(id);
            return Err(e);
        }
        Ok(id)
    }

    /// Whether a renewal or rotation was interrupted and waits for the next command that
    /// changes the site to finish or undo it.
    pub fn has_pending_change(&self) -> Result<bool> {
        Ok(!self.changes()?.is_empty())
    }

    /// Moves a change to phase `apply`: from here on it is finished, not undone.
    pub(crate) fn commit_change(&self, id: i64) -> Result<()> {
        self.conn.execute("UPDATE changes SET phase = 'apply' WHERE id = ?1", [id]).map_err(self.err())?;
        Ok(())
    }

    /// Undoes a change still in phase `prepare`: its rows removed, the statuses it changed
    /// set back, its journal entry removed, in one transaction.
    pub(crate) fn undo_change(&mut self, id: i64) -> Result<()> {
        let path = self.path.clone();
        let err = |source| Error::Ledger { path: path.clone(), source };
        let Some(change) = self.changes()?.into_iter().find(|c| c.id == id) else { return Ok(()) };
        let tx = self.conn.transaction().map_err(err)?;
        for serial in &change.record.inserted {
            tx.execute("DELETE FROM certificates WHERE serial = ?1", [serial]).map_err(err)?;
        }
        for u in change.record.undo.iter().rev() {
            tx.execute(
                "UPDATE certificates SET kind = ?2, status = ?3 WHERE serial = ?1",
                params![u.serial, u.kind, u.status],
            )
            .map_err(err)?;
        }
        tx.execute("DELETE FROM changes WHERE id = ?1", [id]).map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Removes a finished change's journal entry.
    pub(crate) fn end_change(&self, id: i64) -> Result<()> {
        self.conn.execute("DELETE FROM changes WHERE id = ?1", [id]).map_err(self.err())?;
        Ok(())
    }

    /// The changes in progress (left by an interrupted command when found by another).
    pub(crate) fn changes(&self) -> Result<Vec<Change>> {
        let err = self.err();
        let mut stmt =
            self.conn.prepare("SELECT id, operation, phase, record FROM changes ORDER BY id").map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                let record: String = r.get(3)?;
                Ok(Change {
                    id: r.get(0)?,
                    operation: r.get(1)?,
                    applying: r.get::<_, String>(2)? == "apply",
                    record: serde_json::from_str(&record).unwrap_or_default(),
                })
            })
            .map_err(&err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(err)
    }
}

/// A pin a release carries, with the part its key played when the release was recorded.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReleasePin {
    /// The pin.
    pub pin: crate::Pin,
    /// Active, standby or retiring when recorded.
    pub role: crate::Role,
    /// Whose key: `authority` or `server NAME`.
    pub owner: String,
}

/// An app release the site recorded: the pins it carries, on which platforms.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Release {
    /// The app's version, as its owner names it (`2.3.0`).
    pub version: String,
    /// The platforms it shipped on (export target names), perhaps none.
    pub platforms: Vec<String>,
    /// The pins it carries.
    pub pins: Vec<ReleasePin>,
    /// When it was recorded, RFC 3339.
    pub created: String,
    /// When it was retired (no longer supported), RFC 3339.
    pub retired: Option<String>,
}

impl Release {
    /// Whether the site still supports it.
    pub fn supported(&self) -> bool {
        self.retired.is_none()
    }

    /// Whether it carries `pin`.
    pub fn carries(&self, pin: &crate::Pin) -> bool {
        self.pins.iter().any(|p| p.pin == *pin)
    }
}

/// What a change in progress does to files, and how its ledger rows are undone.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct ChangeRecord {
    /// Files (relative to the site folder) staged in the change folder, moved into place
    /// in this order once the change commits (the plan last).
    pub moves: Vec<String>,
    /// Files removed once moved.
    pub removes: Vec<String>,
    /// Serials of the rows the change added.
    pub inserted: Vec<String>,
    /// The rows it changed, as they were.
    pub undo: Vec<StatusUndo>,
}

/// A row's kind and status before a change.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct StatusUndo {
    pub serial: String,
    pub kind: String,
    pub status: String,
}

/// A change journaled in the ledger.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    pub id: i64,
    pub operation: String,
    /// Committed: finish it; else undo it.
    pub applying: bool,
    pub record: ChangeRecord,
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
        assert!(reopened.enforces_one_active());
        assert!(reopened.releases().expect("releases table").is_empty());
    }

    #[test]
    fn a_version_2_ledger_is_migrated_to_3_keeping_rows_and_taking_releases_and_new_statuses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(LEDGER_FILE);
        {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(V1).expect("v1 schema");
            conn.execute_batch(
                "ALTER TABLE certificates ADD COLUMN revocation_reason TEXT;
                 CREATE UNIQUE INDEX one_active_certificate ON certificates (kind, name) WHERE status = 'active';
                 PRAGMA user_version = 2;",
            )
            .expect("v2 schema");
            conn.execute(
                "INSERT INTO certificates (serial, kind, name, subject, sans, not_before, not_after, spki_pin, status,
                 revoked_at, revocation_reason) VALUES
                 ('aa01', 'client', 'till-1', 'CN=till-1', '[]', 'x', 'y', 'p', 'revoked', '2026-01-01T00:00:00Z',
                  'key-compromise'),
                 ('bb02', 'server', 'server', 'CN=s', '[\"IP:127.0.0.1\"]', 'x', 'y', 'p', 'active', NULL, NULL)",
                [],
            )
            .expect("v2 rows");
        }
        let mut ledger = Ledger::open(&path).expect("migrate");
        let version: i64 = ledger.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
        assert_eq!(version, 3);
        assert!(ledger.enforces_one_active(), "the index is made again");
        let old = ledger.get("aa01").expect("read").expect("row kept");
        assert_eq!(old.revocation_reason.as_deref(), Some("key-compromise"));
        assert_eq!(ledger.get("bb02").expect("read").expect("row").sans, vec!["IP:127.0.0.1".to_string()]);
        // The statuses of schema 3 are accepted.
        ledger.conn.execute("UPDATE certificates SET status = 'superseded' WHERE serial = 'bb02'", []).expect("new");
        let pin: crate::Pin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".parse().expect("pin");
        let rp = ReleasePin { pin, role: crate::Role::Active, owner: "authority".into() };
        ledger.record_release("1.0", &["android".into()], std::slice::from_ref(&rp)).expect("record");
        let r = ledger.record_release("1.0", &["ios".into()], std::slice::from_ref(&rp)).expect("same pins");
        assert_eq!(r.platforms, vec!["android".to_string(), "ios".to_string()]);
        let other = ReleasePin { pin: crate::Pin::of_spki(b"other"), ..rp.clone() };
        let err = ledger.record_release("1.0", &[], &[other]).expect_err("other pins");
        assert_eq!(err.remedy(), Some(&Remedy::NewReleaseVersion));
        assert!(ledger.retire_release("1.0", time::OffsetDateTime::now_utc()).expect("retire"));
        assert!(!ledger.retire_release("1.0", time::OffsetDateTime::now_utc()).expect("again"));
        let err = ledger.retire_release("9.9", time::OffsetDateTime::now_utc()).expect_err("unknown");
        assert!(err.to_string().contains("releases are 1.0"), "{err}");
        drop(ledger);
        let reopened = Ledger::open(&path).expect("reopen v3");
        assert!(!reopened.releases().expect("releases")[0].supported());
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
