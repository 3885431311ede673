#[test]
fn smoke() {
    for p in ["/tmp/bad.yaml"] {
        let text = std::fs::read_to_string(p).unwrap();
        let f = barrage_scenario::SourceFile { name: p.into(), text };
        match barrage_scenario::parse(&f) {
            Ok((s, w)) => { println!("{s:#?}"); println!("{}", barrage_scenario::render(&f, &w, false)); }
            Err(d) => println!("{}", barrage_scenario::render(&f, &d, false)),
        }
    }
}
