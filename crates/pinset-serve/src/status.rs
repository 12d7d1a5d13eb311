//! The status page `up` serves without an upstream.

use std::path::Path;

use hyper::Request;
use hyper::body::Incoming;
use hyper::Response;

use crate::certs::Loaded;
use crate::http::Body;

/// Serves the status page and its downloads.
pub(crate) async fn serve(_req: Request<Incoming>, _loaded: &Loaded, _site: &Path) -> Response<Body> {
    crate::server::not_found()
}
