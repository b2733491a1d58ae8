//! Calendar dates as the card holds them (EF05 tags 05 and 06, EF06 tag 0D: YYYYMMDD in BCD),
//! read from what a person types: `YYYYMMDD` or `YYYY-MM-DD`, nothing else, a day that
//! exists (leap years: divisible by 4, not by 100 unless by 400), years 1900 to 2099. Shared
//! by `ssc-card personalise` and `ssc-harness card reissue`.

use std::fmt;

/// The first year a date may have.
pub const FIRST_YEAR: u16 = 1900;
/// The last year a date may have.
pub const LAST_YEAR: u16 = 2099;

/// A date that exists, years [`FIRST_YEAR`]..=[`LAST_YEAR`]. Ordered by time; shown as
/// `YYYYMMDD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// `YYYYMMDD` or `YYYY-MM-DD` (ASCII digits, no spaces), a day that exists.
    ///
    /// # Errors
    /// A sentence saying why, starting with the text quoted: `"20230231" is not a date
    /// (YYYYMMDD or YYYY-MM-DD): February 2023 has 28 days`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let not = |why: &str| format!("{text:?} is not a date (YYYYMMDD or YYYY-MM-DD): {why}");
        let form = "expected 8 digits, or 4, 2 and 2 digits between dashes";
        let [y0, y1, y2, y3, m0, m1, d0, d1] = match *text.as_bytes() {
            [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] | [y0, y1, y2, y3, m0, m1, d0, d1] => {
                [y0, y1, y2, y3, m0, m1, d0, d1]
            }
            _ => return Err(not(form)),
        };
        let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(not(form));
        }
        let number = |d: &[u8]| {
            d.iter()
                .fold(0u16, |n, c| n * 10 + u16::from(c.wrapping_sub(b'0')))
        };
        let (year, month, day) = (
            number(&[y0, y1, y2, y3]),
            number(&[m0, m1]),
            number(&[d0, d1]),
        );
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(not(&format!("the year is {FIRST_YEAR} to {LAST_YEAR}")));
        }
        let (Ok(month), Ok(day)) = (u8::try_from(month), u8::try_from(day)) else {
            return Err(not(form));
        };
        if !(1..=12).contains(&month) {
            return Err(not("the month is 01 to 12"));
        }
        let last = days_in(year, month);
        if !(1..=last).contains(&day) {
            return Err(not(&format!(
                "{} {year} has {last} days",
                MONTHS.get(usize::from(month - 1)).unwrap_or(&"the month")
            )));
        }
        Ok(Self { year, month, day })
    }

    /// The year.
    #[must_use]
    pub fn year(self) -> u16 {
        self.year
    }

    /// The same day `years` later (29 February becomes 28 February in a common year), or
    /// `None` past [`LAST_YEAR`].
    #[must_use]
    pub fn years_later(self, years: u16) -> Option<Self> {
        let year = self.year.checked_add(years).filter(|y| *y <= LAST_YEAR)?;
        Some(Self {
            year,
            month: self.month,
            day: self.day.min(days_in(year, self.month)),
        })
    }

    /// As 4 BCD bytes, as the card holds it (`20240315` → `20 24 03 15`).
    #[must_use]
    pub fn bcd(self) -> [u8; 4] {
        let bcd = |n: u16| {
            let n = u8::try_from(n % 100).unwrap_or(0);
            (n / 10) << 4 | (n % 10)
        };
        [
            bcd(self.year / 100),
            bcd(self.year),
            bcd(u16::from(self.month)),
            bcd(u16::from(self.day)),
        ]
    }

    /// From 4 BCD bytes as a card holds it; `None` unless a date [`Date::parse`] takes.
    #[must_use]
    pub fn from_bcd(bytes: &[u8]) -> Option<Self> {
        let text: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        Self::parse(&text).ok()
    }
}

impl fmt::Display for Date {
    /// `YYYYMMDD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The days of a month (1..=12) of a year, leap years counted.
#[must_use]
pub fn days_in(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_forms_and_the_calendar() {
        let d = |t: &str| Date::parse(t).map(|d| d.to_string());
        assert_eq!(d("20240229").unwrap(), "20240229");
        assert_eq!(d("2000-02-29").unwrap(), "20000229");
        assert_eq!(d("1900-01-01").unwrap(), "19000101");
        assert_eq!(d("20991231").unwrap(), "20991231");
        for bad in [
            "20230229",
            "19000229",
            "21000101",
            "00000101",
            "20230231",
            "20231301",
            "20230100",
            "2-0-2-4-0-2-2-9",
            "2024-0229",
            "202402-29",
            "2024-02-29 ",
            " 20240229",
            "２０２４0229",
            "2024022é",
            "+2024022",
            "",
        ] {
            assert!(d(bad).is_err(), "{bad}");
        }
        assert_eq!(
            d("20230231").unwrap_err(),
            "\"20230231\" is not a date (YYYYMMDD or YYYY-MM-DD): February 2023 has 28 days"
        );
        let leap = Date::parse("20240229").unwrap();
        assert_eq!(leap.years_later(10).unwrap().to_string(), "20340228");
        assert_eq!(leap.years_later(76), None);
        assert_eq!(leap.bcd(), [0x20, 0x24, 0x02, 0x29]);
        assert_eq!(Date::from_bcd(&[0x20, 0x24, 0x02, 0x29]), Some(leap));
        assert_eq!(Date::from_bcd(&[0x20, 0x23, 0x02, 0x29]), None);
        assert!(Date::parse("20240301").unwrap() > leap);
    }
}
