//! Response APDUs: data followed by SW1 SW2.

use crate::status::StatusWord;

/// A response: data and status word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Response data (may be empty).
    pub data: Vec<u8>,
    /// The status word.
    pub sw: StatusWord,
}

impl Response {
    /// A response with data.
    #[must_use]
    pub fn new(data: Vec<u8>, sw: StatusWord) -> Self {
        Self { data, sw }
    }

    /// A status word alone.
    #[must_use]
    pub fn status(sw: StatusWord) -> Self {
        Self {
            data: Vec::new(),
            sw,
        }
    }

    /// Splits raw response bytes into data and status word; `None` below two bytes.
    #[must_use]
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let (data, sw) = Self::split(bytes)?;
        Some(Self {
            data: data.to_vec(),
            sw,
        })
    }

    /// Splits raw response bytes into the data (borrowed, not copied) and the status word;
    /// `None` below two bytes. The allocation-free form of [`Response::parse`].
    #[must_use]
    pub fn split(bytes: &[u8]) -> Option<(&[u8], StatusWord)> {
        let (data, sw) = bytes.split_last_chunk::<2>()?;
        Some((data, StatusWord::from(*sw)))
    }

    /// Appends data then SW1 SW2 to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.to_bytes());
    }

    /// Data then SW1 SW2.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        self.encode_into(&mut out);
        out
    }
}

impl From<StatusWord> for Response {
    fn from(sw: StatusWord) -> Self {
        Self::status(sw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_borrows_the_data_and_reads_the_status_word() {
        let bytes = [0x01, 0x02, 0x61, 0x10];
        let (data, sw) = Response::split(&bytes).unwrap();
        assert_eq!(data, &[0x01, 0x02]);
        assert_eq!(sw, StatusWord::MoreAvailable(0x10));
        assert_eq!(
            Response::split(&[0x90, 0x00]),
            Some((&[][..], StatusWord::Success))
        );
        assert_eq!(Response::split(&[0x90]), None);
        assert_eq!(
            Response::parse(&bytes),
            Some(Response::new(
                vec![0x01, 0x02],
                StatusWord::MoreAvailable(0x10)
            ))
        );
    }
}
