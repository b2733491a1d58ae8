//! The command grammar of `ssc-harness diff`: what the declared card holds (its applications,
//! files, PINs and keys, [`Palette`]) and random units of commands over it (docs/DIFF.md
//! "The grammar"). A unit is one or a few actions that belong together: a SELECT path and the
//! command after it, or a wrong PIN and the right one that gives its try back.

use applet_sim::model::{AppKind, PinEncoding, Structure};
use applet_sim::profile::EfDef;

use crate::declaration::Declaration;
use crate::psam::{ExtAuth, Op, Operation};

/// One thing sent to both cards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A warm reset (the ATRs are compared).
    Reset,
    /// A command APDU, as it is.
    Apdu(Vec<u8>),
    /// A PSAM operation: its cryptograms are computed over the card's challenge, which the
    /// model is given too.
    Psam(Op),
}

impl Action {
    /// The action as a vector line (vectors/README.md): `reset`, `> HEX`, `psam OP`.
    #[must_use]
    pub fn line(&self) -> String {
        match self {
            Self::Reset => "reset".to_owned(),
            Self::Apdu(a) => format!("> {}", apdu::hex_spaced(a)),
            Self::Psam(op) => format!("psam {}", op.text),
        }
    }
}

/// Actions that are generated, kept and dropped together (a shrink never splits one on a
/// card that cannot be restored: the right PIN after a wrong one gives the try back).
pub type Unit = Vec<Action>;

/// SplitMix64: a small reproducible generator (the seed is the run's `--seed`).
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next_u64() % (n as u64)).unwrap_or(0)
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next_u64().to_le_bytes()[0]
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (`None` when empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// A PIN of the declaration, as commands name it.
#[derive(Clone, Debug)]
struct Pin {
    /// SELECTs that make its DF current.
    path: Vec<Vec<u8>>,
    reference: u8,
    /// The declared value as VERIFY carries it.
    right: Vec<u8>,
    /// A value of the same length and encoding that is not the declared one.
    wrong: Vec<u8>,
}

/// A key the terminal authenticates with (the SSSE's: the PSAM's `ext-auth`).
#[derive(Clone, Debug)]
struct Key {
    path: Vec<Vec<u8>>,
    id: u8,
    /// The sub-application's FID for a DF-specific key (80–8F, docs/CARD.md §6.7.1).
    df: Option<u16>,
}

impl Key {
    /// EXTERNAL AUTHENTICATE with this key through the PSAM (`tamper`: a wrong cryptogram).
    fn ext_auth(&self, tamper: bool) -> Action {
        let tail = if tamper { " tamper" } else { "" };
        let (text, operation) = match self.df {
            Some(df) => (
                format!("df-ext-auth {df:04X} {:02X}{tail}", self.id),
                Operation::SubExternalAuthenticate(df, self.id),
            ),
            None => (
                format!("ext-auth {:02X}{tail}", self.id),
                Operation::ExternalAuthenticate(ExtAuth::key(self.id)),
            ),
        };
        Action::Psam(Op {
            text,
            operation,
            tamper,
        })
    }
}

/// An EF of the declaration.
#[derive(Clone, Debug)]
struct File {
    path: Vec<Vec<u8>>,
    fid: u16,
    sfi: Option<u8>,
    structure: Structure,
    /// Records held (record EFs) or bytes (transparent).
    size: usize,
    record_size: usize,
}

/// What the declared card holds, as the generator names it.
#[derive(Clone, Debug)]
pub struct Palette {
    /// SELECT paths of the DFs (by name where the DF has one).
    dfs: Vec<Vec<Vec<u8>>>,
    files: Vec<File>,
    pins: Vec<Pin>,
    keys: Vec<Key>,
    /// Whether the SSSE has an IRK (INTERNAL AUTHENTICATE makes sense).
    irk: bool,
    /// Whether writes (UPDATE RECORD/BINARY, CHANGE PIN) and wrong MACs may be generated.
    pub writes: bool,
    /// Whether authentication units may be generated (keys checked against the card).
    pub authenticate: bool,
}

/// Applies `f` to byte `i` of `c`, when there is one.
fn poke(c: &mut [u8], i: usize, f: impl FnOnce(u8) -> u8) {
    if let Some(b) = c.get_mut(i) {
        *b = f(*b);
    }
}

/// Sets byte 4 (Lc) to the length of what follows the header and Lc.
fn fix_lc(c: &mut [u8]) {
    let n = u8::try_from(c.len().saturating_sub(5)).unwrap_or(0xFF);
    poke(c, 4, |_| n);
}

/// SELECT by DF name, FCI asked for.
fn select_name(name: &[u8]) -> Vec<u8> {
    let mut c = vec![
        0x00,
        0xA4,
        0x04,
        0x00,
        u8::try_from(name.len()).unwrap_or(0),
    ];
    c.extend_from_slice(name);
    c
}

/// SELECT by FID (P1 00), no FCI.
fn select_fid(fid: u16) -> Vec<u8> {
    let [hi, lo] = fid.to_be_bytes();
    vec![0x00, 0xA4, 0x00, 0x0C, 0x02, hi, lo]
}

/// A value of the same length and encoding as `right` that differs from it: every digit
/// (a BCD nibble, or an ASCII digit) plus one; padding stays.
fn wrong_of(right: &[u8], encoding: PinEncoding) -> Vec<u8> {
    let nib = |n: u8| if n <= 9 { (n + 1) % 10 } else { n };
    right
        .iter()
        .map(|&b| match (encoding, b) {
            (PinEncoding::Bcd, _) => (nib(b >> 4) << 4) | nib(b & 0x0F),
            (_, b'0'..=b'9') => b'0' + (b - b'0' + 1) % 10,
            _ => b,
        })
        .collect()
}

impl Palette {
    /// What `declaration` holds. `writes`: whether commands that change persistent data (and
    /// MACs some cards count) may be generated; `authenticate`: whether the keys may be used.
    #[must_use]
    pub fn new(declaration: &Declaration, writes: bool, authenticate: bool) -> Self {
        let profile = &declaration.profile;
        // The SELECT path of a DF label: by name at the nearest named ancestor (or itself),
        // then by FID down to it; from the MF when no ancestor is named.
        let path = |label: &str| -> Vec<Vec<u8>> {
            let mut below = Vec::new();
            let mut at = label.to_owned();
            for _ in 0..=profile.dfs.len() {
                if at == "MF" {
                    break;
                }
                let Some(df) = profile.dfs.iter().find(|d| d.id == at) else {
                    break;
                };
                if let Some(name) = &df.name {
                    below.push(select_name(name));
                    below.reverse();
                    return below;
                }
                if let Some(fid) = df.fid {
                    below.push(select_fid(fid));
                }
                at.clone_from(&df.parent);
            }
            below.push(select_fid(0x3F00));
            below.reverse();
            below
        };
        let dfs = profile.dfs.iter().map(|d| path(&d.id)).collect();
        let files = profile
            .efs
            .iter()
            .map(|ef: &EfDef| File {
                path: path(&ef.parent),
                fid: ef.control.fid,
                sfi: ef.control.sfi,
                structure: ef.control.structure,
                size: if ef.control.structure == Structure::Transparent {
                    ef.data.len()
                } else {
                    ef.records.len()
                },
                record_size: ef.control.record_size,
            })
            .collect();
        let pins = profile
            .pins
            .iter()
            .map(|p| {
                let right = declaration.pin_data(p);
                Pin {
                    path: path(&p.parent),
                    reference: p.reference,
                    wrong: wrong_of(&right, p.encoding),
                    right,
                }
            })
            .collect();
        let keys = profile
            .keys
            .iter()
            .filter(|k| profile.kind_of_df(&k.parent) == Some(AppKind::Ssse) && k.id != 0)
            .map(|k| Key {
                path: path(&k.parent),
                id: k.id,
                df: (k.id & 0x80 != 0)
                    .then(|| profile.dfs.iter().find(|d| d.id == k.parent))
                    .flatten()
                    .and_then(|d| d.fid)
                    .filter(|fid| fid >> 8 == 0xDF),
            })
            // A DF-specific key of a DF the PSAM cannot name (`df-ext-auth DFxx`) is left out.
            .filter(|k| k.id & 0x80 == 0 || k.df.is_some())
            .collect();
        let irk = profile
            .keys
            .iter()
            .any(|k| k.id == 0 && profile.kind_of_df(&k.parent) == Some(AppKind::Ssse));
        Self {
            dfs,
            files,
            pins,
            keys,
            irk,
            writes,
            authenticate,
        }
    }

    /// One random unit of actions.
    pub fn unit(&self, rng: &mut SplitMix) -> Unit {
        let apdus = |v: &[Vec<u8>]| v.iter().cloned().map(Action::Apdu).collect::<Vec<_>>();
        match rng.below(100) {
            0..=2 => {
                // The MF: by FID with and without the FCI, by an empty FID, by Le only.
                let mf: [&[u8]; 4] = [
                    &[0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00],
                    &[0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00],
                    &[0x00, 0xA4, 0x00, 0x00],
                    &[0x00, 0xA4, 0x00, 0x00, 0x00],
                ];
                let pick = *rng.pick(&mf).unwrap_or(&mf[0]);
                vec![Action::Apdu(pick.to_vec())]
            }
            3..=14 => {
                // A DF: by its path, or by name with the FCI and a partial or wrong name.
                let Some(path) = rng.pick(&self.dfs) else {
                    return vec![Action::Reset];
                };
                let mut unit = apdus(path);
                if rng.chance(25)
                    && let Some(Action::Apdu(last)) = unit.last_mut()
                {
                    mutate_select(last, rng);
                }
                unit
            }
            15..=36 => self.read(rng),
            37..=52 => self.verify(rng),
            53..=58 => {
                let le = *rng.pick(&[4u8, 8, 16, 0, 5]).unwrap_or(&8);
                vec![Action::Apdu(vec![0x00, 0x84, 0x00, 0x00, le])]
            }
            59..=64 if self.authenticate => self.authenticate(rng),
            65..=68 if self.authenticate => self.challenge_life(rng),
            59..=68 => self.read(rng),
            69..=72 => {
                let le = *rng.pick(&[0u8, 8, 2]).unwrap_or(&0);
                vec![Action::Apdu(vec![0x00, 0xC0, 0x00, 0x00, le])]
            }
            73..=84 => vec![Action::Apdu(junk(rng, self.writes))],
            85..=87 => vec![Action::Reset],
            _ if self.writes => self.write(rng),
            _ => self.read(rng),
        }
    }

    /// READ RECORD / READ BINARY of a declared EF, by SFI or after SELECT, with exact,
    /// short, long or zero Le, and records or offsets past the end.
    fn read(&self, rng: &mut SplitMix) -> Unit {
        let Some(f) = rng.pick(&self.files) else {
            return vec![Action::Reset];
        };
        let mut unit: Unit = f.path.iter().cloned().map(Action::Apdu).collect();
        let by_sfi = f.sfi.filter(|_| rng.chance(70));
        if by_sfi.is_none() {
            unit.push(Action::Apdu(select_fid(f.fid)));
        }
        let le = |rng: &mut SplitMix, exact: usize| -> u8 {
            match rng.below(4) {
                0 => 0,
                1 => u8::try_from(exact.saturating_sub(1)).unwrap_or(0xFF),
                2 => u8::try_from(exact + 1).unwrap_or(0xFF),
                _ => u8::try_from(exact).unwrap_or(0xFF),
            }
        };
        let cmd = if f.structure == Structure::Transparent {
            let offset = match rng.below(4) {
                0 => f.size,
                1 => rng.below(f.size.max(1)),
                _ => 0,
            };
            let len = f.size.saturating_sub(offset).clamp(1, 0x40);
            let (p1, p2) = match by_sfi {
                Some(sfi) => (0x80 | sfi, u8::try_from(offset).unwrap_or(0xFF)),
                None => {
                    let [hi, lo] = u16::try_from(offset).unwrap_or(0x7FFF).to_be_bytes();
                    (hi & 0x7F, lo)
                }
            };
            vec![0x00, 0xB0, p1, p2, le(rng, len)]
        } else {
            let record = 1 + rng.below(f.size + 1);
            let mode = *rng
                .pick(&[0x04u8, 0x04, 0x04, 0x05, 0x00, 0x02])
                .unwrap_or(&4);
            let p2 = by_sfi.map_or(mode, |sfi| (sfi << 3) | mode);
            vec![
                0x00,
                0xB2,
                u8::try_from(record).unwrap_or(1),
                p2,
                le(rng, f.record_size.max(2)),
            ]
        };
        unit.push(Action::Apdu(cmd));
        unit
    }

    /// VERIFY: the right PIN, a wrong one followed by the right one (its try given back),
    /// the tries query (no data, or Lc 00), a malformed one.
    fn verify(&self, rng: &mut SplitMix) -> Unit {
        let Some(p) = rng.pick(&self.pins) else {
            return vec![Action::Reset];
        };
        let mut unit: Unit = p.path.iter().cloned().map(Action::Apdu).collect();
        let cmd = |data: &[u8]| {
            let mut c = vec![
                0x00,
                0x20,
                0x00,
                p.reference,
                u8::try_from(data.len()).unwrap_or(0),
            ];
            c.extend_from_slice(data);
            c
        };
        match rng.below(6) {
            0 => unit.push(Action::Apdu(cmd(&p.right))),
            1 => {
                unit.push(Action::Apdu(cmd(&p.wrong)));
                unit.push(Action::Apdu(cmd(&p.right)));
            }
            2 => unit.push(Action::Apdu(vec![0x00, 0x20, 0x00, p.reference])),
            3 => unit.push(Action::Apdu(vec![0x00, 0x20, 0x00, p.reference, 0x00])),
            4 => {
                // Verified, then the query: the choice real cards differ on.
                unit.push(Action::Apdu(cmd(&p.right)));
                unit.push(Action::Apdu(vec![0x00, 0x20, 0x00, p.reference]));
            }
            _ => {
                let mut c = cmd(&p.right);
                match rng.below(3) {
                    0 => poke(&mut c, 2, |_| 0x01),
                    1 => {
                        c.pop();
                        poke(&mut c, 4, |n| n.saturating_sub(1));
                    }
                    _ => poke(&mut c, 3, |p2| p2 ^ 0x40),
                }
                unit.push(Action::Apdu(c));
            }
        }
        unit
    }

    /// EXTERNAL AUTHENTICATE (right, or a wrong cryptogram followed by the right one),
    /// INTERNAL AUTHENTICATE, or one without a challenge.
    fn authenticate(&self, rng: &mut SplitMix) -> Unit {
        let Some(k) = rng.pick(&self.keys) else {
            return vec![Action::Reset];
        };
        let mut unit: Unit = k.path.iter().cloned().map(Action::Apdu).collect();
        let op = |tamper: bool| k.ext_auth(tamper);
        match rng.below(5) {
            0 | 1 => unit.push(op(false)),
            2 => {
                unit.push(op(true));
                unit.push(op(false));
            }
            3 if self.irk => unit.push(Action::Psam(Op {
                text: "int-auth".to_owned(),
                operation: Operation::InternalAuthenticate,
                tamper: false,
            })),
            _ => {
                let mut c = vec![0x00, 0x82, 0x00, k.id, 0x10];
                c.extend([0u8; 16]);
                unit.push(Action::Apdu(c));
            }
        }
        unit
    }

    /// The life of a challenge: GET CHALLENGE, a command that fails, then one that uses the
    /// challenge — EXTERNAL AUTHENTICATE with a wrong cryptogram, whose try the right one
    /// after it gives back; or (only on a card that can be restored) a secure-messaging
    /// write with a wrong MAC, which some cards count against the MAC key.
    fn challenge_life(&self, rng: &mut SplitMix) -> Unit {
        let Some(k) = rng.pick(&self.keys) else {
            return vec![Action::Reset];
        };
        let mut unit: Unit = k.path.iter().cloned().map(Action::Apdu).collect();
        unit.push(Action::Apdu(vec![0x00, 0x84, 0x00, 0x00, 0x08]));
        if rng.chance(70) {
            unit.push(Action::Apdu(vec![0x00, 0xA4, 0x02, 0x0C, 0x02, 0xEF, 0x99]));
        }
        let stk = self.keys.iter().find(|k| k.id == 0x02 && k.df.is_none());
        if let Some(stk) = stk.filter(|_| self.writes && rng.chance(40)) {
            // In the STK's application: UPDATE RECORD EF05 by SFI under a zero MAC (6988 with
            // a challenge, 6984 without), then a wrong and a right cryptogram of the STK,
            // whose tries show whether the MAC failure cost one.
            let mut unit: Unit = stk.path.iter().cloned().map(Action::Apdu).collect();
            unit.push(Action::Apdu(vec![0x00, 0x84, 0x00, 0x00, 0x08]));
            if rng.chance(50) {
                unit.push(Action::Apdu(vec![0x00, 0xA4, 0x02, 0x0C, 0x02, 0xEF, 0x99]));
            }
            let mut c = vec![
                0x04, 0xDC, 0x05, 0x2C, 0x0A, 0x05, 0x04, 0x20, 0x25, 0x01, 0x01,
            ];
            c.extend([0u8; 4]);
            unit.push(Action::Apdu(c));
            unit.push(stk.ext_auth(true));
            unit.push(stk.ext_auth(false));
            return unit;
        }
        {
            let mut c = vec![0x00, 0x82, 0x00, k.id, 0x10];
            c.extend([0u8; 16]);
            unit.push(Action::Apdu(c));
            unit.push(k.ext_auth(false));
        }
        unit
    }

    /// UPDATE RECORD / UPDATE BINARY of a declared EF with random data (after external
    /// authentication with key 04 half of the time), CHANGE PIN to itself.
    fn write(&self, rng: &mut SplitMix) -> Unit {
        if rng.chance(20)
            && let Some(p) = rng.pick(&self.pins)
        {
            let mut unit: Unit = p.path.iter().cloned().map(Action::Apdu).collect();
            let mut c = vec![0x80, 0x5E, 0x01, p.reference, 0];
            c.extend_from_slice(&p.right);
            c.push(0xFF);
            c.extend_from_slice(&p.right);
            fix_lc(&mut c);
            unit.push(Action::Apdu(c));
            return unit;
        }
        let Some(f) = rng.pick(&self.files) else {
            return vec![Action::Reset];
        };
        let mut unit: Unit = f.path.iter().cloned().map(Action::Apdu).collect();
        if rng.chance(50)
            && let Some(k) = self.keys.iter().find(|k| k.id == 0x04 && k.path == f.path)
        {
            unit.push(k.ext_auth(false));
        }
        unit.push(Action::Apdu(select_fid(f.fid)));
        let n = 1 + rng.below(8);
        let mut data: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
        let cmd = if f.structure == Structure::Transparent {
            let mut c = vec![0x00, 0xD6, 0x00, 0x00, u8::try_from(n).unwrap_or(1)];
            c.append(&mut data);
            c
        } else {
            // A TLV record: tag, length, value.
            let tag = rng.byte() | 1;
            let mut c = vec![0x00, 0xDC, 1, 0x04, 0, tag, u8::try_from(n).unwrap_or(1)];
            c.append(&mut data);
            fix_lc(&mut c);
            c
        };
        unit.push(Action::Apdu(cmd));
        unit
    }
}

/// A SELECT with its name cut short (partial name, P2 00 or 02) or a byte changed.
fn mutate_select(cmd: &mut Vec<u8>, rng: &mut SplitMix) {
    match rng.below(3) {
        0 if cmd.len() > 6 => {
            cmd.pop();
            poke(cmd, 4, |n| n.saturating_sub(1));
        }
        1 => {
            let p2 = *rng.pick(&[0x02u8, 0x0C, 0x04, 0x01]).unwrap_or(&0x02);
            poke(cmd, 3, |_| p2);
        }
        _ => {
            if let Some(last) = cmd.last_mut() {
                *last ^= 0x01;
            }
        }
    }
}

/// A command of random shape: an unknown or known instruction in a right or wrong class,
/// any P1/P2, no data, an Le, or data with a right or wrong Lc. Without `sm`, no secure
/// messaging class (04, 0C, 84): a wrong MAC may cost a card that counts them a try.
fn junk(rng: &mut SplitMix, sm: bool) -> Vec<u8> {
    const INS: [u8; 16] = [
        0xA4, 0xB0, 0xB2, 0xD6, 0xDC, 0xE2, 0x84, 0x88, 0xC0, 0xCA, 0xA8, 0x00, 0x12, 0x70, 0xFE,
        0x6A,
    ];
    let classes: &[u8] = if sm {
        &[0x00, 0x80, 0x04, 0x0C, 0x10, 0xFF, 0x01, 0x84]
    } else {
        &[0x00, 0x80, 0x10, 0xFF, 0x01]
    };
    let cla = *rng.pick(classes).unwrap_or(&0);
    let ins = if rng.chance(70) {
        *rng.pick(&INS).unwrap_or(&0xB0)
    } else {
        rng.byte()
    };
    let mut c = vec![cla, ins, rng.byte() & 0x9F, rng.byte()];
    match rng.below(4) {
        0 => {}
        1 => c.push(rng.byte()),
        2 => {
            let n = rng.below(12);
            c.push(u8::try_from(n).unwrap_or(0));
            c.extend((0..n).map(|_| rng.byte()));
        }
        _ => {
            let n = 1 + rng.below(12);
            c.push(u8::try_from(n + 1).unwrap_or(0));
            c.extend((0..n).map(|_| rng.byte()));
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use applet_sim::Profile;

    #[test]
    fn wrong_values_differ_and_keep_their_form() {
        let bcd = PinEncoding::Bcd;
        assert_eq!(wrong_of(&[0x12, 0x34, 0x56], bcd), [0x23, 0x45, 0x67]);
        assert_eq!(wrong_of(&[0x12, 0x3F], bcd), [0x23, 0x4F]);
        assert_eq!(wrong_of(&[0x39, 0x90], bcd), [0x40, 0x01]);
        assert_eq!(wrong_of(b"123456", PinEncoding::Ascii), b"234567");
        assert_eq!(wrong_of(b"9999", PinEncoding::Ascii), b"0000");
        assert_eq!(
            wrong_of(b"1234\xFF\xFF", PinEncoding::AsciiFfPadded),
            b"2345\xFF\xFF"
        );
    }

    #[test]
    fn the_palette_names_what_the_card_holds() {
        let d = Declaration::new("gen3", Profile::builtin("gen3").unwrap());
        let p = Palette::new(&d, false, true);
        // The SSSE PIN: selected by name, VERIFY reference 00, BCD 123456.
        let ssse = p.pins.iter().find(|p| p.reference == 0).unwrap();
        assert_eq!(ssse.right, [0x12, 0x34, 0x56]);
        assert_eq!(ssse.path.len(), 1);
        assert_eq!(&ssse.path[0][..4], &[0x00, 0xA4, 0x04, 0x00]);
        assert!(p.keys.iter().any(|k| k.id == 0x0A));
        assert!(p.irk);
        assert!(p.files.iter().any(|f| f.fid == 0xEF05 && f.sfi == Some(5)));
        // A sub-DF's file: by the sub-DF's own name (D156000005 00).
        let df01 = select_name(&[0xD1, 0x56, 0x00, 0x00, 0x05, 0x00]);
        assert!(p.files.iter().any(|f| f.path == [df01.clone()]));
        // A DF without a name: the nearest named one, then FIDs.
        let mut text = applet_sim::profile::builtin_text("gen3")
            .unwrap()
            .to_owned();
        text.push_str("\n[[df]]\nid = \"SUB\"\nparent = \"DF01\"\nfid = \"DF09\"\n");
        let d = Declaration::new("sub", Profile::parse(&text, "sub").unwrap());
        let p = Palette::new(&d, false, true);
        assert!(p.dfs.contains(&vec![df01, select_fid(0xDF09)]));
        // Units are reproducible from the seed.
        let (mut a, mut b) = (SplitMix::new(7), SplitMix::new(7));
        for _ in 0..500 {
            assert_eq!(p.unit(&mut a), p.unit(&mut b));
        }
    }
}
