//! The declaration's digest: SM3 over a canonical text of everything a validated profile
//! declares about the card, so that a state file can say which declaration it was made
//! from (storage's `Declaration`) and a changed profile is told from the same one.
//!
//! What counts is the card, not the file: the ATR, protocol, cipher, options, every DF, EF
//! (identifiers, structure, sizes, access conditions, contents), PIN (encoding, bounds,
//! value, tries, unblock method) and key (id, version, value as derived, tries), and the
//! chosen state. Comments, layout, the order of keys inside a table, hex spelling (`00*4`
//! or `00000000`), a master key against the card key it derives, and the `description` do
//! not. Strings are length-prefixed, so no two profiles share a canonical text.

use std::fmt::Write;

use sm3::Digest;

use super::Profile;
use crate::model::{PinEncoding, Unblock, Vocabulary};

/// The first line of the canonical text: its version (a change of the text changes every
/// digest, and so asks every state file to be recreated).
const VERSION: &str = "ssc-card declaration 1";

impl Profile {
    /// SM3 of the profile's canonical text (see the module): equal for two profiles that
    /// declare the same card, different for any change to it.
    #[must_use]
    pub fn digest(&self) -> [u8; 32] {
        sm3::Sm3::digest(self.canonical().as_bytes()).into()
    }

    /// The canonical text the digest is taken over.
    fn canonical(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "{VERSION}");
        let _ = writeln!(
            t,
            "card atr={} protocol={} cipher={} blocked={} seed={}",
            hex(&self.atr),
            self.protocol,
            self.cipher,
            self.card_blocked,
            self.options
                .challenge_seed
                .map_or_else(|| "-".to_owned(), |s| s.to_string()),
        );
        // Only options that differ from the default: a card without `[behaviour]` keeps
        // the digest it always had.
        let changed = self.options.behaviour.changed();
        if !changed.is_empty() {
            t.push_str("behaviour");
            for (name, value) in changed {
                let _ = write!(t, " {name}={value}");
            }
            t.push('\n');
        }
        for d in &self.dfs {
            let _ = writeln!(
                t,
                "df id={} parent={} fid={} name={} fci={} kind={} blocked={}",
                text(&d.id),
                text(&d.parent),
                d.fid.map_or_else(|| "-".to_owned(), |f| format!("{f:04X}")),
                d.name.as_deref().map_or_else(|| "-".to_owned(), hex),
                d.fci.as_deref().map_or_else(|| "-".to_owned(), hex),
                d.kind.map_or("-", |k| k.name()),
                d.blocked.map_or("-", |b| b.name()),
            );
        }
        for e in &self.efs {
            let c = &e.control;
            let records: Vec<String> = e.records.iter().map(|r| hex(r)).collect();
            let _ = writeln!(
                t,
                "ef parent={} fid={:04X} sfi={} structure={} capacity={} record_size={} \
                 read={} update={} data={} records={}",
                text(&e.parent),
                c.fid,
                c.sfi.map_or_else(|| "-".to_owned(), |s| s.to_string()),
                c.structure,
                c.capacity,
                c.record_size,
                c.read,
                c.update,
                hex(&e.data),
                records.join(","),
            );
        }
        for p in &self.pins {
            let _ = writeln!(
                t,
                "pin parent={} reference={:02X} encoding={} digits={}..={} value={} \
                 max_tries={} tries={} unblock={}",
                text(&p.parent),
                p.reference,
                encoding(p.encoding),
                p.min_digits,
                p.max_digits,
                hex(&p.value.to_bytes()),
                p.max_tries,
                p.tries,
                unblock(p.unblock),
            );
        }
        for k in &self.keys {
            let _ = writeln!(
                t,
                "key parent={} id={:02X} version={} value={} max_tries={} tries={}",
                text(&k.parent),
                k.id,
                k.version,
                hex(&k.value),
                k.max_tries,
                k.tries,
            );
        }
        if let Some(p) = &self.purse {
            let k = &p.keys;
            let _ = writeln!(
                t,
                "purse parent={} dlk={:02X}/{:02X}/{} dpk={:02X}/{:02X}/{} dtk={} dsk={} \
                 balance={} max_balance={} load_seq={} purchase_seq={} spip={} spfp={} \
                 year={} start_day={}",
                text(&p.parent),
                k.dlk.index,
                k.dlk.version,
                hex(&k.dlk.value),
                k.dpk.index,
                k.dpk.version,
                hex(&k.dpk.value),
                hex(&k.dtk.0),
                hex(&k.dsk.0),
                p.balance,
                p.max_balance,
                p.load_seq,
                p.purchase_seq,
                p.spip,
                p.spfp,
                hex(&p.year),
                hex(&p.start_day),
            );
        }
        t
    }
}

fn hex(bytes: &[u8]) -> String {
    apdu::hex_compact(bytes)
}

/// A string, length-prefixed (labels may hold spaces or `=`).
fn text(s: &str) -> String {
    format!("{}:{s}", s.len())
}

fn encoding(e: PinEncoding) -> &'static str {
    match e {
        PinEncoding::Bcd => "bcd",
        PinEncoding::Ascii => "ascii",
        PinEncoding::AsciiFfPadded => "ascii-ff",
    }
}

fn unblock(u: Unblock) -> String {
    match u {
        Unblock::Never => "never".into(),
        Unblock::IssuerKey => "issuer-key".into(),
        Unblock::Puk(r) => format!("puk:{r:02X}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BUILTIN, builtin_text};
    use super::*;

    /// The same card whatever the file looks like; a different digest for any change to
    /// the card, the chosen state included.
    #[test]
    fn the_digest_is_the_cards_not_the_files() {
        let gen3 = builtin_text("gen3").unwrap();
        let base = Profile::parse(gen3, "a").unwrap().digest();
        let same = [
            gen3.replace("# card type '3' adult", ""),
            gen3.replace(
                "\"4E 14 00*20\"",
                "\"4E14 0000000000000000000000000000000000000000\"",
            ),
            gen3.replacen("synthetic 3rd-generation", "another description of a", 1),
        ];
        for text in &same {
            assert_eq!(Profile::parse(text, "b").unwrap().digest(), base);
        }
        let changed = [
            gen3.replacen("value = \"123456\"", "value = \"654321\"", 1),
            gen3.replacen(
                "unblock = \"issuer-key\"",
                "unblock = \"issuer-key\"\ntries = 2",
                1,
            ),
            gen3.replacen("\"02 01 33\"", "\"02 01 34\"", 1),
            gen3.replacen("00 1C 9B 25\"", "00 1C 9B 26\"", 1),
            gen3.replacen("# challenge_seed = 1", "challenge_seed = 1", 1),
            gen3.replacen(
                "kind = \"ssse\"",
                "kind = \"ssse\"\nblocked = \"permanent\"",
                1,
            ),
        ];
        for text in &changed {
            assert_ne!(Profile::parse(text, "c").unwrap().digest(), base, "{text}");
        }
        let digests: Vec<_> = BUILTIN
            .iter()
            .map(|(n, t)| Profile::parse(t, n).unwrap().digest())
            .collect();
        assert_ne!(digests[0], digests[1]);
    }
}
