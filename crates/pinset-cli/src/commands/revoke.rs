//! `pinset revoke`: revoke a client certificate and sign the revocation list again.

use pinset::Site;
use pinset::ledger::RevocationReason;

use crate::cli::{ReasonArg, RevokeArgs};
use crate::issuing;
use crate::output::{self, ExitStatus, untrusted};

/// Records the revocation and writes `pki/crl.pem`.
pub fn run(args: RevokeArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    let mut site = issuing::exclusive(&dir, &args.wait, |how| Site::open_for_change(&dir, how))?;
    let reason = match args.reason {
        ReasonArg::Unspecified => RevocationReason::Unspecified,
        ReasonArg::KeyCompromise => RevocationReason::KeyCompromise,
        ReasonArg::CaCompromise => RevocationReason::CaCompromise,
        ReasonArg::AffiliationChanged => RevocationReason::AffiliationChanged,
        ReasonArg::Superseded => RevocationReason::Superseded,
        ReasonArg::CessationOfOperation => RevocationReason::CessationOfOperation,
        ReasonArg::PrivilegeWithdrawn => RevocationReason::PrivilegeWithdrawn,
    };
    let r = site.revoke(&args.which, reason)?;
    if args.json {
        output::emit_json(&r)?;
        return Ok(ExitStatus::Success);
    }
    let c = &r.certificate;
    let head = if r.newly_revoked { "Revoked" } else { "Already revoked" };
    output::emit(&format!(
        "{head} {} {:?} ({})\n  serial       {}\n  revoked at   {}\n  reason       {}\nRevocation list {} names {} certificate{}; a running `pinset serve` refuses them from its next handshake on.\n",
        c.kind,
        c.name,
        untrusted(&c.subject),
        c.serial,
        c.revoked_at.as_deref().unwrap_or("?"),
        c.revocation_reason.as_deref().unwrap_or("unspecified"),
        untrusted(&r.crl.display().to_string()),
        r.crl_entries,
        if r.crl_entries == 1 { "" } else { "s" }
    ))?;
    Ok(ExitStatus::Success)
}
