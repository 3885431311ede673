//! Tokens of the expression language inside `{{ ... }}`.
//!
//! The lexer works on the whole template source and reports absolute byte offsets, so every
//! error points into the string the user wrote. It stops at the first `}}` outside a string
//! literal; the template scanner decides what comes after.

use crate::error::TemplateError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokKind<'s> {
    /// `token`, `accounts.username`, `int`, `true` ...
    Name(&'s str),
    Int(i64),
    Float(f64),
    Str(String),
    LParen,
    RParen,
    Comma,
    /// `}}`
    Close,
    /// End of the template source.
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tok<'s> {
    pub kind: TokKind<'s>,
    pub start: usize,
    pub end: usize,
}

pub(crate) struct Lexer<'s> {
    src: &'s str,
    pos: usize,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'s> Lexer<'s> {
    pub fn new(src: &'s str, pos: usize) -> Self {
        Lexer { src, pos }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.src.as_bytes().get(at).copied()
    }

    pub fn next_tok(&mut self) -> Result<Tok<'s>, TemplateError> {
        while self.byte(self.pos).is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(b) = self.byte(start) else {
            return Ok(self.tok(TokKind::End, start, start));
        };
        match b {
            b'(' => Ok(self.tok(TokKind::LParen, start, start + 1)),
            b')' => Ok(self.tok(TokKind::RParen, start, start + 1)),
            b',' => Ok(self.tok(TokKind::Comma, start, start + 1)),
            b'}' if self.byte(start + 1) == Some(b'}') => {
                Ok(self.tok(TokKind::Close, start, start + 2))
            }
            b'\'' | b'"' => self.string(b),
            b'0'..=b'9' | b'.' => self.number(),
            b'-' | b'+'
                if self
                    .byte(start + 1)
                    .is_some_and(|c| c.is_ascii_digit() || c == b'.') =>
            {
                self.number()
            }
            _ if is_name_start(b) => self.name(),
            _ => {
                let c = self.src[start..].chars().next().unwrap_or('?');
                let len = c.len_utf8();
                let err = TemplateError::new(start, len, format!("unexpected `{c}` in expression"));
                Err(if c == '}' {
                    err.with_help("close an expression with `}}`")
                } else {
                    err.with_help(
                        "an expression is a literal (`1`, `\"text\"`), a name (`token`) or a \
                         function call (`int(1, 10)`)",
                    )
                })
            }
        }
    }

    fn tok(&mut self, kind: TokKind<'s>, start: usize, end: usize) -> Tok<'s> {
        self.pos = end;
        Tok { kind, start, end }
    }

    fn name(&mut self) -> Result<Tok<'s>, TemplateError> {
        let start = self.pos;
        let mut end = start;
        loop {
            while self.byte(end).is_some_and(is_name_char) {
                end += 1;
            }
            if self.byte(end) != Some(b'.') {
                break;
            }
            if !self.byte(end + 1).is_some_and(is_name_start) {
                return Err(TemplateError::new(
                    start,
                    end + 1 - start,
                    "expected a name after `.`",
                )
                .with_help("a data source field is written `source.column`"));
            }
            end += 1;
        }
        Ok(self.tok(TokKind::Name(&self.src[start..end]), start, end))
    }

    fn number(&mut self) -> Result<Tok<'s>, TemplateError> {
        let start = self.pos;
        let mut end = start + 1;
        while let Some(b) = self.byte(end) {
            let prev = self.src.as_bytes()[end - 1];
            let sign_in_exponent = matches!(b, b'+' | b'-') && matches!(prev, b'e' | b'E');
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || sign_in_exponent {
                end += 1;
            } else {
                break;
            }
        }
        let text = &self.src[start..end];
        let bad = |what: &str| TemplateError::new(start, end - start, format!("{what} `{text}`"));
        let is_float = text.contains('.') || text.bytes().any(|b| matches!(b, b'e' | b'E'));
        let kind = if is_float {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => TokKind::Float(f),
                Ok(_) => return Err(bad("number out of range")),
                Err(_) => return Err(bad("bad number")),
            }
        } else {
            match text.parse::<i64>() {
                Ok(n) => TokKind::Int(n),
                Err(_) if text.bytes().skip(1).all(|b| b.is_ascii_digit()) => {
                    return Err(bad("integer out of range").with_help(
                        "integers are 64-bit: from -9223372036854775808 to 9223372036854775807",
                    ))
                }
                Err(_) => return Err(bad("bad number")),
            }
        };
        Ok(self.tok(kind, start, end))
    }

    fn string(&mut self, quote: u8) -> Result<Tok<'s>, TemplateError> {
        let start = self.pos;
        let mut out = String::new();
        let mut chars = self.src[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            let at = start + 1 + i;
            match c {
                '\\' => {
                    let Some((_, e)) = chars.next() else { break };
                    out.push(match e {
                        '\\' => '\\',
                        '\'' => '\'',
                        '"' => '"',
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        _ => {
                            return Err(TemplateError::new(
                                at,
                                1 + e.len_utf8(),
                                format!("unknown escape `\\{e}` in string"),
                            )
                            .with_help(r#"strings know `\'`, `\"`, `\\`, `\n`, `\t` and `\r`"#))
                        }
                    });
                }
                _ if c as u32 == u32::from(quote) => {
                    return Ok(self.tok(TokKind::Str(out), start, at + 1));
                }
                _ => out.push(c),
            }
        }
        Err(
            TemplateError::new(start, self.src.len() - start, "unterminated string")
                .with_help(format!("end the string with {}", quote as char)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokKind<'_>> {
        let mut lx = Lexer::new(src, 0);
        let mut out = Vec::new();
        loop {
            let t = lx.next_tok().unwrap();
            if t.kind == TokKind::End {
                return out;
            }
            out.push(t.kind);
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(
            kinds(r#"f(-1, 2.5, 'a\'b', "c\"d\\", x.y) }}"#),
            vec![
                TokKind::Name("f"),
                TokKind::LParen,
                TokKind::Int(-1),
                TokKind::Comma,
                TokKind::Float(2.5),
                TokKind::Comma,
                TokKind::Str("a'b".into()),
                TokKind::Comma,
                TokKind::Str("c\"d\\".into()),
                TokKind::Comma,
                TokKind::Name("x.y"),
                TokKind::RParen,
                TokKind::Close,
            ]
        );
        assert_eq!(
            kinds("1e-3 .5"),
            vec![TokKind::Float(1e-3), TokKind::Float(0.5)]
        );
    }

    #[test]
    fn errors_are_located() {
        let err = |src| Lexer::new(src, 0).next_tok().unwrap_err();
        let e = err("1.2.3");
        assert_eq!(
            (e.offset, e.len, e.message.as_str()),
            (0, 5, "bad number `1.2.3`")
        );
        let e = err("99999999999999999999");
        assert_eq!(e.message, "integer out of range `99999999999999999999`");
        let e = err("'abc");
        assert_eq!(
            (e.offset, e.len, e.message.as_str()),
            (0, 4, "unterminated string")
        );
        let e = err(r"'a\qb'");
        assert_eq!((e.offset, e.len), (2, 2));
        let e = err("a.");
        assert_eq!(e.message, "expected a name after `.`");
        let e = err("é");
        assert_eq!((e.offset, e.len), (0, 2));
        assert_eq!(err("1e999").message, "number out of range `1e999`");
    }
}
