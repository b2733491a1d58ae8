//! The PSAM as a card (docs/PSAM.md): its APDUs byte for byte, its errors, and the pairing
//! with the built-in cards — a terminal that computes every cryptogram with the PSAM's
//! `BF DE` / `80 FA` authenticates to the gen3 (SM4) and gen2 (DES) cards, checks their
//! internal authentication, resets and unblocks the PIN and blocks the card.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use applet_sim::crypto::{BlockCipher, MacChain, city_factor, province_factor, ssc_mac};
use applet_sim::model::CipherSuite;
use applet_sim::psam::PsamProfile;
use applet_sim::{Card, Psam, SmartCard};
use common::{SELECT_SSSE, builtin, script, x};
use proptest::prelude::*;

const SELECT_V2: &str = "00A4040006D15600000590";
const SELECT_V3: &str = "00A404000F7378332E73682EC9E7BBE1B1A3D5CF";
const SELECT_DF01: &str = "00A4000002DF01";

fn psam() -> Psam {
    Psam::load("psam").unwrap()
}

/// Sends hex to any card, answers compact hex.
fn tx(card: &mut impl SmartCard, apdu: &str) -> String {
    apdu::hex_compact(&card.transmit(&apdu::parse_hex(&apdu.replace(' ', "")).unwrap()))
}

/// Sends and follows `61xx` with GET RESPONSE; returns (data hex, SW hex).
fn send(card: &mut impl SmartCard, apdu: &str) -> (String, String) {
    let r = tx(card, apdu);
    let (data, sw) = r.split_at(r.len() - 4);
    if let Some(n) = sw.strip_prefix("61") {
        let r = tx(card, &format!("00C00000{n}"));
        let (data, sw) = r.split_at(r.len() - 4);
        return (data.to_owned(), sw.to_owned());
    }
    (data.to_owned(), sw.to_owned())
}

/// The terminal's view of a card: its suite, factors and the PSAM application to select.
struct Pairing {
    profile: &'static str,
    suite: CipherSuite,
}

const PAIRINGS: [Pairing; 2] = [
    Pairing {
        profile: "gen3",
        suite: CipherSuite::Sm4,
    },
    Pairing {
        profile: "gen2",
        suite: CipherSuite::Des3,
    },
];

impl Pairing {
    fn block(&self) -> usize {
        if self.suite == CipherSuite::Sm4 {
            16
        } else {
            8
        }
    }

    fn select_psam(&self, psam: &mut Psam) {
        if self.suite == CipherSuite::Sm4 {
            assert_eq!(send(psam, SELECT_V3).1, "9000");
            assert_eq!(tx(psam, SELECT_DF01), "9000");
        } else {
            assert_eq!(send(psam, SELECT_V2).1, "9000");
        }
    }

    /// The factors of `levels` (1 to 3), card first, as BF DE takes them.
    fn factors(&self, card: &Card, levels: usize) -> String {
        let atr = card.atr();
        let all = [
            apdu::hex_compact(&atr[atr.len() - 8..]),
            apdu::hex_compact(&city_factor("320100").unwrap()),
            apdu::hex_compact(&province_factor("320100").unwrap()),
        ];
        all[..levels].concat()
    }

    /// The session input for challenge `r` (8 bytes): R, or R ‖ 00×8 for SM4.
    fn input(&self, r: &str) -> String {
        format!("{r}{}", "00".repeat(self.block() - 8))
    }

    /// `BF DE usage id` with the factors and the session input; must answer 9000.
    fn deliver(&self, psam: &mut Psam, card: &Card, usage: u8, id: u8, input: &str) {
        let levels = usize::from(usage >> 5);
        let data = format!("{}{input}", self.factors(card, levels));
        let cmd = format!("BFDE{usage:02X}{id:02X}{:02X}{data}", data.len() / 2);
        assert_eq!(tx(psam, &cmd), "9000", "{}: {cmd}", self.profile);
    }

    /// `80 FA P1 00` with data; returns the data answered (after GET RESPONSE).
    fn cipher(&self, psam: &mut Psam, p1: u8, data: &str) -> String {
        let cmd = format!("80FA{p1:02X}00{:02X}{data}", data.len() / 2);
        let (out, sw) = send(psam, &cmd);
        assert_eq!(sw, "9000", "{}: {cmd}", self.profile);
        out
    }

    /// The 8-byte auth data of `80 FA 00` over R (‖ 00×8): E, or E's halves XORed for SM4.
    fn auth(&self, psam: &mut Psam, r: &str) -> String {
        let e = apdu::parse_hex(&self.cipher(psam, 0x00, &self.input(r))).unwrap();
        let folded: Vec<u8> = (0..8)
            .map(|i| e[i] ^ e.get(i + 8).copied().unwrap_or(0))
            .collect();
        apdu::hex_compact(&folded)
    }

    /// External authentication with the card key `card_id`, PSAM key `psam_id` (usage
    /// `usage`), one challenge as both session input and original data (§7.4, S16).
    fn external_auth(
        &self,
        psam: &mut Psam,
        card: &mut Card,
        card_id: u8,
        usage: u8,
        psam_id: u8,
    ) -> String {
        let r = send(card, "0084000008").0;
        self.deliver(psam, card, usage, psam_id, &self.input(&r));
        let auth = self.auth(psam, &r);
        tx(card, &format!("008200{card_id:02X}10{auth}{r}"))
    }

    /// A command MACed (and, with `pin`, its data enciphered) under a session key the PSAM
    /// delivers from the card's challenge: `84 24`, `84 16`, `84 1E` (§5.2, §6.3, §6.4).
    fn sm_command(
        &self,
        psam: &mut Psam,
        card: &mut Card,
        header: &str,
        pin: Option<&str>,
        usage: u8,
        psam_id: u8,
    ) -> String {
        let r = send(card, "0084000008").0;
        self.deliver(psam, card, usage, psam_id, &self.input(&r));
        let enc = match pin {
            Some(pin) => {
                // LD ‖ PIN ‖ 80 00.. to whole blocks, padded by the terminal (docs/PSAM.md §4).
                let mut plain = apdu::parse_hex(&format!("{:02X}{pin}80", pin.len() / 2)).unwrap();
                plain.resize(plain.len().div_ceil(self.block()) * self.block(), 0);
                self.cipher(psam, 0x00, &apdu::hex_compact(&plain))
            }
            None => String::new(),
        };
        let signed = format!("{header}{:02X}{enc}", enc.len() / 2 + 4);
        let mut mac_data = vec![0u8; self.block()]; // IV = 0 (§6.3)
        mac_data.extend(apdu::parse_hex(&signed).unwrap());
        mac_data.push(0x80);
        mac_data.resize(mac_data.len().div_ceil(self.block()) * self.block(), 0);
        let mac = self.cipher(psam, 0x05, &apdu::hex_compact(&mac_data));
        format!("{signed}{mac}")
    }
}

#[test]
fn the_section_7_4_des_sequence_authenticates_with_uk() {
    // §7.4 / docs/PSAM.md §4, byte for byte: 0084000008; BFDE481218 <ATR last 8> <city> R;
    // 80FA000008 R -> 61 08; 00C0000008 -> A; 0082000410 A R -> 9000.
    let mut card = builtin("gen2");
    let mut psam = psam();
    script(&mut card, &[(SELECT_SSSE, "9000")]);
    let r = &x(&mut card, "0084000008")[..16];
    assert_eq!(tx(&mut psam, SELECT_V2), "610A");
    // The card factor is the ATR's last 8 bytes (gen2: ... 86 60 32 01 00 2B 4C 11), the
    // city factor ASCII("320100") ‖ "sx".
    let cmd = format!("BFDE48121886603201002B4C113332303130307378{r}");
    assert_eq!(tx(&mut psam, &cmd), "9000");
    assert_eq!(tx(&mut psam, &format!("80FA000008{r}")), "6108");
    let a = tx(&mut psam, "00C0000008");
    assert_eq!(a.len(), 20);
    assert!(a.ends_with("9000"));
    assert_eq!(x(&mut card, &format!("0082000410{}{r}", &a[..16])), "9000");
    // The write the authentication allows (§7.4: 00DC0528060504 YYYYMMDD) and its read-back.
    script(
        &mut card,
        &[
            ("00A4020002EF05", "9000"),
            ("00DC052806050420300101", "9000"),
            ("00B2050006", "0504203001019000"),
        ],
    );
}

#[test]
fn the_sm4_sequence_authenticates_with_uk() {
    // docs/PSAM.md §4: BFDE481220 <ATR last 8> <city> R 00×8; 80FA000010 R 00×8 -> E(16);
    // the card takes E[0..8] XOR E[8..16].
    let mut card = builtin("gen3");
    let mut psam = psam();
    script(&mut card, &[(SELECT_SSSE, "9000")]);
    let r = x(&mut card, "0084000008")[..16].to_owned();
    assert_eq!(send(&mut psam, SELECT_V3).1, "9000");
    assert_eq!(tx(&mut psam, SELECT_DF01), "9000");
    let card_factor = apdu::hex_compact(&card.atr()[card.atr().len() - 8..]);
    let cmd = format!("BFDE481220{card_factor}3332303130307378{r}0000000000000000");
    assert_eq!(tx(&mut psam, &cmd), "9000");
    assert_eq!(
        tx(&mut psam, &format!("80FA000010{r}0000000000000000")),
        "6110"
    );
    let e = apdu::parse_hex(&tx(&mut psam, "00C0000010")[..32]).unwrap();
    let auth: Vec<u8> = (0..8).map(|i| e[i] ^ e[i + 8]).collect();
    assert_eq!(
        x(
            &mut card,
            &format!("0082000410{}{r}", apdu::hex_compact(&auth))
        ),
        "9000"
    );
}

#[test]
fn every_card_key_is_paired_with_its_psam_key() {
    for p in &PAIRINGS {
        // UK (04) <- 12, RK (0A) <- 0A, PUK key (06) <- 10: external authentication.
        for (card_id, usage, psam_id) in
            [(0x04, 0x48, 0x12), (0x0A, 0x67, 0x0A), (0x06, 0x48, 0x10)]
        {
            let mut card = builtin(p.profile);
            let mut psam = psam();
            p.select_psam(&mut psam);
            script(&mut card, &[(SELECT_SSSE, "9000")]);
            assert_eq!(
                p.external_auth(&mut psam, &mut card, card_id, usage, psam_id),
                "9000",
                "{} key {card_id:02X}",
                p.profile
            );
        }
        // A key of another level or another id fails: the pairing is exact.
        let mut card = builtin(p.profile);
        let mut psam = psam();
        p.select_psam(&mut psam);
        script(&mut card, &[(SELECT_SSSE, "9000")]);
        assert_eq!(
            p.external_auth(&mut psam, &mut card, 0x04, 0x48, 0x10),
            "63C2",
            "{}",
            p.profile
        );

        // IRK (00) <- 08: the terminal checks the card's INTERNAL AUTHENTICATE with the PSAM.
        let r1 = "1122334455667788";
        let r2 = "8877665544332211";
        let answer = send(&mut card, &format!("0088000010{r1}{r2}"));
        assert_eq!(answer.1, "9000");
        p.deliver(&mut psam, &card, 0x67, 0x08, &p.input(r1));
        assert_eq!(p.auth(&mut psam, r2), answer.0, "{} IRK", p.profile);
    }
}

#[test]
fn pin_reset_unblock_and_card_block_with_the_psam() {
    for p in &PAIRINGS {
        let mut card = builtin(p.profile);
        let mut psam = psam();
        p.select_psam(&mut psam);
        script(
            &mut card,
            &[
                (SELECT_SSSE, "9000"),
                ("0020000003000000", "63C2"),
                ("0020000003000000", "63C1"),
                ("0020000003000000", "63C0"),
            ],
        );
        // PUK key (06, PSAM 10), then 84 24 00 01 under STK (02, PSAM 09, one level).
        assert_eq!(
            p.external_auth(&mut psam, &mut card, 0x06, 0x48, 0x10),
            "9000"
        );
        let reset = p.sm_command(&mut psam, &mut card, "84240001", Some("654321"), 0x26, 0x09);
        assert_eq!(tx(&mut card, &reset), "9000", "{}: {reset}", p.profile);
        script(
            &mut card,
            &[("0020000003654321", "9000"), ("0020000003000000", "63C2")],
        );
        // Unblock only (84 24 00 00): the counter is back, the PIN unchanged.
        assert_eq!(
            p.external_auth(&mut psam, &mut card, 0x06, 0x48, 0x10),
            "9000"
        );
        let unblock = p.sm_command(&mut psam, &mut card, "84240000", None, 0x26, 0x09);
        assert_eq!(tx(&mut card, &unblock), "9000", "{}", p.profile);
        script(&mut card, &[("00200000", "63C3")]);
        // Card block (84 16) under BK (05, PSAM 11).
        let block = p.sm_command(&mut psam, &mut card, "84160000", None, 0x48, 0x11);
        assert_eq!(tx(&mut card, &block), "9000", "{}", p.profile);
        assert_eq!(tx(&mut card, SELECT_SSSE), "6A81");
    }
}

#[test]
fn public_files_by_sfi_and_by_selection() {
    let mut psam = psam();
    let p = PsamProfile::builtin("psam").unwrap();
    let terminal = apdu::hex_compact(&p.terminal);
    // No current EF after reset; READ BINARY by SFI makes the EF current (ISO 7816-4 §7.2.2).
    assert_eq!(tx(&mut psam, "00B0000006"), "6986");
    assert_eq!(tx(&mut psam, "00B0960006"), format!("{terminal}9000"));
    assert_eq!(terminal, "320100000001");
    let public = tx(&mut psam, "00B095000E");
    assert_eq!(public, format!("{}9000", apdu::hex_compact(&p.public)));
    assert!(public.starts_with("3201000000000000000101"));
    script_psam(
        &mut psam,
        &[
            ("00B0960000", "6C06"),       // T=0: wrong Le -> 6Cxx
            ("00B0960203", "0000009000"), // offset 2 of EF16
            ("00B0960704", "6B00"),       // offset past the end, as the card answers
            ("00B0950E01", "6B00"),       // offset at the end
            ("00B0970001", "6A82"),       // no EF17
            ("00B0000003", "3201009000"), // EF15 is current now
            ("00A40000020016", "9000"),
            ("00B0000006", "3201000000019000"),
            ("00A40000023F00", "9000"),
            (SELECT_V2, "610A"),
            ("00C000000A", "6F088406D156000005909000"),
            ("00B0960006", "6A82"), // the public files are in the MF
            ("00A40000023F00", "9000"),
            ("00B0960006", "3201000000019000"),
        ],
    );
}

fn script_psam(psam: &mut Psam, steps: &[(&str, &str)]) {
    for (i, (cmd, want)) in steps.iter().enumerate() {
        assert_eq!(tx(psam, cmd), *want, "step {i}: {cmd}");
    }
}

#[test]
fn errors_answer_precise_status_words() {
    let mut psam = psam();
    let f = "86603201001C9B25 3332303130307378".replace(' ', "");
    script_psam(
        &mut psam,
        &[
            ("80FA00000811223344556677 88", "6901"), // no session key
            (&format!("BFDE481218{f}1122334455667788"), "6985"), // no application selected
            ("00A4040C06D15600000590", "9000"),
            (&format!("BFDE481318{f}1122334455667788"), "6A88"), // no key 13
            ("BFDE281210 86603201001C9B25 1122334455667788", "6A88"), // key 12 has usage 48
            (&format!("BFDE481210{f}"), "9000"),                 // no session input: the card key
            (&format!("BFDE481217{f}11223344556677"), "6700"),   // 7 bytes of input
            ("80FA000008 1122334455667788", "6901"), // the failed BF DE dropped the session
            (&format!("BFDE481214{f}11223344"), "9000"), // 4 bytes, zero-padded (§6.2)
            ("80FA000007 11223344556677", "6700"),   // not whole blocks
            ("80FA060008 1122334455667788", "6A86"), // no such operation
            ("80FA090007 11223344556677", "6A86"),   // P1 is checked before Lc
            ("80FA000108 1122334455667788", "6A86"), // P2 not 00
            ("80FA050008 1122334455667788", "6700"), // IV without a block
            ("80FA030008 1122334455667788", "6901"), // middle block without a first
            ("80FA010008 1122334455667788", "6901"), // last block without a first
            ("80FA070010 0000000000000000 1122334455667788", "9000"),
            ("00A40000020016", "6A82"), // (ends the chain)
            ("80FA010008 1122334455667788", "6901"),
            ("00FA000008 1122334455667788", "6E00"), // wrong class
            ("80DE481200", "6E00"),
            ("80CA000000", "6D00"),
            ("A0CA000000", "6E00"),
            ("BFDE", "6700"),       // malformed
            ("BFDEE81200", "6A86"), // 7 levels
            ("00A40400", "6700"),
            ("00A4040011 D1560000059000000000000000000000", "6700"),
            ("00A4080002 3F00", "6A86"),
            ("00A4000002 DF01", "6A82"),   // DF01 is the 3.0 PSAM's
            ("00A4000003 3F0000", "6700"), // a FID is 2 bytes
            ("00A4000001 3F", "6700"),
            ("00B09600", "6700"),         // READ BINARY without Le
            ("00B0960001 00 06", "6700"), // ... or with data
            ("00B0E00006", "6A86"),       // P1 b8 set with b7-b6 not 00
            ("00C0000000", "6F00"),       // nothing pending
            ("00C0010008", "6A86"),
            ("00C00000", "6700"),
        ],
    );
    // GET RESPONSE: more than pending is 6Cxx, less leaves 61xx for the rest (T=0).
    script_psam(
        &mut psam,
        &[
            ("00A4040006D15600000590", "610A"),
            ("00C000000B", "6C0A"),
            ("00C0000004", "6F0884066106"),
            ("00C0000006", "D156000005909000"),
            ("00C0000001", "6F00"),
        ],
    );
    // The P1 check does not need a session either.
    let mut fresh = Psam::load("psam").unwrap();
    script_psam(&mut fresh, &[("80FA090007 11223344556677", "6A86")]);
}

#[test]
fn the_3_0_application_can_be_selected_again_and_drops_the_session() {
    let mut psam = psam();
    let f = "86603201001C9B25 3332303130307378".replace(' ', "");
    script_psam(
        &mut psam,
        &[
            ("00A4040C0F7378332E73682EC9E7BBE1B1A3D5CF", "9000"),
            ("00A4000C02DF01", "9000"),
            (&format!("BFDE481220{f}{}", "11".repeat(16)), "9000"),
            ("00A4000C02DF01", "9000"),
            (&format!("80FA000010{}", "11".repeat(16)), "6901"),
            ("00A4000C02DF02", "6A82"),
        ],
    );
}

#[test]
fn atr_reset_and_restore_leave_nothing_behind() {
    let issued = psam();
    let mut p = psam();
    let atr = PsamProfile::builtin("psam").unwrap().atr;
    assert_eq!(SmartCard::atr(&p), atr.as_slice());
    assert_eq!(atr[0], 0x3B);
    let f = "86603201002B4C113332303130307378";
    script_psam(
        &mut p,
        &[
            ("00A4040C06D15600000590", "9000"),
            (&format!("BFDE481218{f}1122334455667788"), "9000"),
        ],
    );
    p.restore_from(&issued).unwrap();
    script_psam(&mut p, &[("80FA000008 1122334455667788", "6901")]);
    assert_eq!(p.reset(), atr.as_slice());
}

#[test]
fn profile_defaults_and_name_lengths() {
    let good = applet_sim::psam::BUILTIN[0].1;
    // version defaults to 01 (EF15 byte 11).
    let text = good.replacen("version = 0x01\n", "", 1);
    assert_ne!(text, good);
    assert_eq!(
        PsamProfile::parse(&text, "v.toml").unwrap().public[10],
        0x01
    );
    // An AID of 5 bytes is the shortest (RID only); 4 is refused.
    let five = good.replacen("aid = \"D15600000590\"", "aid = \"D156000005\"", 1);
    assert!(PsamProfile::parse(&five, "5.toml").is_ok());
    let four = good.replacen("aid = \"D15600000590\"", "aid = \"D1560000\"", 1);
    let e = PsamProfile::parse(&four, "4.toml").unwrap_err();
    assert!(
        e.to_string().contains("aid: 4 bytes, expected 5 to 16"),
        "{e}"
    );
    // A missing file with a path is a read error, not an unknown built-in.
    let e = PsamProfile::load("/nonexistent/psam.toml").unwrap_err();
    assert!(!e.to_string().contains("built-in"), "{e}");
}

#[test]
fn debug_output_never_shows_key_material() {
    let mut psam = psam();
    let f = "86603201002B4C11 3332303130307378".replace(' ', "");
    script_psam(
        &mut psam,
        &[
            ("00A4040C06D15600000590", "9000"),
            (&format!("BFDE481218{f}1122334455667788"), "9000"),
        ],
    );
    let shown = format!("{psam:?}");
    assert!(shown.contains("16 bytes"), "{shown}");
    assert!(shown.contains("8 bytes"), "{shown}");
    // No key byte list: a master would print as [68, 69, 83, ...] ("DES-...").
    assert!(!shown.contains("68, 69, 83"), "{shown}");
    assert!(!shown.contains("value: ["), "{shown}");
    assert!(!shown.contains("key: ["), "{shown}");
}

#[test]
fn a_reset_clears_the_session() {
    let mut psam = psam();
    let f = "86603201001C9B253332303130307378";
    script_psam(
        &mut psam,
        &[
            ("00A4040C06D15600000590", "9000"),
            (&format!("BFDE481218{f}1122334455667788"), "9000"),
            ("80FA000008 1122334455667788", "6108"),
        ],
    );
    psam.reset();
    script_psam(
        &mut psam,
        &[
            ("80FA000008 1122334455667788", "6901"),
            ("00C0000008", "6F00"),
        ],
    );
}

#[test]
fn broken_psam_profiles_are_refused_with_their_position() {
    let good = applet_sim::psam::BUILTIN[0].1;
    let cases: [(&str, &str, &str); 10] = [
        (
            "serial = \"32 01 00 00 00 00 00 00 00 01\"",
            "serial = \"3201\"",
            "serial: 2 bytes",
        ),
        (
            "terminal = \"32 01 00 00 00 01\"",
            "terminal = \"zz\"",
            "terminal",
        ),
        (
            "cipher = \"sm4\"",
            "cipher = \"rot13\"",
            "expected \"des3\", \"sm4\" or \"aes\"",
        ),
        (
            "id = 0x12\nusage = 0x48\nvalue = \"534D",
            "id = 0x12\nusage = 0x88\nvalue = \"534D",
            "at most 3",
        ),
        (
            "application = \"3.0\"\nid = 0x08",
            "application = \"4.0\"\nid = 0x08",
            "not declared above",
        ),
        (
            "application = \"3.0\"\nid = 0x09\nusage = 0x26",
            "application = \"3.0\"\nid = 0x08\nusage = 0x67",
            "declared twice",
        ),
        ("df = \"DF01\"\n", "", "either `aid`"),
        ("atr = \"3B 6C", "atr = \"00 6C", "starts with 3B"),
        (
            "df = \"DF01\"",
            "df = \"3F00\"",
            "df: 3F00, 3FFF and FFFF are reserved",
        ),
        ("label = \"2.0\"", "label = \"\"", "label: empty"),
    ];
    for (from, to, message) in cases {
        assert!(good.contains(from), "{from}");
        let text = good.replacen(from, to, 1);
        let e = PsamProfile::parse(&text, "p.toml").unwrap_err();
        assert!(e.to_string().starts_with("p.toml:"), "{e}");
        assert!(e.line > 0, "{e}");
        assert!(e.to_string().contains(message), "{e} / {message}");
    }
    let short_key = good.replacen(
        "value = \"534D342D49524B2D4E4154494F4E414C\"",
        "value = \"0102\"",
        1,
    );
    assert!(
        PsamProfile::parse(&short_key, "k.toml")
            .unwrap_err()
            .to_string()
            .contains("does not fit")
    );
    assert!(PsamProfile::parse("[psam]\nx = 1\n", "u.toml").is_err());
    // A key id may come twice with different usages (BF DE addresses id and usage).
    let twice = format!(
        "{good}\n[[key]]\napplication = \"3.0\"\nid = 0x08\nusage = 0x27\nvalue = \"{}\"\n",
        "00".repeat(16)
    );
    let twice = PsamProfile::parse(&twice, "t.toml").unwrap();
    let base = PsamProfile::parse(good, "g.toml").unwrap();
    assert_eq!(
        twice.applications[1].keys.len(),
        base.applications[1].keys.len() + 1
    );
    // No application; more than 16.
    let header = &good[..good.find("[[application]]").unwrap()];
    let e = PsamProfile::parse(header, "h.toml").unwrap_err();
    assert!(
        e.to_string().contains("at least one [[application]]"),
        "{e}"
    );
    let many: String = (0..17)
        .map(|i| {
            format!(
                "[[application]]\nlabel = \"a{i}\"\naid = \"D1560000{i:04X}\"\ncipher = \"sm4\"\n"
            )
        })
        .collect();
    let e = PsamProfile::parse(&format!("{header}{many}"), "m.toml").unwrap_err();
    assert!(e.to_string().contains("at most 16 applications"), "{e}");
    assert!(e.line > 0, "{e}");
    // The labels declared are named in declaration order.
    let unknown = good.replacen(
        "application = \"3.0\"\nid = 0x08",
        "application = \"x\"\nid = 0x08",
        1,
    );
    let e = PsamProfile::parse(&unknown, "l.toml").unwrap_err();
    assert!(e.to_string().contains("(declared: 2.0, 3.0)"), "{e}");
    let e = PsamProfile::load("/nonexistent/psam.toml").unwrap_err();
    assert!(e.to_string().contains("/nonexistent/psam.toml"), "{e}");
    let e = PsamProfile::load("nosuchpsam").unwrap_err();
    assert!(e.to_string().contains("built-in: psam"), "{e}");
}

proptest! {
    /// A chained MAC (07 first with the IV, 03 middle, 01 last) equals the one-block form
    /// (05) over the same data and the SSC MAC of §6.3 with a zero IV, however it is split.
    #[test]
    fn chained_mac_equals_one_shot(data in proptest::collection::vec(any::<u8>(), 1..120), split in any::<proptest::sample::Index>(), sm4 in any::<bool>()) {
        let mut psam = psam();
        let (select, n, suite) = if sm4 { ("00A4040C0F7378332E73682EC9E7BBE1B1A3D5CF", 16, CipherSuite::Sm4) } else { ("00A4040C06D15600000590", 8, CipherSuite::Des3) };
        tx(&mut psam, select);
        if sm4 { tx(&mut psam, SELECT_DF01); }
        let f = "86603201001C9B25";
        let input = "11".repeat(n);
        prop_assert_eq!(tx(&mut psam, &format!("BFDE2609{:02X}{f}{input}", 8 + n)), "9000");
        let mut padded = data.clone();
        padded.push(0x80);
        padded.resize(padded.len().div_ceil(n) * n, 0);
        let blocks = padded.len() / n;
        let mut one = vec![0u8; n];
        one.extend(&padded);
        let hex = apdu::hex_compact(&one);
        let whole = send(&mut psam, &format!("80FA0500{:02X}{hex}", one.len()));
        prop_assert_eq!(&whole.1, "9000");
        // The same MAC through chained commands: first (IV + k blocks), middle, last block.
        if blocks >= 2 {
            let k = 1 + split.index(blocks - 1);
            let (first, rest) = one.split_at(n + k * n);
            let (middle, last) = rest.split_at(rest.len() - n);
            let cmd = |p1: u8, d: &[u8]| format!("80FA{p1:02X}00{:02X}{}", d.len(), apdu::hex_compact(d));
            prop_assert_eq!(tx(&mut psam, &cmd(0x07, first)), "9000");
            if !middle.is_empty() {
                prop_assert_eq!(tx(&mut psam, &cmd(0x03, middle)), "9000");
            }
            prop_assert_eq!(&send(&mut psam, &cmd(0x01, last)), &whole);
        }
        // Oracle: §6.3's MAC with the delivered session key (STK path: one level, card factor).
        let stk_city = if sm4 { "534D342D53544B2D4349545933323031" } else { "4445532D53544B2D4349545933323031" };
        let card_key = applet_sim::crypto::diversify(suite, &apdu::parse_hex(stk_city).unwrap(), &apdu::parse_hex(f).unwrap().try_into().unwrap()).unwrap();
        let ks = applet_sim::crypto::session_key(suite, &card_key, &apdu::parse_hex(&input).unwrap()).unwrap();
        prop_assert_eq!(whole.0, apdu::hex_compact(&ssc_mac(suite, &ks, &data).unwrap()));
        let mut chain = MacChain::new(BlockCipher::new(suite, &ks).unwrap(), None);
        chain.absorb(&padded);
        prop_assert_eq!(chain.finish(), ssc_mac(suite, &ks, &data).unwrap());
    }

    /// Any APDU: never a panic, always a status word, and the PSAM still works after it.
    #[test]
    fn any_apdu_answers_a_status_word(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut psam = psam();
        tx(&mut psam, "00A4040C06D15600000590");
        let out = psam.transmit(&bytes);
        prop_assert!(out.len() >= 2);
        prop_assert_eq!(tx(&mut psam, "00A40000023F00"), "9000");
        prop_assert_eq!(tx(&mut psam, "00B0960006"), "3201000000019000");
    }
}
