//! The line grammar of the native format (nom): one directive per line, the keyword first.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{space0, space1};
use nom::combinator::{all_consuming, rest};
use nom::multi::separated_list1;
use nom::sequence::terminated;
use nom::{IResult, Parser};

use super::high_level;

/// One parsed line.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line<'a> {
    Version(&'a str),
    Case(&'a str),
    Profile(usize, &'a str),
    Tags(Vec<&'a str>),
    Reset(Option<(usize, &'a str)>),
    Command(usize, &'a str),
    Psam(usize, &'a str),
    Response(usize, &'a str),
    High(usize, &'a str, &'a str),
    Include(usize, &'a str),
    Needs(usize, Vec<&'a str>),
    Req(usize, Vec<&'a str>),
    Repeat(usize, &'a str),
    End,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._-/:".contains(c)
}

fn is_requirement_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.".contains(c)
}

fn is_keyword_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// `KEYWORD args`, with the column (1-based) of where the arguments start.
pub(super) fn line(input: &str) -> IResult<&str, Line<'_>> {
    let col = |r: &str| input.len() - r.len() + 1;
    let (r, keyword) = alt((tag(">"), tag("<"), take_while1(is_keyword_char))).parse(input)?;
    let (args, _) = space0(r)?;
    let at = col(args);
    match keyword {
        ">" => Ok(("", Line::Command(at, args))),
        "<" => Ok(("", Line::Response(at, args))),
        "version" => all_consuming(terminated(
            take_while1(|c: char| c.is_ascii_digit()),
            space0,
        ))
        .map(Line::Version)
        .parse(args),
        "case" => all_consuming(terminated(take_while1(is_name_char), space0))
            .map(Line::Case)
            .parse(args),
        "tags" => all_consuming(terminated(
            separated_list1(space1, take_while1(is_name_char)),
            space0,
        ))
        .map(Line::Tags)
        .parse(args),
        "reset" => rest
            .map(|a: &str| (!a.trim().is_empty()).then_some((at, a)))
            .map(Line::Reset)
            .parse(args),
        "psam" => Ok(("", Line::Psam(at, args))),
        k if high_level::KEYWORDS.contains(&k) => Ok(("", Line::High(at, keyword, args))),
        "include" => all_consuming(terminated(
            take_while1(|c: char| !c.is_whitespace()),
            space0,
        ))
        .map(|p| Line::Include(at, p))
        .parse(args),
        "profile" => all_consuming(terminated(take_while1(is_name_char), space0))
            .map(|p| Line::Profile(at, p))
            .parse(args),
        "needs" => all_consuming(terminated(
            separated_list1(space1, take_while1(is_keyword_char)),
            space0,
        ))
        .map(|f| Line::Needs(at, f))
        .parse(args),
        "req" => all_consuming(terminated(
            separated_list1(space1, take_while1(is_requirement_char)),
            space0,
        ))
        .map(|r| Line::Req(at, r))
        .parse(args),
        "repeat" => all_consuming(terminated(
            take_while1(|c: char| c.is_ascii_digit()),
            space0,
        ))
        .map(|n| Line::Repeat(at, n))
        .parse(args),
        "end" => all_consuming(space0).map(|_| Line::End).parse(args),
        _ => Err(nom::Err::Failure(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Tag,
        ))),
    }
}

/// What each directive expects, for error messages.
pub(super) fn usage(keyword: &str) -> Option<&'static str> {
    Some(match keyword {
        "version" => "version 1, 2 or 3",
        "case" => "case NAME (letters, digits and . _ - / :)",
        "tags" => "tags TAG...",
        "reset" => "reset [ATR pattern]",
        ">" => "> HEX APDU",
        "psam" => "psam OPERATION [ARGS] [tamper]",
        "profile" => "profile NAME (a built-in profile or a profile file)",
        "include" => "include FILE (steps, relative to this file)",
        "needs" => "needs FEATURE... (ssse, bank, bank-keys, pki, df-keys, sm4, des, t0, t1)",
        "req" => "req REQUIREMENT-ID...",
        "repeat" => {
            "repeat COUNT (a decimal number, or a declared count such as $pin.ssse.tries), then steps, then end"
        }
        "end" => "end (closes a repeat)",
        "<" => "< [DATA] SW",
        _ => return high_level::usage(keyword),
    })
}
