//! One-line flow collections longer than 1,024 characters (minified JSON), and the YAML limit of
//! 1,024 characters on an implicit key, which the vendored saphyr-parser now applies inside flow
//! collections too, as libyaml does (vendor/saphyr-parser/ISMS-LINT-PATCH.md).

use isms_lint::doc::yaml::parse;
use isms_lint::doc::{Node, Pos, Positions};

/// The number at index `i`, as `scripts/gen_big_json.py` generates them.
fn number(i: usize) -> usize {
    (i * 7919) % 1_000_003
}

fn one(text: &str) -> Node {
    let mut stream = parse(text).unwrap();
    assert_eq!(stream.documents.len(), 1);
    stream.documents.remove(0)
}

/// 1-based column just past `text`.
fn col_after(text: &str) -> u32 {
    u32::try_from(text.chars().count()).unwrap() + 1
}

#[test]
fn one_line_json_array_of_5000_numbers_parses_whole() {
    let items: Vec<String> = (0..5000).map(|i| number(i).to_string()).collect();
    let text = format!("[{}]", items.join(","));
    assert!(text.len() > 20 * 1024);
    let doc = one(&text);
    let at = Positions::of_text(&text);
    assert_eq!(at.start(doc.span), Pos::new(1, 1));
    // A flow sequence's span ends at its `]` (as for `[1,2]`, whose span ends at column 5).
    assert_eq!(
        Positions::of_text("[1,2]").end(one("[1,2]").span),
        Pos::new(1, 5)
    );
    assert_eq!(at.end(doc.span), Pos::new(1, col_after(&text) - 1));
    let list = doc.as_list().unwrap();
    let got: Vec<String> = list.items().iter().map(Node::to_display).collect();
    assert_eq!(got, items);
    for i in [0, 1, 150, 151, 1024, 2500, 4999] {
        // Column of item i: after "[" and the i items before it, each followed by ",".
        let before = format!(
            "[{}",
            items[..i]
                .iter()
                .map(|s| format!("{s},"))
                .collect::<String>()
        );
        let start = col_after(&before);
        let node = &list.items()[i];
        assert_eq!(at.start(node.span), Pos::new(1, start), "item {i}");
        assert_eq!(
            at.end(node.span),
            Pos::new(1, start + col_after(&items[i]) - 1),
            "item {i}"
        );
    }
}

#[test]
fn one_line_json_object_of_2000_keys_parses_whole() {
    let pairs: Vec<String> = (0..2000)
        .map(|i| format!("\"key{i}\":{}", number(i)))
        .collect();
    let text = format!("{{{}}}", pairs.join(","));
    assert!(text.len() > 20 * 1024);
    let doc = one(&text);
    let at = Positions::of_text(&text);
    assert_eq!(at.start(doc.span), Pos::new(1, 1));
    assert_eq!(at.end(doc.span), Pos::new(1, col_after(&text)));
    let map = doc.as_map().unwrap();
    let got: Vec<(String, String)> = map
        .iter()
        .map(|(k, e)| (k.to_string(), e.value.to_display()))
        .collect();
    let want: Vec<(String, String)> = (0..2000)
        .map(|i| (format!("key{i}"), number(i).to_string()))
        .collect();
    assert_eq!(got, want);
    for i in [0, 1, 60, 61, 1000, 1999] {
        let before = format!(
            "{{{}",
            pairs[..i]
                .iter()
                .map(|p| format!("{p},"))
                .collect::<String>()
        );
        let key_start = col_after(&before);
        let key = format!("\"key{i}\"");
        let value_start = key_start + col_after(&key);
        let entry = map.entry(&format!("key{i}")).unwrap();
        assert_eq!(at.start(entry.key_span), Pos::new(1, key_start), "key {i}");
        assert_eq!(
            at.end(entry.key_span),
            Pos::new(1, value_start - 1),
            "key {i}"
        );
        assert_eq!(
            at.start(entry.value.span),
            Pos::new(1, value_start),
            "value {i}"
        );
        assert_eq!(
            at.end(entry.value.span),
            Pos::new(1, value_start + col_after(&number(i).to_string()) - 1),
            "value {i}"
        );
    }
}

#[test]
fn implicit_key_of_1000_characters_in_a_flow_mapping_parses() {
    let key = "a".repeat(1000);
    let doc = one(&format!("{{{key}: 1}}"));
    let map = doc.as_map().unwrap();
    assert_eq!(map.entry(&key).unwrap().value.to_display(), "1");
    let quoted = one(&format!("{{\"{key}\": 1}}"));
    assert_eq!(quoted.get(&key).unwrap().to_display(), "1");
}

#[test]
fn implicit_key_longer_than_1024_characters_in_a_flow_mapping_is_an_error() {
    // PyYAML (libyaml's rule): "expected ',' or '}', but got ':'" at line 1, column 1102, the
    // ':' after the 1,100-character key.
    let key = "a".repeat(1100);
    let err = parse(&format!("{{{key}: 1}}")).unwrap_err();
    assert_eq!(err.pos, Pos::new(1, 1102), "{}", err.message);
    assert_eq!(
        err.message,
        "while parsing a flow mapping, did not find expected ',' or '}'"
    );
    let err = parse(&format!("{{\"{key}\": 1}}")).unwrap_err();
    assert_eq!(err.pos, Pos::new(1, 1104), "{}", err.message);
    // Nested in a block mapping, as PyYAML: column 1105.
    let err = parse(&format!("a: {{{key}: 1}}")).unwrap_err();
    assert_eq!(err.pos, Pos::new(1, 1105), "{}", err.message);
    let err = parse(&format!("[{key}: 1]")).unwrap_err();
    assert_eq!(err.pos, Pos::new(1, 1102), "{}", err.message);
    assert_eq!(
        err.message,
        "while parsing a flow sequence, expected ',' or ']'"
    );
}

#[test]
fn the_limit_is_1024_characters_from_the_key_start_to_the_colon() {
    // As PyYAML: a key of 1,024 characters is still a key, one of 1,025 is not.
    let key = "a".repeat(1024);
    assert!(one(&format!("{{{key}: 1}}")).get(&key).is_some());
    let key = "a".repeat(1025);
    assert_eq!(
        parse(&format!("{{{key}: 1}}")).unwrap_err().pos,
        Pos::new(1, 1027)
    );
}
