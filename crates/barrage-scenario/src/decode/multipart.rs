//! `multipart:` bodies: text fields and file parts, as an HTML form with file inputs (and
//! FastAPI's `Form` and `UploadFile`) takes them.
//!
//! A part is a text field when its value is a scalar (a template), a file when it is a
//! mapping with `file:` (a path, read when the scenario is compiled) or `content:` (a
//! template, rendered per request); a list makes one part per item under the same name,
//! which is how a form sends several files for one field.

use crate::decode::value::{self, fields, map, mismatch_help, text};
use crate::decode::{mentions, Ctx};
use crate::keys;
use crate::model::{FilePart, FileSource, MultipartField, MultipartPart};
use crate::node::{Kind, Node};

const PART: &str = "a text value, or a file like `{ file: photo.png }` or `{ content: \"...\" }`";

pub(super) fn multipart(ctx: &mut Ctx, node: &Node) -> Option<Vec<MultipartField>> {
    let entries = map(ctx, node, "a mapping of part names to values or files")?;
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let Some(name) = value::key(ctx, k) else {
            continue;
        };
        let items: Vec<&Node> = match &v.kind {
            Kind::Seq(items) => items.iter().collect(),
            _ => vec![v],
        };
        for item in items {
            if let Some(part) = part(ctx, item) {
                out.push(MultipartField {
                    name: name.clone(),
                    part,
                });
            }
        }
    }
    Some(out)
}

fn part(ctx: &mut Ctx, node: &Node) -> Option<MultipartPart> {
    match &node.kind {
        Kind::Map(_) => file(ctx, node).map(MultipartPart::File),
        Kind::Scalar(s) if s.quoted || !node.is_null() => {
            value::value(ctx, node).map(MultipartPart::Text)
        }
        Kind::Scalar(_) => {
            mismatch_help(ctx, node, PART, "write \"\" for an empty value");
            None
        }
        Kind::Seq(_) => {
            mismatch_help(
                ctx,
                node,
                PART,
                "a list makes one part per item; its items cannot be lists",
            );
            None
        }
    }
}

fn file(ctx: &mut Ctx, node: &Node) -> Option<FilePart> {
    let entries = map(ctx, node, PART)?;
    let mut source: Option<FileSource> = None;
    let mut filename = None;
    let mut content_type = None;
    let mut ok = true;
    for field in fields(
        ctx,
        entries,
        keys::MULTIPART_FILE,
        "in a multipart file part",
    ) {
        let value = field.value;
        match field.name {
            "file" | "content" => {
                let read = text(
                    ctx,
                    value,
                    if field.name == "file" {
                        "a file path"
                    } else {
                        "the file's content"
                    },
                );
                let Some(read) = read else {
                    ok = false;
                    continue;
                };
                if source.is_some() {
                    ctx.error_help(
                        field.key.span,
                        "a file part has `file` or `content`, not both",
                        "keep `file: path` to send a file, or `content:` to send generated text",
                    );
                    ok = false;
                    continue;
                }
                source = Some(if field.name == "file" {
                    FileSource::Path(read)
                } else {
                    FileSource::Content(read)
                });
            }
            "filename" => filename = text(ctx, value, "a file name"),
            "content_type" => content_type = text(ctx, value, "a content type like `image/png`"),
            // `fields` yields only the names listed in `keys::MULTIPART_FILE`.
            _ => {}
        }
    }
    if source.is_none()
        && !mentions(entries, "file", keys::MULTIPART_FILE)
        && !mentions(entries, "content", keys::MULTIPART_FILE)
    {
        ctx.error_help(
            node.span,
            "a file part needs `file` or `content`",
            "add `file: path/to/upload.png` (relative to the scenario file) or `content: \"...\"`",
        );
    }
    if let Some(ct) = &content_type {
        if !ct.value.contains('/') {
            ctx.error_help(
                ct.span,
                format!("`{}` is not a content type", ct.value),
                "write a media type like `text/plain` or `image/png`",
            );
            ok = false;
        }
    }
    Some(FilePart {
        span: node.span,
        source: source?,
        filename,
        content_type,
    })
    .filter(|_| ok)
}
