//! `multipart:` bodies and `check: schema:`: what the decoder reads, and the located errors
//! for what it cannot.

mod common;

use barrage_scenario::{Body, FileSource, MultipartPart, SchemaStatus, StatusMatch, Step, Value};
use common::{error, ok};

fn step(text: &str) -> barrage_scenario::RequestStep {
    let scenario = ok(text);
    match &scenario.users[0].tasks[0].steps[0] {
        Step::Request(r) => (**r).clone(),
        _ => panic!("not a request"),
    }
}

const UPLOAD: &str = "\
tasks:
  upload:
    - post: /upload
      multipart:
        title: \"photo {{ int(1, 9) }}\"
        count: 3
        photo:
          file: fixtures/photo.png
          content_type: image/png
        notes:
          - content: \"note {{ uuid() }}\"
            filename: a.txt
          - content: second
";

#[test]
fn multipart_parts_are_read_in_order_with_lists_expanded() {
    let r = step(UPLOAD);
    let Some(Body::Multipart(fields)) = &r.body else {
        panic!("{:?}", r.body)
    };
    let names: Vec<&str> = fields.iter().map(|f| f.name.value.as_str()).collect();
    assert_eq!(names, ["title", "count", "photo", "notes", "notes"]);
    assert!(
        matches!(&fields[0].part, MultipartPart::Text(v) if v.value == Value::String("photo {{ int(1, 9) }}".into()))
    );
    assert!(matches!(&fields[1].part, MultipartPart::Text(v) if v.value == Value::Int(3)));
    let MultipartPart::File(photo) = &fields[2].part else {
        panic!()
    };
    assert!(matches!(&photo.source, FileSource::Path(p) if p.value == "fixtures/photo.png"));
    assert_eq!(photo.content_type.as_ref().unwrap().value, "image/png");
    assert!(photo.filename.is_none());
    let MultipartPart::File(note) = &fields[3].part else {
        panic!()
    };
    assert!(matches!(&note.source, FileSource::Content(c) if c.value == "note {{ uuid() }}"));
    assert_eq!(note.filename.as_ref().unwrap().value, "a.txt");
}

#[test]
fn multipart_mistakes_are_located() {
    let e = error(
        "tasks:\n  t:\n    - post: /u\n      multipart:\n        f: { file: a.png, content: x }\n",
        "not both",
    );
    assert_eq!((e.line, e.col), (5, 27));
    let e = error(
        "tasks:\n  t:\n    - post: /u\n      multipart:\n        f: { filename: a.png }\n",
        "needs `file` or `content`",
    );
    assert_eq!((e.line, e.col), (5, 12));
    let e = error(
        "tasks:\n  t:\n    - post: /u\n      multipart:\n        f: { file: a.png, content_typ: x/y }\n",
        "unknown key `content_typ`",
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `content_type`?"));
    let e = error(
        "tasks:\n  t:\n    - post: /u\n      json: {}\n      multipart: { a: b }\n",
        "one body",
    );
    assert_eq!(e.line, 5);
    let e = error(
        "tasks:\n  t:\n    - post: /u\n      multipart:\n        f: { file: a.png, content_type: png }\n",
        "not a content type",
    );
    assert_eq!(e.snippet, "png");
}

#[test]
fn schema_checks_are_keyed_by_status() {
    let r = step(
        "tasks:\n  t:\n    - get: /x\n      check:\n        schema:\n          200: { type: object, required: [id] }\n          4xx: { type: object }\n          default: true\n",
    );
    let statuses: Vec<SchemaStatus> = r.check.schema.iter().map(|s| s.status.value).collect();
    assert_eq!(
        statuses,
        [
            SchemaStatus::Status(StatusMatch::Code(200)),
            SchemaStatus::Status(StatusMatch::Class(4)),
            SchemaStatus::Default
        ]
    );
    assert!(matches!(r.check.schema[0].schema.value, Value::Map(_)));
}

#[test]
fn schema_check_mistakes_are_located() {
    let e = error(
        "tasks:\n  t:\n    - get: /x\n      check:\n        schema:\n          20: { type: object }\n",
        "expected a status code",
    );
    assert_eq!((e.line, e.col), (6, 11));
    let e = error(
        "tasks:\n  t:\n    - get: /x\n      check:\n        schema:\n          200: object\n",
        "a JSON Schema is a mapping",
    );
    assert_eq!(e.snippet, "object");
    let e = error(
        "tasks:\n  t:\n    - get: /x\n      check:\n        schema:\n          200: {}\n          '200': {}\n",
        "already has a schema",
    );
    assert_eq!(e.line, 7);
}
