//! The attacks the harness plays, one per intercepted connection: what each presents to
//! the client and what a client that pins correctly does about it (refuses it, except the
//! control).

/// One way of standing between a client and its server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attack {
    /// A certificate for the dialled name from a CA the client was never told about.
    UntrustedCa,
    /// A certificate for the dialled name from the harness's own CA, which the tester
    /// installed on the device: only a pin refuses it.
    TrustedCa,
    /// A chain whose CA copies the site CA's subject, serial number and key identifiers
    /// with another key: a client that matches its CA by name, not by key, accepts it.
    ClonedCa,
    /// A self-signed certificate copying the genuine certificate's subject and names.
    SelfSignedCopy,
    /// The harness CA's certificate for the dialled name, expired yesterday.
    Expired,
    /// The harness CA's certificate for another name than the one dialled.
    WrongName,
    /// The harness CA's certificate for the dialled name, offered over TLS 1.2 only: the
    /// pin check must hold on a client's TLS 1.2 path too.
    Tls12Only,
    /// The genuine server, bytes relayed untouched: the control that shows the client
    /// works at all.
    Passthrough,
}

impl Attack {
    /// Every attack, in the order the harness plays them in turn.
    pub const ALL: [Attack; 8] = [
        Attack::UntrustedCa,
        Attack::TrustedCa,
        Attack::ClonedCa,
        Attack::SelfSignedCopy,
        Attack::Expired,
        Attack::WrongName,
        Attack::Tls12Only,
        Attack::Passthrough,
    ];

    /// Its name, as reports and the command line spell it.
    pub fn name(self) -> &'static str {
        match self {
            Attack::UntrustedCa => "untrusted-ca",
            Attack::TrustedCa => "trusted-ca",
            Attack::ClonedCa => "cloned-ca",
            Attack::SelfSignedCopy => "self-signed-copy",
            Attack::Expired => "expired",
            Attack::WrongName => "wrong-name",
            Attack::Tls12Only => "tls12-only",
            Attack::Passthrough => "passthrough",
        }
    }

    /// The attack of that name.
    pub fn from_name(name: &str) -> Option<Attack> {
        Attack::ALL.into_iter().find(|a| a.name() == name)
    }

    /// What it presents, in a line.
    pub fn describe(self) -> &'static str {
        match self {
            Attack::UntrustedCa => "a certificate for the dialled name from a CA the client never saw",
            Attack::TrustedCa => "a certificate for the dialled name from the harness CA installed on the device",
            Attack::ClonedCa => "a CA copying the site CA's subject, serial and key identifiers, with another key",
            Attack::SelfSignedCopy => "a self-signed copy of the genuine certificate's subject and names",
            Attack::Expired => "the harness CA's certificate for the dialled name, expired",
            Attack::WrongName => "the harness CA's certificate for another name",
            Attack::Tls12Only => "the harness CA's certificate for the dialled name, over TLS 1.2 only",
            Attack::Passthrough => "the genuine server, relayed untouched (the control)",
        }
    }

    /// Whether the client is shown a forged certificate (every attack but the control).
    pub fn is_forged(self) -> bool {
        self != Attack::Passthrough
    }
}

impl std::fmt::Display for Attack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
