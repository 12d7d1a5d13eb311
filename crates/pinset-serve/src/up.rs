//! What `up` adds to serving: a site made for this host when the folder has none (its
//! loopback addresses, the addresses of its network interfaces and `<hostname>.local`),
//! and a QR code of the status page's address and the pins, for a phone to read.

use std::net::IpAddr;
use std::path::Path;

use pinset::Site;
use pinset::plan::{AuthorityMode, PLAN_FILE};
use pinset::site::{InitOptions, MAX_ADDRESSES, ServerRequest};

use crate::error::Error;

/// The name of the server identity `up` creates.
pub const SERVER_NAME: &str = "server";

/// This host's addresses as `up` names them in a new site: 127.0.0.1 and ::1 first, then
/// every interface address that another device can dial (not loopback, not link-local:
/// an fe80:: address needs a zone no certificate can carry), then `<hostname>.local` (the
/// name mDNS answers for), at most the number one certificate may carry.
pub fn host_addresses() -> (Vec<IpAddr>, Vec<String>) {
    let mut ips: Vec<IpAddr> = vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from(std::net::Ipv6Addr::LOCALHOST)];
    if let Ok(ifaces) = if_addrs::get_if_addrs() {
        for i in ifaces {
            let ip = i.ip();
            let link_local = match ip {
                IpAddr::V4(v4) => v4.is_link_local(),
                IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
            };
            if !ip.is_loopback() && !ip.is_unspecified() && !link_local && !ips.contains(&ip) {
                ips.push(ip);
            }
        }
    }
    ips.truncate(MAX_ADDRESSES - 1);
    let dns = local_name().into_iter().collect();
    (ips, dns)
}

/// `<hostname>.local`, when the host name makes a valid DNS label.
fn local_name() -> Option<String> {
    let host = gethostname::gethostname().into_string().ok()?;
    let label = host.split('.').next()?.to_ascii_lowercase();
    if label.is_empty() || label == "localhost" {
        return None;
    }
    pinset::address::parse_dns(&format!("{label}.local")).ok()
}

/// The site in `dir`, created first when the folder has none.
pub struct UpSite {
    /// The site.
    pub site: Site,
    /// Whether this run created it.
    pub created: bool,
}

/// Opens the site in `dir`, or creates one there (a private CA, a server for `ips` and
/// `dns`). An existing site is used as it is.
pub fn open_or_create(dir: &Path, ips: Vec<IpAddr>, dns: Vec<String>) -> Result<UpSite, Error> {
    if dir.join(PLAN_FILE).exists() {
        return Ok(UpSite { site: Site::open(dir)?, created: false });
    }
    let server = ServerRequest::new(SERVER_NAME, ips, dns);
    let site =
        Site::init(dir, InitOptions { name: None, mode: AuthorityMode::Ca, pin: None, server, pin_expiration: None })?;
    Ok(UpSite { site, created: true })
}

/// The text of `up`'s QR code: the status page's URL, with the pins apps carry in its
/// fragment (never sent to the server), so what the page shows can be compared with what
/// the terminal of the box itself said.
pub fn qr_payload(url: &str, pins: &[pinset::Pin]) -> String {
    let pins: Vec<String> = pins.iter().map(|p| format!("sha256/{p}")).collect();
    format!("{url}#{}", pins.join(","))
}

/// `text` as a QR code drawn with Unicode half blocks (two rows per line), dark on light
/// with its quiet zone, for a terminal; `None` if it is too long for a QR code.
pub fn qr_code(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_addresses_start_with_loopback_and_are_unique() {
        let (ips, dns) = host_addresses();
        assert_eq!(ips[0].to_string(), "127.0.0.1");
        assert_eq!(ips[1].to_string(), "::1");
        let mut seen = ips.clone();
        seen.dedup();
        assert_eq!(seen.len(), ips.len());
        assert!(dns.iter().all(|d| d.ends_with(".local")), "{dns:?}");
    }

    #[test]
    fn a_qr_code_is_drawn_for_a_url_with_two_pins() {
        let pin = pinset::Pin::of_spki(b"x");
        let text = qr_payload("https://192.168.1.10:8443/", &[pin, pin]);
        let qr = qr_code(&text).expect("fits");
        assert!(qr.lines().count() > 10);
    }
}
