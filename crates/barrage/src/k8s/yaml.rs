//! The manifests are built as JSON values (the API's own shape, and what the tests read
//! back) and written as YAML with saphyr's emitter, the crate the scenario reader already
//! uses. Multi-line strings (the scenario, CSV files) come out as literal blocks, so the
//! ConfigMap reads like the files it carries.

use saphyr::{Mapping, Scalar, ScalarStyle, Yaml, YamlEmitter};
use serde_json::Value;

/// `objects` as one multi-document YAML stream (`---` before each), as `kubectl apply -f`
/// takes it.
pub fn documents(objects: &[Value]) -> String {
    let mut out = String::new();
    for object in objects {
        out.push_str(&document(object));
    }
    out
}

/// One object as a YAML document, starting with `---` and ending with a line break.
pub fn document(object: &Value) -> String {
    let mut out = String::new();
    let mut emitter = YamlEmitter::new(&mut out);
    emitter.multiline(true);
    emitter
        .dump(&to_yaml(object))
        .expect("writing YAML into a String cannot fail");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn to_yaml(v: &Value) -> Yaml<'_> {
    match v {
        Value::Null => Yaml::Value(Scalar::Null),
        Value::Bool(b) => Yaml::Value(Scalar::Boolean(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Value(Scalar::Integer(i)),
            None => Yaml::Value(Scalar::FloatingPoint(n.as_f64().unwrap_or(0.0).into())),
        },
        // The emitter leaves `y` and `n` plain, as YAML 1.2 does; the YAML 1.1 reader
        // behind kubectl would take them for booleans.
        Value::String(s) if matches!(s.as_str(), "y" | "Y" | "n" | "N") => {
            Yaml::Representation(s.as_str().into(), ScalarStyle::SingleQuoted, None)
        }
        Value::String(s) => Yaml::Value(Scalar::String(s.as_str().into())),
        Value::Array(items) => Yaml::Sequence(items.iter().map(to_yaml).collect()),
        Value::Object(fields) => {
            // The order people read manifests in: what it is, then its name, then the rest
            // (alphabetical, as serde_json keeps them).
            let first = ["apiVersion", "kind", "metadata", "name"];
            let head = first.iter().filter_map(|k| fields.get_key_value(*k));
            let rest = fields.iter().filter(|(k, _)| !first.contains(&k.as_str()));
            let mut m = Mapping::new();
            for (k, v) in head.chain(rest) {
                m.insert(Yaml::Value(Scalar::String(k.as_str().into())), to_yaml(v));
            }
            Yaml::Mapping(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use saphyr::LoadableYamlNode;
    use serde_json::json;

    #[test]
    fn reads_back_as_the_same_values_with_block_strings() {
        let v = json!({
            "kind": "ConfigMap",
            "data": { "s.yaml": "target: x\nusers: 3\n", "flag": "y", "n": "10", "e": "" },
            "spec": { "completions": 4, "list": ["a: b", true] },
        });
        let text = document(&v);
        assert!(text.contains("s.yaml: |\n"), "{text}");
        assert!(text.contains("flag: 'y'"), "{text}");
        let docs = Yaml::load_from_str(&text).unwrap();
        let back = &docs[0];
        assert_eq!(
            back["data"]["s.yaml"].as_str(),
            Some("target: x\nusers: 3\n")
        );
        assert_eq!(back["data"]["n"].as_str(), Some("10"));
        assert_eq!(back["data"]["e"].as_str(), Some(""));
        assert_eq!(back["spec"]["completions"].as_integer(), Some(4));
        assert_eq!(back["spec"]["list"][0].as_str(), Some("a: b"));
    }
}
