//! `pinset serve`: the TLS front of an on-site server.

use pinset_serve::Server;

use crate::cli::ServeArgs;
use crate::output::{self, ExitStatus};
use crate::serving;

/// Loads the site's certificates, binds, prints what is served, and serves until Ctrl-C.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    let listen = if args.serve.listen.is_empty() { serving::all_addresses(8443) } else { args.serve.listen.clone() };
    let opts = serving::options(&args.serve, dir, listen)?;
    let logger = serving::logger(&args.serve);
    let server = Server::bind(opts, logger.clone())?;
    let summary = server.summary();
    if args.serve.json {
        output::emit_json(&summary)?;
    } else {
        output::emit(&serving::summary_text(&summary))?;
    }
    serving::warn_about_expiry(&summary);
    serving::run(server, &logger)
}
