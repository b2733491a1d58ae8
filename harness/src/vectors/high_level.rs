//! The card-aware steps of version 2 (`select ssse`, `verify PIN`, `read-record SFI REC`):
//! what each means as a command APDU of the SSC card.

use applet_sim::model::aid;

use crate::psam::op::hex_byte;

/// The high-level directives.
pub const KEYWORDS: [&str; 6] = [
    "select",
    "verify",
    "change-pin",
    "read-record",
    "read-binary",
    "get-challenge",
];

/// What a high-level directive expects, for error messages.
#[must_use]
pub fn usage(keyword: &str) -> Option<&'static str> {
    Some(match keyword {
        "select" => "select mf|ssse|pki|cert|bank|pse | select aid HEX | select fid HEX",
        "verify" => "verify PIN [REF]",
        "change-pin" => "change-pin OLD NEW",
        "read-record" => "read-record SFI REC [LE]",
        "read-binary" => "read-binary SFI OFFSET LEN",
        "get-challenge" => "get-challenge N",
        _ => return None,
    })
}

/// The APDU of a high-level step (version 2): `select NAME|aid HEX|fid HEX`, `verify PIN
/// [REF]`, `change-pin OLD NEW`, `read-record SFI REC [LE]`, `read-binary SFI OFFSET LEN`,
/// `get-challenge N`. Numbers are hex.
pub(super) fn command(keyword: &str, args: &str) -> Result<Vec<u8>, String> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let byte = |w: &str| hex_byte(w).map_err(|e| e.to_string());
    let bcd = |pin: &str| -> Result<Vec<u8>, String> {
        applet_sim::model::PinValue::from_digits(pin)
            .map(|v| v.to_bcd())
            .map_err(|e| e.to_string())
    };
    let with_data = |header: [u8; 4], data: &[u8]| -> Result<Vec<u8>, String> {
        let mut v = header.to_vec();
        v.push(u8::try_from(data.len()).map_err(|_| "more than 255 bytes of data".to_owned())?);
        v.extend_from_slice(data);
        Ok(v)
    };
    match (keyword, words.as_slice()) {
        ("select", ["mf"]) => Ok(vec![0x00, 0xA4, 0x00, 0x0C]),
        ("select", [name]) => {
            // docs/CARD.md §3.1, §3.6, §3.7: the applications' names.
            let Some((_, aid)) = aid::NAMED.iter().find(|(n, _)| n == name) else {
                let names: Vec<&str> = aid::NAMED.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "select: expected mf, {}, aid HEX or fid HEX, found {name:?}",
                    names.join(", ")
                ));
            };
            with_data([0x00, 0xA4, 0x04, 0x0C], aid)
        }
        ("select", ["aid", hex]) => with_data(
            [0x00, 0xA4, 0x04, 0x0C],
            &apdu::parse_hex(hex).map_err(|e| e.to_string())?,
        ),
        ("select", ["fid", hex]) => {
            let fid = apdu::parse_hex(hex).map_err(|e| e.to_string())?;
            if fid.len() != 2 {
                return Err("select fid: expected two bytes".into());
            }
            with_data([0x00, 0xA4, 0x00, 0x0C], &fid)
        }
        ("verify", [pin]) => crate::card::verify(0x00, pin).map_err(|e| e.to_string()),
        ("verify", [pin, reference]) => {
            crate::card::verify(byte(reference)?, pin).map_err(|e| e.to_string())
        }
        ("change-pin", [old, new]) => {
            let mut data = bcd(old)?;
            data.push(0xFF);
            data.extend(bcd(new)?);
            with_data([0x80, 0x5E, 0x01, 0x00], &data)
        }
        ("read-record", [sfi, rec]) | ("read-record", [sfi, rec, _]) => {
            let le = words.get(2).map_or(Ok(0), |w| byte(w))?;
            let sfi = byte(sfi)?;
            if !(1..=30).contains(&sfi) {
                return Err("read-record: SFI 01..1E".into());
            }
            Ok(vec![0x00, 0xB2, byte(rec)?, (sfi << 3) | 0x04, le])
        }
        ("read-binary", [sfi, offset, len]) => {
            let sfi = byte(sfi)?;
            if !(1..=30).contains(&sfi) {
                return Err("read-binary: SFI 01..1E".into());
            }
            Ok(vec![0x00, 0xB0, 0x80 | sfi, byte(offset)?, byte(len)?])
        }
        ("get-challenge", [n]) => Ok(vec![0x00, 0x84, 0x00, 0x00, byte(n)?]),
        _ => Err(format!("expected `{}`", usage(keyword).unwrap_or(keyword))),
    }
}
