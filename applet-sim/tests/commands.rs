//! Command behaviour that the default profile cannot show (its files need keys to write):
//! writes, cyclic files, T=1, challenges, PUK flows, on the fixture profile
//! tests/fixtures/writable.toml; plus SSSE flows on the built-in gen3.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{SELECT_SSSE, builtin, fixture, script, x};

const SELECT_APP: &str = "00A4040007A0000000010203";

#[test]
fn t1_returns_data_up_to_ne_and_nothing_without_le() {
    let mut c = fixture("writable");
    script(
        &mut c,
        &[
            (SELECT_APP, "9000"),
            ("00A4040007A000000001020300", "6F09 8407A0000000010203 9000"),
            ("00B2010C00", "0102AAAA 9000"),
            ("00B2010C02", "6C04"),
        ],
    );
}

#[test]
fn update_record_by_number_and_identifier() {
    let mut c = fixture("writable");
    script(
        &mut c,
        &[
            (SELECT_APP, "9000"),
            // By number: the whole record is replaced, any length up to the record size.
            ("00DC010C0401021234", "9000"),
            ("00B2010C00", "01021234 9000"),
            // By identifier: first occurrence of 02.
            ("00DC020805020311 2233", "9000"),
            ("00B2020C00", "0203112233 9000"),
            // By identifier, missing: appended (docs/CARD.md §4.1).
            ("00DC03080303 01 CC", "9000"),
            ("00B2030C00", "0301CC 9000"),
            // Full now: another append by identifier has no room.
            ("00DC04080304 01 DD", "6A84"),
            // The identifier in P1 must be the record's tag.
            ("00DC0108030201EE", "6A80"),
            // A record that is not one TLV matching Lc: 6A85. Longer than record_size: 6700.
            ("00DC010C03010511", "6A85"),
            ("00DC010C1101 0F 000102030405060708090A0B0C0D0E", "6700"),
            ("00DC090C03010111", "6A83"),
            // Modes 101/110 do not exist for UPDATE RECORD; P2 mode 111 is reserved.
            ("00DC010D03010111", "6A86"),
            ("00DC010F03010111", "6A86"),
            // No data: 6700.
            ("00DC010C", "6700"),
            // Nothing of the failed commands was written.
            ("00B2010500", "01021234 0203112233 0301CC 9000"),
        ],
    );
}

#[test]
fn append_record_linear_and_cyclic() {
    let mut c = fixture("writable");
    script(
        &mut c,
        &[
            (SELECT_APP, "9000"),
            ("00E2000803 0301CC", "9000"),
            ("00E2000803 0401DD", "6A84"),
            ("00B2030C00", "0301CC 9000"),
            // P1 must be 00, P2 b3-b1 000.
            ("00E2010803 0401DD", "6A86"),
            ("00E2000C03 0401DD", "6A86"),
            // Cyclic: the new record is record 1; the oldest drops out beyond 3.
            ("00E2001004 00000003", "9000"),
            ("00E2001004 00000004", "9000"),
            ("00B2011400", "00000004 9000"),
            ("00B2031400", "00000002 9000"),
            ("00B2041400", "6A83"),
            // Cyclic records have exactly the record size.
            ("00E2001003 000005", "6700"),
            // Record commands on a transparent EF: 6981.
            ("00B2011C00", "6981"),
        ],
    );
}

#[test]
fn binary_read_and_update_need_the_pin_here() {
    let mut c = fixture("writable");
    script(
        &mut c,
        &[
            (SELECT_APP, "9000"),
            ("00B0830000", "6982"),
            ("0020008102 1234", "9000"),
            ("00B0830000", "0000000000000000 1111111111111111 9000"),
            ("00B0830C00", "11111111 9000"),
            ("00B0831000", "6B00"),
            ("00D6830E02 ABCD", "9000"),
            ("00D6830E03 ABCDEF", "6A84"),
            ("00D6831001 AB", "6B00"),
            ("00B0000E02", "ABCD 9000"),
            // Binary commands on a record EF: 6981. SFI 31 and P1 b7-b6: 6A86.
            ("00B0810000", "6981"),
            ("00B09F0000", "6A86"),
            ("00B0C10000", "6A86"),
            // Logout ends the PIN's status.
            ("0020FF81", "9000"),
            ("00B0830000", "6982"),
            ("0020FF8101 00", "6700"),
        ],
    );
}

#[test]
fn challenges_are_fresh_single_sized_and_seeded() {
    let mut a = fixture("writable");
    let mut b = fixture("writable");
    let ca = x(&mut a, "0084000008");
    let cb = x(&mut b, "0084000008");
    // challenge_seed = 7 in the fixture: the same sequence on every new card.
    assert_eq!(ca, cb);
    let again = x(&mut a, "0084000008");
    assert_ne!(ca, again, "a challenge is fresh each time");
    assert_eq!(
        a.current_challenge().map(apdu::hex_compact),
        Some(again[..16].to_owned())
    );
    assert_eq!(x(&mut a, "0084000004").len(), 12);
    assert_eq!(x(&mut a, "0084000010").len(), 36);
    for bad in [
        "0084000000",
        "0084000005",
        "0084000020",
        "00840000",
        "0084010008",
    ] {
        let sw = x(&mut a, bad);
        assert!(sw == "6700" || sw == "6A86", "{bad}: {sw}");
    }
    // Cleared by a reset and by selecting another application.
    x(&mut a, "0084000008");
    a.reset();
    assert_eq!(a.current_challenge(), None);
    let mut g = builtin("gen3");
    x(&mut g, SELECT_SSSE);
    x(&mut g, "0084000008");
    assert!(g.current_challenge().is_some());
    x(&mut g, "00A4040C0C504B492EC9E7BBE1B1A3D5CF");
    assert_eq!(g.current_challenge(), None);
    // Unseeded cards differ from each other.
    let mut u1 = builtin("gen3");
    let mut u2 = builtin("gen3");
    assert_ne!(x(&mut u1, "0084000010"), x(&mut u2, "0084000010"));
}

#[test]
fn puk_flows_follow_security_md_rule_7() {
    let mut c = fixture("writable");
    script(
        &mut c,
        &[
            (SELECT_APP, "9000"),
            // Block the PIN (2 tries).
            ("0020008102 9999", "63C1"),
            ("0020008102 9999", "63C0"),
            ("0020008102 1234", "6983"),
            // P1=03 and P1=02 need the PUK verified first.
            ("002C0381", "6982"),
            ("002C028102 5555", "6982"),
            // Wrong PUK: counted on the PUK's own counter.
            ("002C018104 11111111", "63C2"),
            ("00200082", "63C2"),
            // PUK block of the wrong length: 6700, nothing counted.
            ("002C018103 876543", "6700"),
            ("00200082", "63C2"),
            // PUK + new PIN with a malformed new PIN: the PUK is checked first, then 6A80.
            ("002C008106 87654321 1A34", "6A80"),
            ("00200081", "6983"),
            // PUK + new PIN.
            ("002C008106 87654321 5555", "9000"),
            ("0020008102 5555", "9000"),
            // The PUK is verified now: P1=03 resets the counter after more failures.
            ("0020008102 0000", "63C1"),
            ("002C0381", "9000"),
            ("00200081", "63C2"),
            ("002C0381 01 00", "6700"),
            ("002C0481", "6A86"),
            // The PUK itself has no PUK.
            ("002C0382", "6985"),
            // CHANGE REFERENCE DATA needs a fixed-length PIN: the 4..8-digit BCD PIN has not.
            ("0024008104 5555 6666", "6985"),
            // The 8-digit PUK has: old ‖ new, old checked first.
            ("0024008208 87654321 12345678", "9000"),
            ("0020008204 12345678", "9000"),
            ("0024008208 00000000 12345678", "63C2"),
            ("0024008207 87654321 123456", "6700"),
            ("0024018208 87654321 12345678", "6A86"),
        ],
    );
}

#[test]
fn ssse_change_pin() {
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            (SELECT_SSSE, "9000"),
            ("805E010007 123456 FF 654321", "9000"),
            ("0020000003123456", "63C2"),
            ("0020000003654321", "9000"),
            // Wrong old PIN: counted; the new one is not looked at.
            ("805E010007 111111 FF 222222", "63C2"),
            // Right old PIN, malformed new: 6A80, counter restored, PIN unchanged.
            ("805E010006 654321 FF 12A4", "6A80"),
            ("00200000", "63C3"),
            ("0020000003654321", "9000"),
            // No separator, empty halves, bad lengths, bad P1.
            ("805E010006 123456 654321", "6A80"),
            ("805E010004 FF 654321", "6A80"),
            ("805E010002 12FF", "6700"),
            ("805E010012 1234567890123456 FF 1234567890123456 12", "6700"),
            ("805E020007 123456 FF 654321", "6A86"),
            // 80 5E 00 00 (PBOC PIN RELOAD) and 00 24 / 00 2C are not SSSE commands (§4.1).
            ("805E000007 123456 FF 654321", "6D00"),
            ("002C0000", "6D00"),
            ("0024000006 654321 123456", "6D00"),
            // Blocked: 6983 without comparison.
            ("0020000003000000", "63C2"),
            ("0020000003000000", "63C1"),
            ("0020000003000000", "63C0"),
            ("805E010007 654321 FF 123456", "6983"),
        ],
    );
}

#[test]
fn sub_dfs_share_the_ssse_pin_and_keep_their_own_access() {
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            (SELECT_SSSE, "9000"),
            ("00A4000002DF01", "610A"),
            ("00C000000A", "6F08 8406D15600000500 9000"),
            // DF01 files: "PIN or RK1DF01".
            ("00B2012C00", "6982"),
            ("0020000003123456", "9000"),
            ("00B2012C04", "20023130 9000"),
            // DF04 EF06 needs PIN and key: still 6982.
            ("00A4000C02DF04", "9000"),
            ("00B2013400", "6982"),
            // DF04 EF08 (medical transactions): readable with the PIN, never rewritten.
            (
                "00B201441C",
                "0002 36 320100000001 20250302101500 00000BB8 00000000 000003E8 9000",
            ),
            (
                "00DC01441C 0003 31 320100000001 20250302101500 00000BB8 00000000 000003E8",
                "6982",
            ),
            // DF07: RKnDF07 only.
            ("00A4040C06D15600000504", "9000"),
            ("00B2012C00", "6982"),
            // Leaving the SSSE for the PKI application and coming back: PIN status gone.
            ("00A4040C0C504B492EC9E7BBE1B1A3D5CF", "9000"),
            (SELECT_SSSE, "9000"),
            ("00200000", "63C3"),
        ],
    );
}

#[test]
fn financial_application_has_its_own_pin() {
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            ("00A4040008A000000333010101", "6121"),
            // §3.6: readers read records blindly looking for tag 5A.
            ("00B2011400", "6C23"),
            (
                "00B2011423",
                "70215A0A6228480000000000018F5F24033403315F25032403155F280201565F340100 9000",
            ),
            ("00B2011C00", "6A82"),
            // The bank PIN (888888) is not the SSSE PIN (123456).
            ("0020000003123456", "63C2"),
            ("0020000003888888", "9000"),
            (SELECT_SSSE, "9000"),
            ("00200000", "63C3"),
        ],
    );
}

#[test]
fn pki_user_pin_is_iso_style() {
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            ("00A4040C0C504B492EC9E7BBE1B1A3D5CF", "9000"),
            ("00A4000C02DF01", "9000"),
            // ASCII, FF-padded to 8 bytes (reference 81); PUK: 8 ASCII digits (reference 00).
            ("0020008108 313233343536FFFF", "9000"),
            ("0020008106 313233343536", "6700"),
            ("0020008108 3132333435FFFFFF", "6A80"),
            ("0020000008 3132333435363738", "9000"),
            ("0020000008 3132333435363739", "63C9"),
            ("00B0000042", "6986"),
            ("00A4020C020012", "9000"),
            ("00B0000000", "6C42"),
        ],
    );
}

#[test]
fn verify_with_lc_00_answers_the_counter() {
    // docs/CARD.md §5.1 (SSC Part 5 §6.14.5): 63Cx with no decrement while the PIN
    // exists; 9000 once verified, as the case-1 query (its T=0 TPDU is these same bytes);
    // 6983 blocked; 9000 where there is no PIN.
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            // At the MF there is no PIN.
            ("0020000000", "9000"),
            (SELECT_SSSE, "9000"),
            ("0020000000", "63C3"),
            ("0020000000", "63C3"),
            ("0020000003123457", "63C2"),
            ("0020000000", "63C2"),
            ("0020000003123456", "9000"),
            // Verified: 9000 from both forms, and the PIN stays verified.
            ("0020000000", "9000"),
            ("00200000", "9000"),
            // No PIN with reference 05 in the SSSE.
            ("0020000500", "9000"),
            ("00200005", "6A88"),
            ("0020000003123450", "63C2"),
            ("0020000003123450", "63C1"),
            ("0020000003123450", "63C0"),
            ("0020000000", "6983"),
            ("00200000", "6983"),
            ("0020000003123456", "6983"),
        ],
    );
    // The financial application's PIN and the PKI user PIN (reference 81).
    script(
        &mut c,
        &[
            ("00A4040C08A000000333010101", "9000"),
            ("0020000000", "63C3"),
            ("0020000003888887", "63C2"),
            ("0020000000", "63C2"),
            ("00A4040C0C504B492EC9E7BBE1B1A3D5CF", "9000"),
            ("00A4000C02DF01", "9000"),
            ("0020008100", "63C3"),
        ],
    );
}
