//! The state file as a file on a shared host (issue 16, items 1–3 and the state side of 5):
//! created 0600 and exclusively, never through a planted name or symlink; refused when another
//! user owns it or others can write it, when it is not a regular file, or too large; locked
//! on the file itself (every path to it); compaction replaces the real file, never a link;
//! PIN and PUK values not readable from it; a format-1 file migrated.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use applet_sim::{Card, Profile, SmartCard, StateError};
use common::{SELECT_SSSE, script};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-statefile-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn gen3() -> Profile {
    Profile::builtin("gen3").unwrap()
}

/// The gen3 profile of tests/fixtures/v1-gen3.state's layout (the built-in before the
/// sub-applications' files and keys, docs/CARD.md §3.5.1, §6.7.1).
fn v1_gen3() -> Profile {
    Profile::load(&format!(
        "{}/tests/fixtures/v1-gen3.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_new_state_file_is_private_and_leaves_nothing_beside_it() {
    let dir = temp_dir("private");
    let path = dir.join("card.state");
    drop(Card::open(&gen3(), &path).unwrap());
    assert_eq!(mode(&path), 0o600);
    assert_eq!(names(&dir), ["card.state"]);
    let _ = fs::remove_dir_all(&dir);
}

/// Issue 16 item 1: `FILE.tmp` followed a planted symlink (the victim overwritten with state
/// bytes); a pre-created 0666 `FILE.tmp` left the state file owned by its planter.
#[test]
fn planted_temporary_names_are_never_used() {
    let dir = temp_dir("planted");
    let victim = dir.join("victim");
    fs::write(&victim, "precious").unwrap();
    let path = dir.join("card.state");
    symlink(&victim, dir.join("card.state.tmp")).unwrap();
    let mut card = Card::open(&gen3(), &path).unwrap();
    // A compaction (restore) too.
    let initial = Card::new(&gen3());
    card.restore_from(&initial).unwrap();
    drop(card);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert!(
        fs::symlink_metadata(dir.join("card.state.tmp"))
            .unwrap()
            .is_symlink()
    );
    // A pre-created world-writable FILE.tmp is not used either.
    let path2 = dir.join("other.state");
    let planted = dir.join("other.state.tmp");
    fs::write(&planted, "").unwrap();
    fs::set_permissions(&planted, fs::Permissions::from_mode(0o666)).unwrap();
    drop(Card::open(&gen3(), &path2).unwrap());
    let meta = fs::metadata(&path2).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o600);
    assert_ne!(meta.ino(), fs::metadata(&planted).unwrap().ino());
    assert_eq!(fs::read(&planted).unwrap(), b"");
    let _ = fs::remove_dir_all(&dir);
}

/// Issue 16 item 3: the lock was on `FILE.lock`, so a symlink or a hard link opened the same
/// file a second time.
#[test]
fn the_lock_covers_every_path_to_the_file() {
    let dir = temp_dir("lock");
    let path = dir.join("card.state");
    let link = dir.join("link.state");
    let hard = dir.join("hard.state");
    let held = Card::open(&gen3(), &path).unwrap();
    symlink(&path, &link).unwrap();
    let e = Card::open(&gen3(), &link).unwrap_err();
    assert!(matches!(e, StateError::Locked { .. }), "{e}");
    fs::hard_link(&path, &hard).unwrap();
    let e = Card::open(&gen3(), &hard).unwrap_err();
    assert!(matches!(e, StateError::Locked { .. }), "{e}");
    drop(held);
    // Free now, but a state file with two names is refused (compaction could only replace
    // one of them).
    let e = Card::open(&gen3(), &hard).unwrap_err();
    assert!(e.to_string().contains("hard link"), "{e}");
    let _ = fs::remove_dir_all(&dir);
}

/// Issue 16 item 3: compaction through a symlink replaced the link by a regular file, so the
/// link and its target disagreed; a dangling symlink was replaced too.
#[test]
fn compaction_replaces_the_real_file_and_a_dangling_link_is_refused() {
    let dir = temp_dir("links");
    let real = dir.join("real.state");
    let link = dir.join("link.state");
    drop(Card::open(&gen3(), &real).unwrap());
    symlink(&real, &link).unwrap();
    {
        let mut card = Card::open(&gen3(), &link).unwrap();
        script(
            &mut card,
            &[(SELECT_SSSE, "9000"), ("0020000003111111", "63C2")],
        );
        card.restore_from(&Card::new(&gen3())).unwrap();
        script(
            &mut card,
            &[(SELECT_SSSE, "9000"), ("0020000003111111", "63C2")],
        );
    }
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    let mut card = Card::open(&gen3(), &real).unwrap();
    script(&mut card, &[(SELECT_SSSE, "9000"), ("00200000", "63C2")]);
    drop(card);
    // A dangling symlink: refused, and still a dangling symlink.
    let dangling = dir.join("dangling.state");
    symlink(dir.join("nowhere"), &dangling).unwrap();
    let e = Card::open(&gen3(), &dangling).unwrap_err();
    assert!(e.to_string().contains("dangling"), "{e}");
    assert!(fs::symlink_metadata(&dangling).unwrap().is_symlink());
    assert!(!dir.join("nowhere").exists());
    let _ = fs::remove_dir_all(&dir);
}

/// Issue 16 item 1: a 0666 state file (or one another user owns) was used as it was.
#[test]
fn a_state_file_others_can_write_or_own_is_refused() {
    let dir = temp_dir("foreign");
    let path = dir.join("card.state");
    drop(Card::open(&gen3(), &path).unwrap());
    let before = fs::read(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    let e = Card::open(&gen3(), &path).unwrap_err();
    assert!(matches!(e, StateError::Unsafe { .. }), "{e}");
    assert!(e.to_string().contains("writable"), "{e}");
    assert_eq!(fs::read(&path).unwrap(), before);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    // Owned by another user (possible only as root: skipped otherwise).
    if std::os::unix::fs::chown(&path, Some(65534), None).is_ok() && !running_as(65534) {
        let e = Card::open(&gen3(), &path).unwrap_err();
        assert!(matches!(e, StateError::Unsafe { .. }), "{e}");
        assert!(e.to_string().contains("owned by"), "{e}");
    }
    let _ = fs::remove_dir_all(&dir);
}

/// An adversarial pass: a symlink another user planted (a shared /tmp) made root's card
/// resolve it, find a root-owned 0644 file that passed every check, and chmod it to 0600
/// before reading it.
#[test]
fn a_symlink_another_user_planted_is_not_followed_and_nothing_is_changed() {
    let dir = temp_dir("planted-link");
    let victim = dir.join("victim.conf");
    fs::write(&victim, "x\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.join("card.state");
    symlink(&victim, &link).unwrap();
    // Owned by another user (possible only as root: skipped otherwise).
    if std::os::unix::fs::lchown(&link, Some(65534), Some(65534)).is_ok() && !running_as(65534) {
        let e = Card::open(&gen3(), &link).unwrap_err();
        assert!(matches!(e, StateError::Unsafe { .. }), "{e}");
        assert!(e.to_string().contains("symlink owned by"), "{e}");
        assert_eq!(mode(&victim), 0o644);
        assert_eq!(fs::read(&victim).unwrap(), b"x\n");
    }
    // Even through this user's own link, a file that is not a state file keeps its mode.
    let own = dir.join("own.state");
    symlink(&victim, &own).unwrap();
    assert!(Card::open(&gen3(), &own).is_err());
    assert_eq!(mode(&victim), 0o644);
    let _ = fs::remove_dir_all(&dir);
}

fn running_as(uid: u32) -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == uid)
}

/// Issue 16 item 5 (the state file's part): `--state /dev/zero` read without limit, a FIFO
/// hung, a huge file was read whole.
#[test]
fn special_and_huge_state_files_are_refused_without_reading_them() {
    let e = Card::open(&gen3(), Path::new("/dev/zero")).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let dir = temp_dir("special");
    let fifo = dir.join("fifo.state");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let e = Card::open(&gen3(), &fifo).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
    let huge = dir.join("huge.state");
    let f = fs::File::create(&huge).unwrap();
    f.set_len(1 << 40).unwrap(); // sparse: 1 TiB that takes no space
    drop(f);
    fs::set_permissions(&huge, fs::Permissions::from_mode(0o600)).unwrap();
    let e = Card::open(&gen3(), &huge).unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
    let _ = fs::remove_dir_all(&dir);
}

/// The fixed-length form of the PIN `123456` and the PUK `12345678` as format 1 stored them,
/// and the PIN's BCD and ASCII-FF forms (plain ASCII `123456` is in an EF of the profile).
fn clear_forms() -> [Vec<u8>; 4] {
    [
        vec![1, 2, 3, 4, 5, 6, 0xFF, 0xFF, 0xFF],
        vec![1, 2, 3, 4, 5, 6, 7, 8, 0xFF],
        vec![0x12, 0x34, 0x56],
        b"123456\xFF\xFF".to_vec(),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Issue 16 item 2: the state file held the PIN and PUK values in the clear.
#[test]
fn pin_values_are_not_readable_from_the_state_file() {
    let dir = temp_dir("atrest");
    let path = dir.join("card.state");
    let mut card = Card::open(&gen3(), &path).unwrap();
    // A PIN change writes a new value record too.
    script(
        &mut card,
        &[
            (SELECT_SSSE, "9000"),
            ("805E0100 07 123456 FF 654321", "9000"),
        ],
    );
    drop(card);
    let bytes = fs::read(&path).unwrap();
    for form in clear_forms() {
        assert!(!contains(&bytes, &form), "{form:02X?} in the state file");
    }
    assert!(!contains(&bytes, &[6, 5, 4, 3, 2, 1, 0xFF, 0xFF]));
    // It still works: the new PIN verifies after a reopen, the old one does not.
    let mut card = Card::open(&gen3(), &path).unwrap();
    script(
        &mut card,
        &[
            (SELECT_SSSE, "9000"),
            ("0020000003123456", "63C2"),
            ("0020000003654321", "9000"),
        ],
    );
    let _ = fs::remove_dir_all(&dir);
}

/// A format-1 file (clear PIN values; written by the previous build, one wrong SSSE PIN in
/// its journal) is migrated: read, then rewritten in the current format.
#[test]
fn a_format_1_file_is_migrated() {
    let dir = temp_dir("migrate");
    let path = dir.join("card.state");
    let fixture = format!(
        "{}/tests/fixtures/v1-gen3.state",
        env!("CARGO_MANIFEST_DIR")
    );
    fs::copy(&fixture, &path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let old = fs::read(&path).unwrap();
    assert_eq!(&old[8..10], &[1, 0], "the fixture is format 1");
    {
        let mut card = Card::open(&v1_gen3(), &path).unwrap();
        // It recorded no declaration: taken as gen3's (which it records from now on).
        assert!(card.state_file_adopted());
        // The wrong PIN of the journal is still counted.
        script(&mut card, &[(SELECT_SSSE, "9000"), ("00200000", "63C2")]);
    }
    let new = fs::read(&path).unwrap();
    assert_eq!(&new[8..10], &[3, 0], "rewritten in format 3");
    assert_eq!(mode(&path), 0o600);
    for form in clear_forms() {
        assert!(
            !contains(&new, &form),
            "{form:02X?} still in the state file"
        );
    }
    let mut card = Card::open(&v1_gen3(), &path).unwrap();
    assert!(!card.state_file_adopted());
    script(
        &mut card,
        &[
            (SELECT_SSSE, "9000"),
            ("00200000", "63C2"),
            ("0020000003123456", "9000"),
        ],
    );
    let _ = fs::remove_dir_all(&dir);
}
