//! `check: schema:`: a JSON Schema per response status, which the JSON body must match.
//!
//! Keyed like OpenAPI's `responses` (a code, a class such as `2xx`, or `default`), so the
//! schemas `barrage init --check-responses` copies from a document keep their shape, and a
//! hand-written check reads the same way. The schemas themselves are any YAML value here;
//! whether they are valid JSON Schemas is judged when the check is compiled.

use crate::decode::check::status;
use crate::decode::value::{self, map};
use crate::decode::Ctx;
use crate::model::{SchemaCheck, SchemaStatus, Spanned};
use crate::node::Node;

pub(super) fn schemas(ctx: &mut Ctx, node: &Node) -> Vec<SchemaCheck> {
    let Some(entries) = map(
        ctx,
        node,
        "a mapping of statuses to JSON Schemas, like `{ 200: { type: object } }`",
    ) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let key = if k.as_scalar().is_some_and(|s| s.text == "default") {
            Some(Spanned::new(SchemaStatus::Default, k.span))
        } else {
            status(ctx, k).map(|s| Spanned::new(SchemaStatus::Status(s.value), s.span))
        };
        let schema = value::value(ctx, v);
        if let Some(schema) = &schema {
            if !matches!(
                schema.value,
                crate::model::Value::Map(_) | crate::model::Value::Bool(_)
            ) {
                ctx.error_help(
                    schema.span,
                    "a JSON Schema is a mapping (or `true`/`false`)",
                    "write it like `{ type: object, required: [id] }`",
                );
                continue;
            }
        }
        if let (Some(status), Some(schema)) = (key, schema) {
            if out
                .iter()
                .any(|c: &SchemaCheck| c.status.value == status.value)
            {
                ctx.error_help(status.span, "this status already has a schema", "keep one");
                continue;
            }
            out.push(SchemaCheck { status, schema });
        }
    }
    out
}
