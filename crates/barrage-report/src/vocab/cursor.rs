//! A position in the text being read, with the few moves the readers of thresholds, gates,
//! label matchers and quantities make. Positions are byte offsets into the whole text, so
//! every error can point at the bytes it is about wherever the reading started.

use std::ops::Range;

pub(crate) struct Cursor<'a> {
    pub(crate) text: &'a str,
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str, pos: usize) -> Cursor<'a> {
        Cursor { text, pos }
    }

    pub(crate) fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.text.len()
    }

    /// The next char as text, empty at the end: the `found `...`` of an error message.
    pub(crate) fn next_char(&self) -> &'a str {
        let len = self.peek().map_or(0, char::len_utf8);
        &self.rest()[..len]
    }

    pub(crate) fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    /// Moves past `prefix` when the text goes on with it.
    pub(crate) fn eat(&mut self, prefix: &str) -> bool {
        let found = self.rest().starts_with(prefix);
        if found {
            self.pos += prefix.len();
        }
        found
    }

    /// A run of chars from the current position while `keep` holds.
    pub(crate) fn take_while(&mut self, keep: impl Fn(char) -> bool) -> Range<usize> {
        let start = self.pos;
        let len: usize = self
            .rest()
            .chars()
            .take_while(|&c| keep(c))
            .map(char::len_utf8)
            .sum();
        self.pos += len;
        start..self.pos
    }
}
