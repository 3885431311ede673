//! One fixed value from a [`Gen`], for the places in a scenario that take static JSON
//! rather than a template: a save's `default:` (the id a flow uses when the list it reads
//! is empty).
//!
//! The templates are rendered by barrage-template, the code a run renders them with, so
//! the value is one the run could have sent and is valid by the same construction. The
//! generator is seeded with a constant: the same document always gives the same file.

use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde_json::Value;

use super::Gen;

/// The seed of every fixed value ("barrage" in ASCII; any constant would do).
const SEED: u64 = 0x0062_6172_7261_6765;

/// A fixed value for `gen`; `None` when a template does not render (it names a variable,
/// say), which generated values never do.
pub fn fixed(gen: &Gen) -> Option<Value> {
    let mut rng = SmallRng::seed_from_u64(SEED);
    render(gen, &mut rng)
}

fn render(gen: &Gen, rng: &mut SmallRng) -> Option<Value> {
    match gen {
        Gen::Literal(v) => Some(v.clone()),
        Gen::Leaf(leaf) => {
            let mut template = barrage_template::Template::parse(&leaf.template()).ok()?;
            template.bind(&mut |_| None).ok()?;
            let mut ctx = barrage_template::RenderCtx {
                vars: &[],
                user_id: 1,
                iteration: 0,
                rng,
                data: &[],
            };
            template.eval(&mut ctx).ok()
        }
        Gen::Object(fields) => fields
            .iter()
            .map(|f| Some((f.name.clone(), render(&f.value, rng)?)))
            .collect::<Option<serde_json::Map<_, _>>>()
            .map(Value::Object),
        Gen::Array(items) => items
            .iter()
            .map(|i| render(i, rng))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Field, Leaf};
    use serde_json::json;

    #[test]
    fn templates_render_to_values_of_their_type() {
        let value = fixed(&Gen::Leaf(Leaf::Int { lo: 100, hi: 999 })).unwrap();
        let n = value.as_i64().unwrap();
        assert!((100..=999).contains(&n), "{value}");
        let text = fixed(&Gen::Leaf(Leaf::Text("{{ uuid() }}".into()))).unwrap();
        assert_eq!(text.as_str().map(str::len), Some(36), "{text}");
        let object = Gen::Object(vec![Field {
            name: "tags".into(),
            value: Gen::Array(vec![
                Gen::Literal(json!("a")),
                Gen::Leaf(Leaf::Choice(vec![json!(true)])),
            ]),
            note: String::new(),
        }]);
        assert_eq!(fixed(&object), Some(json!({"tags": ["a", true]})));
        // The same generated value gives the same fixed value: the file is reproducible.
        let email = Gen::Leaf(Leaf::Text(
            "user{{ int(1000, 9999999) }}@example.com".into(),
        ));
        assert_eq!(fixed(&email), fixed(&email));
        assert_eq!(fixed(&Gen::Leaf(Leaf::Text("{{ nowhere }}".into()))), None);
    }
}
