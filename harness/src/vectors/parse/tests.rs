//! The parser: cases, steps, errors with their place, and version 3's declared values.

use super::super::parse_str;
use super::*;

fn parse(text: &str) -> Result<Vec<Case>, VectorError> {
    parse_str(text, Path::new("t.apdu"))
}

#[test]
fn parses_cases_steps_and_comments() {
    let cases = parse(
        "version 1\n# a comment\ncase ssse.select\n  tags select t0\n  reset 3B 6D *\n\
         > 00A4 040 00F 7378312E73682EC9E7BBE1B1A3D5CF  # SSSE\n< 611E\n\
         case two\n> 00B2010400\n< 6Cxx|6986\n",
    )
    .unwrap();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].tags, ["select", "t0"]);
    assert_eq!(cases[0].steps.len(), 2);
    assert_eq!(cases[0].steps[1].line, 6);
    let StepKind::Exchange {
        command, expect, ..
    } = &cases[0].steps[1].kind
    else {
        panic!("not an exchange")
    };
    assert_eq!(command.len(), 20);
    assert!(expect.matches(&[0x61, 0x1E]));
    assert_eq!(cases[1].line, 8);
}

#[test]
fn errors_name_line_column_and_expectation() {
    #[rustfmt::skip]
    let table = [
        ("case a\n> 00A40000\nreset\n",        2, 1,  "expected a `<`"),
        ("case a\nfrobnicate 1\n",              2, 1,  "unknown directive \"frobnicate\""),
        ("> 00A40000\n< 9000\n",                1, 1,  "belong to a case"),
        ("case a\n> 00A4 0G00\n< 9000\n",       2, 9,  "found 'G'"),
        ("case a\n> 00A40000\n< 90\n",          3, 3,  "status word"),
        ("case a\n> 00A40000\n< 9000 1\n",      3, 3,  "odd number"),
        ("case a\n< 9000\n",                    2, 1,  "must follow a `>`"),
        ("case a\n",                            1, 1,  "has no steps"),
        ("case a\nreset\ncase a\nreset\n",      3, 6,  "already defined at line 1"),
        ("case a b\n",                          1, 1,  "malformed \"case\""),
        ("version 4\n",                         1, 9,  "unsupported format version 4"),
        ("case a\npsam ext-auth\n< 9000\n",     2, 6,  "psam: expected one of"),
        ("case a\npsam ext-auth 0G\n< 9000\n",  2, 6,  "expected a hex byte"),
        ("case a\npsam pin-reset 12x4\n<9000\n", 2, 6,  "expected a PIN"),
        ("case a\npsam block-card\n",          2, 1,  "expected a `<`"),
        ("case a\nreset\nversion 1\n",          3, 1,  "must come first"),
        ("case a\n  > 00A40000\n",              2, 1,  "expected a `<`"),
    ];
    for (text, line, column, message) in table {
        let e = parse(text).unwrap_err();
        assert_eq!((e.line, e.column), (line, column), "{text:?}: {e}");
        assert!(e.message.contains(message), "{text:?}: {e}");
        assert!(
            e.to_string()
                .starts_with(&format!("t.apdu:{line}:{column}: "))
        );
    }
}

fn exchange(step: &Step) -> &[u8] {
    match &step.kind {
        StepKind::Exchange { command, .. } => command,
        _ => panic!("not an exchange"),
    }
}

#[test]
fn declared_values_lc_and_repeat() {
    let cases = parse(
        "version 3\ncase a\n  req REQ-PIN-01\n  repeat $pin.ssse.tries-1\n  \
         > 00 20 00 00 $lc $pin.ssse.wrong1\n  < 63C$pin.ssse.tries-1\n  end\n\
         > 00 20 00 00 $lc $pin.pki\n< 9000\nverify $pin.ssse\n< 9000\n",
    )
    .unwrap();
    let c = &cases[0];
    assert_eq!(c.requirements, ["REQ-PIN-01"]);
    assert_eq!(c.steps.len(), 4, "two repeated, then two");
    assert_eq!(exchange(&c.steps[0]), [0, 0x20, 0, 0, 3, 0x23, 0x45, 0x67]);
    assert_eq!(exchange(&c.steps[1]), exchange(&c.steps[0]));
    assert_eq!(exchange(&c.steps[2]).get(4..6), Some(&[8u8, 0x31][..]));
    assert_eq!(exchange(&c.steps[3]), [0, 0x20, 0, 0, 3, 0x12, 0x34, 0x56]);
    assert!(c.not_applicable.is_none());
    let StepKind::Exchange { expect, .. } = &c.steps[0].kind else {
        panic!()
    };
    assert!(expect.matches(&[0x63, 0xC2]) && !expect.matches(&[0x63, 0xC1]));
}

#[test]
fn needs_and_missing_values_make_a_case_not_applicable() {
    let gen2 = Declared::fixed(crate::declaration::Declaration::new(
        "gen2",
        Profile::builtin("gen2").unwrap(),
    ));
    let text = "needs ssse\ncase a\nneeds pki\n> 00\n< 9000\ncase b\n> 00 $pin.pki\n< 9000\n\
                case c\n> 00\n< 9000\n";
    let cases = super::parse(text, Path::new("t"), 0, &mut Budget::new(), &gen2).unwrap();
    assert!(cases[0].not_applicable.as_deref().unwrap().contains("pki"));
    assert!(cases[1].not_applicable.as_deref().unwrap().contains("PKI"));
    assert_eq!(cases[2].not_applicable, None);
    let all = parse(text).unwrap();
    assert!(all.iter().all(|c| c.not_applicable.is_none()));
    let counts = super::parse(
        "case a\n> 00\n< 63C$pin.pki.tries-1\n",
        Path::new("t"),
        0,
        &mut Budget::new(),
        &gen2,
    )
    .unwrap();
    assert!(counts[0].not_applicable.is_some());
    // `needs` with a declared count: at least that many tries, else N/A.
    let guarded = parse(
        "case a\nneeds $pin.ssse.tries-3\n> 00\n< 9000\ncase b\nneeds $pin.ssse.tries-4\n> 00\n< 9000\n",
    )
    .unwrap();
    assert!(guarded[0].not_applicable.is_none());
    assert!(
        guarded[1]
            .not_applicable
            .as_deref()
            .unwrap()
            .contains("negative")
    );
    let file_level = super::parse(
        "needs pki\ncase a\n> 00\n< 9000\n",
        Path::new("t"),
        0,
        &mut Budget::new(),
        &gen2,
    )
    .unwrap();
    assert!(file_level[0].not_applicable.is_some());
}

#[test]
fn version_3_errors() {
    #[rustfmt::skip]
    let table = [
        ("case a\n> 00 $pin.nobody\n< 9000\n",            2, 6, "expected an application"),
        ("case a\n> 00 $pni.ssse\n< 9000\n",              2, 6, "unknown reference"),
        ("case a\n< 9000 $lc\n",                           2, 8, "$lc goes once"),
        ("case a\nrepeat 2\n> 00\n< 9000\n",              2, 1, "without its `end`"),
        ("case a\nend\n",                                  2, 1, "without a `repeat`"),
        ("case a\nrepeat 1\nrepeat 1\n",                   3, 1, "do not nest"),
        ("case a\nrepeat 256\n",                           2, 8, "from 0 to 255"),
        ("case a\nneeds wings\n",                           2, 7, "unknown feature \"wings\""),
        ("case a\n> 00 $lc {r}\n< 9000\n",                2, 1, "cannot count"),
    ];
    for (text, line, column, message) in table {
        let e = parse(text).unwrap_err();
        assert_eq!((e.line, e.column), (line, column), "{text:?}: {e}");
        assert!(e.message.contains(message), "{text:?}: {e}");
    }
}
