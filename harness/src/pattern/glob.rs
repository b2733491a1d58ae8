//! The data matcher: fixed-length runs of items between `*`, placed left to right without
//! backtracking or recursion (a hostile pattern costs O(data × pattern), never more).

use super::{Captures, Item};

impl Item {
    /// How many data bytes the item stands for (`*`: none of its own).
    pub(super) fn len(&self) -> usize {
        match self {
            Self::Byte { .. } => 1,
            Self::AnyData => 0,
            Self::AnyBytes(n) | Self::Capture { len: n, .. } => *n,
        }
    }

    /// True when the item accepts `data` (exactly [`Item::len`] bytes).
    fn accepts(&self, data: &[u8]) -> bool {
        match (self, data) {
            (Self::Byte { value, mask }, [b]) => b & mask == *value,
            (Self::Byte { .. }, _) => false,
            (Self::AnyData | Self::AnyBytes(_) | Self::Capture { .. }, _) => true,
        }
    }
}

/// A run of fixed-length items between two `*` (or an end of the pattern).
struct Segment<'p> {
    items: &'p [Item],
    len: usize,
}

impl Segment<'_> {
    /// True when the segment matches `data` from `at` on (`at + len` within `data`).
    fn matches_at(&self, data: &[u8], at: usize) -> bool {
        let mut pos = at;
        for item in self.items {
            let n = item.len();
            match data.get(pos..pos + n) {
                Some(bytes) if item.accepts(bytes) => pos += n,
                _ => return false,
            }
        }
        true
    }

    /// The captures of the segment placed at `at` (a place where it matches).
    fn capture(&self, data: &[u8], at: usize, caps: &mut Captures) {
        let mut pos = at;
        for item in self.items {
            if let Item::Capture { name, len } = item {
                caps.push((
                    name.clone(),
                    data.get(pos..pos + len).unwrap_or_default().to_vec(),
                ));
            }
            pos += item.len();
        }
    }
}

/// Matches without backtracking or recursion, in O(data × pattern) time: the pattern is
/// fixed-length segments separated by `*`; the first is anchored at the start, the last at
/// the end, and each middle one is placed at its leftmost match after the one before. The
/// leftmost place is always right (whatever a later segment needs, it finds at least as much
/// room after it), and it is the placement the shortest-`*`-first reading gives, so the
/// captures are those of that reading.
pub(super) fn glob(pattern: &[Item], data: &[u8], caps: &mut Captures) -> bool {
    let segments: Vec<Segment<'_>> = pattern
        .split(|i| matches!(i, Item::AnyData))
        .map(|items| Segment {
            items,
            len: items.iter().fold(0usize, |n, i| n.saturating_add(i.len())),
        })
        .collect();
    let (Some((first, rest)), Some(last)) = (segments.split_first(), segments.last()) else {
        return data.is_empty();
    };
    let Some((_, middle)) = rest.split_last() else {
        // No `*`: one segment that covers the data exactly.
        if first.len != data.len() || !first.matches_at(data, 0) {
            return false;
        }
        first.capture(data, 0, caps);
        return true;
    };
    // The first segment at the start, the last at the end, without overlapping.
    let Some(end) = data.len().checked_sub(last.len) else {
        return false;
    };
    if first.len > end || !first.matches_at(data, 0) || !last.matches_at(data, end) {
        return false;
    }
    let mut places = Vec::with_capacity(middle.len());
    let mut from = first.len;
    for seg in middle {
        let Some(latest) = end.checked_sub(seg.len).filter(|l| *l >= from) else {
            return false;
        };
        let Some(at) = (from..=latest).find(|&at| seg.matches_at(data, at)) else {
            return false;
        };
        places.push(at);
        from = at + seg.len;
    }
    first.capture(data, 0, caps);
    for (seg, at) in middle.iter().zip(places) {
        seg.capture(data, at, caps);
    }
    last.capture(data, end, caps);
    true
}

#[cfg(test)]
mod hostile {
    use super::super::*;

    /// Twenty `*` against a 30-byte FCI that does not match: the backtracking matcher tried
    /// every placement (C(30, 20) of them) and ran for minutes.
    #[test]
    fn stars_do_not_backtrack() {
        let pattern = format!("{}01 9000", "* 00 ".repeat(20));
        let e = Expect::parse(&pattern, 1).unwrap();
        let mut response = vec![0u8; 30];
        response.extend([0x90, 0x00]);
        let start = std::time::Instant::now();
        assert!(!e.matches(&response));
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        response.splice(29..30, [0x01]);
        assert!(e.matches(&response));
    }

    /// 50,000 stars on one line: the recursive matcher overflowed the stack (abort).
    #[test]
    fn many_stars_do_not_overflow_the_stack() {
        let pattern = format!("{}AB 9000", "* ".repeat(50_000));
        let e = Expect::parse(&pattern, 1).unwrap();
        assert!(e.matches(&[0x01, 0xAB, 0x90, 0x00]));
        assert!(!e.matches(&[0x01, 0xAC, 0x90, 0x00]));
    }

    /// A pattern longer than any response is refused when it is parsed.
    #[test]
    fn patterns_longer_than_a_response_are_refused() {
        assert!(Expect::parse("*65536 9000", 1).is_ok());
        let e = Expect::parse("*65536 01 9000", 1).unwrap_err();
        assert!(e.message.contains("at most 65536"), "{e:?}");
        assert!(Expect::parse(&"*65536 ".repeat(100_000), 1).is_err());
    }
}

/// The new matcher against the old recursive one (the reference: obviously right, but
/// exponential), on small random patterns and data.
#[cfg(test)]
mod reference {
    use super::super::*;
    use proptest::prelude::*;

    fn reference(pattern: &[Item], data: &[u8], caps: &mut Captures) -> bool {
        match pattern.split_first() {
            None => data.is_empty(),
            Some((Item::AnyData, rest)) => (0..=data.len()).any(|skip| {
                let mark = caps.len();
                let ok = reference(rest, &data[skip..], caps);
                if !ok {
                    caps.truncate(mark);
                }
                ok
            }),
            Some((Item::Byte { value, mask }, rest)) => match data.split_first() {
                Some((b, tail)) => b & mask == *value && reference(rest, tail, caps),
                None => false,
            },
            Some((Item::AnyBytes(n), rest)) => {
                data.len() >= *n && reference(rest, &data[*n..], caps)
            }
            Some((Item::Capture { name, len }, rest)) => match data.split_at_checked(*len) {
                Some((value, tail)) => {
                    caps.push((name.clone(), value.to_vec()));
                    let ok = reference(rest, tail, caps);
                    if !ok {
                        caps.pop();
                    }
                    ok
                }
                None => false,
            },
        }
    }

    fn item() -> impl Strategy<Value = Item> {
        prop_oneof![
            4 => (0u8..3, prop_oneof![Just(0xFFu8), Just(0x0F), Just(0xF0), Just(0)])
                .prop_map(|(v, mask)| Item::Byte { value: v & mask, mask }),
            3 => Just(Item::AnyData),
            1 => (0usize..3).prop_map(Item::AnyBytes),
            1 => (1usize..3, 0u8..3).prop_map(|(len, n)| Item::Capture { name: format!("v{n}"), len }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        #[test]
        fn same_answers_and_captures_as_the_reference(
            items in proptest::collection::vec(item(), 0..9),
            data in proptest::collection::vec(0u8..3, 0..12),
        ) {
            let pattern = DataPattern(items);
            let mut expected = Vec::new();
            let matched = reference(&pattern.0, &data, &mut expected);
            prop_assert_eq!(pattern.matches(&data), matched);
            prop_assert_eq!(pattern.captures(&data), matched.then_some(expected));
        }
    }
}
