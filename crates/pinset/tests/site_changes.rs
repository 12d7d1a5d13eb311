//! Changing a site one command at a time: concurrent issues through the library all reach
//! the plan, a busy site is refused or waited for, and what interrupted commands leave
//! (staging folders, uncommitted identities and their ledger rows, temporary files) is
//! removed by the next command, while what pinset did not make is left alone.

use std::cell::{Cell, RefCell};
use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pinset::ledger::{CertKind, LEDGER_FILE, Ledger, Record};
use pinset::lock::SiteLock;
use pinset::plan::AuthorityMode;
use pinset::recovery::{ISSUING_MARKER, Leftover, LeftoverKind};
use pinset::site::{Exclusive, InitOptions, ServerRequest, Site};
use pinset::{Error, Remedy};

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

fn init(dir: &Path) -> Site {
    Site::init(
        dir,
        InitOptions {
            name: Some("shop".into()),
            mode: AuthorityMode::Ca,
            pin: None,
            server: ServerRequest::new("server", vec![ip(1)], vec![]),
            pin_expiration: None,
        },
    )
    .expect("init")
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("ls") {
            let p = e.expect("entry").path();
            out.push(p.strip_prefix(dir).expect("prefix").display().to_string());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A leaf certificate of another site, as an issue would have written it.
fn stray_certificate(parent: &Path) -> Vec<u8> {
    let other = init(&parent.join("other"));
    fs::read(other.path("pki/servers/server/cert.cer")).expect("read")
}

#[test]
fn ten_issues_at_once_all_reach_the_plan_and_the_ledger() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("site");
    init(&dir);
    std::thread::scope(|scope| {
        for n in 1..=10u8 {
            let dir = dir.clone();
            scope.spawn(move || {
                let mut site = Site::open(&dir).expect("open");
                site.issue_server(&ServerRequest::new(&format!("n{n}"), vec![ip(n + 1)], vec![])).expect("issue");
            });
        }
    });
    let site = Site::open(&dir).expect("open");
    let mut names: Vec<&str> = site.plan.servers.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["n1", "n10", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "server"]);
    let active: Vec<_> = site
        .ledger()
        .expect("ledger")
        .entries()
        .expect("entries")
        .into_iter()
        .filter(|e| e.kind == "server" && e.status == "active")
        .collect();
    assert_eq!(active.len(), 11, "one active row per server");
    for server in &site.plan.servers {
        assert!(active.iter().any(|e| Some(&e.serial) == server.active.serial.as_ref()), "{}", server.name);
        assert!(!site.path(&format!("pki/servers/{}/{ISSUING_MARKER}", server.name)).exists());
    }
}

#[test]
fn a_busy_site_is_refused_at_once_or_after_the_wait_said_so() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("site");
    init(&dir);
    let holder = Site::open_for_change(&dir, &Exclusive::default()).expect("free");
    let told = Cell::new(0);
    let on_busy = || told.set(told.get() + 1);
    let now = Exclusive { wait: Duration::ZERO, on_busy: &on_busy, on_leftover: &|_| {} };
    let err = Site::open_for_change(&dir, &now).expect_err("held");
    assert!(matches!(err, Error::Busy { .. }), "{err}");
    assert_eq!(err.remedy(), Some(&Remedy::WaitForSite));
    assert_eq!(told.get(), 0);
    let briefly = Exclusive { wait: Duration::from_millis(50), on_busy: &on_busy, on_leftover: &|_| {} };
    Site::open_for_change(&dir, &briefly).expect_err("still held");
    assert_eq!(told.get(), 1, "the wait is announced once");
    // A clone shares the lock; the site is free once every one is gone.
    let clone = holder.clone();
    drop(holder);
    Site::open_for_change(&dir, &now).expect_err("the clone holds it");
    drop(clone);
    Site::open_for_change(&dir, &now).expect("free");
}

#[test]
fn an_init_into_a_busy_folder_waits_and_then_refuses_the_site_made_meanwhile() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("site");
    fs::create_dir(&dir).expect("mkdir");
    let lock = SiteLock::acquire(&dir, Duration::ZERO, &|| {}).expect("lock");
    let opts = InitOptions {
        name: None,
        mode: AuthorityMode::Ca,
        pin: None,
        server: ServerRequest::new("server", vec![ip(1)], vec![]),
        pin_expiration: None,
    };
    let now = Exclusive { wait: Duration::ZERO, ..Exclusive::default() };
    let err = Site::init_with(&dir, opts.clone(), &now).expect_err("busy");
    assert!(matches!(err, Error::Busy { .. }), "{err}");
    assert!(tree(&dir).is_empty(), "a refused init leaves nothing: {:?}", tree(&dir));

    // Two inits wait for the folder; once it is free, one makes the site and the other
    // refuses it, touching nothing.
    let waiter = std::thread::spawn({
        let (dir, opts) = (dir.clone(), opts.clone());
        move || Site::init_with(&dir, opts, &Exclusive::default()).map(|s| s.plan)
    });
    drop(lock);
    let here = Site::init_with(&dir, opts, &Exclusive::default()).map(|s| s.plan);
    let there = waiter.join().expect("thread");
    let (winner, loser) = match (here, there) {
        (Ok(plan), Err(err)) | (Err(err), Ok(plan)) => (plan, err),
        (here, there) => panic!("one init must win: {here:?} / {there:?}"),
    };
    assert!(loser.to_string().contains("a site already exists"), "{loser}");
    let site = Site::open(&dir).expect("the site");
    assert_eq!(site.plan, winner, "the site on disk is the winner's");
    site.trust().expect("its anchors are the plan's");
    assert!(tree(&dir).iter().all(|p| !p.contains(".pinset-init")), "{:?}", tree(&dir));
}

#[test]
fn leftovers_of_interrupted_commands_are_removed_by_the_next_change() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("site");
    let site = init(&dir);
    let before = tree(&dir);

    // An init interrupted while staging, in a folder that holds a site now.
    let staging = dir.join(".pinset-init-4242");
    fs::create_dir_all(staging.join("pki/authority")).expect("mkdir");
    fs::write(staging.join("pki/authority/ca.key"), "-----BEGIN PRIVATE KEY-----\n").expect("write");
    // Temporary files of interrupted writes.
    fs::write(dir.join(".pinset.toml.tmp-4242-0"), "version = 1").expect("write");
    fs::write(dir.join("pki/authority/.ca.pem.tmp-4242-1"), "x").expect("write");
    // An issue interrupted after the ledger, before the plan.
    let ghost = dir.join("pki/servers/ghost");
    fs::create_dir(&ghost).expect("mkdir");
    fs::write(ghost.join(ISSUING_MARKER), "issuing").expect("marker");
    let der = stray_certificate(t.path());
    fs::write(ghost.join("cert.cer"), &der).expect("write");
    fs::write(ghost.join("key.pem"), "-----BEGIN PRIVATE KEY-----\n").expect("write");
    let chain = fs::read(site.path("pki/authority/ca.pem")).expect("ca");
    fs::write(ghost.join("chain.pem"), &chain).expect("a chain whose first certificate is the site's CA");
    Ledger::open(&dir.join("pki").join(LEDGER_FILE))
        .expect("ledger")
        .record(&[Record { kind: CertKind::Server, name: "ghost".into(), cert_der: der, status: "active" }])
        .expect("record");
    // An issue interrupted right after making its folder.
    fs::create_dir(dir.join("pki/servers/empty")).expect("mkdir");
    // An issue that committed and was interrupted before unmarking its folder.
    fs::write(dir.join("pki/servers/server").join(ISSUING_MARKER), "issuing").expect("marker");
    // A folder pinset did not make.
    let stranger = dir.join("pki/servers/stranger");
    fs::create_dir(&stranger).expect("mkdir");
    fs::write(stranger.join("notes.txt"), "mine").expect("write");

    let told = RefCell::new(Vec::new());
    let on_leftover = |l: &Leftover| told.borrow_mut().push(l.clone());
    let how = Exclusive { on_leftover: &on_leftover, ..Exclusive::default() };
    let mut site = Site::open_for_change(&dir, &how).expect("open for change");
    let recovered = site.recovered().to_vec();
    assert_eq!(*told.borrow(), recovered, "each removal is told as it is made");
    let kinds: Vec<(String, LeftoverKind)> = recovered
        .iter()
        .map(|l| (l.path.strip_prefix(&dir).expect("inside").display().to_string(), l.kind.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (".pinset-init-4242".into(), LeftoverKind::InitStaging { held_keys: true }),
            ("pki/servers/empty".into(), LeftoverKind::UncommittedIdentity { ledger_rows: 0 }),
            ("pki/servers/ghost".into(), LeftoverKind::UncommittedIdentity { ledger_rows: 1 }),
            (".pinset.toml.tmp-4242-0".into(), LeftoverKind::TemporaryFile),
            ("pki/authority/.ca.pem.tmp-4242-1".into(), LeftoverKind::TemporaryFile),
        ]
    );
    assert!(recovered[2].to_string().contains("an issue that was interrupted"), "{}", recovered[2]);
    let mut expected = before.clone();
    expected.extend(["pki/servers/stranger".to_string(), "pki/servers/stranger/notes.txt".to_string()]);
    expected.sort();
    assert_eq!(tree(&dir), expected, "only the leftovers are gone");
    let ledger = site.ledger().expect("ledger").entries().expect("entries");
    assert!(ledger.iter().all(|e| e.name != "ghost"), "the uncommitted issue's row is gone");
    assert_eq!(ledger.iter().filter(|e| e.kind == "ca").count(), 1, "the CA named first in a chain stays");

    site.issue_server(&ServerRequest::new("ghost", vec![ip(9)], vec![])).expect("the name is free again");
    let err = site.issue_server(&ServerRequest::new("stranger", vec![ip(8)], vec![])).expect_err("not ours");
    assert!(err.to_string().contains("exists but is not in the plan"), "{err}");
    assert_eq!(fs::read_to_string(stranger.join("notes.txt")).expect("read"), "mine");
}

#[test]
fn an_init_stopped_between_its_two_moves_is_undone_by_the_next_init() {
    let t = tempfile::tempdir().expect("tempdir");
    let donor = init(&t.path().join("donor"));
    let dir = t.path().join("site");
    fs::create_dir(&dir).expect("mkdir");
    // `pki/` in place, the plan still in the staging folder.
    copy_tree(&donor.path("pki"), &dir.join("pki"));
    fs::create_dir(dir.join(".pinset-init-77")).expect("mkdir");
    fs::copy(donor.path("pinset.toml"), dir.join(".pinset-init-77/pinset.toml")).expect("copy");

    let site = init(&dir);
    let kinds: Vec<LeftoverKind> = site.recovered().iter().map(|l| l.kind.clone()).collect();
    assert_eq!(kinds, vec![LeftoverKind::UncommittedPki, LeftoverKind::InitStaging { held_keys: false }]);
    assert_ne!(site.plan.authority.active, donor.plan.authority.active, "a new site, with a new CA");

    // A `pki/` without a plan and without that evidence is not pinset's to remove.
    let lone = t.path().join("lone");
    copy_tree(&donor.path("pki"), &lone.join("pki"));
    let opts = InitOptions {
        name: None,
        mode: AuthorityMode::Ca,
        pin: None,
        server: ServerRequest::new("server", vec![ip(1)], vec![]),
        pin_expiration: None,
    };
    let err = Site::init(&lone, opts).expect_err("refused");
    assert!(err.to_string().contains("exists but pinset.toml does not"), "{err}");
    assert!(lone.join("pki/authority/ca.key").exists());
}

#[test]
fn a_missing_ledger_is_refused_before_anything_is_written() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("site");
    init(&dir);
    fs::remove_file(dir.join("pki").join(LEDGER_FILE)).expect("rm");
    let before = tree(&dir);
    let mut site = Site::open(&dir).expect("the plan alone still reads");
    let err = site.issue_server(&ServerRequest::new("n1", vec![ip(2)], vec![])).expect_err("no ledger");
    assert!(err.to_string().contains("ledger is missing"), "{err}");
    assert_eq!(err.remedy(), Some(&Remedy::RestoreLedger));
    assert_eq!(tree(&dir), before, "nothing written, no empty ledger made");
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("ls") {
        let p: PathBuf = e.expect("entry").path();
        let dest = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            fs::copy(&p, &dest).expect("copy");
        }
    }
}
