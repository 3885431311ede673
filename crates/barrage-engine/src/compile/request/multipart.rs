//! Compiling a `multipart:` body: text parts and generated file contents become templates
//! (checked like any other), file parts are read now, relative to the scenario file.

use std::collections::BTreeSet;
use std::path::Path;

use barrage_scenario::{FileSource, MultipartField, MultipartPart};
use bytes::Bytes;

use super::super::Compiler;
use super::value_text;
use crate::multipart::{MultipartPlan, PartBody, PartHead};

impl Compiler<'_> {
    pub(super) fn multipart(
        &mut self,
        fields: &[MultipartField],
        available: &BTreeSet<String>,
        saved_elsewhere: &BTreeSet<String>,
    ) -> Option<MultipartPlan> {
        let dir = Path::new(&self.source.name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut parts = Vec::with_capacity(fields.len());
        let mut ok = true;
        for field in fields {
            let name = field.name.value.as_str();
            match &field.part {
                MultipartPart::Text(v) => {
                    let text = value_text(&v.value);
                    match self.template(&text, v.span, available, saved_elsewhere) {
                        Some(t) => parts.push((head(name, None, None), PartBody::Template(t))),
                        None => ok = false,
                    }
                }
                MultipartPart::File(f) => {
                    let (body, default_name, default_type) = match &f.source {
                        FileSource::Path(path) => match std::fs::read(dir.join(&path.value)) {
                            Ok(bytes) => (
                                PartBody::Static(Bytes::from(bytes)),
                                Path::new(&path.value)
                                    .file_name()
                                    .map(|n| n.to_string_lossy().into_owned())
                                    .unwrap_or_else(|| name.to_string()),
                                "application/octet-stream",
                            ),
                            Err(e) => {
                                self.error(
                                    path.span,
                                    format!("cannot read file part `{}`: {e}", path.value),
                                    Some("paths are relative to the scenario file".to_string()),
                                );
                                ok = false;
                                continue;
                            }
                        },
                        FileSource::Content(c) => {
                            match self.template(&c.value, c.span, available, saved_elsewhere) {
                                Some(t) => (PartBody::Template(t), name.to_string(), "text/plain"),
                                None => {
                                    ok = false;
                                    continue;
                                }
                            }
                        }
                    };
                    let filename = f
                        .filename
                        .as_ref()
                        .map_or(default_name, |n| n.value.clone());
                    let content_type = f
                        .content_type
                        .as_ref()
                        .map_or(default_type.to_string(), |c| c.value.clone());
                    parts.push((head(name, Some(filename), Some(content_type)), body));
                }
            }
        }
        if !ok {
            return None;
        }
        Some(MultipartPlan::new(parts))
    }
}

fn head(name: &str, filename: Option<String>, content_type: Option<String>) -> PartHead {
    PartHead {
        name: name.to_string(),
        filename,
        content_type,
    }
}

#[cfg(test)]
mod tests {
    use barrage_scenario::SourceFile;
    use rand::SeedableRng;

    use crate::plan::{BodyPlan, Step};

    /// A fresh directory of this test process (no tempfile in the engine's dependencies).
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("barrage-multipart-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn compile(dir: &std::path::Path, multipart: &str) -> Result<crate::Plan, String> {
        let text = format!(
            "target: http://127.0.0.1:1\ntasks:\n  t:\n    - post: /u\n      multipart:\n{multipart}"
        );
        let file = SourceFile {
            name: dir.join("scenario.yaml").display().to_string(),
            text,
        };
        let (scenario, _) = barrage_scenario::parse(&file).map_err(|d| format!("{d:?}"))?;
        crate::compile(&scenario, &file, &Default::default())
            .map(|(plan, _)| plan)
            .map_err(|d| barrage_scenario::render(&file, &d, false))
    }

    #[test]
    fn file_parts_are_read_beside_the_scenario_and_text_parts_rendered() {
        let dir = scratch("read");
        std::fs::write(dir.join("photo.png"), b"PNGDATA").unwrap();
        let plan = compile(
            &dir,
            "        n: \"{{ user_id }}\"\n        photo:\n          file: photo.png\n          content_type: image/png\n        note: { content: hi, filename: a.txt }\n",
        )
        .unwrap();
        let Step::Request(r) = &plan.scenarios[0].users[0].tasks[0].steps[0] else {
            panic!("a request")
        };
        let BodyPlan::Multipart(m) = &r.body else {
            panic!("a multipart body")
        };
        let ct = r
            .content_type
            .as_ref()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let mut ctx = barrage_template::RenderCtx {
            vars: &[],
            user_id: 3,
            iteration: 0,
            rng: &mut rng,
            data: &[],
        };
        let body = String::from_utf8(m.render(&mut ctx).unwrap().to_vec()).unwrap();
        assert_eq!(
            body,
            format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"n\"\r\n\r\n3\r\n\
                 --{boundary}\r\ncontent-disposition: form-data; name=\"photo\"; filename=\"photo.png\"\r\n\
                 content-type: image/png\r\n\r\nPNGDATA\r\n\
                 --{boundary}\r\ncontent-disposition: form-data; name=\"note\"; filename=\"a.txt\"\r\n\
                 content-type: text/plain\r\n\r\nhi\r\n--{boundary}--\r\n"
            )
        );
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let dir = scratch("missing");
        let e = compile(&dir, "        photo: { file: nope.png }\n")
            .err()
            .unwrap();
        assert!(e.contains("cannot read file part `nope.png`"), "{e}");
        assert!(e.contains("relative to the scenario file"), "{e}");
    }
}
