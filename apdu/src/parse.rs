//! The command-APDU parser: header, Lc, data and Le for the four cases of ISO 7816-3 §12.1.
//!
//! nom lives in this file only; the public API returns [`ParseError`].

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::take;
use nom::number::complete::{be_u8, be_u16};

use crate::error::ParseError;
use crate::length::LengthEncoding;

type In<'a> = &'a [u8];

/// Le byte(s) to Ne: short `00` is 256, extended `0000` is 65,536 (ISO 7816-3 §12.1.3).
fn ne_short(le: u8) -> u32 {
    if le == 0 { 256 } else { u32::from(le) }
}

fn ne_extended(le: u16) -> u32 {
    if le == 0 { 65_536 } else { u32::from(le) }
}

/// The body after the four header bytes, decoded as (data, Ne, encoding).
type Body<'a> = (&'a [u8], Option<u32>, LengthEncoding);

/// A parsed command: header (CLA INS P1 P2), data, Ne and how the lengths were written.
pub(crate) type Fields<'a> = ([u8; 4], &'a [u8], Option<u32>, LengthEncoding);

/// Parses a whole command APDU; every byte must be accounted for.
pub(crate) fn command(input: &[u8]) -> Result<Fields<'_>, ParseError> {
    let (body, (cla, ins, p1, p2)) = header(input).map_err(
        |_: nom::Err<nom::error::Error<In<'_>>>| ParseError::TooShort { len: input.len() },
    )?;
    let (data, ne, encoding) = lengths(body)?;
    Ok(([cla, ins, p1, p2], data, ne, encoding))
}

fn header(i: In<'_>) -> IResult<In<'_>, (u8, u8, u8, u8)> {
    (be_u8, be_u8, be_u8, be_u8).parse(i)
}

/// Decides the case from the body length and the first length byte.
fn lengths(body: In<'_>) -> Result<Body<'_>, ParseError> {
    match body {
        // Case 1: header only.
        [] => Ok((&[], None, LengthEncoding::Short)),
        // Case 2S: one Le byte.
        [le] => Ok((&[], Some(ne_short(*le)), LengthEncoding::Short)),
        // Short Lc = 00 followed by exactly one byte cannot be extended (needs three bytes).
        [0, _] => Err(ParseError::ZeroShortLc),
        // Extended: a 00 marker, then two length bytes.
        [0, rest @ ..] => extended(rest),
        // Cases 3S and 4S.
        [_, ..] => short(body),
    }
}

/// Case 3S (`Lc data`) and case 4S (`Lc data Le`).
fn short(body: In<'_>) -> Result<Body<'_>, ParseError> {
    let (rest, lc) =
        be_u8::<_, nom::error::Error<In<'_>>>(body).map_err(|_| ParseError::TooShort { len: 4 })?;
    let data = data_field(rest, usize::from(lc))?;
    match rest.get(usize::from(lc)..).unwrap_or_default() {
        [] => Ok((data, None, LengthEncoding::Short)),
        [le] => Ok((data, Some(ne_short(*le)), LengthEncoding::Short)),
        [_, extra @ ..] => Err(ParseError::TrailingBytes { extra: extra.len() }),
    }
}

/// Case 2E (`00 Le Le`), case 3E (`00 Lc Lc data`), case 4E (`00 Lc Lc data Le Le`).
fn extended(rest: In<'_>) -> Result<Body<'_>, ParseError> {
    let (after, len) =
        be_u16::<_, nom::error::Error<In<'_>>>(rest).map_err(|_| ParseError::BadExtendedLength)?;
    if after.is_empty() {
        return Ok((&[], Some(ne_extended(len)), LengthEncoding::Extended));
    }
    if len == 0 {
        return Err(ParseError::ZeroExtendedLc);
    }
    let data = data_field(after, usize::from(len))?;
    let tail = after.get(usize::from(len)..).unwrap_or_default();
    match tail.len() {
        0 => Ok((data, None, LengthEncoding::Extended)),
        1 => Err(ParseError::BadExtendedLe),
        2 => {
            let (_, le) = be_u16::<_, nom::error::Error<In<'_>>>(tail)
                .map_err(|_| ParseError::BadExtendedLe)?;
            Ok((data, Some(ne_extended(le)), LengthEncoding::Extended))
        }
        n => Err(ParseError::TrailingBytes { extra: n - 2 }),
    }
}

/// Takes exactly `lc` data bytes, checking the length before taking.
fn data_field(i: In<'_>, lc: usize) -> Result<&[u8], ParseError> {
    if i.len() < lc {
        return Err(ParseError::Truncated {
            lc,
            available: i.len(),
        });
    }
    take::<_, _, nom::error::Error<In<'_>>>(lc)
        .parse(i)
        .map(|(_, data)| data)
        .map_err(|_| ParseError::Truncated {
            lc,
            available: i.len(),
        })
}
