//! The ATR and the issuer's identifiers, as pure rules over bytes (docs/CARD.md §2, §3.4):
//! the ATR's layout and its historical bytes, the card identification code that repeats
//! their region and serial, the initialising organisation.

use super::rules::{cn_digits, region_code};

/// What Part 2 Table 16 puts in the 13 historical bytes (docs/CARD.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Historical<'a> {
    /// T8-T9: the first 4 digits of the issuing region, BCD.
    pub region: &'a [u8],
    /// TA-TD: the card serial.
    pub serial: &'a [u8],
}

/// The ATR against docs/CARD.md §2 (`3B 6x 00 TC1` and 13 historical bytes, T=0 only):
/// every broken rule, and the historical bytes when there are 13.
pub(super) fn atr(atr: &[u8]) -> (Vec<String>, Option<Historical<'_>>) {
    let mut problems = Vec::new();
    let (Some(&ts), Some(&t0)) = (atr.first(), atr.get(1)) else {
        return (vec![format!("{} byte(s): no TS and T0", atr.len())], None);
    };
    if ts != 0x3B {
        problems.push(format!(
            "TS {ts:02X}: the card's ATR starts 3B (direct convention)"
        ));
    }
    if t0 >> 4 != 0x6 {
        problems.push(format!(
            "T0 {t0:02X}: the basic T=0 ATR announces TB1 and TC1 only (T0 = 6x)"
        ));
    }
    // Interface bytes (ISO/IEC 7816-3) to find the historical bytes wherever they are.
    let mut at = 2;
    let mut y = t0 >> 4;
    let mut first = true;
    loop {
        if first && y & 0x2 != 0 && atr.get(at + usize::from(y & 0x1)) != Some(&0x00) {
            problems.push("TB1 is not 00 (docs/CARD.md §2: 3B 6x 00 TC1)".to_owned());
        }
        at += usize::from(y & 0x1) + usize::from(y >> 1 & 0x1) + usize::from(y >> 2 & 0x1);
        if y & 0x8 == 0 {
            break;
        }
        let Some(&td) = atr.get(at) else { break };
        at += 1;
        y = td >> 4;
        first = false;
    }
    let k = usize::from(t0 & 0x0F);
    let historical = atr.get(at..at + k);
    if historical.is_none() {
        problems.push(format!(
            "{} byte(s) are fewer than T0's {k} historical bytes",
            atr.len()
        ));
    }
    if k != 13 {
        problems.push(format!(
            "{k} historical bytes: Part 2 Table 16 gives 13 (T1-TD; region T8-T9, serial TA-TD)"
        ));
    }
    let table16 = historical.filter(|h| h.len() == 13).map(|h| Historical {
        region: h.get(7..9).unwrap_or_default(),
        serial: h.get(9..13).unwrap_or_default(),
    });
    (problems, table16)
}

/// The card identification code (docs/CARD.md §3.4, V2.0 Table 10): region (cn 3, a
/// plausible GB/T 2260 code) ‖ `D1 56 00 00 05` ‖ serial (4) ‖ 认证码 (4, any value;
/// `FFFFFFFF` on some cards); the serial equal to the ATR's TA-TD and the region's first 4
/// digits to its T8-T9 (§2). Every broken rule.
pub(super) fn card_id(value: &[u8], historical: Option<Historical<'_>>) -> Vec<String> {
    let mut problems = Vec::new();
    let (16, Some(region), Some(rid), Some(serial)) = (
        value.len(),
        value.get(..3),
        value.get(3..8),
        value.get(8..12),
    ) else {
        return vec![format!("{} byte(s): the code has 16", value.len())];
    };
    match cn_digits(region) {
        Ok(digits) => {
            if let Err(e) = region_code(&digits) {
                problems.push(format!("its region: {e}"));
            }
        }
        Err(e) => problems.push(format!("its region (cn 3): {e}")),
    }
    if rid != super::spec::RID {
        problems.push(format!(
            "bytes 4-8 are {}, the RID D156000005",
            apdu::hex_compact(rid)
        ));
    }
    if let Some(h) = historical {
        if serial != h.serial {
            problems.push(format!(
                "its serial {} is not the ATR's TA-TD {}",
                apdu::hex_compact(serial),
                apdu::hex_compact(h.serial)
            ));
        }
        if region.get(..2) != Some(h.region) {
            problems.push(format!(
                "its region {} does not start with the ATR's T8-T9 {}",
                apdu::hex_compact(region),
                apdu::hex_compact(h.region)
            ));
        }
    }
    problems
}

/// The initialising organisation (docs/CARD.md §3.4, V2.0 Table 12): `91 56 00 00 02` ‖
/// issuing region (cn 3) ‖ region of the initialising organisation (cn 3) ‖ a sequence
/// byte (not checked: real cards hold `DB`). Every broken rule.
pub(super) fn initialising_organisation(value: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    if value.get(..5) != Some(&[0x91, 0x56, 0x00, 0x00, 0x02][..]) {
        problems.push("it does not start with 9156000002".to_owned());
    }
    for (what, range) in [("issuing region", 5..8), ("its own region", 8..11)] {
        let digits = value.get(range).map(cn_digits);
        match digits {
            Some(Ok(d)) => {
                if let Err(e) = region_code(&d) {
                    problems.push(format!("{what}: {e}"));
                }
            }
            Some(Err(e)) => problems.push(format!("{what}: {e}")),
            None => problems.push(format!("{} byte(s): it has 12", value.len())),
        }
    }
    problems.dedup();
    problems
}
