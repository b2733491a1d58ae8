//! The PKI application's own commands (docs/CARD.md §3.7): the PIN hash, the admin PIN
//! change and the key update with the PKI MAC, SM2 key pair generation, export, the imports
//! and the signature; their access conditions, their try counters, the state file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use applet_sim::testing::MemMedium;
use applet_sim::{Card, Profile, pki};
use common::{serial, temp_dir, x};
use proptest::prelude::*;

const SELECT_ADF: &str = "00A4040C0C53532E434552542E41444631";
const SELECT_DDF: &str = "00A4040C0C504B492EC9E7BBE1B1A3D5CF";
const GEN: &str = "8040000008C0020012C2020013";

fn h(s: &str) -> Vec<u8> {
    apdu::parse_hex(s).unwrap()
}

fn profile(seed: Option<u64>) -> Profile {
    let mut p = Profile::builtin("gen3").unwrap();
    p.options.challenge_seed = seed;
    p
}

/// Sends a command, fetching T=0 response data with GET RESPONSE: (data, SW as hex).
fn rx(card: &mut Card, apdu: &[u8]) -> (Vec<u8>, String) {
    let r = card.transmit(apdu);
    let (data, sw) = r.split_at(r.len() - 2);
    if sw[0] == 0x61 {
        let r = card.transmit(&[0x00, 0xC0, 0x00, 0x00, sw[1]]);
        let (data, sw) = r.split_at(r.len() - 2);
        return (data.to_vec(), apdu::hex_compact(sw));
    }
    (data.to_vec(), apdu::hex_compact(sw))
}

fn challenge(card: &mut Card) -> Vec<u8> {
    let (r, sw) = rx(card, &h("0084000010"));
    assert_eq!(sw, "9000");
    r
}

/// VERIFY of the user PIN by cryptogram (§3.7).
fn verify_user(card: &mut Card) {
    let r = challenge(card);
    let mut cmd = h("0020018110");
    cmd.extend_from_slice(&applet_sim::crypto::pki_verify_cryptogram(&h("123456"), &r));
    assert_eq!(rx(card, &cmd).1, "9000");
}

fn card_in_adf(seed: Option<u64>) -> Card {
    let mut card = Card::new(&profile(seed));
    assert_eq!(x(&mut card, SELECT_ADF), "9000");
    card
}

fn read_ef_0012(card: &mut Card) -> Vec<u8> {
    assert_eq!(x(card, "00A40000020012"), "9000");
    let (data, sw) = rx(card, &h("00B0000042"));
    assert_eq!(sw, "9000");
    data
}

#[test]
fn the_pin_hash_is_the_worked_value_without_a_pin() {
    let mut card = card_in_adf(None);
    let (data, sw) = rx(&mut card, &h("80C4010305C10312345600"));
    assert_eq!(sw, "9000");
    assert_eq!(
        data,
        h("3DE741F445DD357BEA4E6C3FE6437036F62B5E3EC0F00D62796EDB4305ED627F")
    );
    // The admin PIN's, as S15's trace shows it; in the DDF too.
    assert_eq!(x(&mut card, SELECT_DDF), "9000");
    let (data, _) = rx(&mut card, &h("80C4010306C10412345678"));
    assert_eq!(
        data,
        h("4D59306C7397E06DE3CD82A14A926FBAFED44352AD3EF88A06F5CBE600AF3DCF")
    );
    // Malformed: not BCD, wrong tag, wrong P1 P2; never in the SSSE.
    assert_eq!(x(&mut card, "80C4010305C1031234A6"), "6A80");
    assert_eq!(x(&mut card, "80C4010305C2031234A6"), "6A80");
    assert_eq!(x(&mut card, "80C4010405C103123456"), "6A86");
    assert_eq!(x(&mut card, common::SELECT_SSSE), "9000");
    assert_eq!(x(&mut card, "80C4010305C103123456"), "6D00");
}

#[test]
fn a_generated_public_key_in_ef_0012_verifies_the_cards_signature() {
    let mut card = card_in_adf(Some(7));
    // Before the user PIN: 6982, nothing generated.
    assert_eq!(x(&mut card, GEN), "6982");
    assert_eq!(read_ef_0012(&mut card), vec![0u8; 0x42]);
    verify_user(&mut card);
    assert_eq!(x(&mut card, GEN), "9000");
    let ef = read_ef_0012(&mut card);
    assert_eq!(&ef[..2], &pki::PUBLIC_KEY_TAG);
    let xy: [u8; 64] = ef[2..].try_into().unwrap();
    // 80 C9: choose, then read the same 0x42 bytes (S16).
    assert_eq!(x(&mut card, "80C9828042"), "6985");
    assert_eq!(x(&mut card, "80C9820008C0020012C2020013"), "9000");
    assert_eq!(rx(&mut card, &h("80C9828042")).0, ef);
    // The signature of a digest verifies with the public key read from EF 0012.
    let e = pki::message_digest(&xy, b"social security").unwrap();
    let mut cmd = h("002A9E9A20");
    cmd.extend_from_slice(&e);
    cmd.push(0x40);
    let (sig, sw) = rx(&mut card, &cmd);
    assert_eq!(sw, "9000");
    assert!(pki::verify_digest(&xy, &e, &sig));
    // Reproducible under the seed: another card of the same profile makes the same pair.
    let mut twin = card_in_adf(Some(7));
    verify_user(&mut twin);
    assert_eq!(x(&mut twin, GEN), "9000");
    assert_eq!(read_ef_0012(&mut twin), ef);
    // Without the PIN (after a reset) the card neither signs nor exports.
    card.reset();
    assert_eq!(x(&mut card, SELECT_ADF), "9000");
    assert_eq!(x(&mut card, &apdu::hex_compact(&cmd)), "6982");
    assert_eq!(x(&mut card, "80C9820008C0020012C2020013"), "6982");
}

#[test]
fn sign_and_export_need_the_key_pair() {
    let mut card = card_in_adf(None);
    verify_user(&mut card);
    assert_eq!(
        x(&mut card, &format!("002A9E9A20{}", "11".repeat(32))),
        "6A88"
    );
    assert_eq!(x(&mut card, "80C9820008C0020012C2020013"), "6A88");
    // Public key EF missing / private key on a readable EF.
    assert_eq!(x(&mut card, "8040000008C0020077C2020013"), "6A82");
    assert_eq!(x(&mut card, "8040000008C0020012C2020018"), "6A80");
}

#[test]
fn the_admin_pin_change_is_counted_and_the_challenge_single_use() {
    let mut card = card_in_adf(Some(3));
    let old = h("12345678");
    // No challenge: 6984, nothing counted.
    assert_eq!(
        x(&mut card, &format!("845E010014{}", "00".repeat(20))),
        "6984"
    );
    assert_eq!(card.counters().0[3], 10);
    // A wrong MAC: a try spent.
    let r = challenge(&mut card);
    let mut cmd = pki::admin_pin_change(0x00, &old, &h("87654321"), &r);
    *cmd.last_mut().unwrap() ^= 1;
    assert_eq!(rx(&mut card, &cmd).1, "63C9");
    // The challenge was used up.
    *cmd.last_mut().unwrap() ^= 1;
    assert_eq!(rx(&mut card, &cmd).1, "6984");
    // The right one: the counter back, the new PIN verifies, the old does not.
    let r = challenge(&mut card);
    let cmd = pki::admin_pin_change(0x00, &old, &h("87654321"), &r);
    assert_eq!(rx(&mut card, &cmd).1, "9000");
    assert_eq!(card.counters().0[3], 10);
    assert_eq!(x(&mut card, "00200000083837363534333231"), "9000");
    assert_eq!(x(&mut card, "00200000083132333435363738"), "63C9");
    // A well-MACed block with a new PIN of the wrong length: 6A80, counter restored, PIN kept.
    let r = challenge(&mut card);
    let cmd = pki::admin_pin_change(0x00, &h("87654321"), &h("123456"), &r);
    assert_eq!(rx(&mut card, &cmd).1, "6A80");
    assert_eq!(card.counters().0[3], 10);
    assert_eq!(x(&mut card, "00200000083837363534333231"), "9000");
}

#[test]
fn a_blocked_admin_pin_answers_6983() {
    let mut card = card_in_adf(None);
    for left in (0..10).rev() {
        let r = challenge(&mut card);
        let cmd = pki::admin_pin_change(0x00, &h("11111111"), &h("22222222"), &r);
        assert_eq!(rx(&mut card, &cmd).1, format!("63C{left:X}"));
    }
    let r = challenge(&mut card);
    let cmd = pki::admin_pin_change(0x00, &h("12345678"), &h("22222222"), &r);
    assert_eq!(rx(&mut card, &cmd).1, "6983");
}

const ADF_KEY: &str = "504B492D41444630312D4D4B2D4B4559";

#[test]
fn the_key_update_replaces_the_key_counted_against_its_tries() {
    let mut card = card_in_adf(None);
    let old = h(ADF_KEY);
    let new = [0x5Au8; 16];
    let keys_before = card.counters().1;
    let index = keys_before.len() - 1;
    let r = challenge(&mut card);
    let mut cmd = pki::key_update(0x00, &old, &new, &r);
    cmd[10] ^= 1;
    assert_eq!(rx(&mut card, &cmd).1, "63C2");
    assert_eq!(card.counters().1[index], 2);
    let r = challenge(&mut card);
    let cmd = pki::key_update(0x00, &old, &new, &r);
    assert_eq!(rx(&mut card, &cmd).1, "9000");
    assert_eq!(card.counters().1[index], 3);
    // The old key no longer works, the new one does.
    let r = challenge(&mut card);
    let cmd = pki::key_update(0x00, &old, &[1; 16], &r);
    assert_eq!(rx(&mut card, &cmd).1, "63C2");
    let r = challenge(&mut card);
    let cmd = pki::key_update(0x00, &new, &[1; 16], &r);
    assert_eq!(rx(&mut card, &cmd).1, "9000");
    // Unknown key: 6A88; no challenge: 6984.
    assert_eq!(
        x(&mut card, &format!("84D4010724{}", "00".repeat(36))),
        "6A88"
    );
    assert_eq!(
        x(&mut card, &format!("84D4010024{}", "00".repeat(36))),
        "6984"
    );
}

/// SM2 encryption (C1 ‖ C3 ‖ C2 without the `04`) for the test's envelope, with a fixed k.
fn sm2_encrypt(xy: &[u8; 64], msg: &[u8]) -> Vec<u8> {
    use sm2::elliptic_curve::sec1::{FromSec1Point, ToSec1Point};
    use sm2::{AffinePoint, ProjectivePoint, Scalar, Sec1Point};
    use sm3::Digest;
    let k = Scalar::from(12345u64);
    let c1 = (ProjectivePoint::GENERATOR * k)
        .to_affine()
        .to_sec1_point(false);
    let mut sec1 = vec![4u8];
    sec1.extend_from_slice(xy);
    let pb = AffinePoint::from_sec1_point(&Sec1Point::from_bytes(&sec1).unwrap()).unwrap();
    let s = (ProjectivePoint::from(pb) * k)
        .to_affine()
        .to_sec1_point(false);
    let (x2, y2) = (&s.as_bytes()[1..33], &s.as_bytes()[33..65]);
    // KDF (GM/T 0003.4 §5.4.3): SM3(x2 ‖ y2 ‖ ct) for ct = 1, 2, …
    let mut t = Vec::new();
    let mut ct = 1u32;
    while t.len() < msg.len() {
        let mut d = sm3::Sm3::new();
        d.update(x2);
        d.update(y2);
        d.update(ct.to_be_bytes());
        t.extend_from_slice(&d.finalize());
        ct += 1;
    }
    let c2: Vec<u8> = msg.iter().zip(&t).map(|(m, k)| m ^ k).collect();
    let mut d = sm3::Sm3::new();
    d.update(x2);
    d.update(msg);
    d.update(y2);
    let c3 = d.finalize();
    let mut out = c1.as_bytes()[1..].to_vec();
    out.extend_from_slice(&c3);
    out.extend_from_slice(&c2);
    out
}

#[test]
fn the_envelope_imports_the_encryption_key_pair() {
    let mut card = card_in_adf(Some(11));
    verify_user(&mut card);
    assert_eq!(x(&mut card, GEN), "9000");
    let ef = read_ef_0012(&mut card);
    let xy: [u8; 64] = ef[2..].try_into().unwrap();
    // The KMC's envelope: an SM4 key under the signature public key, the encryption private
    // key under the SM4 key (S15, S16).
    let sm4_key = [0x42u8; 16];
    let enc_d = pki::secret_key(&[9u8; 32]).unwrap();
    let enc_xy = pki::public_xy(&enc_d);
    let cipher = sm2_encrypt(&xy, &sm4_key);
    let mut cmd = h("804E000178C2020013C1820070");
    cmd.extend_from_slice(&cipher);
    let (plain, sw) = rx(&mut card, &cmd);
    assert_eq!(sw, "9000");
    assert_eq!(plain, sm4_key);
    // A tampered C3: 6A80.
    let mut bad = cmd.clone();
    bad[13 + 64] ^= 1;
    assert_eq!(rx(&mut card, &bad).1, "6A80");
    // The enciphered private key before the SM4 key: 6985.
    let enc = pki::sm4_ecb(&sm4_key, &[9u8; 32], true).unwrap();
    let import_private = format!("80C2C00126C2020015CB20{}", apdu::hex_compact(&enc));
    assert_eq!(x(&mut card, &import_private), "6985");
    assert_eq!(
        x(
            &mut card,
            &format!("804A021012C110{}", apdu::hex_compact(&plain))
        ),
        "9000"
    );
    assert_eq!(
        x(
            &mut card,
            &format!("80C2400046C0020014CA40{}", apdu::hex_compact(&enc_xy))
        ),
        "9000"
    );
    assert_eq!(x(&mut card, &import_private), "9000");
    // The encryption key pair now works: export of 0014/0015 gives the imported public key,
    // and an envelope to it decrypts.
    assert_eq!(x(&mut card, "80C9820008C0020014C2020015"), "9000");
    assert_eq!(
        rx(&mut card, &h("80C9828042")).0,
        pki::public_key_object(&enc_xy)
    );
    let mut cmd = h("804E000138C2020015C1820030");
    cmd.extend_from_slice(&sm2_encrypt(&enc_xy, b"0123456789abcdef"));
    cmd[4] = u8::try_from(cmd.len() - 5).unwrap();
    let inner = u16::try_from(cmd.len() - 13).unwrap().to_be_bytes();
    cmd[11..13].copy_from_slice(&inner);
    assert_eq!(rx(&mut card, &cmd).0, b"0123456789abcdef");
    // A point off the curve and a scalar out of range: 6A80.
    assert_eq!(
        x(
            &mut card,
            &format!("80C2400046C0020014CA40{}", "01".repeat(64))
        ),
        "6A80"
    );
    assert_eq!(
        x(
            &mut card,
            &format!("80C2C00026C2020015CB20{}", "FF".repeat(32))
        ),
        "6A80"
    );
}

#[test]
fn key_pairs_and_key_values_survive_a_reopened_state_file() {
    let _guard = serial();
    let dir = temp_dir("pki", "state");
    let path = dir.join("card.state");
    let p = profile(Some(5));
    let new_key = [0x77u8; 16];
    let (ef, sig_ok) = {
        let mut card = Card::open(&p, &path).unwrap();
        assert_eq!(x(&mut card, SELECT_ADF), "9000");
        verify_user(&mut card);
        assert_eq!(x(&mut card, GEN), "9000");
        let r = challenge(&mut card);
        let cmd = pki::key_update(0x00, &h(ADF_KEY), &new_key, &r);
        assert_eq!(rx(&mut card, &cmd).1, "9000");
        (read_ef_0012(&mut card), true)
    };
    assert!(sig_ok);
    let mut card = Card::open(&p, &path).unwrap();
    assert_eq!(x(&mut card, SELECT_ADF), "9000");
    assert_eq!(read_ef_0012(&mut card), ef);
    verify_user(&mut card);
    let xy: [u8; 64] = ef[2..].try_into().unwrap();
    let e = pki::message_digest(&xy, b"after reopening").unwrap();
    let (sig, _) = rx(&mut card, &[&h("002A9E9A20")[..], &e].concat());
    assert!(pki::verify_digest(&xy, &e, &sig));
    let r = challenge(&mut card);
    let cmd = pki::key_update(0x00, &new_key, &[1; 16], &r);
    assert_eq!(rx(&mut card, &cmd).1, "9000");
    drop(card);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_power_cut_in_generation_keeps_the_old_pair_or_the_new() {
    use applet_sim::testing::CutMode;
    let p = profile(Some(9));
    for mode in CutMode::ALL {
        for cut in 0..4 {
            let medium = MemMedium::new();
            let mut card = Card::open_on(&p, Box::new(medium.clone())).unwrap();
            assert_eq!(x(&mut card, SELECT_ADF), "9000");
            verify_user(&mut card);
            let before = card.volatile_copy();
            let mut after = card.volatile_copy();
            assert_eq!(x(&mut after, GEN), "9000");
            medium.cut_at(medium.writes() + cut, mode);
            let _ = x(&mut card, GEN);
            let reopened = Card::open_on(
                &p,
                Box::new(MemMedium::with_bytes(medium.after_power_cut())),
            )
            .unwrap();
            let v = reopened.power_cut_violations(&before, &after);
            assert!(v.is_empty(), "{mode:?} cut {cut}: {v:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Any data to any PKI instruction never panics, and a command that fails changes no
    /// persistent state (counters aside, which only a counted comparison may change).
    #[test]
    fn malformed_pki_commands_change_nothing(
        cla in prop::sample::select(vec![0x00u8, 0x80, 0x84]),
        ins in prop::sample::select(vec![0xC4u8, 0x5E, 0xD4, 0x40, 0xC9, 0x4E, 0x4A, 0xC2, 0x2A]),
        p1 in prop::sample::select(vec![0x00u8, 0x01, 0x02, 0x40, 0x82, 0x9E, 0xC0]),
        p2 in prop::sample::select(vec![0x00u8, 0x01, 0x03, 0x10, 0x80, 0x9A, 0x13]),
        data in prop::collection::vec(any::<u8>(), 0..120),
        pin in any::<bool>(),
    ) {
        let mut card = card_in_adf(Some(1));
        if pin {
            verify_user(&mut card);
        }
        let mut apdu = vec![cla, ins, p1, p2];
        if !data.is_empty() {
            apdu.push(u8::try_from(data.len()).unwrap());
            apdu.extend_from_slice(&data);
        }
        let before = card.volatile_copy();
        let r = card.transmit(&apdu);
        let sw = &r[r.len() - 2..];
        if sw != [0x90, 0x00] && sw[0] != 0x61 && sw[0] != 0x63 {
            prop_assert!(card.same_persistent_state(&before), "{}", apdu::hex_compact(&apdu));
        }
    }
}

#[test]
fn the_card_never_prints_its_private_keys_or_session_key() {
    let mut card = card_in_adf(Some(2));
    verify_user(&mut card);
    assert_eq!(x(&mut card, GEN), "9000");
    assert_eq!(
        x(&mut card, &format!("804A021012C110{}", "A5".repeat(16))),
        "9000"
    );
    assert_eq!(x(&mut card, "80C9820008C0020012C2020013"), "9000");
    let shown = format!("{card:?}");
    assert!(shown.contains("PrivateKeys(1 keys)"), "{shown}");
    assert!(shown.contains("session key: true"), "{shown}");
    assert!(shown.contains("public: 18, private: 19"), "{shown}");
    assert!(!shown.contains("165, 165"), "{shown}");
}

/// The bytes of an empty private-key record (kind 0x21, no keys): never written.
const EMPTY_PKI_RECORD: [u8; 13] = [5, 0, 0, 0, 0xFA, 0xFF, 0xFF, 0xFF, 0x21, 0, 0, 0, 0];

#[test]
fn a_compacted_state_file_keeps_the_key_pair_and_a_fresh_one_has_no_pki_record() {
    let p = profile(Some(4));
    let medium = MemMedium::new();
    let mut card = Card::open_on(&p, Box::new(medium.clone())).unwrap();
    let bytes = medium.current();
    assert!(
        !bytes.windows(13).any(|w| w == EMPTY_PKI_RECORD),
        "a card that never used the PKI keys writes no record of them"
    );
    card.compact_every(1);
    assert_eq!(x(&mut card, SELECT_ADF), "9000");
    verify_user(&mut card);
    assert_eq!(x(&mut card, GEN), "9000");
    let r = challenge(&mut card);
    let cmd = pki::key_update(0x00, &h(ADF_KEY), &[0x33; 16], &r);
    assert_eq!(rx(&mut card, &cmd).1, "9000");
    let ef = read_ef_0012(&mut card);
    drop(card);
    let mut card = Card::open_on(&p, Box::new(MemMedium::with_bytes(medium.current()))).unwrap();
    assert_eq!(x(&mut card, SELECT_ADF), "9000");
    verify_user(&mut card);
    let xy: [u8; 64] = ef[2..].try_into().unwrap();
    let e = pki::message_digest(&xy, b"compacted").unwrap();
    let (sig, sw) = rx(&mut card, &[&h("002A9E9A20")[..], &e].concat());
    assert_eq!(sw, "9000");
    assert!(pki::verify_digest(&xy, &e, &sig));
    let r = challenge(&mut card);
    let cmd = pki::key_update(0x00, &[0x33; 16], &[0x44; 16], &r);
    assert_eq!(rx(&mut card, &cmd).1, "9000");
}

#[test]
fn a_second_generation_replaces_the_pair_and_keeps_the_others() {
    let mut card = card_in_adf(Some(8));
    verify_user(&mut card);
    // Another private key (0015) beside the signature pair.
    let d_enc = [9u8; 32];
    let enc_xy = pki::public_xy(&pki::secret_key(&d_enc).unwrap());
    assert_eq!(
        x(
            &mut card,
            &format!("80C2C00026C2020015CB20{}", apdu::hex_compact(&d_enc))
        ),
        "9000"
    );
    assert_eq!(x(&mut card, GEN), "9000");
    let first = read_ef_0012(&mut card);
    assert_eq!(x(&mut card, GEN), "9000");
    let second = read_ef_0012(&mut card);
    assert_ne!(first, second);
    let xy: [u8; 64] = second[2..].try_into().unwrap();
    let e = pki::message_digest(&xy, b"second").unwrap();
    let (sig, _) = rx(&mut card, &[&h("002A9E9A20")[..], &e].concat());
    assert!(pki::verify_digest(&xy, &e, &sig));
    // 0015 is still there (export of 0014/0015 answers its public key).
    assert_eq!(
        x(
            &mut card,
            &format!("80C2400046C0020014CA40{}", apdu::hex_compact(&enc_xy))
        ),
        "9000"
    );
    assert_eq!(x(&mut card, "80C9820008C0020014C2020015"), "9000");
    assert_eq!(
        rx(&mut card, &h("80C9828042")).0,
        pki::public_key_object(&enc_xy)
    );
}

#[test]
fn the_admin_pin_change_leaves_the_pin_verified_and_a_wrong_mac_unverified() {
    let mut card = card_in_adf(None);
    let r = challenge(&mut card);
    let cmd = pki::admin_pin_change(0x00, &h("12345678"), &h("24681357"), &r);
    assert_eq!(rx(&mut card, &cmd).1, "9000");
    assert_eq!(x(&mut card, "00200000"), "9000");
    let r = challenge(&mut card);
    let mut cmd = pki::admin_pin_change(0x00, &h("24681357"), &h("11223344"), &r);
    *cmd.last_mut().unwrap() ^= 0x80;
    assert_eq!(rx(&mut card, &cmd).1, "63C9");
    assert_eq!(x(&mut card, "00200000"), "63C9");
}

#[test]
fn a_public_key_ef_too_small_or_of_records_is_refused() {
    let xy = pki::public_xy(&pki::secret_key(&[9u8; 32]).unwrap());
    let import = format!("80C2400046C0020014CA40{}", apdu::hex_compact(&xy));
    let original = "fid = \"0014\"          # encryption public key (80 C2 40 00 imports it; CA 40 X Y) [I] the EF\nstructure = \"transparent\"\nsize = 0x42";
    assert!(common::GEN3.contains(original));
    for (replacement, sw) in [
        (original.replace("size = 0x42", "size = 0x41"), "6A84"),
        (
            original
                .replace("structure = \"transparent\"", "structure = \"linear\"")
                .replace("size = 0x42", "max_records = 2\nrecord_size = 0x42"),
            "6981",
        ),
    ] {
        let text = common::GEN3.replace(original, &replacement);
        let dir = temp_dir("pki", "small-ef");
        let path = dir.join("small.toml");
        std::fs::write(&path, text).unwrap();
        let mut card = Card::new(&Profile::load(path.to_str().unwrap()).unwrap());
        assert_eq!(x(&mut card, SELECT_ADF), "9000");
        verify_user(&mut card);
        assert_eq!(x(&mut card, &import), sw);
        assert_eq!(x(&mut card, "80C9820008C0020014C2020013"), sw);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
