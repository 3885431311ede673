//! `multipart/form-data` bodies: the plan of one (parts with their headers pre-built) and
//! its rendering per request.
//!
//! The boundary is drawn once per step when the scenario is compiled, so the content-type
//! header is static; a file part's bytes are read then too. Only text fields and
//! generated file contents are rendered per request, and a rendered part that happened to
//! contain the boundary (a chance of 62^-24 for random text) is refused rather than sent
//! broken.

use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderValue;
use rand::distr::Alphanumeric;
use rand::Rng;

use barrage_template::{RenderCtx, RenderError, Template};

/// A compiled `multipart:` body.
pub struct MultipartPlan {
    boundary: String,
    parts: Vec<PartPlan>,
}

/// One part: its header block (boundary line included) and its content.
pub struct PartPlan {
    head: Bytes,
    body: PartBody,
}

pub enum PartBody {
    /// A text field or generated file content, rendered per request.
    Template(Template),
    /// A file's bytes, read at compile time.
    Static(Bytes),
}

/// What a part says about itself in its headers.
pub struct PartHead {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

impl MultipartPlan {
    /// A plan with a fresh random boundary that none of the static parts contains.
    pub fn new(parts: Vec<(PartHead, PartBody)>) -> MultipartPlan {
        let mut rng = rand::rng();
        let boundary = loop {
            let tail: String = (0..24)
                .map(|_| char::from(rng.sample(Alphanumeric)))
                .collect();
            let candidate = format!("barrage-{tail}");
            let clash = parts.iter().any(|(_, body)| match body {
                PartBody::Static(b) => contains(b, candidate.as_bytes()),
                PartBody::Template(_) => false,
            });
            if !clash {
                break candidate;
            }
        };
        let parts = parts
            .into_iter()
            .map(|(head, body)| PartPlan {
                head: head_bytes(&boundary, &head),
                body,
            })
            .collect();
        MultipartPlan { boundary, parts }
    }

    /// `multipart/form-data; boundary=...`.
    pub fn content_type(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("multipart/form-data; boundary={}", self.boundary))
            .expect("the boundary is ASCII letters, digits and `-`")
    }

    /// True when no part has an expression: every request gets the same body.
    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| match &p.body {
            PartBody::Static(_) => true,
            PartBody::Template(t) => t.is_static(),
        })
    }

    /// The body for one request.
    pub fn render(&self, ctx: &mut RenderCtx<'_>) -> Result<Bytes, RenderError> {
        let mut out = BytesMut::new();
        let mut text = String::new();
        for part in &self.parts {
            out.put_slice(&part.head);
            match &part.body {
                PartBody::Static(b) => out.put_slice(b),
                PartBody::Template(t) => {
                    text.clear();
                    t.render(ctx, &mut text)?;
                    if contains(text.as_bytes(), self.boundary.as_bytes()) {
                        return Err(RenderError {
                            message: "a multipart part contains the body's boundary".into(),
                        });
                    }
                    out.put_slice(text.as_bytes());
                }
            }
            out.put_slice(b"\r\n");
        }
        out.put_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        Ok(out.freeze())
    }
}

fn head_bytes(boundary: &str, head: &PartHead) -> Bytes {
    let mut s = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"{}\"",
        quote(&head.name)
    );
    if let Some(f) = &head.filename {
        s.push_str(&format!("; filename=\"{}\"", quote(f)));
    }
    s.push_str("\r\n");
    if let Some(ct) = &head.content_type {
        s.push_str(&format!("content-type: {ct}\r\n"));
    }
    s.push_str("\r\n");
    Bytes::from(s)
}

/// The HTML form encoding of a name in `content-disposition`: `"`, CR and LF escaped.
fn quote(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parts_are_framed_by_the_boundary() {
        let mut t = Template::parse("v{{ user_id }}").unwrap();
        t.bind(&mut |n| barrage_template::Slot::builtin(n)).unwrap();
        let plan = MultipartPlan::new(vec![
            (
                PartHead {
                    name: "title".into(),
                    filename: None,
                    content_type: None,
                },
                PartBody::Template(t),
            ),
            (
                PartHead {
                    name: "f\"x".into(),
                    filename: Some("a.txt".into()),
                    content_type: Some("text/plain".into()),
                },
                PartBody::Static(Bytes::from_static(b"hello")),
            ),
        ]);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let mut ctx = RenderCtx {
            vars: &[],
            user_id: 7,
            iteration: 0,
            rng: &mut rng,
            data: &[],
        };
        let body = plan.render(&mut ctx).unwrap();
        let b = &plan.boundary;
        assert_eq!(
            String::from_utf8(body.to_vec()).unwrap(),
            format!(
                "--{b}\r\ncontent-disposition: form-data; name=\"title\"\r\n\r\nv7\r\n\
                 --{b}\r\ncontent-disposition: form-data; name=\"f%22x\"; filename=\"a.txt\"\r\n\
                 content-type: text/plain\r\n\r\nhello\r\n--{b}--\r\n"
            )
        );
        assert_eq!(
            plan.content_type().to_str().unwrap(),
            format!("multipart/form-data; boundary={b}")
        );
    }
}
