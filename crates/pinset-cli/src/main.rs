//! `pinset`: the command-line tool. `main` parses, dispatches and turns the result into the
//! exit codes of docs/architecture.md: 0 ok, 1 a verification or pin failure, 2 usage or I/O error;
//! `check` uses the monitoring codes 0 ok, 1 warning, 2 critical, 3 unknown (its usage and
//! I/O errors are unknown).

mod cli;
mod client_trust;
mod commands;
mod interception;
mod issuing;
mod lifecycle;
mod net_report;
mod output;
mod serving;
mod verdict;

use std::process::ExitCode;

use clap::Parser as _;

/// mimalloc instead of the system allocator: `pinset serve` allocates and frees small
/// buffers for every handshake and request from several threads, where glibc's malloc
/// spent about 15 % of a handshake's CPU time and kept tens of megabytes after a burst
/// (bench/README.md, `serve.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let check = std::env::args_os().nth(1).is_some_and(|a| a == "check");
            return match e.exit_code() {
                0 => ExitCode::SUCCESS,
                _ if check => output::ExitStatus::Unknown.into(),
                code => ExitCode::from(u8::try_from(code).unwrap_or(2)),
            };
        }
    };
    let monitoring = matches!(cli.command, cli::Command::Check(_));
    let result = match cli.command {
        cli::Command::Init(args) => commands::init::run(args),
        cli::Command::Issue(cli::IssueCommand::Server(args)) => commands::issue::server(args),
        cli::Command::Issue(cli::IssueCommand::Client(args)) => commands::issue::client(args),
        cli::Command::Pin(args) => commands::pin::run(args),
        cli::Command::Inspect(args) => commands::inspect::run(args),
        cli::Command::Verify(args) => commands::verify::run(args),
        cli::Command::Get(args) => commands::get::run(args),
        cli::Command::Lint(args) => commands::lint::run(args),
        cli::Command::Export(args) => commands::export::run(args),
        cli::Command::Serve(args) => commands::serve::run(args),
        cli::Command::Up(args) => commands::up::run(args),
        cli::Command::Revoke(args) => commands::revoke::run(args),
        cli::Command::Release(cmd) => commands::release::run(cmd),
        cli::Command::Renew(args) => commands::renew::run(args),
        cli::Command::Rotate(cmd) => commands::rotate::run(cmd),
        cli::Command::Status(args) => commands::status::run(args),
        cli::Command::PinExpiration(args) => commands::pin_expiration::run(args),
        cli::Command::Check(args) => commands::check::run(args),
        cli::Command::Mitm(args) => commands::mitm::run(args),
        cli::Command::Testbed(args) => commands::testbed::run(args),
    };
    match result {
        Ok(status) => status.into(),
        Err(err) if monitoring => output::report_as(&err, output::ExitStatus::Unknown),
        Err(err) => output::report(&err),
    }
}
