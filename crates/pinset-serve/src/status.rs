//! The status page `up` serves without an upstream, readable on a phone and complete
//! without JavaScript (a small script only adds copy buttons): the site, the pins apps
//! carry, the served certificate's expiry, the anchors to download (PEM and DER, with
//! install notes for Android and iOS), and every export target as a .zip. The same data
//! as JSON at `/.well-known/pinset.json`.
//!
//! Routes: `/`, `/.well-known/pinset.json`, `/anchors/<stem>.pem|.cer`,
//! `/export/<target>.zip`, `/export/all.zip`. Everything on it is public: anchors and pins
//! are what apps ship.

use std::io::Write as _;
use std::path::Path;

use http::header::{self, HeaderValue};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use pinset::export::{self, Target};
use pinset::plan::{AuthorityMode, PinTarget};

use crate::certs::Loaded;
use crate::http::{Body, full, text};

/// The page's HTML; `{{name}}` marks where the site's data goes.
const PAGE: &str = include_str!("status/page.html");

/// The status data, as `/.well-known/pinset.json` gives it.
#[derive(Debug, serde::Serialize)]
pub struct Status {
    /// The site's name.
    pub site: String,
    /// `ca` (private CA) or `self-signed`.
    pub authority: &'static str,
    /// What apps pin: `ca` or `leaf`.
    pub pin: &'static str,
    /// Last day pins apply (UTC), if set.
    pub pins_expire_after: Option<String>,
    /// The pins apps carry.
    pub app_pins: Vec<pinset::TrustPin>,
    /// Served identities.
    pub servers: Vec<ServerStatus>,
    /// Anchors and their downloads.
    pub anchors: Vec<AnchorStatus>,
    /// Exports and their downloads.
    pub exports: Vec<ExportStatus>,
    /// Every export in one .zip.
    pub all_exports: String,
}

/// A served identity.
#[derive(Debug, serde::Serialize)]
pub struct ServerStatus {
    /// Name.
    pub name: String,
    /// Addresses.
    pub addresses: Vec<String>,
    /// Serial of the served certificate.
    pub serial: String,
    /// Its end of validity.
    pub not_after: String,
    /// Whole days until then.
    pub days_left: i64,
    /// Its key's pin.
    pub pin: pinset::Pin,
}

/// An anchor.
#[derive(Debug, serde::Serialize)]
pub struct AnchorStatus {
    /// Short name: `ca`, `ca-standby`, …
    pub stem: String,
    /// Active or standby.
    pub role: pinset::Role,
    /// Subject.
    pub subject: String,
    /// Its key's pin.
    pub pin: pinset::Pin,
    /// End of validity.
    pub not_after: String,
    /// PEM download path.
    pub pem: String,
    /// DER download path.
    pub der: String,
}

/// An export target.
#[derive(Debug, serde::Serialize)]
pub struct ExportStatus {
    /// Its name.
    pub target: &'static str,
    /// What it holds.
    pub summary: &'static str,
    /// Download path of its .zip.
    pub zip: String,
}

/// The status of what `loaded` serves.
pub fn status(loaded: &Loaded) -> Status {
    let trust = &loaded.trust;
    let now = time::OffsetDateTime::now_utc();
    Status {
        site: trust.site.clone(),
        authority: match trust.mode {
            AuthorityMode::Ca => "ca",
            AuthorityMode::SelfSigned => "self-signed",
        },
        pin: match trust.pin_target {
            PinTarget::Ca => "ca",
            PinTarget::Leaf => "leaf",
        },
        pins_expire_after: trust.pins_expire_after.map(|d| d.to_string()),
        app_pins: trust.app_pins(),
        servers: loaded
            .servers
            .iter()
            .map(|s| ServerStatus {
                name: s.name.clone(),
                addresses: s.hosts.iter().map(ToString::to_string).collect(),
                serial: s.certificate.serial.clone(),
                not_after: s.certificate.not_after.date().to_string(),
                days_left: (s.certificate.not_after - now).whole_days(),
                pin: s.certificate.pin,
            })
            .collect(),
        anchors: trust
            .anchors
            .iter()
            .map(|a| AnchorStatus {
                stem: a.stem.clone(),
                role: a.role,
                subject: a.subject.clone(),
                pin: a.pin,
                not_after: a.not_after.date().to_string(),
                pem: format!("/anchors/{}.pem", a.stem),
                der: format!("/anchors/{}.cer", a.stem),
            })
            .collect(),
        exports: Target::ALL
            .iter()
            .map(|t| ExportStatus { target: t.name(), summary: t.summary(), zip: format!("/export/{}.zip", t.name()) })
            .collect(),
        all_exports: "/export/all.zip".into(),
    }
}

/// Serves the page and its downloads.
pub(crate) async fn serve(req: Request<Incoming>, loaded: &Loaded, _site: &Path) -> Response<Body> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
    }
    let path = req.uri().path();
    match path {
        "/" | "/index.html" => respond(page(&status(loaded)).into_bytes(), "text/html; charset=utf-8", None),
        "/.well-known/pinset.json" => {
            let mut json = serde_json::to_vec_pretty(&status(loaded)).unwrap_or_default();
            json.push(b'\n');
            respond(json, "application/json", None)
        }
        _ => {
            if let Some(file) = path.strip_prefix("/anchors/") {
                return anchor(loaded, file);
            }
            if let Some(file) = path.strip_prefix("/export/").and_then(|f| f.strip_suffix(".zip")) {
                return export_zip(loaded, file);
            }
            crate::server::not_found()
        }
    }
}

fn respond(bytes: Vec<u8>, content_type: &'static str, download: Option<&str>) -> Response<Body> {
    let mut r = Response::new(full(bytes));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Some(name) = download
        && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

fn anchor(loaded: &Loaded, file: &str) -> Response<Body> {
    let (stem, der) = match (file.strip_suffix(".pem"), file.strip_suffix(".cer")) {
        (Some(stem), _) => (stem, false),
        (_, Some(stem)) => (stem, true),
        _ => return crate::server::not_found(),
    };
    let Some(a) = loaded.trust.anchors.iter().find(|a| a.stem == stem) else {
        return crate::server::not_found();
    };
    let name = format!("{}-{}.{}", export::ident(&loaded.trust.site), a.stem, if der { "cer" } else { "pem" });
    if der {
        // The type Android and iOS offer to install a CA certificate from.
        respond(a.der.clone(), "application/x-x509-ca-cert", Some(&name))
    } else {
        respond(a.pem.clone().into_bytes(), "application/x-pem-file", Some(&name))
    }
}

fn export_zip(loaded: &Loaded, name: &str) -> Response<Body> {
    let trust = &loaded.trust;
    let options = export::Options::default();
    let files = if name == "all" {
        export::export_all(trust, &options).0
    } else {
        match Target::from_name(name) {
            Some(t) => export::export(trust, t, &options).files,
            None => return crate::server::not_found(),
        }
    };
    let folder = format!("pinset-{}-{name}", export::ident(&trust.site));
    match zip(&folder, &files) {
        Ok(bytes) => respond(bytes, "application/zip", Some(&format!("{folder}.zip"))),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot build the archive: {e}")),
    }
}

/// The files as a .zip, under one folder (scripts keep their executable bit).
pub fn zip(folder: &str, files: &[export::ExportFile]) -> zip::result::ZipResult<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for f in files {
        let mode = if f.executable { 0o755 } else { 0o644 };
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).unix_permissions(mode);
        out.start_file(format!("{folder}/{}", f.path), options)?;
        out.write_all(&f.contents)?;
    }
    Ok(out.finish()?.into_inner())
}

/// `s` safe inside HTML text and attribute values.
fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '{' => out.push_str("&#123;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML page.
pub fn page(s: &Status) -> String {
    let pin_row = |label: &str, pin: &str| {
        format!(
            "<div class=\"pin\"><span class=\"role\">{}</span><code>{}</code><button type=\"button\" hidden \
             data-copy=\"{}\">Copy</button></div>\n",
            html(label),
            html(pin),
            html(pin)
        )
    };
    let pins: String =
        s.app_pins.iter().map(|p| pin_row(&format!("{} {}", p.role, p.owner), &p.pin.to_string())).collect();
    let servers: String = s
        .servers
        .iter()
        .map(|sv| {
            format!(
                "<p><b>{}</b> for {}<br>valid until <b>{}</b> ({} days left), serial <code>{}</code></p>\n{}",
                html(&sv.name),
                html(&sv.addresses.join(", ")),
                html(&sv.not_after),
                sv.days_left,
                html(&sv.serial),
                pin_row("its key", &sv.pin.to_string())
            )
        })
        .collect();
    let anchors: String = s
        .anchors
        .iter()
        .map(|a| {
            format!(
                "<p><b>{}</b> ({}), valid until {}<br><a class=\"dl\" href=\"{}\">{}.pem</a><a class=\"dl\" \
                 href=\"{}\">{}.cer (DER)</a></p>\n",
                html(&a.subject),
                a.role,
                html(&a.not_after),
                html(&a.pem),
                html(&a.stem),
                html(&a.der),
                html(&a.stem)
            )
        })
        .collect();
    let mut exports: String = s
        .exports
        .iter()
        .map(|e| {
            format!(
                "<li><a class=\"dl\" href=\"{}\">{}.zip</a> <span class=\"muted\">{}</span></li>\n",
                html(&e.zip),
                e.target,
                html(e.summary)
            )
        })
        .collect();
    exports.push_str(&format!(
        "<li><a class=\"dl\" href=\"{}\">all.zip</a> <span class=\"muted\">every target and an index README</span></li>\n",
        html(&s.all_exports)
    ));
    let mode = match (s.authority, s.pin) {
        ("ca", "ca") => "A private CA; apps pin the CA keys",
        ("ca", _) => "A private CA; apps pin the server keys",
        _ => "Self-signed; apps pin the server keys",
    };
    let expiry = s
        .pins_expire_after
        .as_ref()
        .map(|d| format!(" Pins apply up to and including {d} (UTC), then the anchors alone."))
        .unwrap_or_default();
    PAGE.replace("{{site}}", &html(&s.site))
        .replace("{{mode}}", mode)
        .replace("{{pins_expiry}}", &html(&expiry))
        .replace("{{pins}}", &pins)
        .replace("{{servers}}", &servers)
        .replace("{{anchors}}", &anchors)
        .replace("{{exports}}", &exports)
}
