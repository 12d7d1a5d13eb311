//! One module per subcommand, each with one `run`-style entry point.

pub mod check;
pub mod export;
pub mod get;
pub mod init;
pub mod inspect;
pub mod issue;
pub mod lint;
pub mod mitm;
pub mod pin;
pub mod pin_expiration;
pub mod release;
pub mod renew;
pub mod revoke;
pub mod rotate;
pub mod serve;
pub mod status;
pub mod testbed;
pub mod up;
pub mod verify;
