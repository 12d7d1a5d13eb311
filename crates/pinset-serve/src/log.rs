//! The server's log: one access line per request and one line per event (start, reload,
//! a refused reload, an unreachable upstream), as text or JSON. Lines are handed to a
//! writer thread in batches, so a request never waits on a terminal or a pipe.
//!
//! Text lines escape everything that comes from a client or a certificate (`{:?}`-style),
//! so a request path or a certificate name can neither forge a line nor move the cursor.

use std::net::SocketAddr;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line each.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// How serious an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Normal operation (started, reloaded).
    Info,
    /// Something to look at (a refused reload, a certificate about to expire).
    Warning,
    /// A request could not be served (the upstream is down).
    Error,
}

/// One request, as the access log records it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Access<'a> {
    /// The client's address.
    pub client: SocketAddr,
    /// The verified client certificate's name, if one was presented.
    pub identity: Option<&'a str>,
    /// Request method.
    pub method: &'a str,
    /// Path and query.
    pub path: &'a str,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: &'a str,
    /// Status sent.
    pub status: u16,
    /// Response body bytes sent.
    pub bytes: u64,
    /// From the request's arrival to the end of its response, in milliseconds.
    pub duration_ms: f64,
}

/// Where log lines go: a buffer that a writer thread empties with the function it was
/// given. Access lines wait in the buffer until the thread's next turn ([`FLUSH_EVERY`]) or
/// until it is full, so a busy server does not wake a thread per request (on a loaded
/// core every wake-up is a context switch); events wake the writer at once.
#[derive(Clone)]
pub struct Logger {
    format: LogFormat,
    shared: std::sync::Arc<Shared>,
}

/// How long an access line may wait before it is written: short enough to follow a log
/// live, long enough to write thousands of lines in one system call under load.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Buffered bytes that wake the writer early.
const WAKE_AT: usize = 64 * 1024;

#[derive(Default)]
struct Shared {
    state: std::sync::Mutex<State>,
    wake: std::sync::Condvar,
}

#[derive(Default)]
struct State {
    buffer: String,
    /// Incremented at every write, so `flush` knows when its lines are out.
    written: u64,
    /// The writer should write now (an event, a full buffer, a flush).
    urgent: bool,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger").field("format", &self.format).finish()
    }
}

impl Logger {
    /// A logger writing `format` lines with `write` (which gets one or more whole lines),
    /// from a thread of its own.
    pub fn new(format: LogFormat, write: impl Fn(&str) + Send + 'static) -> Logger {
        let shared = std::sync::Arc::new(Shared::default());
        let writer = shared.clone();
        // Without a thread, lines stay buffered: they are never written from request tasks.
        let _ = std::thread::Builder::new().name("pinset-log".into()).spawn(move || {
            loop {
                let batch = {
                    let mut state = writer.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if !state.urgent {
                        state = writer
                            .wake
                            .wait_timeout(state, FLUSH_EVERY)
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .0;
                    }
                    state.urgent = false;
                    std::mem::take(&mut state.buffer)
                };
                if !batch.is_empty() {
                    write(&batch);
                }
                let mut state = writer.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                state.written += 1;
                writer.wake.notify_all();
                if std::sync::Arc::strong_count(&writer) == 1 && state.buffer.is_empty() {
                    return;
                }
            }
        });
        Logger { format, shared }
    }

    fn push(&self, line: &str, urgent: bool) {
        self.push_with(urgent, |buffer| buffer.push_str(line));
    }

    /// Appends to the buffer with `write` (formatting in place: no line allocated).
    fn push_with(&self, urgent: bool, write: impl FnOnce(&mut String)) {
        let mut state = self.shared.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        write(&mut state.buffer);
        if urgent || state.buffer.len() >= WAKE_AT {
            state.urgent = true;
            self.shared.wake.notify_all();
        }
    }

    /// The format.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// Logs a request.
    pub fn access(&self, a: &Access<'_>) {
        match self.format {
            // Numbers and addresses by hand: `format!` machinery was most of a line's cost.
            LogFormat::Text => self.push_with(false, |buffer| {
                with_now(|t| buffer.push_str(t));
                buffer.push(' ');
                match a.client {
                    SocketAddr::V4(v4) => {
                        push_ip(buffer, std::net::IpAddr::V4(*v4.ip()));
                        buffer.push(':');
                        push_u64(buffer, u64::from(v4.port()));
                    }
                    v6 => {
                        use std::fmt::Write as _;
                        let _ = write!(buffer, "{v6}");
                    }
                }
                buffer.push(' ');
                match a.identity {
                    Some(i) => {
                        buffer.push('"');
                        buffer.push_str(&escape(i));
                        buffer.push('"');
                    }
                    None => buffer.push('-'),
                }
                buffer.push_str(" \"");
                buffer.push_str(a.method);
                buffer.push(' ');
                buffer.push_str(&escape(a.path));
                buffer.push(' ');
                buffer.push_str(a.version);
                buffer.push_str("\" ");
                push_u64(buffer, u64::from(a.status));
                buffer.push(' ');
                push_u64(buffer, a.bytes);
                buffer.push(' ');
                // Two decimals under 10 ms, whole milliseconds above.
                let ms = a.duration_ms.max(0.0);
                if ms < 10.0 {
                    let hundredths = (ms * 100.0).round() as u64;
                    push_u64(buffer, hundredths / 100);
                    buffer.push('.');
                    if hundredths % 100 < 10 {
                        buffer.push('0');
                    }
                    push_u64(buffer, hundredths % 100);
                } else {
                    push_u64(buffer, ms.round() as u64);
                }
                buffer.push_str("ms\n");
            }),
            LogFormat::Json => self.push(&json_line("access", serde_json::to_value(a).unwrap_or_default()), false),
        }
    }

    /// Logs an event.
    pub fn event(&self, level: Level, message: &str) {
        let line = match self.format {
            LogFormat::Text => {
                let label = match level {
                    Level::Info => "",
                    Level::Warning => "warning: ",
                    Level::Error => "error: ",
                };
                format!("{} {label}{}\n", now(), escape_line(message))
            }
            LogFormat::Json => json_line("event", serde_json::json!({ "level": level, "message": message })),
        };
        self.push(&line, true);
    }

    /// Logs an informational event.
    pub fn info(&self, message: &str) {
        self.event(Level::Info, message);
    }

    /// Logs a warning.
    pub fn warn(&self, message: &str) {
        self.event(Level::Warning, message);
    }

    /// Logs an error.
    pub fn error(&self, message: &str) {
        self.event(Level::Error, message);
    }

    /// Waits (briefly) until the lines logged so far are written: for the last lines before
    /// the process exits.
    pub fn flush(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        let mut state = self.shared.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Two turns of the writer: the one in progress may have started before our lines.
        let target = state.written + 2;
        state.urgent = true;
        self.shared.wake.notify_all();
        while state.written < target {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            state = self.shared.wake.wait_timeout(state, left).unwrap_or_else(std::sync::PoisonError::into_inner).0;
            if state.written < target {
                state.urgent = true;
                self.shared.wake.notify_all();
            }
        }
    }
}

/// The time now, RFC 3339 to the second, formatted once per second per thread.
fn now() -> String {
    with_now(str::to_string)
}

/// Runs `f` on the time now as [`now`] formats it, without copying it.
fn with_now<R>(f: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let t = OffsetDateTime::now_utc();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != t.unix_timestamp() {
            let text =
                t.replace_nanosecond(0).unwrap_or(OffsetDateTime::UNIX_EPOCH).format(&Rfc3339).unwrap_or_default();
            *last = (t.unix_timestamp(), text);
        }
        f(&last.1)
    })
}

/// Appends a number in decimal.
pub(crate) fn push_u64(buffer: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buffer.extend(digits[i..].iter().map(|&d| char::from(d)));
}

/// Appends an address as `Display` writes it (IPv4 by hand, the common case).
pub(crate) fn push_ip(buffer: &mut String, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buffer.push('.');
                }
                push_u64(buffer, u64::from(octet));
            }
        }
        std::net::IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            let _ = write!(buffer, "{v6}");
        }
    }
}

/// A message on one line: control characters, Unicode line separators and bidirectional
/// overrides as `\u{…}` escapes.
pub fn escape_line(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars().map(|c| if bad(c) { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() }).collect(),
    )
}

/// Text from a client or a certificate, safe on one log line: control characters, quotes,
/// backslashes, Unicode line separators and bidirectional overrides as `\u{…}` escapes.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        c.is_control()
            || c == '\\'
            || c == '"'
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars().map(|c| if bad(c) { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() }).collect(),
    )
}

fn json_line(kind: &str, mut value: serde_json::Value) -> String {
    if let Some(obj) = value.as_object_mut() {
        obj.insert("time".into(), now().into());
        obj.insert("type".into(), kind.into());
    }
    let mut line = value.to_string();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_addresses_are_written_as_display_writes_them() {
        for n in [0, 7, 10, 99, 100, 65535, 1_000_000_007, u64::MAX] {
            let mut b = String::new();
            push_u64(&mut b, n);
            assert_eq!(b, n.to_string());
        }
        for ip in ["0.0.0.0", "127.0.0.1", "192.168.10.255", "::1", "fe80::1"] {
            let ip: std::net::IpAddr = ip.parse().expect("ip");
            let mut b = String::new();
            push_ip(&mut b, ip);
            assert_eq!(b, ip.to_string());
        }
    }

    #[test]
    fn an_access_line_has_every_field_escaped_and_the_duration_rounded() {
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let tx = std::sync::Mutex::new(tx);
        let logger = Logger::new(LogFormat::Text, move |s| {
            let _ = tx.lock().expect("lock").send(s.to_string());
        });
        let access = |client: &str, identity, path, ms| Access {
            client: client.parse().expect("addr"),
            identity,
            method: "GET",
            path,
            version: "HTTP/1.1",
            status: 200,
            bytes: 24,
            duration_ms: ms,
        };
        logger.access(&access("10.0.0.7:51000", None, "/a?b=1", 0.004));
        logger.access(&access("[::1]:443", Some("till \"1\""), "/x\ny", 9.996));
        logger.access(&access("10.0.0.7:1", None, "/", 123.4));
        logger.flush();
        let text: String = rx.try_iter().collect();
        let lines: Vec<&str> = text.lines().map(|l| l.split_once(' ').expect("time").1).collect();
        assert_eq!(
            lines,
            [
                "10.0.0.7:51000 - \"GET /a?b=1 HTTP/1.1\" 200 24 0.00ms",
                "[::1]:443 \"till \\u{22}1\\u{22}\" \"GET /x\\u{a}y HTTP/1.1\" 200 24 10.00ms",
                "10.0.0.7:1 - \"GET / HTTP/1.1\" 200 24 123ms",
            ]
        );
    }
}
