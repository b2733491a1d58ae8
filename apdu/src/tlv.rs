//! TLV structures: simple-TLV (SSC records, ISO 7816-4 §5.2.1) and BER-TLV (FCI templates,
//! ISO 7816-4 §5.2.2 / ISO 8825-1).

use crate::error::TlvError;

// ---------------------------------------------------------------------------------------------
// Simple-TLV
// ---------------------------------------------------------------------------------------------

/// One simple-TLV data object: a one-byte tag and its value.
///
/// SSC records are exactly one such object (docs/CARD.md §3.4: `tag(1) len(1) value`). The
/// length is one byte `00..FE`, or `FF` followed by two bytes (ISO 7816-4 §5.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimpleTlv<'a> {
    /// The tag, `01..FE`.
    pub tag: u8,
    /// The value.
    pub value: &'a [u8],
}

impl<'a> SimpleTlv<'a> {
    /// Parses one object at the start of `input`, returning it and the rest.
    ///
    /// # Errors
    /// [`TlvError`] with the offset of the problem within `input`.
    pub fn parse(input: &'a [u8]) -> Result<(Self, &'a [u8]), TlvError> {
        parse_simple_at(input, 0)
    }

    /// Parses `input` as exactly one object with nothing after it.
    ///
    /// # Errors
    /// [`TlvError`], including trailing bytes reported as a truncated next tag's value.
    pub fn parse_exact(input: &'a [u8]) -> Result<Self, TlvError> {
        let (tlv, rest) = Self::parse(input)?;
        if rest.is_empty() {
            Ok(tlv)
        } else {
            Err(TlvError::ValueTooLong { len: input.len() })
        }
    }

    /// Appends the encoding to `out`.
    ///
    /// # Errors
    /// [`TlvError::ValueTooLong`] above 65,535 bytes; [`TlvError::BadSimpleTag`] for 00/FF.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), TlvError> {
        if matches!(self.tag, 0x00 | 0xFF) {
            return Err(TlvError::BadSimpleTag {
                tag: self.tag,
                offset: 0,
            });
        }
        out.push(self.tag);
        match u8::try_from(self.value.len()) {
            Ok(len) if len < 0xFF => out.push(len),
            _ => {
                let len = u16::try_from(self.value.len()).map_err(|_| TlvError::ValueTooLong {
                    len: self.value.len(),
                })?;
                out.push(0xFF);
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        out.extend_from_slice(self.value);
        Ok(())
    }

    /// The encoding as a new vector.
    ///
    /// # Errors
    /// As [`SimpleTlv::encode_into`].
    pub fn to_vec(&self) -> Result<Vec<u8>, TlvError> {
        let mut out = Vec::with_capacity(self.value.len() + 4);
        self.encode_into(&mut out)?;
        Ok(out)
    }
}

fn parse_simple_at(input: &[u8], base: usize) -> Result<(SimpleTlv<'_>, &[u8]), TlvError> {
    let Some((&tag, rest)) = input.split_first() else {
        return Err(TlvError::TruncatedTag { offset: base });
    };
    if matches!(tag, 0x00 | 0xFF) {
        return Err(TlvError::BadSimpleTag { tag, offset: base });
    }
    let (len, header, rest) = match rest {
        [0xFF, hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), 4, rest),
        [0xFF, ..] | [] => return Err(TlvError::TruncatedLength { offset: base + 1 }),
        [len, rest @ ..] => (usize::from(*len), 2, rest),
    };
    let value = rest.get(..len).ok_or(TlvError::TruncatedValue {
        offset: base + header,
        len,
        available: rest.len(),
    })?;
    let rest = rest.get(len..).unwrap_or_default();
    Ok((SimpleTlv { tag, value }, rest))
}

/// Parses one object at the start of the input (whose offset in the whole is given),
/// returning it and the rest.
type ParseAt<'a, T> = fn(&'a [u8], usize) -> Result<(T, &'a [u8]), TlvError>;

/// Iterates over consecutive TLV objects of one kind, stopping after the first error.
#[derive(Clone, Debug)]
pub struct Objects<'a, T> {
    rest: &'a [u8],
    offset: usize,
    parse: ParseAt<'a, T>,
}

impl<'a, T> Iterator for Objects<'a, T> {
    type Item = Result<T, TlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match (self.parse)(self.rest, self.offset) {
            Ok((tlv, rest)) => {
                self.offset += self.rest.len() - rest.len();
                self.rest = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Iterates over consecutive simple-TLV objects (e.g. a "P1 to last" READ RECORD answer).
pub type SimpleTlvIter<'a> = Objects<'a, SimpleTlv<'a>>;

impl<'a> SimpleTlvIter<'a> {
    /// Iterates over the objects in `input`.
    #[must_use]
    pub fn new(input: &'a [u8]) -> Self {
        Self {
            rest: input,
            offset: 0,
            parse: parse_simple_at,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// BER-TLV
// ---------------------------------------------------------------------------------------------

/// A BER-TLV tag of up to four bytes, held as its bytes read big-endian (`9F0C` = 0x9F0C).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub u32);

impl Tag {
    /// The tag's bytes.
    #[must_use]
    pub fn bytes(self) -> Vec<u8> {
        let be = self.0.to_be_bytes();
        let skip = be.iter().take(3).take_while(|b| **b == 0).count();
        be.get(skip..).unwrap_or_default().to_vec()
    }

    /// The first byte (class, constructed bit, tag number or `1F`).
    #[must_use]
    pub fn first_byte(self) -> u8 {
        self.bytes().first().copied().unwrap_or(0)
    }

    /// Bit b6 of the first byte: a constructed object holding nested objects.
    #[must_use]
    pub fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }
}

/// One BER-TLV object borrowing its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BerTlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// The value (for a constructed tag: the nested objects' encodings).
    pub value: &'a [u8],
}

impl<'a> BerTlv<'a> {
    /// Parses one object at the start of `input`, returning it and the rest.
    ///
    /// # Errors
    /// [`TlvError`] with the offset of the problem within `input`.
    pub fn parse(input: &'a [u8]) -> Result<(Self, &'a [u8]), TlvError> {
        parse_ber_at(input, 0)
    }

    /// Iterates over the nested objects of a constructed object (or any byte string).
    #[must_use]
    pub fn children(&self) -> BerIter<'a> {
        BerIter::new(self.value)
    }

    /// Finds the first object with `tag` among `input`'s objects, searching constructed
    /// objects depth first.
    ///
    /// # Errors
    /// [`TlvError`] if the structure is malformed before the tag is found.
    pub fn find(input: &'a [u8], tag: Tag) -> Result<Option<Self>, TlvError> {
        for tlv in BerIter::new(input) {
            let tlv = tlv?;
            if tlv.tag == tag {
                return Ok(Some(tlv));
            }
            if tlv.tag.is_constructed()
                && let Some(found) = Self::find(tlv.value, tag)?
            {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

fn parse_ber_at(input: &[u8], base: usize) -> Result<(BerTlv<'_>, &[u8]), TlvError> {
    let (tag, after_tag) = parse_tag(input, base)?;
    let tag_len = input.len() - after_tag.len();
    let (len, after_len) = parse_length(after_tag, base + tag_len)?;
    let header = input.len() - after_len.len();
    let value = after_len.get(..len).ok_or(TlvError::TruncatedValue {
        offset: base + header,
        len,
        available: after_len.len(),
    })?;
    Ok((
        BerTlv { tag, value },
        after_len.get(len..).unwrap_or_default(),
    ))
}

fn parse_tag(input: &[u8], offset: usize) -> Result<(Tag, &[u8]), TlvError> {
    let Some((&first, mut rest)) = input.split_first() else {
        return Err(TlvError::TruncatedTag { offset });
    };
    let mut tag = u32::from(first);
    if first & 0x1F == 0x1F {
        // Subsequent bytes: b8 = 1 means another byte follows.
        loop {
            let Some((&b, r)) = rest.split_first() else {
                return Err(TlvError::TruncatedTag { offset });
            };
            if tag > 0x00FF_FFFF {
                return Err(TlvError::TagTooLong { offset });
            }
            tag = (tag << 8) | u32::from(b);
            rest = r;
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    Ok((Tag(tag), rest))
}

fn parse_length(input: &[u8], offset: usize) -> Result<(usize, &[u8]), TlvError> {
    let Some((&first, rest)) = input.split_first() else {
        return Err(TlvError::TruncatedLength { offset });
    };
    match first {
        0x00..=0x7F => Ok((usize::from(first), rest)),
        0x81..=0x84 => {
            let n = usize::from(first & 0x0F);
            let bytes = rest.get(..n).ok_or(TlvError::TruncatedLength { offset })?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            Ok((len, rest.get(n..).unwrap_or_default()))
        }
        _ => Err(TlvError::BadLength { offset }),
    }
}

/// Iterates over consecutive BER-TLV objects.
pub type BerIter<'a> = Objects<'a, BerTlv<'a>>;

impl<'a> BerIter<'a> {
    /// Iterates over the objects in `input`.
    #[must_use]
    pub fn new(input: &'a [u8]) -> Self {
        Self {
            rest: input,
            offset: 0,
            parse: parse_ber_at,
        }
    }
}

/// An owned BER-TLV tree for building templates such as the FCI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BerNode {
    /// A primitive object.
    Primitive(Tag, Vec<u8>),
    /// A constructed object and its children, in order.
    Constructed(Tag, Vec<BerNode>),
}

impl BerNode {
    /// A primitive object.
    #[must_use]
    pub fn primitive(tag: u32, value: impl Into<Vec<u8>>) -> Self {
        Self::Primitive(Tag(tag), value.into())
    }

    /// A constructed object.
    #[must_use]
    pub fn constructed(tag: u32, children: Vec<BerNode>) -> Self {
        Self::Constructed(Tag(tag), children)
    }

    /// Parses `input` into trees, descending into constructed tags.
    ///
    /// # Errors
    /// [`TlvError`] for any malformed object.
    pub fn parse_all(input: &[u8]) -> Result<Vec<Self>, TlvError> {
        BerIter::new(input)
            .map(|tlv| {
                let tlv = tlv?;
                Ok(if tlv.tag.is_constructed() {
                    Self::Constructed(tlv.tag, Self::parse_all(tlv.value)?)
                } else {
                    Self::Primitive(tlv.tag, tlv.value.to_vec())
                })
            })
            .collect()
    }

    /// Appends the encoding to `out`.
    ///
    /// # Errors
    /// [`TlvError::ValueTooLong`] beyond a four-byte length.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), TlvError> {
        let (tag, value) = match self {
            Self::Primitive(tag, value) => (*tag, value.clone()),
            Self::Constructed(tag, children) => {
                let mut inner = Vec::new();
                for child in children {
                    child.encode_into(&mut inner)?;
                }
                (*tag, inner)
            }
        };
        out.extend_from_slice(&tag.bytes());
        encode_length(value.len(), out)?;
        out.extend_from_slice(&value);
        Ok(())
    }

    /// The encoding as a new vector.
    ///
    /// # Errors
    /// As [`BerNode::encode_into`].
    pub fn to_vec(&self) -> Result<Vec<u8>, TlvError> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }
}

/// Definite-form BER length: short below 128, else `8n` and n bytes.
fn encode_length(len: usize, out: &mut Vec<u8>) -> Result<(), TlvError> {
    let len32 = u32::try_from(len).map_err(|_| TlvError::ValueTooLong { len })?;
    if len32 < 0x80 {
        out.push(len32.to_be_bytes()[3]);
        return Ok(());
    }
    let be = len32.to_be_bytes();
    let skip = be.iter().take_while(|b| **b == 0).count();
    let significant = be.get(skip..).unwrap_or_default();
    out.push(0x80 | u8::try_from(significant.len()).unwrap_or(4));
    out.extend_from_slice(significant);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SSSE_NAME: [u8; 15] = [
        0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
    ];

    #[test]
    fn builds_the_ssse_fci_of_the_real_card() {
        // docs/CARD.md §3.2: 6F1C 840F<name> A509 88011E 9F0C03 860103
        let fci = BerNode::constructed(
            0x6F,
            vec![
                BerNode::primitive(0x84, SSSE_NAME),
                BerNode::constructed(
                    0xA5,
                    vec![
                        BerNode::primitive(0x88, [0x1E]),
                        // 9F0C is primitive by its tag (b6 of 9F is 0); it carries TLV data.
                        BerNode::primitive(0x9F0C, [0x86, 0x01, 0x03]),
                    ],
                ),
            ],
        );
        let bytes = fci.to_vec().unwrap();
        let expected =
            crate::parse_hex("6F1C840F7378312E73682EC9E7BBE1B1A3D5CFA50988011E9F0C03860103")
                .unwrap();
        assert_eq!(bytes, expected);
        assert_eq!(BerNode::parse_all(&bytes).unwrap(), vec![fci]);
        let discretionary = BerTlv::find(&bytes, Tag(0x9F0C)).unwrap().unwrap();
        let flag = BerTlv::find(discretionary.value, Tag(0x86))
            .unwrap()
            .unwrap();
        assert_eq!(flag.value, [0x03]);
        assert_eq!(BerTlv::find(&bytes, Tag(0x5F2D)).unwrap(), None);
    }

    #[test]
    fn ber_lengths_and_tags() {
        #[rustfmt::skip]
        let ok: [(&[u8], u32, usize); 5] = [
            (&[0x84, 0x00], 0x84, 0),
            (&[0x9F, 0x0C, 0x01], 0x9F0C, 1),
            (&[0x5F, 0x2D, 0x81, 0x80], 0x5F2D, 128),
            (&[0xDF, 0x81, 0x01, 0x82, 0x01, 0x00], 0xDF8101, 256),
            (&[0x04, 0x7F], 0x04, 127),
        ];
        for (header, tag, len) in ok {
            let mut input = header.to_vec();
            input.extend(std::iter::repeat_n(0xEE, len));
            let (tlv, rest) = BerTlv::parse(&input).unwrap();
            assert_eq!((tlv.tag, tlv.value.len(), rest.len()), (Tag(tag), len, 0));
            let node = BerNode::primitive(tag, tlv.value.to_vec());
            assert_eq!(node.to_vec().unwrap(), input, "{tag:X}");
        }
        #[rustfmt::skip]
        let bad: [(&[u8], TlvError); 6] = [
            (&[], TlvError::TruncatedTag { offset: 0 }),
            (&[0x9F], TlvError::TruncatedTag { offset: 0 }),
            (&[0x84], TlvError::TruncatedLength { offset: 1 }),
            (&[0x84, 0x80], TlvError::BadLength { offset: 1 }),
            (&[0x84, 0x82, 0x01], TlvError::TruncatedLength { offset: 1 }),
            (&[0x84, 0x03, 0x01], TlvError::TruncatedValue { offset: 2, len: 3, available: 1 }),
        ];
        for (input, err) in bad {
            assert_eq!(BerTlv::parse(input).unwrap_err(), err, "{input:02X?}");
        }
    }

    #[test]
    fn simple_tlv_records() {
        // EF05 records 1 and 3 of the real 3.0 card (docs/CARD.md §7.1).
        let input =
            crate::parse_hex("0110 519900D15600000510000B26FFFFFFFF 0304 332E3030").unwrap();
        let objects: Vec<_> = SimpleTlvIter::new(&input)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!((objects[1].tag, objects[1].value), (0x03, &b"3.00"[..]));
        assert_eq!(objects[0].to_vec().unwrap(), input[..18]);
        let long = vec![0x11; 300];
        let enc = SimpleTlv {
            tag: 0x21,
            value: &long,
        }
        .to_vec()
        .unwrap();
        assert_eq!(enc[..4], [0x21, 0xFF, 0x01, 0x2C]);
        assert_eq!(SimpleTlv::parse_exact(&enc).unwrap().value.len(), 300);
        assert_eq!(
            SimpleTlv::parse(&[0x01, 0x05, 0x00]).unwrap_err(),
            TlvError::TruncatedValue {
                offset: 2,
                len: 5,
                available: 1
            }
        );
        assert_eq!(
            SimpleTlvIter::new(&[0x01, 0x00, 0xFF, 0x00])
                .nth(1)
                .unwrap()
                .unwrap_err(),
            TlvError::BadSimpleTag {
                tag: 0xFF,
                offset: 2
            }
        );
    }
}
