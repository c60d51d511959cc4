//! Whitespace-separated numbers from bytes that arrive in pieces.

use crate::{Accumulator, Error};

/// The longest token accepted, in bytes. The longest decimal that still
/// means something as an f64 is well under 100 bytes; capping tokens keeps
/// memory bounded when the input is one endless run of non-blanks.
pub(crate) const MAX_TOKEN: usize = 1024;

/// How much of a bad token an error quotes, in characters.
const QUOTED: usize = 64;

/// Splits bytes into tokens at ASCII whitespace, parses each as a finite
/// f64, and pushes it into an accumulator. Tokens may span the pieces the
/// bytes arrive in; lines are counted for error messages, ended by `\n`,
/// `\r\n` or a lone `\r` (old Mac files), as text editors count them.
#[derive(Debug)]
pub(crate) struct NumberParser {
    token: Vec<u8>,
    /// The line the next byte is on, from 1.
    line: u64,
    /// The line the current token started on.
    token_line: u64,
    /// The last byte was `\r`: a `\n` next ends no further line.
    after_cr: bool,
}

impl NumberParser {
    pub(crate) fn new() -> Self {
        NumberParser {
            token: Vec::with_capacity(64),
            line: 1,
            token_line: 1,
            after_cr: false,
        }
    }

    /// The line the next byte is on, counting from 1.
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Parses every complete token in `bytes` into `sink`; an unfinished
    /// last token waits for the next piece.
    pub(crate) fn feed(&mut self, bytes: &[u8], sink: &mut Accumulator) -> Result<(), Error> {
        for &byte in bytes {
            let after_cr = std::mem::replace(&mut self.after_cr, byte == b'\r');
            if byte.is_ascii_whitespace() {
                self.end_token(sink)?;
                if byte == b'\r' || (byte == b'\n' && !after_cr) {
                    self.line += 1;
                }
            } else {
                if self.token.is_empty() {
                    self.token_line = self.line;
                }
                if self.token.len() == MAX_TOKEN {
                    return Err(self.error());
                }
                self.token.push(byte);
            }
        }
        Ok(())
    }

    /// Parses the last token, at the end of the input.
    pub(crate) fn finish(&mut self, sink: &mut Accumulator) -> Result<(), Error> {
        self.end_token(sink)
    }

    fn end_token(&mut self, sink: &mut Accumulator) -> Result<(), Error> {
        if self.token.is_empty() {
            return Ok(());
        }
        // `f64::from_str` also takes "inf" and "NaN"; they are refused, as
        // a non-finite integrand value is: one would make every statistic
        // NaN without saying where it came from.
        let value = std::str::from_utf8(&self.token)
            .ok()
            .and_then(|text| text.parse::<f64>().ok())
            .filter(|value| value.is_finite())
            .ok_or_else(|| self.error())?;
        sink.push(value);
        self.token.clear();
        Ok(())
    }

    fn error(&self) -> Error {
        let text = String::from_utf8_lossy(&self.token);
        let mut quoted: String = text.chars().take(QUOTED).collect();
        if quoted.len() < text.len() {
            quoted.push('…');
        }
        Error::Parse {
            line: self.token_line,
            token: quoted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(input: &[u8], piece: usize) -> Result<Accumulator, Error> {
        let mut parser = NumberParser::new();
        let mut sink = Accumulator::new();
        for bytes in input.chunks(piece.max(1)) {
            parser.feed(bytes, &mut sink)?;
        }
        parser.finish(&mut sink)?;
        Ok(sink)
    }

    #[test]
    fn tokens_may_span_pieces_and_bits_do_not_depend_on_them() {
        let input = b"1 2.5\n-3e2\t\t4\r\n\n  5.25e-1 ";
        let whole = parse_in_pieces(input, input.len()).unwrap();
        assert_eq!(whole.count(), 5);
        for piece in 1..input.len() {
            assert_eq!(parse_in_pieces(input, piece).unwrap(), whole, "{piece}");
        }
    }

    #[test]
    fn a_bad_token_names_its_line_and_text() {
        let err = parse_in_pieces(b"1\n2\n3 x4 5\n", 2).unwrap_err();
        assert_eq!(err.to_string(), "line 3: \"x4\" is not a finite number");
        for bad in ["nan", "inf", "-infinity", "NaN", "1e999"] {
            let input = format!("1 2\n{bad}\n");
            let err = parse_in_pieces(input.as_bytes(), 3).unwrap_err();
            assert!(
                matches!(err, Error::Parse { line: 2, ref token } if token == bad),
                "{err}"
            );
        }
    }

    #[test]
    fn invalid_utf8_and_endless_tokens_are_errors_not_panics() {
        let err = parse_in_pieces(b"1 \xff\xfe 2", 1).unwrap_err();
        assert!(matches!(err, Error::Parse { line: 1, .. }));
        let endless = vec![b'7'; MAX_TOKEN * 3];
        match parse_in_pieces(&endless, 100).unwrap_err() {
            Error::Parse { line: 1, token } => assert!(token.ends_with('…') && token.len() < 100),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr_across_pieces() {
        for (input, line) in [
            (&b"1\n2\n3\nx"[..], 4),
            (b"1\r\n2\r\n3\r\nx", 4),
            (b"1\r2\r3\rx", 4),
            (b"1\r\r\nx", 3),
            (b"1\n\r2 x", 3),
        ] {
            for piece in 1..input.len() {
                let err = parse_in_pieces(input, piece).unwrap_err();
                assert!(
                    matches!(err, Error::Parse { line: l, .. } if l == line),
                    "{input:?} in pieces of {piece}: {err}"
                );
            }
        }
    }

    #[test]
    fn empty_and_blank_inputs_have_no_numbers() {
        assert_eq!(parse_in_pieces(b"", 1).unwrap().count(), 0);
        assert_eq!(parse_in_pieces(b" \n\t\r\n ", 2).unwrap().count(), 0);
    }
}
