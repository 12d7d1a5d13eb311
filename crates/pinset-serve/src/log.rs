//! The server's log: one access line per request and one line per event (start, reload,
//! a refused reload, an unreachable upstream), as text or JSON. Lines are handed to a
//! writer thread in batches, so a request never waits on a terminal or a pipe.
//!
//! Text lines escape everything that comes from a client or a certificate (`{:?}`-style),
//! so a request path or a certificate name can neither forge a line nor move the cursor.

use std::net::SocketAddr;
use std::sync::mpsc;
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

/// Where log lines go: a thread that writes them with the function it was given.
#[derive(Clone)]
pub struct Logger {
    format: LogFormat,
    tx: mpsc::Sender<Msg>,
}

enum Msg {
    Line(String),
    Flush(mpsc::Sender<()>),
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
        let (tx, rx) = mpsc::channel::<Msg>();
        let spawned = std::thread::Builder::new().name("pinset-log".into()).spawn(move || {
            let mut batch = String::new();
            while let Ok(first) = rx.recv() {
                let mut next = Some(first);
                let mut flushed = Vec::new();
                // Whatever else is already queued goes out in the same write.
                while let Some(msg) = next.take() {
                    match msg {
                        Msg::Line(line) => batch.push_str(&line),
                        Msg::Flush(done) => flushed.push(done),
                    }
                    if batch.len() < 64 * 1024 {
                        next = rx.try_recv().ok();
                    }
                }
                if !batch.is_empty() {
                    write(&batch);
                    batch.clear();
                }
                for done in flushed {
                    let _ = done.send(());
                }
            }
        });
        if spawned.is_err() {
            // No thread: lines are dropped rather than written from request tasks.
            let (tx, _) = mpsc::channel();
            return Logger { format, tx };
        }
        Logger { format, tx }
    }

    /// The format.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// Logs a request.
    pub fn access(&self, a: &Access<'_>) {
        let line = match self.format {
            LogFormat::Text => format!(
                "{} {} {} \"{} {} {}\" {} {} {}ms\n",
                now(),
                a.client,
                a.identity.map_or_else(|| "-".to_string(), |i| format!("\"{}\"", escape(i))),
                a.method,
                escape(a.path),
                a.version,
                a.status,
                a.bytes,
                format_ms(a.duration_ms)
            ),
            LogFormat::Json => json_line("access", serde_json::to_value(a).unwrap_or_default()),
        };
        let _ = self.tx.send(Msg::Line(line));
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
        let _ = self.tx.send(Msg::Line(line));
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
        let (done_tx, done_rx) = mpsc::channel::<()>();
        if self.tx.send(Msg::Flush(done_tx)).is_ok() {
            let _ = done_rx.recv_timeout(Duration::from_secs(2));
        }
    }
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
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

fn format_ms(ms: f64) -> String {
    if ms < 10.0 { format!("{ms:.2}") } else { format!("{ms:.0}") }
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
