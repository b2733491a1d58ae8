//! Errors as one line for people: an error and its causes, joined by `: `, each said once.
//!
//! Several errors of this workspace (and of `std`) say their cause in their own message and
//! also return it as their [`source`](std::error::Error::source); printing the whole chain
//! would then say the cause twice (`cannot open: Is a directory (os error 21): Is a
//! directory (os error 21)`). [`chain`] leaves out a cause its parent has already said.

use std::error::Error;

/// `error: cause: cause's cause`, leaving out a cause whose text ends the message before it
/// (it was said already) and empty messages.
#[must_use]
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut previous = out.clone();
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !text.is_empty() && !previous.ends_with(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        previous = text;
        cause = e.source();
    }
    out
}

/// `text` safe to print on a terminal: control characters (escape sequences, BEL, CR, ...)
/// are shown escaped (`\u{1b}`), everything else as it is — for names and data that come
/// from files or cards (docs/SECURITY.md, bad input).
#[must_use]
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters_only() {
        assert_eq!(printable("苏宁安 A32010687"), "苏宁安 A32010687");
        assert_eq!(
            printable("\u{1b}]0;owned\u{7}\u{1b}[2J|x\r"),
            "\\u{1b}]0;owned\\u{7}\\u{1b}[2J|x\\r"
        );
    }

    #[derive(Debug, thiserror::Error)]
    #[error("{path}: cannot open: {source}")]
    struct Saying {
        path: String,
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("reading the card")]
    struct Silent {
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_said_is_said_once() {
        let e = Saying {
            path: "/tmp/x".into(),
            source: std::io::Error::from(std::io::ErrorKind::IsADirectory),
        };
        assert_eq!(chain(&e), "/tmp/x: cannot open: is a directory");
    }

    #[test]
    fn a_cause_not_said_is_appended() {
        let e = Silent {
            source: std::io::Error::other("the reader went away"),
        };
        assert_eq!(chain(&e), "reading the card: the reader went away");
    }
}
