//! Command APDUs: a borrowed view for parsing ([`CommandApdu`]) and an owned builder for
//! encoding ([`Command`]), covering the four cases of ISO 7816-3 §12.1 in short and extended
//! form.

use crate::class::Class;
use crate::error::{EncodeError, ParseError};
pub use crate::length::LengthEncoding;

/// The ISO 7816-3 case of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// No data, no Le.
    One,
    /// No data, Le.
    Two,
    /// Data, no Le.
    Three,
    /// Data and Le.
    Four,
}

/// A parsed command APDU borrowing its data from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandApdu<'a> {
    /// Class byte.
    pub cla: Class,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (empty for cases 1 and 2).
    pub data: &'a [u8],
    /// Ne, the maximum number of response bytes expected (1..=65536), if Le is present.
    pub ne: Option<u32>,
    /// How the lengths were encoded.
    pub encoding: LengthEncoding,
}

impl<'a> CommandApdu<'a> {
    /// Parses a command APDU. Every byte must be accounted for.
    ///
    /// # Errors
    /// A [`ParseError`] saying what is malformed.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let ([cla, ins, p1, p2], data, ne, encoding) = crate::parse::command(bytes)?;
        Ok(Self {
            cla: cla.into(),
            ins,
            p1,
            p2,
            data,
            ne,
            encoding,
        })
    }

    /// The ISO 7816-3 case.
    #[must_use]
    pub fn case(&self) -> Case {
        match (self.data.is_empty(), self.ne.is_some()) {
            (true, false) => Case::One,
            (true, true) => Case::Two,
            (false, false) => Case::Three,
            (false, true) => Case::Four,
        }
    }

    /// Appends the encoding to `out`; the bytes equal those parsed.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        // A parsed APDU always satisfies the encoder's bounds.
        let _ = encode(self.header(), self.data, self.ne, Some(self.encoding), out);
    }

    /// The encoding as a new vector.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 3 + self.data.len() + 3);
        self.encode_into(&mut out);
        out
    }

    /// An owned copy that encodes to the same bytes.
    #[must_use]
    pub fn to_owned_command(&self) -> Command {
        Command {
            cla: self.cla.0,
            ins: self.ins,
            p1: self.p1,
            p2: self.p2,
            data: self.data.to_vec(),
            ne: self.ne,
            encoding: Some(self.encoding),
        }
    }

    fn header(&self) -> [u8; 4] {
        [self.cla.0, self.ins, self.p1, self.p2]
    }
}

/// An owned command APDU for building and encoding.
///
/// ```
/// use apdu::Command;
/// let select = Command::new(0x00, 0xA4, 0x04, 0x00).data(*b"1PAY.SYS.DDF01").le(256);
/// assert_eq!(select.encode().unwrap()[..5], [0x00, 0xA4, 0x04, 0x00, 0x0E]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data.
    pub data: Vec<u8>,
    /// Ne (1..=65536), or no Le.
    pub ne: Option<u32>,
    /// Forced length encoding; `None` picks short when the lengths fit.
    pub encoding: Option<LengthEncoding>,
}

impl Command {
    /// A case 1 command.
    #[must_use]
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            ne: None,
            encoding: None,
        }
    }

    /// Sets the command data.
    #[must_use]
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = data.into();
        self
    }

    /// Sets Ne, the number of response bytes expected (256 encodes as short Le 00).
    #[must_use]
    pub fn le(mut self, ne: u32) -> Self {
        self.ne = Some(ne);
        self
    }

    /// Forces extended length encoding.
    #[must_use]
    pub fn extended(mut self) -> Self {
        self.encoding = Some(LengthEncoding::Extended);
        self
    }

    /// Encodes the command.
    ///
    /// # Errors
    /// An [`EncodeError`] when the lengths cannot be encoded.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(4 + 3 + self.data.len() + 3);
        encode(
            [self.cla, self.ins, self.p1, self.p2],
            &self.data,
            self.ne,
            self.encoding,
            &mut out,
        )?;
        Ok(out)
    }

    /// A borrowed view of this command, as the parser would give it.
    ///
    /// # Errors
    /// An [`EncodeError`] when the lengths cannot be encoded.
    pub fn view(&self) -> Result<CommandApdu<'_>, EncodeError> {
        let encoding = choose_encoding(self.data.len(), self.ne, self.encoding)?;
        Ok(CommandApdu {
            cla: Class(self.cla),
            ins: self.ins,
            p1: self.p1,
            p2: self.p2,
            data: &self.data,
            ne: self.ne,
            encoding,
        })
    }
}

impl TryFrom<&[u8]> for Command {
    type Error = ParseError;

    fn try_from(bytes: &[u8]) -> Result<Self, ParseError> {
        CommandApdu::parse(bytes).map(|c| c.to_owned_command())
    }
}

fn choose_encoding(
    len: usize,
    ne: Option<u32>,
    forced: Option<LengthEncoding>,
) -> Result<LengthEncoding, EncodeError> {
    if len > 0xFFFF {
        return Err(EncodeError::DataTooLong { len });
    }
    if let Some(n) = ne
        && !(1..=65_536).contains(&n)
    {
        return Err(EncodeError::BadNe { ne: n });
    }
    let fits_short = len <= 0xFF && ne.is_none_or(|n| n <= 256);
    if len == 0 && ne.is_none() {
        // Case 1 has no length fields: its encoding is short, whatever was asked.
        return Ok(LengthEncoding::Short);
    }
    match forced {
        Some(LengthEncoding::Short) if !fits_short => Err(EncodeError::NeedsExtended { len, ne }),
        Some(e) => Ok(e),
        None if fits_short => Ok(LengthEncoding::Short),
        None => Ok(LengthEncoding::Extended),
    }
}

/// Writes header, Lc, data and Le; the bounds are checked by [`choose_encoding`], so the
/// casts below cannot truncate.
fn encode(
    header: [u8; 4],
    data: &[u8],
    ne: Option<u32>,
    forced: Option<LengthEncoding>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let encoding = choose_encoding(data.len(), ne, forced)?;
    out.extend_from_slice(&header);
    let lc = u16::try_from(data.len()).map_err(|_| EncodeError::DataTooLong { len: data.len() })?;
    // Ne 256 / 65536 encode as 00 / 0000: the low bits of the count.
    let le = ne.map(|n| (n & 0xFFFF) as u16);
    match encoding {
        LengthEncoding::Short => {
            if !data.is_empty() {
                out.push(lc.to_be_bytes()[1]);
                out.extend_from_slice(data);
            }
            if let Some(le) = le {
                out.push(le.to_be_bytes()[1]);
            }
        }
        LengthEncoding::Extended => {
            if !data.is_empty() {
                out.push(0);
                out.extend_from_slice(&lc.to_be_bytes());
                out.extend_from_slice(data);
            }
            if let Some(le) = le {
                if data.is_empty() {
                    out.push(0);
                }
                out.extend_from_slice(&le.to_be_bytes());
            }
        }
    }
    Ok(())
}
