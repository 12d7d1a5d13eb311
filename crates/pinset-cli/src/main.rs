//! `pinset`: the command-line tool. `main` parses, dispatches and turns the result into the
//! exit codes of docs/architecture.md: 0 ok, 1 a verification or pin failure, 2 usage or I/O error.

mod cli;
mod client_trust;
mod commands;
mod interception;
mod issuing;
mod net_report;
mod output;
mod verdict;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
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
        cli::Command::Mitm(args) => commands::mitm::run(args),
        cli::Command::Testbed(args) => commands::testbed::run(args),
    };
    match result {
        Ok(status) => status.into(),
        Err(err) => output::report(&err),
    }
}
