//! What `ssc-card` tells its users (issue 17), through the real binary: a bad `--vpcd` is a
//! usage error, a slot another card holds is said to be in use, addresses and errors are
//! written in plain words (no Rust debug formatting, no cause said twice), "1 try left",
//! a serve without `-v` does not log every restore, the shell takes `exit`/`quit` and
//! opensc-tool's colon-separated hex, `--help` names every built-in profile, a profile
//! record whose TLV length disagrees with its value is refused at its line and column, and
//! the completions and man pages come from the command line's own definition.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ssc-card");

/// A child process killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ssc-card ARGS` with stdout and stderr captured.
fn start(args: &[&str]) -> Running {
    Running(
        Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

/// Waits for the child to exit within `within` (the test fails, it does not hang, when it
/// does not); its exit code and stderr.
fn finish(mut run: Running, within: Duration) -> (Option<i32>, String) {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = run.0.try_wait().unwrap() {
            let mut err = String::new();
            run.0
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code(), err);
        }
        if Instant::now() > deadline {
            let _ = run.0.kill();
            let _ = run.0.wait();
            let mut err = String::new();
            let _ = run.0.stderr.take().unwrap().read_to_string(&mut err);
            panic!("ssc-card still running after {within:?}; stderr so far:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` to the child.
fn signal(run: &Running, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &run.0.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// `ssc-card ARGS` with `input` on stdin, to the end.
fn card(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A folder of this test process's own.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-messages-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Rust's debug formatting of our own types, which no message may show.
fn assert_no_debug_formatting(err: &str) {
    for debug in ["Connect(", "Listen(", "[\"", "Some(", "Os {"] {
        assert!(!err.contains(debug), "debug formatting {debug:?} in: {err}");
    }
}

/// `serve --vpcd nonsense` printed `waiting for vpcd at Connect("nonsense"): invalid socket
/// address` and retried for ever.
#[test]
fn a_bad_vpcd_address_is_a_usage_error() {
    for (bad, says) in [
        ("nonsense", "expected HOST:PORT"),
        (":35963", "expected HOST:PORT"),
        ("127.0.0.1:99999", "is not a port"),
        ("127.0.0.1:0", "is not a port"),
        ("127.0.0.1:http", "is not a port"),
    ] {
        let (code, err) = finish(start(&["serve", "--vpcd", bad]), Duration::from_secs(10));
        assert_eq!(code, Some(2), "--vpcd {bad}: {err}");
        assert!(err.contains(&format!("'{bad}'")), "--vpcd {bad}: {err}");
        assert!(err.contains(says), "--vpcd {bad}: {err}");
        assert!(err.contains("127.0.0.1:35963"), "an example: {err}");
        assert_no_debug_formatting(&err);
    }
    let (code, err) = finish(
        start(&["serve", "--reversed", "--listen", "nonsense"]),
        Duration::from_secs(10),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("expected HOST:PORT"), "{err}");
}

/// vpcd accepts one card per slot; a second connection is queued by the kernel and never
/// spoken to. The stand-in here is that: a listener that never accepts. A second serve said
/// `connected to vpcd` and served nothing.
#[test]
fn a_slot_another_card_holds_is_said_to_be_in_use() {
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let started = Instant::now();
    let (code, err) = finish(
        start(&["serve", "--vpcd", &format!("127.0.0.1:{port}")]),
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "gave up before vpcd's 3 s"
    );
    assert!(err.contains("in use by another card"), "{err}");
    assert!(
        err.contains(&format!("127.0.0.1:{port} took the connection")),
        "{err}"
    );
    // What to do: stop the other one, or use the next slot.
    assert!(err.contains("Stop that one"), "{err}");
    assert!(
        err.contains(&format!("--vpcd 127.0.0.1:{}", port + 1)),
        "{err}"
    );
    assert!(!err.contains("connected to vpcd"), "{err}");
    assert_no_debug_formatting(&err);
}

/// Reversed mode on a port another program holds: said plainly, with what to do (exit 2).
#[test]
fn a_held_listening_port_is_said_to_be_in_use() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let (code, err) = finish(
        start(&["serve", "--reversed", "--listen", &addr]),
        Duration::from_secs(10),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot listen for vpcd on {addr}: ")),
        "{err}"
    );
    assert!(err.contains("another program listens there"), "{err}");
    assert_no_debug_formatting(&err);
    drop(held);
}

/// "connected" is said when vpcd speaks, with the address in plain words.
#[test]
fn connected_is_said_when_vpcd_speaks() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let serve = start(&["serve", "--vpcd", &format!("127.0.0.1:{port}")]);
    let (mut vpcd, _) = listener.accept().unwrap();
    vpcd.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Get ATR: the card answers (length, ATR).
    vpcd.write_all(&[0x00, 0x01, 0x04]).unwrap();
    let mut header = [0u8; 2];
    vpcd.read_exact(&mut header).unwrap();
    assert_eq!(u16::from_be_bytes(header), 17);
    // Longer than the 3 s vpcd may stay silent: a vpcd that spoke is not "in use".
    for _ in 0..4 {
        std::thread::sleep(Duration::from_secs(1));
        vpcd.write_all(&[0x00, 0x01, 0x04]).unwrap();
        let mut answer = [0u8; 19];
        vpcd.read_exact(&mut answer).unwrap();
    }
    signal(&serve, "TERM");
    let (code, err) = finish(serve, Duration::from_secs(5));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(&format!("[slot 0] connected to vpcd at 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(!err.contains("in use"), "{err}");
    drop(vpcd);
}

/// The wait for a vpcd that is not there names the address plainly (it said
/// `Connect("127.0.0.1:1")`) and what is likely wrong.
#[test]
fn waiting_for_vpcd_names_the_address_and_the_likely_cause() {
    let port = closed_port();
    let serve = start(&["serve", "--vpcd", &format!("127.0.0.1:{port}")]);
    std::thread::sleep(Duration::from_millis(700));
    signal(&serve, "TERM");
    let (code, err) = finish(serve, Duration::from_secs(5));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(&format!("waiting for vpcd at 127.0.0.1:{port}: ")),
        "{err}"
    );
    assert!(err.contains("is pcscd running"), "{err}");
    assert_no_debug_formatting(&err);
}

/// Runs `ssc-card restore` until the serve has its acknowledgement file.
fn restore(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = Command::new(BIN)
            .args(["restore", "--pid", &pid.to_string()])
            .output()
            .unwrap();
        if out.status.success() {
            return;
        }
        assert!(Instant::now() < deadline, "restore: {}", text(&out.stderr));
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Without `-v` a serve wrote a line per restore (180 in one suite run); now one summary at
/// the end, and each restore only with `-v`.
#[test]
fn restores_are_logged_only_with_verbose() {
    for verbose in [false, true] {
        let mut args = vec!["serve".to_owned(), "--vpcd".to_owned()];
        args.push(format!("127.0.0.1:{}", closed_port()));
        if verbose {
            args.push("-v".to_owned());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let serve = start(&args);
        for _ in 0..3 {
            restore(serve.0.id());
        }
        signal(&serve, "TERM");
        let (code, err) = finish(serve, Duration::from_secs(5));
        assert_eq!(code, Some(0), "{err}");
        let each = err
            .lines()
            .filter(|l| l.ends_with("card restored to the profile's initial state"))
            .count();
        if verbose {
            assert_eq!(each, 3, "-v: {err}");
        } else {
            assert_eq!(each, 0, "{err}");
            assert!(
                err.contains("card restored to the profile's initial state 3 times"),
                "{err}"
            );
        }
    }
}

/// A restore not acknowledged in time said `within 500ms` (Rust's formatting of a
/// duration); now seconds, and what to look at.
#[test]
fn a_restore_timeout_is_said_in_seconds() {
    let serve = start(&["serve", "--vpcd", &format!("127.0.0.1:{}", closed_port())]);
    restore(serve.0.id());
    signal(&serve, "STOP");
    let out = Command::new(BIN)
        .args([
            "restore",
            "--pid",
            &serve.0.id().to_string(),
            "--timeout",
            "0.5",
        ])
        .output()
        .unwrap();
    signal(&serve, "CONT");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("did not acknowledge the restore within 0.5 s"),
        "{err}"
    );
    assert!(!err.contains("ms"), "{err}");
}

/// `--state` in a folder that does not exist said the OS error twice.
#[test]
fn a_state_file_error_says_its_cause_once() {
    let missing = temp_dir("state").join("no-such-folder").join("card.state");
    let out = card(&["shell", "--state", missing.to_str().unwrap()], "");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // A folder given as the state file: said once, and what it is.
    let dir = temp_dir("state-dir");
    let out = card(&["shell", "--state", dir.to_str().unwrap()], "");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert_eq!(err.matches("not a regular file").count(), 1, "{err}");
    assert!(!err.contains("os error 21): "), "{err}");
}

/// "1 tries left".
#[test]
fn one_try_left_is_singular() {
    let out = card(
        &["shell"],
        "00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF\n00200000031111 11\n0020000003111111\n",
    );
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[1], "< 63 C2 : verification failed, 2 tries left");
    assert_eq!(lines[2], "< 63 C1 : verification failed, 1 try left");
}

/// scriptor ends at `exit` (and `quit`); opensc-tool prints APDUs as `00:A4:04:00`.
#[test]
fn the_shell_takes_exit_quit_and_colon_separated_hex() {
    for word in ["exit", "quit", "EXIT"] {
        let out = card(&["shell"], &format!("00:A4:00:00\n{word}\n00A40000\n"));
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(text(&out.stdout), "< 90 00 : success\n", "{word}");
    }
    let out = card(
        &["shell"],
        "00:a4:04:00:0f:73:78:31:2e:73:68:2e:c9:e7:bb:e1:b1:a3:d5:cf\n00:C0\n",
    );
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "< 61 1E : 30 bytes available (GET RESPONSE)");
    assert_eq!(lines[1], "< 67 00 : wrong length (Lc or Le)");
    // A line that is none of these says what is taken.
    let out = card(&["shell"], "hello\n");
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("! "), "{stdout}");
    assert!(stdout.contains("00:A4:00:00"), "{stdout}");
    assert!(stdout.contains("`exit`"), "{stdout}");
}

/// `shell --help` named only gen3.
#[test]
fn help_names_every_built_in_profile() {
    let listed = Command::new(BIN).arg("profile").output().unwrap();
    let names: Vec<String> = text(&listed.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect();
    assert!(names.len() >= 2, "{names:?}");
    for sub in ["shell", "serve"] {
        let help = Command::new(BIN).args([sub, "--help"]).output().unwrap();
        let help = text(&help.stdout);
        for name in &names {
            assert!(
                help.contains(name.as_str()),
                "{sub} --help lacks {name}:\n{help}"
            );
        }
    }
}

/// A profile record `07 09` with 8 value bytes was accepted, and `card read` printed a
/// truncated card number.
#[test]
fn a_record_whose_tlv_length_disagrees_is_refused_at_its_place() {
    let dir = temp_dir("profile");
    let gen3 = Command::new(BIN)
        .args(["profile", "--show", "gen3"])
        .output()
        .unwrap();
    let good = text(&gen3.stdout);
    let bad = good.replacen(
        "\"07 09 413332303130363837\"",
        "\"07 09 4133323031303638\"",
        1,
    );
    assert_ne!(good, bad, "the card number record moved");
    let (line, column) = bad
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find("\"07 09 ").map(|c| (i + 1, c + 1)))
        .unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, bad).unwrap();
    let out = card(&["shell", "--profile", path.to_str().unwrap()], "");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("bad.toml:{line}:{column}: records[6]: ")),
        "{err}"
    );
    assert!(
        err.contains("tag 07 length 09 says 9 value bytes, and 8 follow"),
        "{err}"
    );
    // The built-in profiles, printed as files, still load (their records agree).
    let listed = Command::new(BIN).arg("profile").output().unwrap();
    for line in text(&listed.stdout).lines() {
        let (name, description) = line.split_once('\t').unwrap();
        let shown = Command::new(BIN)
            .args(["profile", "--show", name])
            .output()
            .unwrap();
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, &shown.stdout).unwrap();
        let path = path.to_str().unwrap();
        // A PSAM's profile is served with --psam-profile; its MF answers a select too.
        let out = if description.starts_with("(PSAM)") {
            card(
                &["shell", "--psam", "--psam-profile", path],
                "00A40000023F00\n",
            )
        } else {
            card(&["shell", "--profile", path], "00A40000\n")
        };
        assert_eq!(
            text(&out.stdout),
            "< 90 00 : success\n",
            "{name}: {}",
            text(&out.stderr)
        );
    }
}

/// `ssc-card completions SHELL` prints a script naming the subcommands.
#[test]
fn completions_come_from_the_command_line() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for word in [
            "ssc-card",
            "serve",
            "shell",
            "restore",
            "vpcd",
            "frame-timeout",
        ] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    let out = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // bash reads the bash script without a syntax error.
    let script = temp_dir("completions").join("ssc-card.bash");
    let out = Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    std::fs::write(&script, out.stdout).unwrap();
    if let Ok(check) = Command::new("bash").arg("-n").arg(&script).output() {
        assert!(check.status.success(), "{}", text(&check.stderr));
    }
}

/// `ssc-card man DIR` writes one page per subcommand, from the same definitions as `--help`.
#[test]
fn man_pages_come_from_the_command_line() {
    let dir = temp_dir("man").join("man1");
    let out = Command::new(BIN)
        .args(["man", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    for page in [
        "ssc-card",
        "ssc-card-shell",
        "ssc-card-serve",
        "ssc-card-restore",
    ] {
        let path = dir.join(format!("{page}.1"));
        let roff =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(roff.contains(&format!(".TH {page} 1")), "{page}: {roff}");
    }
    let serve = std::fs::read_to_string(dir.join("ssc-card-serve.1")).unwrap();
    assert!(serve.contains("vpcd"), "{serve}");
    assert!(serve.contains("frame\\-timeout"), "{serve}");
}
