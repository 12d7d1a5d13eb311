//! `pinset serve` and `pinset up` as the tests run them: a child process whose stdout and
//! stderr are collected as they come, waited for with bounded waits that fail saying what
//! the server printed, and stopped with SIGINT (killed if a test fails first). Also the
//! real upstreams the proxy is tested against: an HTTP/1.1 server that echoes what it
//! received, and a WebSocket echo server.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pinset_testkit::net::{Loopback, V4};

/// How long a server may take to start or stop.
pub const START: Duration = Duration::from_secs(30);

/// A running `pinset` server.
pub struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    /// The first loopback address it printed.
    pub addr: SocketAddr,
}

fn collect(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stream);
        let mut line = String::new();
        while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            sink.lock().unwrap_or_else(PoisonError::into_inner).push_str(&line);
            line.clear();
        }
    });
    text
}

impl Running {
    /// Runs `pinset ARGS` in `cwd` and waits until it serves.
    pub fn start(args: &[&str]) -> Running {
        Running::start_in(None, args)
    }

    /// Runs `pinset ARGS` (in `cwd` when given) and waits until it serves.
    pub fn start_in(cwd: Option<&std::path::Path>, args: &[&str]) -> Running {
        let bin = assert_cmd::cargo::cargo_bin("pinset");
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env_remove("PINSET_SITE")
            .env("PINSET_P12_PASSWORD", "unused")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let mut child = cmd.spawn().expect("start pinset");
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        let deadline = Instant::now() + START;
        loop {
            let err = stderr.lock().unwrap_or_else(PoisonError::into_inner).clone();
            // stdout and stderr are read by two threads: the URLs may arrive after the log.
            let urls = first_loopback(&stdout.lock().unwrap_or_else(PoisonError::into_inner)).is_some();
            if err.contains("Ctrl-C stops") && urls {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "pinset {args:?} exited ({status}) instead of serving:\n--- stdout\n{}--- stderr\n{}",
                    stdout.lock().unwrap_or_else(PoisonError::into_inner),
                    stderr.lock().unwrap_or_else(PoisonError::into_inner)
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("pinset {args:?} did not start serving within {START:?}:\n{err}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = stdout.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let addr = first_loopback(&out).unwrap_or_else(|| panic!("no loopback URL in the start message:\n{out}"));
        Running { child, stdout, stderr, addr }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `https://ADDR/PATH` on the first loopback address.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Everything it printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Everything it printed on stderr (its log) so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits until its log holds `needle` `count` times; fails the test with the log if it
    /// does not within `timeout`.
    pub fn wait_for_log(&self, needle: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.stderr().matches(needle).count() < count {
            assert!(
                Instant::now() < deadline,
                "no {count}× {needle:?} in the log within {timeout:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal (`HUP`, `INT`, `TERM`).
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill").args([&format!("-{sig}"), &self.pid().to_string()]).status().expect("kill");
        assert!(status.success(), "kill -{sig} failed");
    }

    /// Sends SIGINT and waits (bounded) for the exit: its status, stdout and stderr.
    pub fn stop(self) -> (ExitStatus, String, String) {
        self.signal("INT");
        self.stop_after_signal()
    }

    /// Waits (bounded) for the exit after a stop signal was sent.
    pub fn stop_after_signal(mut self) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + START;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(Instant::now() < deadline, "pinset did not stop within {START:?} of SIGINT:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader threads drain what was left in the pipes.
        std::thread::sleep(Duration::from_millis(100));
        (status, self.stdout(), self.stderr())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first `https://127.0.0.1:PORT/` or `https://[::1]:PORT/` in `text`.
fn first_loopback(text: &str) -> Option<SocketAddr> {
    text.split_whitespace()
        .filter_map(|w| w.trim_matches('"').strip_prefix("https://"))
        .filter_map(|w| w.trim_end_matches(['/', ',']).parse::<SocketAddr>().ok())
        .find(|a| a.ip().is_loopback())
}

/// An HTTP/1.1 upstream that answers every request with `200` and a body of what it
/// received: the request line, then each header as `name: value` (names lower case),
/// a blank line, and the request body. Keep-alive, as a real upstream.
pub struct Echo {
    server: Loopback,
}

impl Echo {
    /// Starts it on 127.0.0.1.
    pub fn start() -> Echo {
        Echo { server: Loopback::start(V4, |sock, _stop| echo_http(sock)) }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }
}

fn echo_http(sock: TcpStream) {
    let mut reader = BufReader::new(sock.try_clone().expect("clone"));
    let mut writer = sock;
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            head.push(line.trim_end().to_string());
        }
        let Some(request_line) = head.first().cloned() else { return };
        let mut len = 0usize;
        let mut close = false;
        let mut text = format!("{request_line}\n");
        for h in &head[1..] {
            let (name, value) = h.split_once(':').unwrap_or((h, ""));
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim();
            if name == "content-length" {
                len = value.parse().unwrap_or(0);
            }
            if name == "connection" && value.eq_ignore_ascii_case("close") {
                close = true;
            }
            text.push_str(&format!("{name}: {value}\n"));
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&body));
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n{text}",
            text.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        if writer.write_all(resp.as_bytes()).is_err() || close {
            return;
        }
    }
}

/// A WebSocket server that sends every message back.
pub struct WsEcho {
    server: Loopback,
}

impl WsEcho {
    /// Starts it on 127.0.0.1.
    pub fn start() -> WsEcho {
        WsEcho {
            server: Loopback::start(V4, |sock, _stop| {
                let Ok(mut ws) = tungstenite::accept(sock) else { return };
                while let Ok(msg) = ws.read() {
                    if (msg.is_text() || msg.is_binary()) && ws.send(msg).is_err() {
                        return;
                    }
                }
            }),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }
}
