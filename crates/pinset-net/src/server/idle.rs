//! [`IdleIo`]: a connection that is closed when it has moved no byte for a while and has no
//! request in progress, so a client that opens a connection and goes quiet (or a half-open
//! connection whose peer vanished) gives its slot back.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Requests in progress on one connection. While one is, the connection is not idle, even
/// when no byte moves (a slow upstream, a long poll).
#[derive(Debug, Default)]
pub struct Activity {
    in_progress: AtomicUsize,
}

impl Activity {
    /// A request started.
    pub fn start(&self) {
        self.in_progress.fetch_add(1, Ordering::Relaxed);
    }

    /// A request ended (its response was sent or abandoned).
    pub fn end(&self) {
        self.in_progress.fetch_sub(1, Ordering::Relaxed);
    }

    fn busy(&self) -> bool {
        self.in_progress.load(Ordering::Relaxed) > 0
    }
}

/// An I/O stream that fails reads with `TimedOut` once it has been idle for `idle`.
pub struct IdleIo<T> {
    inner: T,
    idle: Duration,
    last: Instant,
    timer: Pin<Box<Sleep>>,
    activity: Arc<Activity>,
}

impl<T> IdleIo<T> {
    /// Wraps `inner`; `activity` tells it when a request is in progress.
    pub fn new(inner: T, idle: Duration, activity: Arc<Activity>) -> IdleIo<T> {
        let now = Instant::now();
        IdleIo { inner, idle, last: now, timer: Box::pin(tokio::time::sleep_until(now + idle)), activity }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// Whether the connection has been idle too long. The timer is re-armed lazily (only
    /// when it fires), so traffic costs a clock read, not a timer update, per read.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            let now = Instant::now();
            if self.activity.busy() {
                self.last = now;
            }
            let deadline = self.last + self.idle;
            if deadline <= now {
                return true;
            }
            self.timer.as_mut().reset(deadline);
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.last = Instant::now();
                }
                Poll::Ready(r)
            }
            Poll::Pending => {
                if self.expired(cx) {
                    Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "connection idle for too long")))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.last = Instant::now();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.last = Instant::now();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
