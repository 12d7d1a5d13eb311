//! What `serve` and `up` share: the server's options from the command line, the log
//! writer, the start message, and running until Ctrl-C.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use pinset_serve::{Backend, ClientAuth, Limits, LogFormat, Logger, ServeOptions, Server, Summary, Upstream};

use crate::cli::{ClientAuthArg, LogFormatArg, ServeCommon};
use crate::output::{self, ExitStatus, untrusted};

/// Every address of this machine on `port`, IPv6 and IPv4.
pub fn all_addresses(port: u16) -> Vec<SocketAddr> {
    vec![SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)), SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))]
}

/// The server's options from the command line.
pub fn options(args: &ServeCommon, site: PathBuf, listen: Vec<SocketAddr>) -> anyhow::Result<ServeOptions> {
    let backend = match (&args.upstream, &args.static_dir) {
        (Some(u), _) => Backend::Upstream(Upstream::parse(u)?),
        (None, Some(dir)) => Backend::Static(dir.clone()),
        (None, None) => Backend::StatusPage,
    };
    for name in &args.allow_clients {
        pinset::plan::check_name(name)?;
    }
    if !args.allow_clients.is_empty() && matches!(args.client_auth, ClientAuthArg::Off) {
        anyhow::bail!(pinset::Error::bad_value(
            "--allow-client",
            &args.allow_clients.join(", "),
            "has no effect without client certificates",
            Some("add --client-auth require"),
        ));
    }
    let mut opts = ServeOptions::new(site, listen, backend);
    opts.server = args.server.clone();
    opts.client_auth = match args.client_auth {
        ClientAuthArg::Off => ClientAuth::Off,
        ClientAuthArg::Optional => ClientAuth::Optional,
        ClientAuthArg::Require => ClientAuth::Require,
    };
    opts.allow_clients = args.allow_clients.clone();
    opts.metrics = args.metrics;
    opts.log_format = log_format(args);
    opts.session_resumption = !args.no_session_resumption;
    opts.watch_files = !args.no_watch;
    opts.limits = Limits {
        max_connections: args.max_connections,
        handshake_timeout: Duration::from_secs(args.handshake_timeout.max(1)),
        idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
        upstream_timeout: Duration::from_secs(args.upstream_timeout.max(1)),
        max_body_bytes: args.max_body,
        ..Limits::default()
    };
    Ok(opts)
}

fn log_format(args: &ServeCommon) -> LogFormat {
    match args.log_format {
        LogFormatArg::Text => LogFormat::Text,
        LogFormatArg::Json => LogFormat::Json,
    }
}

/// The log: lines on stderr through the one writer.
pub fn logger(args: &ServeCommon) -> Logger {
    Logger::new(log_format(args), output::message)
}

/// The start message: where it listens, what it presents, where requests go.
pub fn summary_text(s: &Summary) -> String {
    let mut t = format!("Serving site {:?} on:\n", s.site);
    for url in &s.urls {
        t.push_str(&format!("  {url}\n"));
    }
    for server in &s.servers {
        let c = &server.certificate;
        t.push_str(&format!("Server {:?} for {}:\n", server.name, server.addresses.join(", ")));
        t.push_str(&format!("  certificate  {} ({})\n", c.serial, untrusted(&c.subject)));
        t.push_str(&format!("  valid until  {}\n", c.not_after.date()));
        t.push_str(&format!("  key pin      {}\n", c.pin));
    }
    match s.backend.as_str() {
        "status page" => t.push_str("Requests get the status page: the pins, the CA to install, every export\n"),
        b if b.starts_with("http://") => t.push_str(&format!("Requests go to {b}\n")),
        dir => t.push_str(&format!("Requests get the files in {}\n", untrusted(dir))),
    }
    match s.client_auth {
        ClientAuth::Off => {}
        mode => {
            let mode = if mode == ClientAuth::Require { "required" } else { "optional" };
            t.push_str(&format!(
                "Client certificates: {mode}, from the site's CA; revocation list names {}\n",
                s.revoked_listed
            ));
            if !s.allow_clients.is_empty() {
                t.push_str(&format!("  allowed clients: {}\n", s.allow_clients.join(", ")));
            }
        }
    }
    if let Some(m) = &s.metrics {
        t.push_str(&format!("Metrics: {m}\n"));
    }
    t
}

/// Warns about a served certificate close to its end.
pub fn warn_about_expiry(s: &Summary) {
    let now = time::OffsetDateTime::now_utc();
    for server in &s.servers {
        let days = (server.certificate.not_after - now).whole_days();
        if days < 30 {
            output::warn(&format!(
                "the certificate of server {:?} expires in {days} days ({}): issue a new one",
                server.name,
                server.certificate.not_after.date()
            ));
        }
    }
}

/// Serves until Ctrl-C or SIGTERM, then says how the drain went.
pub fn run(server: Server, logger: &Logger) -> anyhow::Result<ExitStatus> {
    output::message("Ctrl-C stops; SIGHUP or a replaced certificate file reloads.\n");
    let stopped = server.run_until_stopped()?;
    logger.flush();
    let d = stopped.drained;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut line =
        format!("Stopped ({}): {} connection{} finished", stopped.signal.name(), d.finished, plural(d.finished));
    if d.closed > 0 {
        line.push_str(&format!(", {} closed at the deadline", d.closed));
    }
    output::message(&format!("{line}\n"));
    Ok(ExitStatus::Success)
}
