//! Property tests: no input makes rendering panic, ranges hold, JSON bodies stay JSON.

mod common;

use barrage_scenario::{Span, Spanned, Value as Yaml};
use barrage_template::{JsonTemplate, Slot, Template};
use common::User;
use proptest::prelude::*;

/// Template sources: well-formed templates from the grammar (most render), and noise made
/// of template-like pieces (most fail to parse, at varied places).
fn template_source() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => well_formed(),
        1 => noise(),
        1 => (well_formed(), noise(), any::<prop::sample::Index>()).prop_map(|(t, n, at)| {
            let mut cut = at.index(t.len() + 1);
            while !t.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}{n}{}", &t[..cut], &t[cut..])
        }),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "token",
        "id",
        "items",
        "unset",
        "empty",
        "quote",
        "user_id",
        "iteration",
        "accounts.username",
        "accounts.age",
        "accounts.missing",
        "nope",
    ])
    .prop_map(String::from)
}

fn function() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "int",
        "float",
        "uuid",
        "choice",
        "string",
        "env",
        "timestamp",
        "timestamp_ms",
        "str",
        "upper",
        "lower",
        "nope",
    ])
    .prop_map(String::from)
}

fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (-20i64..20).prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        (-100.0f64..100.0).prop_map(|f| f.to_string()),
        "[a-z'\"\\\\ é]{0,6}".prop_map(|s| format!("{s:?}")),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("'BARRAGE_TEMPLATE_PROP'".to_string()),
        name(),
    ];
    let bound = prop_oneof![(-50i64..50).prop_map(|n| n.to_string()), name()];
    let call = prop_oneof![
        Just("uuid()".to_string()),
        Just("timestamp()".to_string()),
        Just("timestamp_ms()".to_string()),
        Just("env('BARRAGE_TEMPLATE_PROP', 'x')".to_string()),
        (0i64..20).prop_map(|n| format!("string({n})")),
        (bound.clone(), bound).prop_map(|(a, b)| format!("int({a}, {b})")),
        (-100i64..0, 0i64..100, 0i64..4).prop_map(|(a, b, d)| format!("float({a}, {b}, {d})")),
    ];
    leaf.prop_recursive(4, 24, 4, move |inner| {
        prop_oneof![
            2 => call.clone(),
            1 => (function(), prop::collection::vec(inner.clone(), 0..4))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            3 => (prop::sample::select(vec!["str", "upper", "lower"]), inner.clone())
                .prop_map(|(f, a)| format!("{f}({a})")),
            2 => prop::collection::vec(inner, 1..4)
                .prop_map(|a| format!("choice({})", a.join(", "))),
        ]
    })
}

fn well_formed() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        "[a-z/ ?=&{}]{0,5}",
        expression().prop_map(|e| format!("{{{{ {e} }}}}")),
        expression().prop_map(|e| format!("{{{{{e}}}}}")),
    ];
    prop::collection::vec(part, 1..4).prop_map(|p| p.concat())
}

/// Text that looks like templates often: braces, quotes, calls, names, numbers.
fn noise() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just(",".to_string()),
        Just(" ".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just(".".to_string()),
        Just("-".to_string()),
        function(),
        name(),
        (-5i64..100).prop_map(|n| n.to_string()),
        "[a-zé✓0-9 ]{0,3}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|p| p.concat())
}

/// Resolves every name, known or not, so that rendering runs on as many inputs as possible.
fn resolve_all(name: &str) -> Option<Slot> {
    common::resolve(name).or(Some(Slot::Var(3)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn rendering_never_panics(src in template_source()) {
        let Ok(mut t) = Template::parse(&src) else { return Ok(()) };
        for (name, offset, len) in t.names() {
            prop_assert_eq!(src.get(offset..offset + len), Some(name.as_str()));
        }
        if t.bind(&mut resolve_all).is_err() {
            return Ok(());
        }
        let mut user = User::new();
        let mut out = String::new();
        let rendered = user.with(|ctx| t.render(ctx, &mut out));
        let _ = user.eval(&t);
        let mut json = Vec::new();
        if user.with(|ctx| t.write_json(ctx, &mut json)).is_ok() {
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&json).is_ok(),
                "{}", String::from_utf8_lossy(&json));
        }
        if rendered.is_ok() && t.is_static() {
            prop_assert_eq!(Some(out.as_str()), t.as_static());
        }
    }

    #[test]
    fn parse_errors_point_inside_the_source(src in template_source()) {
        if let Err(e) = Template::parse(&src) {
            prop_assert!(e.offset + e.len <= src.len());
            prop_assert!(src.is_char_boundary(e.offset));
            prop_assert!(src.is_char_boundary(e.offset + e.len));
        }
    }

    #[test]
    fn int_stays_within_bounds(a in any::<i64>(), b in any::<i64>(), seed in any::<u64>()) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let t = Template::parse(&format!("{{{{ int({lo}, {hi}) }}}}")).unwrap();
        let mut user = User::new();
        user.rng = rand::SeedableRng::seed_from_u64(seed);
        for _ in 0..8 {
            let n = user.eval(&t).unwrap().as_i64().unwrap();
            prop_assert!(lo <= n && n <= hi);
        }
    }

    #[test]
    fn json_bodies_are_always_json(v in yaml_value(), seed in any::<u64>()) {
        let Ok(t) = JsonTemplate::compile(&v, &mut resolve_all) else { return Ok(()) };
        let mut user = User::new();
        user.rng = rand::SeedableRng::seed_from_u64(seed);
        let mut out = Vec::new();
        if user.with(|ctx| t.render_json(ctx, &mut out)).is_ok() {
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok(),
                "{}", String::from_utf8_lossy(&out));
        }
    }
}

fn yaml_value() -> impl Strategy<Value = Spanned<Yaml>> {
    let string = prop_oneof![
        template_source(),
        prop::sample::select(vec![
            "{{ float(1, 100, 2) }}",
            "{{ items }}",
            "{{ quote }}",
            "say {{ quote }}",
            "{{ uuid() }}",
            "{{ int(-5, 5) }}",
            "{{ choice(items) }}",
            "{{ str(id) }}",
            "{{ upper(quote) }}",
            "{{ null }}",
            "{{ accounts.username }}",
            "{{ string(4) }}",
        ])
        .prop_map(String::from),
    ];
    let leaf = prop_oneof![
        Just(Yaml::Null),
        any::<bool>().prop_map(Yaml::Bool),
        any::<i64>().prop_map(Yaml::Int),
        any::<f64>().prop_map(Yaml::Float),
        string.prop_map(Yaml::String),
    ]
    .prop_map(|v| Spanned::new(v, Span::default()));
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Yaml::Seq),
            prop::collection::vec(
                (
                    any::<String>().prop_map(|k| Spanned::new(k, Span::default())),
                    inner
                ),
                0..6
            )
            .prop_map(Yaml::Map),
        ]
        .prop_map(|v| Spanned::new(v, Span::default()))
    })
}
