//! One module per subcommand, each with one `run`-style entry point.

pub mod get;
pub mod init;
pub mod inspect;
pub mod issue;
pub mod pin;
pub mod verify;
