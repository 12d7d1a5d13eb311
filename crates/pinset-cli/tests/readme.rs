//! The README's guides, run as written: every `console` block between `<!-- guides -->` and
//! `<!-- /guides -->` is a terminal session. Each `$ ` line is run by bash, in order, in one
//! folder shared by all guides (a guide builds on the site the one before made), with the
//! `pinset` this test run built first on `PATH`. A command must exit 0 unless its line ends
//! with `# exit N`; a command ending in `&` runs in the background (the next command waits
//! until the port it listens on accepts connections) and is stopped when its guide ends.
//! Every output line the README shows under a command must appear in what that command (or
//! a background command of the same guide) printed, after masking what differs between
//! runs (pins, dates, serials, timings); a line holding `…` is an elision and not compared.
//!
//! `PINSET_README_PRINT=1` prints every command's real output, for writing the README.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use pinset_testkit::process::{run_bounded, tempdir};

/// One `$ ` command of a guide and the output lines the README shows under it.
struct Step {
    command: String,
    expected_exit: i32,
    background: bool,
    shown: Vec<String>,
}

struct Guide {
    title: String,
    steps: Vec<Step>,
}

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    std::fs::read_to_string(&path).expect("README.md")
}

fn guides(text: &str) -> Vec<Guide> {
    let start = text.find("<!-- guides -->").expect("README has a <!-- guides --> marker");
    let end = text.find("<!-- /guides -->").expect("README has a <!-- /guides --> marker");
    let mut guides: Vec<Guide> = Vec::new();
    let mut in_console = false;
    let mut lines = text[start..end].lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(title) = line.strip_prefix("### ") {
            guides.push(Guide { title: title.to_string(), steps: Vec::new() });
            continue;
        }
        if line.starts_with("```") {
            in_console = !in_console && line.trim() == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        let guide = guides.last_mut().expect("a console block under a ### guide heading");
        if let Some(first) = line.strip_prefix("$ ") {
            let mut command = first.to_string();
            while command.ends_with('\\') {
                command.push('\n');
                command.push_str(lines.next().expect("a continued command line"));
            }
            let (code, comment) = match command.rsplit_once(" # ") {
                Some((code, comment)) if !code.contains('\'') || code.matches('\'').count() % 2 == 0 => {
                    (code.trim_end().to_string(), comment.to_string())
                }
                _ => (command.clone(), String::new()),
            };
            let expected_exit = comment
                .split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .find(|w| w[0] == "exit")
                .and_then(|w| w[1].parse().ok())
                .unwrap_or(0);
            let background = code.ends_with('&');
            guide.steps.push(Step { command, expected_exit, background, shown: Vec::new() });
        } else if let Some(step) = guide.steps.last_mut()
            && !line.trim().is_empty()
            && !line.contains('…')
        {
            step.shown.push(line.to_string());
        }
    }
    guides.retain(|g| !g.steps.is_empty());
    guides
}

/// The port a background command listens on: its `--listen` address, else the first
/// loopback address named on its line (a comment may name it).
fn listen_port(command: &str) -> Option<u16> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let from = |w: &str| w.rsplit_once(':').and_then(|(_, p)| p.trim_end_matches(['/', ')']).parse().ok());
    if let Some(i) = words.iter().position(|w| *w == "--listen") {
        return words.get(i + 1).and_then(|w| from(w));
    }
    if let Some(i) = words.iter().position(|w| *w == "--port") {
        return words.get(i + 1).and_then(|w| w.parse().ok());
    }
    words.iter().find(|w| w.contains("127.0.0.1:")).and_then(|w| from(w))
}

fn mask(text: &str) -> String {
    let rules: [(&str, &str); 9] = [
        (r"[A-Za-z0-9+/]{43}=", "PIN"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z", "TIME"),
        (r"\d{4}-\d{2}-\d{2}", "DATE"),
        (r"\b\d{2}:\d{2}:\d{2}\b", "CLOCK"),
        (r"\b[0-9a-f]{16,40}\b", "SERIAL"),
        (r"\b\d+(?:\.\d+)?ms\b", "MS"),
        (r"\b\d+ days?\b", "N days"),
        (r"127\.0\.0\.1:[1-9]\d{4}\b", "127.0.0.1:EPHEMERAL"),
        (r"[ \t]+", " "),
    ];
    let mut out = text.to_string();
    for (pattern, with) in rules {
        out = regex::Regex::new(pattern).expect("mask pattern").replace_all(&out, with).into_owned();
    }
    out
}

fn script(guide: &Guide, logs: &Path) -> String {
    let mut s = String::from("set -u\n");
    for (i, step) in guide.steps.iter().enumerate() {
        let out = logs.join(format!("{i}.out"));
        let rc = logs.join(format!("{i}.rc"));
        if step.background {
            let code = step.command.trim_end().trim_end_matches('&');
            let _ = writeln!(s, "{code} >'{}' 2>&1 </dev/null &", out.display());
            if let Some(port) = listen_port(&step.command) {
                let _ = writeln!(
                    s,
                    "for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; sleep 0.1; done"
                );
            }
            let _ = writeln!(s, "echo 0 >'{}'", rc.display());
        } else {
            // A group, so the command's own redirections stay its own.
            let _ = writeln!(
                s,
                "{{ {}\n}} >'{}' 2>&1 </dev/null\necho $? >'{}'",
                step.command,
                out.display(),
                rc.display()
            );
        }
    }
    s.push_str("for p in $(jobs -p); do kill -INT $p 2>/dev/null; done\nsleep 0.5\nfor p in $(jobs -p); do kill $p 2>/dev/null; done\nwait\n");
    s
}

#[test]
fn the_readme_guides_run_as_written() {
    let text = readme();
    let guides = guides(&text);
    assert!(guides.len() >= 5, "the README has its guides: {}", guides.len());
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_pinset"));
    let path = format!("{}:{}", bin.parent().expect("bin dir").display(), std::env::var("PATH").unwrap_or_default());
    let work = tempdir();
    let print = std::env::var_os("PINSET_README_PRINT").is_some();
    let mut failures = Vec::new();
    for (g, guide) in guides.iter().enumerate() {
        let logs = work.path().join(format!(".logs-{g}"));
        std::fs::create_dir_all(&logs).expect("logs");
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(script(guide, &logs))
            .current_dir(work.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env_remove("PINSET_SITE")
            .env_remove("PINSET_P12_PASSWORD");
        let run = run_bounded(cmd, Duration::from_secs(180), &format!("the guide {:?}", guide.title));
        assert!(run.status.success() || run.status.code().is_some(), "the guide's shell ran");
        let outputs: Vec<String> = (0..guide.steps.len())
            .map(|i| std::fs::read_to_string(logs.join(format!("{i}.out"))).unwrap_or_default())
            .collect();
        let background: String =
            guide.steps.iter().zip(&outputs).filter(|(s, _)| s.background).map(|(_, o)| o.as_str()).collect();
        for (i, step) in guide.steps.iter().enumerate() {
            let rc: Option<i32> =
                std::fs::read_to_string(logs.join(format!("{i}.rc"))).ok().and_then(|r| r.trim().parse().ok());
            let output = &outputs[i];
            if print {
                eprintln!("### {}\n$ {}\n{output}[exit {rc:?}]\n", guide.title, step.command);
            }
            if rc != Some(step.expected_exit) {
                failures.push(format!(
                    "{}: `{}` exited {rc:?}, the README says {}:\n{output}",
                    guide.title, step.command, step.expected_exit
                ));
                continue;
            }
            let seen = mask(&format!("{output}\n{background}"));
            for line in &step.shown {
                let want = mask(line.trim());
                if !seen.contains(want.trim()) {
                    failures.push(format!(
                        "{}: `{}` did not print the line the README shows:\n  {line}\nit printed:\n{output}",
                        guide.title, step.command
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} differences from the README:\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn the_guide_parser_reads_commands_exits_and_shown_lines() {
    let text = "<!-- guides -->\n### One\n```console\n$ pinset get x   # exit 1\nrefused: …\nrefused: it\n\n$ pinset serve --listen 127.0.0.1:8443 &\n```\n```sh\n$ not run\n```\n<!-- /guides -->";
    let g = guides(text);
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].steps.len(), 2);
    assert_eq!(g[0].steps[0].expected_exit, 1);
    assert_eq!(g[0].steps[0].shown, vec!["refused: it".to_string()]);
    assert!(g[0].steps[1].background);
    assert_eq!(listen_port(&g[0].steps[1].command), Some(8443));
    assert_eq!(listen_port("x --reverse 127.0.0.1:8443 --listen 127.0.0.1:9443 &"), Some(9443));
    assert_eq!(mask("pin  abc"), "pin abc");
}
