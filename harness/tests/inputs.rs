//! Untrusted inputs (issue 16, item 5): every file the harness reads is a regular file of
//! bounded size, a vector run is bounded in steps, bytes and includes, and `--jobs` in
//! what the machine can run. Each command runs with a deadline, so a regression fails
//! instead of hanging or filling memory.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the harness; killed (and the test failed) after 20 s. (exit code, stderr)
fn harness(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ssc-harness"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ssc-harness");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("ssc-harness {args:?} did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-inputs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[cfg(unix)]
#[test]
fn devices_and_fifos_are_refused_naming_the_file() {
    let (code, err) = harness(&["convert", "/dev/zero"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("/dev/zero: not a regular file (a device)"),
        "{err}"
    );

    let dir = temp_dir("fifo");
    let fifo = dir.join("steps.apdu");
    if mkfifo(&fifo) {
        let (code, err) = harness(&["run", s(&fifo)]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("not a regular file (a FIFO)"), "{err}");
        let (code, err) = harness(&["run", "--keys", s(&fifo), s(&dir)]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("not a regular file (a FIFO)"), "{err}");
        std::fs::remove_file(&fifo).unwrap();
    }

    let vectors = dir.join("p.apdu");
    std::fs::write(
        &vectors,
        "version 2\nprofile /dev/zero\ncase a\n> 0084000008\n< * 9000\n",
    )
    .unwrap();
    let (code, err) = harness(&["run", s(&vectors)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/dev/zero: not a regular file"), "{err}");

    let big = dir.join("big.apdu");
    std::fs::write(&big, "#".repeat(2 << 20)).unwrap();
    let (code, err) = harness(&["run", s(&big)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("big.apdu: larger than"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--jobs 100000` aborted (a thread per job): now a usage error.
#[test]
fn jobs_are_bounded() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/challenge");
    let (code, err) = harness(&["run", "--jobs", "100000", s(&suite)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--jobs"), "{err}");
    let (code, err) = harness(&["run", "--jobs", "0", s(&suite)]);
    assert_eq!(code, 2, "{err}");
    let (code, err) = harness(&["run", "--jobs", "2", s(&suite)]);
    assert_eq!(code, 0, "{err}");
}

/// Writes `files` (name, text) into a fresh folder; the folder.
fn tree(name: &str, files: &[(String, String)]) -> PathBuf {
    let dir = temp_dir(name);
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    dir
}

/// Includes were bounded in depth only: eight includes in each of nine nested files made
/// 2 M steps (1.1 GB). Here five levels of eight (37,448 includes, 32,768 steps) cross the
/// run's include bound, and the error names the file and line of the include that does.
#[test]
fn include_fan_out_is_bounded() {
    let mut files = vec![(
        "root.apdu".to_owned(),
        format!("case a\n{}", "include l1.steps\n".repeat(8)),
    )];
    for level in 1..5 {
        files.push((
            format!("l{level}.steps"),
            format!("include l{}.steps\n", level + 1).repeat(8),
        ));
    }
    files.push(("l5.steps".into(), "> 00 84 00 00 08\n< * xxxx\n".into()));
    let dir = tree("fanout", &files);
    let e = harness::vectors::parse_file(&dir.join("root.apdu")).unwrap_err();
    assert!(
        e.message.contains(&format!(
            "more than {} includes",
            harness::vectors::MAX_RUN_INCLUDES
        )),
        "{e}"
    );
    assert!(
        e.path.starts_with(&dir) && e.path.extension().unwrap() == "steps",
        "{e}"
    );
    assert!((1..=8).contains(&e.line) && e.column == 9, "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A step repeated through includes past the run's step bound: the error names the line.
#[test]
fn steps_of_a_run_are_bounded() {
    let max = harness::vectors::MAX_RUN_STEPS;
    let leaf = "> 00 84 00 00 08\n< * xxxx\n".repeat(5000);
    let copies = max / 5000 + 1;
    let dir = tree(
        "steps",
        &[
            ("leaf.steps".into(), leaf),
            (
                "root.apdu".into(),
                format!("case a\n{}", "include leaf.steps\n".repeat(copies)),
            ),
        ],
    );
    let e = harness::vectors::parse_file(&dir.join("root.apdu")).unwrap_err();
    assert!(e.message.contains(&format!("more than {max} steps")), "{e}");
    assert_eq!(
        (e.path.file_name().unwrap(), e.line),
        ("leaf.steps".as_ref(), 1),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A 1 MiB step file included over and over: the bytes of the run are bounded.
#[test]
fn bytes_of_a_run_are_bounded() {
    let max = harness::vectors::MAX_RUN_BYTES;
    let file = usize::try_from(harness::vectors::MAX_FILE_BYTES).unwrap();
    let line = format!("#{}\n", "-".repeat(1022));
    let copies = usize::try_from(max).unwrap() / file + 1;
    let dir = tree(
        "bytes",
        &[
            (
                "big.steps".into(),
                format!("reset\n{}", line.repeat(file / line.len() - 1)),
            ),
            (
                "root.apdu".into(),
                format!(
                    "case a\n> 00 84 00 00 08\n< * xxxx\n{}",
                    "include big.steps\n".repeat(copies)
                ),
            ),
        ],
    );
    let e = harness::vectors::parse_file(&dir.join("root.apdu")).unwrap_err();
    assert!(e.message.contains(&format!("more than {max} bytes")), "{e}");
    assert_eq!(
        (e.path.file_name().unwrap(), e.line),
        ("root.apdu".as_ref(), 3 + copies),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// An error in an include of an include is placed in its own file at its own line.
#[test]
fn nested_include_errors_name_their_own_line() {
    let dir = tree(
        "nested",
        &[
            ("a.apdu".into(), "case a\ninclude b.steps\n".into()),
            ("b.steps".into(), "reset\nreset\ninclude c.steps\n".into()),
            ("c.steps".into(), "reset\nfrobnicate\n".into()),
        ],
    );
    let e = harness::vectors::parse_file(&dir.join("a.apdu")).unwrap_err();
    assert_eq!(
        (e.path.file_name().unwrap(), e.line),
        ("c.steps".as_ref(), 2),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
