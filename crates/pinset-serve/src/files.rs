//! Static files from a folder: GET and HEAD, `index.html` for a folder, a content type by
//! extension, and nothing outside the folder (no `..`, no symbolic link leading out).

use std::path::{Path, PathBuf};

use http::header::{self, HeaderValue};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use crate::http::{Body, full, text};

/// Largest file served (256 MiB): files are read whole, and a front-end bundle or a
/// firmware image is far smaller.
const MAX_FILE: u64 = 256 * 1024 * 1024;

/// Serves `req` from `root`.
pub(crate) async fn serve(root: &Path, req: Request<Incoming>) -> Response<Body> {
    let head = match *req.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
    };
    let Some(rel) = safe_path(req.uri().path()) else {
        return text(StatusCode::BAD_REQUEST, "bad path");
    };
    let root = root.to_path_buf();
    let found = tokio::task::spawn_blocking(move || read(&root, &rel)).await;
    match found {
        Ok(Ok((bytes, path))) => {
            let len = bytes.len();
            let mut r = Response::new(if head { full(Vec::new()) } else { full(bytes) });
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&path)));
            r.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            r
        }
        Ok(Err(status)) => text(status, status.canonical_reason().unwrap_or("error")),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
}

/// The request path as a relative path of plain components, percent-decoded; `None` for
/// `..`, `\`, NUL or invalid UTF-8.
fn safe_path(path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path)?;
    let mut out = PathBuf::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return None,
            s if s.contains('\\') || s.contains('\0') => return None,
            s => out.push(s),
        }
    }
    Some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn read(root: &Path, rel: &Path) -> Result<(Vec<u8>, PathBuf), StatusCode> {
    let root = root.canonicalize().map_err(|_| StatusCode::NOT_FOUND)?;
    let mut path = root.join(rel);
    if path.is_dir() {
        path.push("index.html");
    }
    let real = path.canonicalize().map_err(|_| StatusCode::NOT_FOUND)?;
    if !real.starts_with(&root) {
        return Err(StatusCode::NOT_FOUND);
    }
    let meta = std::fs::metadata(&real).map_err(|_| StatusCode::NOT_FOUND)?;
    if !meta.is_file() {
        return Err(StatusCode::NOT_FOUND);
    }
    if meta.len() > MAX_FILE {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let bytes = std::fs::read(&real).map_err(|_| StatusCode::FORBIDDEN)?;
    Ok((bytes, real))
}

/// The content type of a file, by extension.
pub(crate) fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("wasm") => "application/wasm",
        Some("woff2") => "font/woff2",
        Some("pem") => "application/x-pem-file",
        Some("cer" | "crt" | "der") => "application/x-x509-ca-cert",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_folder() {
        assert_eq!(safe_path("/a/b.html"), Some(PathBuf::from("a/b.html")));
        assert_eq!(safe_path("/a%20b"), Some(PathBuf::from("a b")));
        for bad in ["/../etc/passwd", "/a/%2e%2e/x", "/a\\b", "/%00", "/%zz"] {
            assert_eq!(safe_path(bad), None, "{bad}");
        }
    }
}
