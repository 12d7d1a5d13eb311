//! Running real programs from tests: a program that cannot start fails the test saying how
//! to install it, a program that hangs is killed at a deadline, and a failed expectation
//! shows the program's stdout and stderr. Also [`ServerProcess`], the child process on a
//! free loopback port that the `openssl s_server` and `nghttpd` harnesses are made of.

use std::fs::File;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::net::{IO_TIMEOUT, free_port};

/// Runs a program to its end and returns its output, failing the test with a clear
/// message when the program itself cannot be started.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (install it with scripts/setup): {e}"))
}

/// Runs `cmd` to its end with empty stdin, killing it and failing the test (with what it
/// wrote to stderr) if it has not finished after `timeout`. `what` names it in messages.
pub fn run_bounded(mut cmd: Command, timeout: Duration, what: &str) -> Output {
    let logs = tempdir();
    let (out_path, err_path) = (logs.path().join("stdout"), logs.path().join("stderr"));
    cmd.stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("create stdout file"))
        .stderr(File::create(&err_path).expect("create stderr file"));
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {what} (install it with scripts/setup): {e}"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish in {timeout:?}:\n{}", std::fs::read_to_string(&err_path).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).expect("read stdout"),
        stderr: std::fs::read(&err_path).expect("read stderr"),
    }
}

/// Runs `openssl` and returns stdout; the test fails when openssl fails.
pub fn openssl_ok(args: &[&str]) -> Vec<u8> {
    let out = run("openssl", args);
    assert!(out.status.success(), "openssl {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A path as &str (test paths are always UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A temporary folder, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary folder")
}

/// Standard output, as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Standard output then standard error, for messages and matching.
pub fn both(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

/// Fails unless the program exited with `code` and did not panic; the message shows both
/// streams.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit {code}\n--- stdout:\n{}\n--- stderr:\n{}",
        stdout(out),
        stderr(out)
    );
    assert!(!stderr(out).contains("panicked"), "{what}: the program panicked:\n{}", stderr(out));
}

/// Fails unless `haystack` contains every one of `needles`.
#[track_caller]
pub fn assert_contains(haystack: &str, needles: &[&str], what: &str) {
    for n in needles {
        assert!(haystack.contains(n), "{what}: expected {n:?} in:\n{haystack}");
    }
}

/// A server child process listening on a free loopback port, killed and reaped when
/// dropped, so no server outlives its test, even one that fails. Its stdout and stderr go
/// to a log file in the test's folder, shown when it fails to start.
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    log: PathBuf,
}

impl ServerProcess {
    /// Runs `program` with the arguments `args(addr)` gives for a free port on `ip`, and
    /// waits until it accepts connections. A port taken between choosing it and the
    /// server's bind makes the server exit; another port is tried then. `name` names the
    /// log file (`dir/NAME-IP-PORT.log`) and the server in messages.
    pub fn start(
        dir: &Path,
        name: &str,
        ip: IpAddr,
        program: &str,
        args: impl Fn(SocketAddr) -> Vec<String>,
    ) -> ServerProcess {
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let addr = SocketAddr::new(ip, free_port(ip));
            let log = dir.join(format!("{name}-{}-{}.log", ip.to_string().replace(':', "_"), addr.port()));
            let out = File::create(&log).expect("create the server log");
            let err = out.try_clone().expect("clone the log handle");
            let child = Command::new(program)
                .args(args(addr))
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {program} (install it with scripts/setup): {e}"));
            let mut server = ServerProcess { child, addr, log };
            let deadline = Instant::now() + IO_TIMEOUT;
            loop {
                if server.child.try_wait().expect("poll the server").is_some() {
                    last_log = server.log_text();
                    break;
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    // The server that answered is ours only if ours is still running.
                    if server.child.try_wait().expect("poll the server").is_none() {
                        return server;
                    }
                    last_log = server.log_text();
                    break;
                }
                assert!(Instant::now() < deadline, "{name} on {addr} did not accept in time:\n{}", server.log_text());
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("{name} on {ip} would not start:\n{last_log}");
    }

    /// What the server wrote so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
