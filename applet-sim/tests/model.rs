//! A reference model of the card's security state — PIN, PUK and key counters, verified
//! status, external authentication, the challenge, application and card blocks — driven
//! through real APDUs against the gen3 card with proptest-state-machine. After every step the
//! card's status word must be the model's and every counter must agree.
//!
//! 10,000 cases per run by default; `SSC_MODEL_CASES=N` for more (or fewer).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use applet_sim::crypto::{auth_cryptogram, session_key, ssc_mac};
use applet_sim::model::CipherSuite;
use applet_sim::{Card, Profile};
use proptest::prelude::*;
use proptest::test_runner::Config;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

const SSSE: &str = "7378312E73682EC9E7BBE1B1A3D5CF";
const CERT: &str = "53532E434552542E41444631";
const BANK: &str = "A000000333010101";
/// Card keys of the gen3 profile by id (docs/CARD.md §6.8: derived from the built-in
/// PSAM's masters; `scripts/independent_terminal.py --print-keys` derives them independently).
const KEYS: [(u8, &str); 5] = [
    (0x02, "B514CA2A773596DF3E8CA9459437F379"),
    (0x04, "3E3826B27145F2B8299CE7D229DF7779"),
    (0x05, "C05976E4B1ADE485D337604F223B8115"),
    (0x06, "DEA959A7DDCB9B066DA0351CCCD7168C"),
    (0x0A, "D0F87586044EA1965D1DB9331AB2F866"),
];
/// Index of each modelled key among the profile's keys (00, 02, 04, 05, 06, 0A, ...).
const KEY_INDEX: [(u8, usize); 3] = [(0x04, 2), (0x06, 4), (0x0A, 5)];
const CANDIDATES: [&str; 4] = ["123456", "654321", "111111", "888888"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum App {
    Mf,
    Ssse,
    Pki,
    Bank,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Pin {
    value: &'static str,
    remaining: u8,
    max: u8,
    verified: bool,
}

impl Pin {
    fn new(value: &'static str, max: u8) -> Self {
        Self {
            value,
            remaining: max,
            max,
            verified: false,
        }
    }

    /// A counted comparison (docs/SECURITY.md §1): the status word, the counter and status set.
    fn check(&mut self, candidate: &str) -> u16 {
        if self.remaining == 0 {
            self.verified = false;
            return 0x6983;
        }
        if candidate == self.value {
            self.remaining = self.max;
            self.verified = true;
            0x9000
        } else {
            self.remaining -= 1;
            self.verified = false;
            0x63C0 | u16::from(self.remaining)
        }
    }

    fn query(&self) -> u16 {
        match (self.remaining, self.verified) {
            (0, _) => 0x6983,
            (_, true) => 0x9000,
            (n, false) => 0x63C0 | u16::from(n),
        }
    }
}

#[derive(Clone, Debug)]
struct Model {
    app: App,
    ssse: Pin,
    bank: Pin,
    user: Pin,
    puk: Pin,
    /// Tries left of keys 04, 06, 0A.
    keys: [u8; 3],
    authenticated: Vec<u8>,
    challenge: bool,
    ssse_blocked: bool,
    card_blocked: bool,
    last_sw: u16,
}

#[derive(Clone, Debug)]
enum Step {
    Select(App),
    Reset,
    Verify(&'static str),
    Query,
    ChangePin(&'static str, &'static str),
    GetChallenge,
    ExternalAuth(u8, bool),
    PukReset(bool, &'static str),
    BlockApplication,
    BlockCard,
}

impl Model {
    fn leave(&mut self, app: App) {
        if app != self.app {
            for p in [
                &mut self.ssse,
                &mut self.bank,
                &mut self.user,
                &mut self.puk,
            ] {
                p.verified = false;
            }
            self.authenticated.clear();
            self.challenge = false;
        }
        self.app = app;
    }

    fn pin(&mut self) -> Option<&mut Pin> {
        match self.app {
            App::Ssse => Some(&mut self.ssse),
            App::Bank => Some(&mut self.bank),
            App::Pki => Some(&mut self.user),
            App::Mf => None,
        }
    }

    fn step(&mut self, step: &Step) -> u16 {
        if self.card_blocked {
            if matches!(step, Step::Reset) {
                self.leave(App::Mf);
                return 0x9000;
            }
            return 0x6A81;
        }
        // A blocked SSSE answers 9303 to its commands; one it does not have at all (00 2C) is
        // still refused by decoding first (6D00).
        if self.app == App::Ssse
            && self.ssse_blocked
            && !matches!(step, Step::Select(_) | Step::Reset | Step::PukReset(..))
        {
            return 0x9303;
        }
        match step {
            Step::Reset => {
                self.leave(App::Mf);
                // `leave` keeps state within the same application: a reset clears it anyway.
                for p in [
                    &mut self.ssse,
                    &mut self.bank,
                    &mut self.user,
                    &mut self.puk,
                ] {
                    p.verified = false;
                }
                self.authenticated.clear();
                self.challenge = false;
                0x9000
            }
            Step::Select(App::Ssse) if self.ssse_blocked => 0x9303,
            Step::Select(app) => {
                self.leave(*app);
                0x9000
            }
            Step::Verify(c) => match self.pin() {
                Some(p) => p.check(c),
                None => 0x6A88,
            },
            Step::Query => self.pin().map_or(0x6A88, |p| p.query()),
            Step::ChangePin(old, new) => match self.app {
                App::Ssse | App::Bank => {
                    let p = self.pin().unwrap();
                    let sw = p.check(old);
                    if sw == 0x9000 {
                        p.value = new;
                    }
                    sw
                }
                _ => 0x6D00,
            },
            Step::GetChallenge => {
                self.challenge = true;
                0x9000
            }
            Step::ExternalAuth(id, right) => {
                if self.app != App::Ssse {
                    return 0x6A88;
                }
                let k = KEY_INDEX.iter().position(|(i, _)| i == id).unwrap();
                if self.keys[k] == 0 {
                    return 0x6983;
                }
                if !std::mem::take(&mut self.challenge) {
                    return 0x6984;
                }
                if *right {
                    self.keys[k] = 3;
                    self.authenticated.push(*id);
                    0x9000
                } else {
                    self.keys[k] -= 1;
                    0x63C0 | u16::from(self.keys[k])
                }
            }
            Step::PukReset(right, new) => {
                if self.app != App::Pki {
                    return 0x6D00;
                }
                let sw = self.puk.check(if *right { "12345678" } else { "87654321" });
                if sw == 0x9000 {
                    self.user.value = new;
                    self.user.remaining = self.user.max;
                    self.user.verified = false;
                }
                sw
            }
            Step::BlockApplication | Step::BlockCard => {
                match self.app {
                    App::Mf | App::Pki => return 0x6D00,
                    App::Ssse | App::Bank => {}
                }
                if !std::mem::take(&mut self.challenge) {
                    return 0x6984;
                }
                // The financial application wants the PBOC MAC; the test sends the SSC one.
                if self.app == App::Bank {
                    return 0x6988;
                }
                if matches!(step, Step::BlockCard) {
                    self.card_blocked = true;
                } else {
                    self.ssse_blocked = true;
                }
                0x9000
            }
        }
    }
}

struct Reference;

impl ReferenceStateMachine for Reference {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model {
            app: App::Mf,
            ssse: Pin::new("123456", 3),
            bank: Pin::new("888888", 3),
            user: Pin::new("123456", 3),
            puk: Pin::new("12345678", 10),
            keys: [3; 3],
            authenticated: Vec::new(),
            challenge: false,
            ssse_blocked: false,
            card_blocked: false,
            last_sw: 0x9000,
        })
        .boxed()
    }

    fn transitions(_: &Model) -> BoxedStrategy<Step> {
        let app = prop_oneof![Just(App::Ssse), Just(App::Pki), Just(App::Bank)];
        let cand = prop::sample::select(&CANDIDATES[..]);
        let key = prop::sample::select(vec![0x04u8, 0x06, 0x0A]);
        prop_oneof![
            4 => app.prop_map(Step::Select),
            1 => Just(Step::Reset),
            6 => cand.clone().prop_map(Step::Verify),
            2 => Just(Step::Query),
            2 => (cand.clone(), cand.clone()).prop_map(|(o, n)| Step::ChangePin(o, n)),
            4 => Just(Step::GetChallenge),
            4 => (key, any::<bool>()).prop_map(|(k, r)| Step::ExternalAuth(k, r)),
            2 => (any::<bool>(), cand).prop_map(|(r, n)| Step::PukReset(r, n)),
            1 => prop_oneof![Just(Step::BlockApplication), Just(Step::BlockCard)],
        ]
        .boxed()
    }

    fn apply(mut state: Model, step: &Step) -> Model {
        state.last_sw = state.step(step);
        state
    }
}

/// The card and the last challenge it gave.
struct Sut {
    card: Card,
    challenge: Vec<u8>,
}

fn bcd(pin: &str) -> String {
    pin.to_owned()
}

fn ascii_ff(pin: &str) -> String {
    let mut s: String = pin.bytes().map(|b| format!("{b:02X}")).collect();
    while s.len() < 16 {
        s.push_str("FF");
    }
    s
}

fn key(id: u8) -> Vec<u8> {
    apdu::parse_hex(KEYS.iter().find(|(i, _)| *i == id).unwrap().1).unwrap()
}

impl Sut {
    fn send(&mut self, hex: &str) -> u16 {
        let r = self.card.transmit(&apdu::parse_hex(hex).unwrap());
        let (data, sw) = r.split_at(r.len() - 2);
        let sw = u16::from_be_bytes([sw[0], sw[1]]);
        if hex.starts_with("00840000") && sw == 0x9000 {
            self.challenge = data.to_vec();
        }
        sw
    }

    fn mac_command(&self, header: &str, key_id: u8) -> String {
        let ks = session_key(CipherSuite::Sm4, &key(key_id), &self.challenge).unwrap();
        let signed = apdu::parse_hex(&format!("{header}04")).unwrap();
        let mac = ssc_mac(CipherSuite::Sm4, &ks, &signed).unwrap();
        format!("{header}04{}", apdu::hex_compact(&mac))
    }
}

struct CardTest;

impl StateMachineTest for CardTest {
    type SystemUnderTest = Sut;
    type Reference = Reference;

    fn init_test(_: &Model) -> Sut {
        static TEMPLATE: std::sync::OnceLock<Card> = std::sync::OnceLock::new();
        let card = TEMPLATE.get_or_init(|| Card::new(&Profile::builtin("gen3").unwrap()));
        Sut {
            card: card.volatile_copy(),
            challenge: Vec::new(),
        }
    }

    fn apply(mut sut: Sut, model: &Model, step: Step) -> Sut {
        let sw = match &step {
            Step::Select(App::Ssse) => sut.send(&format!("00A4040C0F{SSSE}")),
            Step::Select(App::Pki) => sut.send(&format!("00A4040C0C{CERT}")),
            Step::Select(App::Bank) => sut.send(&format!("00A4040C08{BANK}")),
            Step::Select(App::Mf) => sut.send("00A40000"),
            Step::Reset => {
                sut.card.reset();
                0x9000
            }
            Step::Verify(c) if model.app == App::Pki => {
                sut.send(&format!("0020008108{}", ascii_ff(c)))
            }
            Step::Verify(c) => sut.send(&format!("0020000003{}", bcd(c))),
            Step::Query if model.app == App::Pki => sut.send("00200081"),
            Step::Query => sut.send("00200000"),
            Step::ChangePin(o, n) => sut.send(&format!("805E010007{}FF{}", bcd(o), bcd(n))),
            Step::GetChallenge => sut.send("0084000008"),
            Step::ExternalAuth(id, right) => {
                let original = [0x11u8; 8];
                let auth = session_key(CipherSuite::Sm4, &key(*id), &sut.challenge)
                    .and_then(|ks| auth_cryptogram(CipherSuite::Sm4, &ks, &original))
                    .unwrap();
                let mut auth = auth.to_vec();
                if !right {
                    auth[0] ^= 1;
                }
                sut.send(&format!(
                    "008200{id:02X}10{}{}",
                    apdu::hex_compact(&auth),
                    apdu::hex_compact(&original)
                ))
            }
            Step::PukReset(right, new) => {
                let puk = if *right { "12345678" } else { "87654321" };
                let puk: String = puk.bytes().map(|b| format!("{b:02X}")).collect();
                sut.send(&format!("002C008110{puk}{}", ascii_ff(new)))
            }
            Step::BlockApplication => {
                let cmd = sut.mac_command("841E0001", 0x02);
                sut.send(&cmd)
            }
            Step::BlockCard => {
                let cmd = sut.mac_command("84160000", 0x05);
                sut.send(&cmd)
            }
        };
        assert_eq!(
            sw, model.last_sw,
            "{step:?} answered {sw:04X}, the model says {:04X}",
            model.last_sw
        );
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        let (pins, keys) = sut.card.counters();
        assert_eq!(
            [pins[0], pins[1], pins[2], pins[3]],
            [
                model.ssse.remaining,
                model.bank.remaining,
                model.user.remaining,
                model.puk.remaining
            ],
            "PIN counters (SSSE, bank, PKI user, PKI PUK)"
        );
        for (k, (_, index)) in KEY_INDEX.iter().enumerate() {
            assert_eq!(keys[*index], model.keys[k], "key counters");
        }
    }
}

fn cases() -> u32 {
    std::env::var("SSC_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

prop_state_machine! {
    #![proptest_config(Config {
        cases: cases(),
        failure_persistence: None,
        .. Config::default()
    })]

    #[test]
    fn the_card_follows_the_model(sequential 1..40 => CardTest);
}
