//! `ssc-card personalise` (issue 13): profiles for other cardholders from holder records
//! (TOML for one, CSV for many) and a base profile. The generated profiles load; their
//! derived fields agree (the ATR's region and serial, the card identification code, the card
//! number's check character, EF06 from the citizen ID); keys given as a master key are
//! derived for each card (external authentication with the new card's key succeeds); a wrong
//! citizen ID check character is refused with its CSV line, and nothing is written.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use applet_sim::crypto::{
    Factors, auth_cryptogram, card_factor, city_factor, diversify, province_factor, session_key,
};
use applet_sim::model::CipherSuite;
use applet_sim::personalise::{
    Base, card_number_check, check_all, citizen_id_check, parse_csv, personalise,
};
use applet_sim::{Card, Profile};
use common::{SELECT_SSSE, script, x};

const GEN3: &str = include_str!("../profiles/gen3.toml");
const RK_MASTER: &str = "0F0E0D0C0B0A09080706050403020100";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-pers-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// gen3 with RKSSSE (key 0A) given as a national master key diversified to the card,
/// whatever form the built-in gives it in (a card value, or another master).
fn base_file(dir: &Path) -> PathBuf {
    let mut lines: Vec<String> = Vec::new();
    let mut in_rk = false;
    for line in GEN3.lines() {
        if line.starts_with("[[") {
            in_rk = false;
        }
        let key_line = ["value", "master", "diversify"]
            .iter()
            .any(|k| line.starts_with(k));
        if in_rk && key_line {
            continue;
        }
        lines.push(line.to_owned());
        if line.starts_with("id = 0x0A ") {
            in_rk = true;
            lines.push(format!("master = \"{RK_MASTER}\""));
            lines.push("diversify = [\"province\", \"city\", \"card\"]".to_owned());
        }
    }
    let path = dir.join("base.toml");
    fs::write(&path, lines.join("\n")).unwrap();
    path
}

/// How many keys a profile file gives as card values (`value`).
fn value_keys(path: &Path) -> usize {
    let t: toml::Table = fs::read_to_string(path).unwrap().parse().unwrap();
    t["key"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k.get("value").is_some())
        .count()
}

/// A citizen ID with its right check character.
fn id(first17: &str) -> String {
    format!("{first17}{}", citizen_id_check(first17).unwrap())
}

/// A long name: 20 characters, 40 bytes in GBK (30 in tag 09, 10 in its extension 4E).
const LONG: &str = "爱新觉罗爱新觉罗爱新觉罗爱新觉罗爱新觉罗";

fn holders_csv() -> String {
    format!(
        "# three holders\n\
         name,citizen_id,region,issue_date,expiry_date,sex,nation\n\
         张三,{},110100,20250115,,1,01\n\
         \"欧阳娜娜\",{},440300,2024-06-30,2034-06-30,female,\n\
         {LONG},{},650100,20230301,20280301,,05\n",
        id("11010519800101123"),
        id("44030419990731002"),
        id("65010219701212331"),
    )
}

fn record(p: &Profile, fid: u16, tag: u8) -> &[u8] {
    let ef = p
        .efs
        .iter()
        .find(|e| e.parent == "SSSE" && e.control.fid == fid)
        .unwrap();
    ef.records.iter().find(|r| r[0] == tag).unwrap()
}

/// The checks of one generated profile against the holder it was made for.
fn consistent(p: &Profile, name: &str, citizen_id: &str, region: &str) {
    let region_bcd = apdu::parse_hex(region).unwrap();
    // ATR: T8-T9 the region's first four digits, TA-TD the serial.
    assert_eq!(&p.atr[..4], [0x3B, 0x6D, 0x00, 0x00]);
    assert_eq!(&p.atr[11..13], &region_bcd[..2]);
    let serial = &p.atr[13..17];
    // Card identification code: region ‖ D156000005 ‖ serial ‖ FFFFFFFF.
    let card_id = &record(p, 0xEF05, 0x01)[2..];
    assert_eq!(card_id.len(), 16);
    assert_eq!(&card_id[..3], region_bcd.as_slice());
    assert_eq!(&card_id[3..8], [0xD1, 0x56, 0x00, 0x00, 0x05]);
    assert_eq!(&card_id[8..12], serial, "card id and ATR serial disagree");
    // The issuing region in the initialising organisation.
    assert_eq!(&record(p, 0xEF05, 0x04)[7..10], region_bcd.as_slice());
    // Card number: 9 characters, the check character right.
    let number = std::str::from_utf8(&record(p, 0xEF05, 0x07)[2..]).unwrap();
    assert_eq!(number.len(), 9);
    assert_eq!(
        card_number_check(&number[..8]),
        number.chars().last(),
        "{number}"
    );
    // EF06 from the holder and the citizen ID.
    assert_eq!(&record(p, 0xEF06, 0x08)[2..], citizen_id.as_bytes());
    let mut gbk = record(p, 0xEF06, 0x09)[2..].to_vec();
    assert_eq!(gbk.len(), 30);
    gbk.extend_from_slice(&record(p, 0xEF06, 0x4E)[2..]);
    let end = gbk.iter().rposition(|b| *b != 0).unwrap() + 1;
    let (decoded, _, bad) = encoding_rs::GBK.decode(&gbk[..end]);
    assert!(!bad);
    assert_eq!(decoded, name);
    let sex = if citizen_id.as_bytes()[16] % 2 == 1 {
        b'1'
    } else {
        b'2'
    };
    assert_eq!(record(p, 0xEF06, 0x0A), [0x0A, 0x01, sex]);
    assert_eq!(
        &record(p, 0xEF06, 0x0C)[2..],
        apdu::parse_hex(&citizen_id[..6]).unwrap()
    );
    assert_eq!(
        &record(p, 0xEF06, 0x0D)[2..],
        apdu::parse_hex(&citizen_id[6..14]).unwrap()
    );
    // The region for the keys' diversification.
    let factors = Factors {
        region: Some(region),
        atr: &p.atr,
    };
    assert!(factors.factor("city").is_ok());
}

/// The card key RKSSSE of a generated card: the master diversified by its region and ATR.
fn rk_of(p: &Profile, region: &str) -> Vec<u8> {
    let m = apdu::parse_hex(RK_MASTER).unwrap();
    let l1 = diversify(CipherSuite::Sm4, &m, &province_factor(region).unwrap()).unwrap();
    let l2 = diversify(CipherSuite::Sm4, &l1, &city_factor(region).unwrap()).unwrap();
    diversify(CipherSuite::Sm4, &l2, &card_factor(&p.atr).unwrap()).unwrap()
}

/// EXTERNAL AUTHENTICATE with key 0A = `key` on a card: its status word.
fn external_auth(card: &mut Card, key: &[u8]) -> String {
    script(card, &[(SELECT_SSSE, "9000")]);
    let r = card.transmit(&apdu::parse_hex("0084000008").unwrap());
    let ks = session_key(CipherSuite::Sm4, key, &r[..8]).unwrap();
    let original = [0x42; 8];
    let auth = auth_cryptogram(CipherSuite::Sm4, &ks, &original).unwrap();
    x(
        card,
        &format!(
            "0082000A10{}{}",
            apdu::hex_compact(&auth),
            apdu::hex_compact(&original)
        ),
    )
}

#[test]
fn generated_profiles_load_and_agree_with_themselves_and_their_holders() {
    let dir = temp_dir("lib");
    let base_path = base_file(&dir);
    let base = Base::load(base_path.to_str().unwrap()).unwrap();
    assert_eq!(base.letter, 'A');
    assert_eq!(base.value_keys, value_keys(&base_path));
    let holders = parse_csv(&holders_csv(), "holders.csv").unwrap();
    let cards = check_all(&holders, base.letter).unwrap();
    assert_eq!(cards.len(), 3);
    // Defaults: ten years of validity, sex from the ID.
    assert_eq!(cards[0].expiry_date, "20350115");
    assert_eq!((cards[0].sex, cards[1].sex), ('1', '2'));
    let expected = [
        ("张三", &cards[0].citizen_id, "110100"),
        ("欧阳娜娜", &cards[1].citizen_id, "440300"),
        (LONG, &cards[2].citizen_id, "650100"),
    ];
    let mut rks = Vec::new();
    for (card, (name, citizen_id, region)) in cards.iter().zip(expected) {
        let text = personalise(&base, card, "made.toml").unwrap();
        let p = Profile::parse(&text, "made.toml").unwrap();
        consistent(&p, name, citizen_id, region);
        assert_eq!(
            std::str::from_utf8(&record(&p, 0xEF05, 0x07)[2..]).unwrap(),
            card.card_number
        );
        // The card key derived from the master is this card's: external authentication
        // with it succeeds, with the base card's key it fails.
        let rk = rk_of(&p, region);
        let mut c = Card::new(&p);
        assert_eq!(external_auth(&mut c, &rk), "9000");
        let base_rk = rk_of(&Profile::load(base.name()).unwrap(), "320100");
        assert_eq!(external_auth(&mut Card::new(&p), &base_rk), "63C2");
        // The holder's data as a terminal reads it: EF05 free, EF06 after key 0A.
        script(&mut c, &[("00A4020002EF06", "9000")]);
        let id_record = x(&mut c, "00B2080014");
        assert_eq!(&id_record[4..40], apdu::hex_compact(citizen_id.as_bytes()));
        rks.push(rk);
    }
    rks.dedup();
    assert_eq!(rks.len(), 3, "two cards share a derived key");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_toml_holder_and_the_command_line() {
    let dir = temp_dir("cli");
    let base = base_file(&dir);
    let one = dir.join("holder.toml");
    fs::write(
        &one,
        format!(
            "name = \"王小明\"\ncitizen_id = \"{}\"\nregion = 320500\nissue_date = 20250301\n\
             birth_date = \"1990-05-17\"\nnation = \"1\"\nserial = \"00ABCDEF\"\n\
             card_number = \"B1234567\"\n",
            id("32050219900517201")
        ),
    )
    .unwrap();
    let csv = dir.join("holders.csv");
    fs::write(&csv, holders_csv()).unwrap();
    let out = dir.join("out");
    let run = |extra: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_ssc-card"))
            .arg("personalise")
            .args([
                "--base",
                base.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ])
            .args(extra)
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
        )
    };
    let (code, stdout, stderr) = run(&[one.to_str().unwrap(), csv.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    // The card number given without its check character gets it; the serial given is used.
    let number = format!("B1234567{}", card_number_check("B1234567").unwrap());
    let file = out.join(format!("{number}.toml"));
    assert!(
        stdout.starts_with(&format!(
            "{}: card {number} (serial 00ABCDEF)",
            file.display()
        )),
        "{stdout}"
    );
    let p = Profile::load(file.to_str().unwrap()).unwrap();
    consistent(&p, "王小明", &id("32050219900517201"), "320500");
    assert_eq!(&p.atr[13..], [0x00, 0xAB, 0xCD, 0xEF]);
    assert_eq!(record(&p, 0xEF06, 0x0B), [0x0B, 0x01, 0x01]);
    // Keys given as card values are kept, and the command says so.
    let n = value_keys(&base);
    assert_eq!(
        stderr.contains(&format!("gives {n} keys as card values")),
        n > 0,
        "{stderr}"
    );
    let mut names: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4);
    // Again: the profiles exist; nothing is replaced without --force.
    let before = fs::read(&file).unwrap();
    let (code, _, stderr) = run(&[one.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("exists already"), "{stderr}");
    let (code, _, _) = run(&[one.to_str().unwrap(), "--force"]);
    assert_eq!(code, 0);
    assert_eq!(
        fs::read(&file).unwrap(),
        before,
        "the same holder, the same profile"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_wrong_check_character_is_refused_with_its_csv_line_and_nothing_is_written() {
    let dir = temp_dir("wrong");
    let good = id("11010519800101123");
    let mut bad = id("44030419990731002");
    // One digit mistyped: the check character no longer agrees.
    bad.replace_range(10..11, if &bad[10..11] == "7" { "8" } else { "7" });
    let csv = dir.join("holders.csv");
    fs::write(
        &csv,
        format!(
            "name,citizen_id,region,issue_date\n张三,{good},110100,20250115\n\n李四, {bad},440300,20240630\n"
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_ssc-card"))
        .args([
            "personalise",
            csv.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr.starts_with(&format!("error: {}:4:5: citizen_id: ", csv.display())),
        "{stderr}"
    );
    assert!(stderr.contains("ISO 7064 MOD 11-2"), "{stderr}");
    assert!(!out.exists(), "something was written");
    let _ = fs::remove_dir_all(&dir);
}

/// Every other refusal names the file, line, column and field.
#[test]
fn holder_records_that_do_not_hold_together_are_refused() {
    let base = Base::load("gen3").unwrap();
    let a = id("11010519800101123");
    let b = id("44030419990731002");
    let header = "name,citizen_id,region,issue_date,expiry_date,sex,birth_date,card_number";
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        (&format!("张三,{a},110100,20250115,,2,,"), "sex: \"2\", but the citizen ID says male"),
        (&format!("张三,{a},110100,20250115,,,19800102,"), "birth_date: 19800102, but the citizen ID says 19800101"),
        (&format!("张三,{a},110100,20250115,20200101,,,"), "expiry_date: 20200101 is not after"),
        (&format!("张三,{a},110100,20250231,,,,"), "issue_date: \"20250231\" is not a date"),
        (&format!("张三,{a},1101,20250115,,,,"), "region: \"1101\" is not a 6-digit region code"),
        (&format!("😀,{a},110100,20250115,,,,"), "name: '😀' (U+1F600) has no GBK code"),
        (&format!("张三,{a},110100,20250115,,,,A32010688"), "card_number: \"A32010688\": the check character is 8, the card number's rule gives 7"),
        (&format!("张三,{a},110100,20250115,,,,\n李四,{a},440300,20240630,,,,"), "citizen_id: 11010519800101123"),
        (&format!(",{b},110100,20250115,,,,"), "name: missing"),
        (&format!("张三,{b},110100"), "3 fields, the header names 8"),
    ];
    for (rows, message) in cases {
        let text = format!("{header}\n{rows}\n");
        let e = parse_csv(&text, "h.csv")
            .and_then(|holders| check_all(&holders, base.letter))
            .unwrap_err();
        assert!(e.message.contains(message), "{rows}: {e}");
        assert!(e.to_string().starts_with("h.csv:"), "{e}");
    }
    // The sex refusal points at the sex column.
    let text = format!("{header}\n张三,{a},110100,20250115,,2,,\n");
    let e = check_all(&parse_csv(&text, "h.csv").unwrap(), 'A').unwrap_err();
    assert_eq!((e.line, e.column), (2, 40), "{e}");
    // The header: unknown and missing columns.
    let e = parse_csv("name,citizen_id,region,issue_date,colour\n", "h.csv").unwrap_err();
    assert_eq!((e.line, e.column), (1, 35));
    assert!(e.message.contains("unknown column \"colour\""), "{e}");
    let e = parse_csv("name,citizen_id,region\n", "h.csv").unwrap_err();
    assert!(e.message.contains("no column issue_date"), "{e}");
    // TOML: unknown fields and a wrong check character, at their line and column.
    let e =
        applet_sim::personalise::parse_toml("name = \"张三\"\ncolour = 1\n", "h.toml").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    let bad = format!("{}{}", &a[..17], if a.ends_with('0') { '1' } else { '0' });
    let holder = applet_sim::personalise::parse_toml(
        &format!("name = \"张三\"\ncitizen_id = \"{bad}\"\nregion = \"110100\"\nissue_date = \"20250115\"\n"),
        "h.toml",
    )
    .unwrap();
    let e = holder.check('A').unwrap_err();
    assert_eq!((e.line, e.column), (2, 14), "{e}");
    assert!(e.message.contains("MOD 11-2"), "{e}");
}

/// Runs `ssc-card personalise` with `args`: exit code, stdout, stderr.
fn ssc_card(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_ssc-card"))
        .arg("personalise")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

/// F7: a citizen ID with a character of more than one byte is refused at its line and
/// column, not a crash (the check character used to be cut off by byte position).
#[test]
fn a_citizen_id_with_a_multibyte_character_is_refused_at_its_place() {
    for bad in [
        "1101051949123100é2",
        "1101051949123100０X",
        "11010519491231002é",
    ] {
        let text = format!("name,citizen_id,region,issue_date\n张三,{bad},110100,20200101\n");
        let e = check_all(&parse_csv(&text, "h.csv").unwrap(), 'A').unwrap_err();
        assert_eq!((e.line, e.column), (2, 4), "{bad}: {e}");
        assert!(e.message.starts_with("citizen_id: "), "{bad}: {e}");
    }
    let dir = temp_dir("multibyte");
    let csv = dir.join("h.csv");
    fs::write(
        &csv,
        "name,citizen_id,region,issue_date\n张三,1101051949123100é2,110100,20200101\n",
    )
    .unwrap();
    let out = dir.join("out");
    let (code, _, stderr) = ssc_card(&[csv.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: {}:2:4: citizen_id: ", csv.display())),
        "{stderr}"
    );
    let _ = fs::remove_dir_all(&dir);
}

/// F8: a line of 1,000,000 commas is split in one pass (it used to count the line's
/// characters again for every field).
#[test]
fn a_long_line_of_commas_is_split_in_one_pass() {
    let text = format!(
        "name,citizen_id,region,issue_date\n{}\n",
        ",".repeat(1_000_000)
    );
    let e = parse_csv(&text, "h.csv").unwrap_err();
    assert!(
        e.message.contains("1000001 fields, the header names 4"),
        "{e}"
    );
}

/// The profile file the TOML holder of [`symlinked_holder`] is written to.
fn symlinked_holder(dir: &Path) -> (PathBuf, String) {
    let one = dir.join("holder.toml");
    fs::write(
        &one,
        format!(
            "name = \"王小明\"\ncitizen_id = \"{}\"\nregion = 320500\nissue_date = 20250301\n\
             card_number = \"B1234567\"\n",
            id("32050219900517201")
        ),
    )
    .unwrap();
    let number = format!("B1234567{}.toml", card_number_check("B1234567").unwrap());
    (one, number)
}

/// F9, F12: a symlink planted at an output's name is never written through; the profiles
/// (master keys, personal data) are private to their owner (0600).
#[test]
fn planted_symlinks_are_not_followed_and_profiles_are_private() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = temp_dir("symlink");
    let (one, name) = symlinked_holder(&dir);
    let out = dir.join("out");
    fs::create_dir_all(&out).unwrap();
    let victim = dir.join("victim");
    let link = out.join(&name);
    // A dangling link, without --force: refused, nothing made through it.
    symlink("../victim", &link).unwrap();
    let args = [one.to_str().unwrap(), "-o", out.to_str().unwrap()];
    let (code, _, stderr) = ssc_card(&args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("exists already"), "{stderr}");
    assert!(!victim.exists(), "written through the link");
    // A link to a file, with --force: the link is replaced, the file it points to kept.
    fs::write(&victim, "the victim's file\n").unwrap();
    let (code, _, stderr) = ssc_card(&[args[0], args[1], args[2], "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "the victim's file\n");
    let meta = fs::symlink_metadata(&link).unwrap();
    assert!(meta.is_file(), "still a link");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    Profile::load(link.to_str().unwrap()).unwrap();
    // A fresh folder: every profile 0600, and no temporary file left behind.
    let fresh = dir.join("fresh");
    let (code, _, stderr) = ssc_card(&[one.to_str().unwrap(), "-o", fresh.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let entries: Vec<_> = fs::read_dir(&fresh).unwrap().map(|e| e.unwrap()).collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].file_name().to_str().unwrap(), name);
    let mode = entries[0].metadata().unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let _ = fs::remove_dir_all(&dir);
}

/// F10: 10,000 holders without serial or card number all get their own (a derived number
/// taken already moves on to the next free one); numbers given that repeat are refused.
#[test]
fn a_large_batch_gets_a_card_number_for_every_holder() {
    let mut text = String::from("name,citizen_id,region,issue_date\n");
    for day in 1..=10 {
        for seq in 0..1000 {
            let first17 = format!("110105198001{day:02}{seq:03}");
            text.push_str(&format!("张三,{},110100,20250115\n", id(&first17)));
        }
    }
    let holders = parse_csv(&text, "big.csv").unwrap();
    assert_eq!(holders.len(), 10_000);
    let cards = check_all(&holders, 'A').unwrap();
    let mut numbers: Vec<_> = cards.iter().map(|c| c.card_number.clone()).collect();
    let mut serials: Vec<_> = cards.iter().map(|c| c.serial).collect();
    numbers.sort();
    numbers.dedup();
    serials.sort_unstable();
    serials.dedup();
    assert_eq!((numbers.len(), serials.len()), (10_000, 10_000));
    for c in &cards {
        assert_eq!(
            card_number_check(&c.card_number[..8]),
            c.card_number.chars().last()
        );
    }
    // The same batch again: the same numbers (the moves are deterministic).
    let again = check_all(&holders, 'A').unwrap();
    assert_eq!(again, cards);
    // Numbers given that repeat are still refused, at the later one.
    let a = id("11010519800101123");
    let b = id("44030419990731002");
    let text = format!(
        "name,citizen_id,region,issue_date,card_number\n张三,{a},110100,20250115,B1234567\n\
         李四,{b},440300,20240630,B1234567\n"
    );
    let e = check_all(&parse_csv(&text, "h.csv").unwrap(), 'A').unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.starts_with("card_number: B1234567"), "{e}");
    // A number given is kept even when a holder before it would have derived it.
    let derived = check_all(
        &parse_csv(
            &format!("name,citizen_id,region,issue_date\n张三,{a},110100,20250115\n"),
            "h.csv",
        )
        .unwrap(),
        'A',
    )
    .unwrap();
    let taken = &derived[0].card_number;
    let text = format!(
        "name,citizen_id,region,issue_date,card_number\n张三,{a},110100,20250115,\n\
         李四,{b},440300,20240630,{taken}\n"
    );
    let cards = check_all(&parse_csv(&text, "h.csv").unwrap(), 'A').unwrap();
    assert_eq!(&cards[1].card_number, taken);
    assert_ne!(&cards[0].card_number, taken);
}

/// F11: a GBK name of 31 bytes is cut at a character boundary: tag 09 holds the first 29
/// bytes (then 00), the extension 4E the last character; each decodes on its own.
#[test]
fn a_name_longer_than_tag_09_is_cut_between_characters() {
    let name = "A欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜";
    let base = Base::load("gen3").unwrap();
    let text = format!(
        "name,citizen_id,region,issue_date\n{name},{},110100,20250115\n",
        id("11010519800101123")
    );
    let cards = check_all(&parse_csv(&text, "h.csv").unwrap(), base.letter).unwrap();
    let made = personalise(&base, &cards[0], "made.toml").unwrap();
    let p = Profile::parse(&made, "made.toml").unwrap();
    let t09 = &record(&p, 0xEF06, 0x09)[2..];
    let t4e = &record(&p, 0xEF06, 0x4E)[2..];
    assert_eq!((t09.len(), t4e.len()), (30, 20));
    fn trimmed(v: &[u8]) -> &[u8] {
        &v[..v.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1)]
    }
    let (first, _, bad1) = encoding_rs::GBK.decode(trimmed(t09));
    let (rest, _, bad2) = encoding_rs::GBK.decode(trimmed(t4e));
    assert!(!bad1 && !bad2, "a character is cut: {t09:02X?} {t4e:02X?}");
    assert_eq!(format!("{first}{rest}"), name);
    assert_eq!(rest, "娜");
    // 30 bytes in 09 and 21 after a cut at 29 do not fit: refused, not truncated.
    let long = format!("A{}", "欧阳娜娜".repeat(6)); // 49 bytes: 29 + 20
    let text = format!(
        "name,citizen_id,region,issue_date\n{long},{},110100,20250115\n",
        id("11010519800101123")
    );
    check_all(&parse_csv(&text, "h.csv").unwrap(), 'A').unwrap();
    let too_long = format!("{long}A"); // 50 bytes, but 21 after the cut
    let text = format!(
        "name,citizen_id,region,issue_date\n{too_long},{},110100,20250115\n",
        id("11010519800101123")
    );
    let e = check_all(&parse_csv(&text, "h.csv").unwrap(), 'A').unwrap_err();
    assert!(e.message.starts_with("name: "), "{e}");
    assert_eq!((e.line, e.column), (2, 1), "{e}");
}

/// F15: dates are YYYYMMDD or YYYY-MM-DD and exist; the default expiry stays in range.
#[test]
fn dates_are_one_of_two_forms_and_exist() {
    let a = id("11010519800101123");
    let header = "name,citizen_id,region,issue_date,expiry_date";
    for (issue, expiry, message) in [
        (
            "2-0-2-4-0-2-2-9",
            "",
            "issue_date: \"2-0-2-4-0-2-2-9\" is not a date",
        ),
        ("2024-0229", "", "issue_date: \"2024-0229\" is not a date"),
        ("20230229", "", "issue_date: \"20230229\" is not a date"),
        (
            "20250115",
            "2035-02-30",
            "expiry_date: \"2035-02-30\" is not a date",
        ),
        (
            "20990101",
            "",
            "issue_date: 20990101: ten years after it is past 2099",
        ),
    ] {
        let text = format!("{header}\n张三,{a},110100,{issue},{expiry}\n");
        let e = check_all(&parse_csv(&text, "h.csv").unwrap(), 'A').unwrap_err();
        assert!(e.message.starts_with(message), "{issue} {expiry}: {e}");
    }
    let text = format!("{header}\n张三,{a},110100,2024-02-29,20991231\n");
    let cards = check_all(&parse_csv(&text, "h.csv").unwrap(), 'A').unwrap();
    assert_eq!(
        (cards[0].issue_date.as_str(), cards[0].expiry_date.as_str()),
        ("20240229", "20991231")
    );
    let date = applet_sim::date::Date::parse;
    assert_eq!(date("2000-02-29").unwrap().to_string(), "20000229");
    for bad in [
        "19000229",
        "2-0-2-4-0-2-2-9",
        "20240229 ",
        "２０２４0229",
        "00000101",
        "21000101",
    ] {
        assert!(date(bad).is_err(), "{bad}");
    }
}
