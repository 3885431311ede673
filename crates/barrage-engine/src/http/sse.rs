//! Server-sent events cut out of a streamed body, for `stream: events` steps.
//!
//! The parsing is the `sse-stream` crate's (maintained; the MCP Rust SDK reads its event
//! streams with it), not ours: it follows the WHATWG rules (CR, LF or CRLF line ends, a
//! leading space stripped, `data` lines joined with LF, comments skipped). It is written
//! as a `Stream` adapter over a byte stream; the user reads the body itself, piece by
//! piece, to time each event, so the pieces are pushed into a queue the adapter reads
//! from, and the adapter is polled until it wants more. No waker is needed: the queue is
//! filled before each poll, and an empty queue is the adapter's `Pending`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_util::Stream;
use sse_stream::SseByteStream;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, or `message` (the spec's default type) without one.
    pub name: String,
    pub data: String,
}

/// Why a stream's events could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid server-sent events: {0}")]
pub struct SseError(#[from] sse_stream::Error);

/// Events cut out of body pieces as they arrive.
pub struct SseDecoder {
    queue: Rc<RefCell<VecDeque<Bytes>>>,
    events: Pin<Box<SseByteStream<Feed>>>,
}

impl Default for SseDecoder {
    fn default() -> SseDecoder {
        let queue = Rc::new(RefCell::new(VecDeque::new()));
        SseDecoder {
            events: Box::pin(SseByteStream::new(Feed(Rc::clone(&queue)))),
            queue,
        }
    }
}

impl SseDecoder {
    /// Takes in the next piece of the body and appends the events it completes to `out`.
    pub fn feed(&mut self, piece: Bytes, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        self.queue.borrow_mut().push_back(piece);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            match self.events.as_mut().poll_next(&mut cx) {
                Poll::Ready(Some(Ok(block))) => {
                    // A block without `data` (only `id:` or `retry:`) dispatches no event
                    // (the spec's "if the data buffer is empty ... return").
                    let Some(data) = block.data else { continue };
                    out.push(SseEvent {
                        name: block
                            .event
                            .filter(|e| !e.is_empty())
                            .unwrap_or_else(|| "message".to_string()),
                        data,
                    });
                }
                Poll::Ready(Some(Err(e))) => return Err(SseError(e)),
                Poll::Ready(None) | Poll::Pending => return Ok(()),
            }
        }
    }
}

/// The queue of body pieces, as the byte stream the parser reads.
struct Feed(Rc<RefCell<VecDeque<Bytes>>>);

impl Stream for Feed {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.0.borrow_mut().pop_front() {
            Some(piece) => Poll::Ready(Some(Ok(piece))),
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(pieces: &[&str]) -> Vec<SseEvent> {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        for p in pieces {
            d.feed(Bytes::copy_from_slice(p.as_bytes()), &mut out)
                .unwrap();
        }
        out
    }

    #[test]
    fn events_split_anywhere_come_out_whole_and_named() {
        let whole = "event: token\ndata: {\"t\": 1}\n\n: ping\n\ndata: a\ndata: b\n\nid: 7\n\n";
        let want = vec![
            SseEvent {
                name: "token".into(),
                data: "{\"t\": 1}".into(),
            },
            SseEvent {
                name: "message".into(),
                data: "a\nb".into(),
            },
        ];
        assert_eq!(events(&[whole]), want);
        for cut in 1..whole.len() {
            assert_eq!(
                events(&[&whole[..cut], &whole[cut..]]),
                want,
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn crlf_line_ends_and_an_unfinished_event() {
        assert_eq!(
            events(&["event: done\r\ndata: x\r\n\r\ndata: half"]),
            vec![SseEvent {
                name: "done".into(),
                data: "x".into(),
            }]
        );
    }
}
