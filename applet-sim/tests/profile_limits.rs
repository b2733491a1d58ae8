//! Profiles from untrusted files (issue 16, item 5): repeats bounded by the card's size as
//! they are expanded, initial records that the card itself would accept (so the state file
//! it writes reopens), and file counts that fit the card's node numbers, checked in linear
//! time.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::{Duration, Instant};

use applet_sim::Profile;
use applet_sim::profile::{MAX_CARD_BYTES, MAX_FILES};

const HEAD: &str = "[card]\ndescription = \"t\"\natr = \"3B 00\"\nprotocol = \"T=0\"\ncipher = \"sm4\"\n\n\
                    [[df]]\nid = \"APP\"\nparent = \"MF\"\nname = \"A000000001\"\n\n";

fn record_ef(fid: u16, structure: &str, record_size: Option<usize>, records: &[&str]) -> String {
    let size = record_size.map_or(String::new(), |n| format!("record_size = {n}\n"));
    let records: Vec<String> = records.iter().map(|r| format!("{r:?}")).collect();
    format!(
        "[[ef]]\nparent = \"APP\"\nfid = \"{fid:04X}\"\nstructure = \"{structure}\"\nmax_records = 4\n\
         {size}read = \"free\"\nupdate = \"free\"\nrecords = [{}]\n\n",
        records.join(", ")
    )
}

/// `BB*N` expanded without a bound before the length check: 20,000 repeats of `00*65536`
/// in 180 KB of text reached 1.28 GB (here 2,000 of them: 131 MB before the fix). A
/// repeat past its field's size is refused as it is read, naming the entry.
#[test]
fn repeats_are_bounded_as_they_are_expanded() {
    let record = "00*65536 ".repeat(2_000);
    let text = format!("{HEAD}{}", record_ef(0xEF01, "linear", None, &[&record]));
    let start = Instant::now();
    let e = Profile::parse(&text, "big.toml").map(|_| ()).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(e.message.contains("records[0]: more than 255 bytes"), "{e}");
    // Placed at the record itself (issue 17), not at its entry's `[[ef]]` (line 12).
    assert_eq!((e.line, e.column), (19, 12), "{e}");
    // A transparent EF's data is bounded by its size, an FCI and a key by theirs.
    let ef = "[[ef]]\nparent = \"APP\"\nfid = \"EF02\"\nstructure = \"transparent\"\nsize = 4\n\
              read = \"free\"\nupdate = \"free\"\ndata = \"01 02 00*65536\"\n";
    let e = Profile::parse(&format!("{HEAD}{ef}"), "t")
        .map(|_| ())
        .unwrap_err();
    assert!(e.message.contains("data: more than 4 bytes"), "{e}");
}

/// The whole card is bounded too: many EFs each within its own size, past the card's.
#[test]
fn the_card_s_total_size_is_bounded() {
    let mut text = HEAD.to_owned();
    let per = 32_767;
    let count = MAX_CARD_BYTES / per + 1;
    for i in 0..count {
        text.push_str(&format!(
            "[[ef]]\nparent = \"APP\"\nfid = \"{:04X}\"\nstructure = \"transparent\"\nsize = {per}\n\
             read = \"free\"\nupdate = \"free\"\n\n",
            0x1000 + i
        ));
    }
    let e = Profile::parse(&text, "t").map(|_| ()).unwrap_err();
    assert!(
        e.message
            .contains(&format!("more than {MAX_CARD_BYTES} bytes")),
        "{e}"
    );
    // The built-ins are well within it.
    for (name, _) in applet_sim::profile::BUILTIN {
        Profile::builtin(name).unwrap();
    }
}

/// An initial record longer than `record_size` was accepted, written to the state file, and
/// refused when the file was reopened. Load-time checks now match what the card accepts at
/// run time (`check_record`): a linear record fits the record size, a cyclic record has it.
#[test]
fn initial_records_fit_the_record_size() {
    let ok = |ef: String| Profile::parse(&format!("{HEAD}{ef}"), "t");
    ok(record_ef(0xEF01, "linear", Some(3), &["01 01 AA", "01 00"])).unwrap();
    let e = ok(record_ef(0xEF01, "linear", Some(2), &["01 01 AA"]))
        .map(|_| ())
        .unwrap_err();
    assert!(
        e.message
            .contains("records[0]: 3 bytes exceed record_size 2"),
        "{e}"
    );
    ok(record_ef(
        0xEF01,
        "cyclic",
        Some(3),
        &["01 01 AA", "02 01 BB"],
    ))
    .unwrap();
    let e = ok(record_ef(0xEF01, "cyclic", Some(3), &["01 01 AA", "02 00"]))
        .map(|_| ())
        .unwrap_err();
    assert!(
        e.message
            .contains("records[1]: a cyclic record has record_size 3 bytes, found 2"),
        "{e}"
    );
    for bad in [0, 256] {
        let e = ok(record_ef(0xEF01, "linear", Some(bad), &[]))
            .map(|_| ())
            .unwrap_err();
        assert!(e.message.contains("record_size: must be 1..=255"), "{e}");
    }
}

/// The state file a card writes reopens: records as the profile gives them round-trip.
#[test]
fn a_card_with_full_records_reopens_its_state_file() {
    let text = format!(
        "{HEAD}{}",
        record_ef(0xEF01, "linear", Some(3), &["01 01 AA"])
    );
    let dir = std::env::temp_dir().join(format!("ssc-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("p.toml");
    std::fs::write(&path, text).unwrap();
    let profile = Profile::load(path.to_str().unwrap()).unwrap();
    let state = dir.join("card.state");
    for _ in 0..2 {
        applet_sim::Card::open(&profile, &state).unwrap();
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// 65,536 files collapsed onto one node (NodeId is 16 bits): refused, at the first file
/// past the bound.
#[test]
fn file_counts_fit_the_card_s_node_numbers() {
    let mut text = HEAD.to_owned();
    for i in 0..MAX_FILES {
        let parent = if i < 0x8000 { "MF" } else { "APP" };
        text.push_str(&format!(
            "[[ef]]\nparent = \"{parent}\"\nfid = \"{:04X}\"\nstructure = \"transparent\"\n\
             size = 0\nread = \"free\"\nupdate = \"free\"\n",
            0x4000 + i % 0x8000
        ));
    }
    let e = Profile::parse(&text, "t").map(|_| ()).unwrap_err();
    assert!(
        e.message.contains(&format!("at most {MAX_FILES} files")),
        "{e}"
    );
}

/// The uniqueness checks were quadratic (65,535 files: 8 s in release). 20,000 EFs under
/// one DF, with SFIs, load in linear time.
#[test]
fn many_files_load_in_linear_time() {
    let mut text = HEAD.to_owned();
    for i in 0..20_000u32 {
        text.push_str(&format!(
            "[[ef]]\nparent = \"APP\"\nfid = \"{:04X}\"\nstructure = \"transparent\"\nsize = 1\n\
             read = \"free\"\nupdate = \"free\"\n",
            0x4000 + i
        ));
    }
    text.push_str("[[ef]]\nparent = \"APP\"\nfid = \"4000\"\nstructure = \"transparent\"\nsize = 1\nread = \"free\"\nupdate = \"free\"\n");
    let start = Instant::now();
    let e = Profile::parse(&text, "t").map(|_| ()).unwrap_err();
    assert!(e.message.contains("fid 4000 is used twice in APP"), "{e}");
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}
