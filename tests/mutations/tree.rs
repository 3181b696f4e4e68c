//! YAML and JSON fixtures as plain trees: every single-node mutation of a document, written back
//! as YAML (block style) or strict JSON text.

use std::fmt::Write as _;

use isms_lint::doc::{Node, Value};

/// A document as data, without spans: what a mutation edits and a writer prints.
#[derive(Clone, Debug, PartialEq)]
pub enum Tree {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (written plain when YAML reads it back as the same string, else quoted).
    Str(String),
    /// A scalar written plain exactly as given, e.g. the YAML 1.1 boolean `yes` (YAML only).
    Plain(String),
    /// A sequence.
    List(Vec<Tree>),
    /// A mapping, in source order.
    Map(Vec<(String, Tree)>),
}

impl Tree {
    /// The tree of a node read by the YAML reader (unknown and conditional values, which it
    /// never yields, become strings).
    pub fn of(n: &Node) -> Tree {
        match &n.value {
            Value::Null => Tree::Null,
            Value::Bool(b) => Tree::Bool(**b),
            Value::Int(i) => Tree::Int(**i),
            Value::Float(f) => Tree::Float(**f),
            Value::Str(s) => Tree::Str(s.inner().to_string()),
            Value::Unknown(u) => Tree::Str(u.text().to_string()),
            // Conditional values are made after kind detection, never by the YAML reader.
            Value::Choice(_) => Tree::Str(n.to_display()),
            Value::List(l) => Tree::List(l.items().iter().map(Tree::of).collect()),
            Value::Map(m) => Tree::Map(
                m.iter()
                    .map(|(k, e)| (k.to_string(), Tree::of(&e.value)))
                    .collect(),
            ),
        }
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, Tree::List(_) | Tree::Map(_))
    }
}

/// A label and a maker of an odd string (made only when a mutation is applied).
type OddString = (&'static str, fn() -> String);

/// Strings that are valid but unusual where a value is expected.
/// (The empty string is tried everywhere, on its own.)
const ODD_STRINGS: [OddString; 3] = [
    // A YAML comment marker: plain `name: ##X##` reads as null, quoted it is this string.
    ("'##X##'", || "##X##".to_string()),
    ("unicode", || "ünïcödé ✓ 名前 🚀 \u{200b}".to_string()),
    ("very long string", || "x".repeat(4096)),
];

/// Odd map keys (a YAML implicit key is at most 1024 characters long).
const ODD_KEYS: [OddString; 4] = [
    ("'##X##'", || "##X##".to_string()),
    ("empty string", String::new),
    ("unicode", || "ünïcödé ✓ 名前 🚀".to_string()),
    ("very long string", || "k".repeat(1000)),
];

/// YAML 1.1 spellings of a boolean that YAML 1.2 reads as strings, in several cases.
fn yaml11_spellings(b: bool) -> [&'static str; 4] {
    if b {
        ["yes", "On", "Y", "yEs"]
    } else {
        ["no", "OFF", "n", "oFf"]
    }
}

/// One step from a node to a child.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn path_text(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) if s.is_empty() => s.push_str(k),
            Step::Key(k) => {
                let _ = write!(s, ".{k}");
            }
            Step::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

/// An edit at one node.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Remove the map member or list item.
    Delete,
    /// Rename the map member's key.
    RenameKey(fn() -> String),
    /// Replace the value.
    Replace(New),
}

/// A replacement value, built only when a mutation is applied (most planned mutations are
/// dropped as repeats, and some replacements are large).
#[derive(Clone, Debug)]
pub enum New {
    /// This value.
    Value(Tree),
    /// A string made on demand.
    Made(fn() -> String),
    /// The replaced node inside a list.
    InList,
    /// The replaced node under the key `##X##`.
    InMap,
}

impl New {
    fn build(&self, old: &Tree) -> Tree {
        match self {
            New::Value(t) => t.clone(),
            New::Made(make) => Tree::Str(make()),
            New::InList => Tree::List(vec![old.clone()]),
            New::InMap => Tree::Map(vec![("##X##".into(), old.clone())]),
        }
    }
}

/// One mutation: where, what kind of change, and the edit to make.
#[derive(Clone, Debug)]
pub struct Mutation {
    path: Vec<Step>,
    /// The kind of change, e.g. `odd string` (alternatives of one family are not all tried).
    pub family: &'static str,
    /// e.g. `set to unicode`.
    pub label: String,
    /// The type of the value changed: `string`, `bool`, `map`, …
    pub of_type: &'static str,
    edit: Edit,
}

impl Mutation {
    /// e.g. `spec.containers[0].name: delete key`.
    pub fn what(&self) -> String {
        format!("{}: {}", path_text(&self.path), self.label)
    }

    /// The keys from the document root to the node (list indices left out), a CloudFormation
    /// resource named by its `Type` rather than its logical id.
    fn keys(&self, root: &Tree) -> Vec<String> {
        let mut keys: Vec<String> = self
            .path
            .iter()
            .filter_map(|s| match s {
                Step::Key(k) => Some(k.clone()),
                Step::Index(_) => None,
            })
            .collect();
        if keys.len() > 1
            && keys[0] == "Resources"
            && let Some(Tree::Str(ty)) = lookup(root, &["Resources", &keys[1], "Type"])
        {
            keys[1] = ty.clone();
        }
        keys
    }

    /// The place the mutation changes, in terms that recur across documents: list indices
    /// left out, the names of Compose services, workflow jobs and CloudFormation parameters
    /// and outputs as `*`, a CloudFormation resource by its `Type`, the pod spec of any
    /// Kubernetes workload as `POD` and the metadata of any Kubernetes object as `OBJECT`.
    pub fn shape(&self, root: &Tree) -> String {
        let keys = self.keys(root);
        let k8s_kind = match root {
            Tree::Map(e) if e.iter().any(|(k, _)| k == "apiVersion") => e
                .iter()
                .find(|(k, _)| k == "kind")
                .and_then(|(_, v)| match v {
                    Tree::Str(s) => Some(s.as_str()),
                    _ => None,
                }),
            _ => None,
        };
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let pod_prefix: &[&[&str]] = &[
            &["spec", "jobTemplate", "spec", "template", "spec"],
            &["spec", "template", "spec"],
        ];
        for p in pod_prefix {
            if k8s_kind.is_some() && keys.starts_with(p) {
                return format!("POD.{}", keys[p.len()..].join("."));
            }
        }
        if k8s_kind == Some("Pod") && keys.first() == Some(&"spec") {
            return format!("POD.{}", keys[1..].join("."));
        }
        if k8s_kind.is_some() && keys.first() == Some(&"metadata") {
            return format!("OBJECT.{}", keys.join("."));
        }
        let mut out: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        if let Some(first) = keys.first() {
            const NAMED: &[&str] = &[
                "services",
                "jobs",
                "Parameters",
                "Outputs",
                "Conditions",
                "Mappings",
                "networks",
                "volumes",
                "secrets",
                "configs",
            ];
            if NAMED.contains(first) && k8s_kind.is_none() && out.len() > 1 {
                out[1] = "*".into();
            }
        }
        format!("{}.{}", k8s_kind.unwrap_or(""), out.join("."))
    }
}

fn lookup<'a>(t: &'a Tree, keys: &[&str]) -> Option<&'a Tree> {
    let Some((first, rest)) = keys.split_first() else {
        return Some(t);
    };
    match t {
        Tree::Map(e) => e
            .iter()
            .find(|(k, _)| k == first)
            .and_then(|(_, v)| lookup(v, rest)),
        _ => None,
    }
}

fn type_name(t: &Tree) -> &'static str {
    match t {
        Tree::Null => "null",
        Tree::Bool(_) => "bool",
        Tree::Int(_) => "int",
        Tree::Float(_) => "float",
        Tree::Str(_) | Tree::Plain(_) => "string",
        Tree::List(_) => "list",
        Tree::Map(_) => "map",
    }
}

/// Whether the mutations are for a YAML text (plain YAML 1.1 scalars can be written) or JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// YAML.
    Yaml,
    /// JSON.
    Json,
}

/// One of `options`, chosen by `seed`: alternatives of one family take turns across places.
fn pick<T: Clone>(seed: u64, options: &[T]) -> T {
    options[(seed % options.len() as u64) as usize].clone()
}

/// A stable hash (FNV-1a) of a place, so the same place in another document picks the same
/// alternative.
fn seed_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The replacement values tried for `node`: (family, label, value). One alternative per family.
fn replacements(node: &Tree, syntax: Syntax, seed: u64) -> Vec<(&'static str, String, New)> {
    let mut out: Vec<(&'static str, String, New)> =
        vec![("null", "null".into(), New::Value(Tree::Null))];
    let mut add = |family: &'static str, label: &str, value: New| {
        out.push((family, label.to_string(), value));
    };
    let value = New::Value;
    match node {
        Tree::Bool(b) => {
            add("string", "string", value(Tree::Str(b.to_string())));
            add("number", "number", value(Tree::Int(i64::from(*b))));
            if syntax == Syntax::Yaml {
                let words = yaml11_spellings(*b);
                for (family, options) in [
                    ("YAML 1.1 word", &words[..2]),
                    ("YAML 1.1 letter or case", &words[2..]),
                ] {
                    let w: &str = pick(seed, options);
                    let label = format!("YAML 1.1 `{w}`");
                    add(family, &label, value(Tree::Plain(w.to_string())));
                }
            }
            // The opposite value: code paths for both answers get exercised.
            add("negated", "negated", value(Tree::Bool(!b)));
        }
        Tree::Int(i) => {
            add("string", "string", value(Tree::Str(i.to_string())));
            add("bool", "bool", value(Tree::Bool(true)));
            add("float", "float", value(Tree::Float(*i as f64 + 0.5)));
            add("negative", "negative", value(Tree::Int(-1)));
        }
        Tree::Float(f) => {
            add("string", "string", value(Tree::Str(f.to_string())));
            add("int", "int", value(Tree::Int(*f as i64)));
        }
        Tree::Str(_) | Tree::Plain(_) => {
            add("number", "number", value(Tree::Int(0)));
            add("bool", "bool", value(Tree::Bool(true)));
            add(
                "empty string",
                "empty string",
                value(Tree::Str(String::new())),
            );
            let (label, make) = pick(seed, &ODD_STRINGS[..]);
            add("odd string", label, New::Made(make));
        }
        Tree::Null => {
            add("string", "string", value(Tree::Str("##X##".into())));
            add("bool", "bool", value(Tree::Bool(true)));
        }
        Tree::List(_) => {
            let (label, scalar) = pick(
                seed,
                &[
                    ("string", Tree::Str("##X##".into())),
                    ("number", Tree::Int(0)),
                ],
            );
            add("scalar", label, value(scalar));
            let map = Tree::Map(vec![("##X##".into(), Tree::Int(1))]);
            add("map", "map", value(map));
            add("empty", "empty list", value(Tree::List(Vec::new())));
            let odd = Tree::List(vec![Tree::Null, Tree::Int(0), Tree::Str(String::new())]);
            add("odd items", "list of odd items", value(odd));
        }
        Tree::Map(_) => {
            let (label, scalar) = pick(
                seed,
                &[
                    ("string", Tree::Str("##X##".into())),
                    ("number", Tree::Int(0)),
                ],
            );
            add("scalar", label, value(scalar));
            add("list", "list", New::InList);
            add("empty", "empty map", value(Tree::Map(Vec::new())));
        }
    }
    if node.is_scalar() {
        let (label, wrap) = pick(seed, &[("list", New::InList), ("map", New::InMap)]);
        out.push(("collection", label.into(), wrap));
    }
    out
}

/// Every single-node change of `root`: for each map member, delete it and rename its key to an
/// odd string; for each list item, delete it; for every node below the root, replace it by
/// null, by a value of each other type, strings by the empty and an odd string, booleans by
/// YAML 1.1 spellings (YAML only) and their negation. Where a family has alternatives (which odd
/// string, list or map…), one is chosen per place, stably.
pub fn mutations(root: &Tree, syntax: Syntax) -> Vec<Mutation> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(root, &mut path, syntax, &mut out);
    out
}

fn walk(node: &Tree, path: &mut Vec<Step>, syntax: Syntax, out: &mut Vec<Mutation>) {
    if !path.is_empty() {
        let of_type = type_name(node);
        let place: Vec<&str> = path
            .iter()
            .filter_map(|s| match s {
                Step::Key(k) => Some(k.as_str()),
                Step::Index(_) => None,
            })
            .collect();
        let seed = seed_of(&format!("{}|{of_type}", place.join(".")));
        let mut push = |family: &'static str, label: String, edit: Edit| {
            out.push(Mutation {
                path: path.clone(),
                family,
                label,
                of_type,
                edit,
            });
        };
        match path.last() {
            Some(Step::Key(_)) => {
                push("delete", "delete key".into(), Edit::Delete);
                let (label, make) = pick(seed, &ODD_KEYS[..]);
                push(
                    "rename",
                    format!("rename key to {label}"),
                    Edit::RenameKey(make),
                );
            }
            Some(Step::Index(_)) => push("delete", "delete item".into(), Edit::Delete),
            None => {}
        }
        for (family, label, value) in replacements(node, syntax, seed) {
            push(family, format!("set to {label}"), Edit::Replace(value));
        }
    }
    match node {
        Tree::Map(entries) => {
            for (k, v) in entries {
                path.push(Step::Key(k.clone()));
                walk(v, path, syntax, out);
                path.pop();
            }
        }
        Tree::List(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Step::Index(i));
                walk(v, path, syntax, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// `root` with `m` applied.
pub fn apply(root: &Tree, m: &Mutation) -> Tree {
    let mut t = root.clone();
    edit(&mut t, &m.path, &m.edit);
    t
}

fn edit(node: &mut Tree, path: &[Step], e: &Edit) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match (node, first) {
        (Tree::Map(entries), Step::Key(k)) => {
            let Some(i) = entries.iter().position(|(key, _)| key == k) else {
                return;
            };
            if !rest.is_empty() {
                return edit(&mut entries[i].1, rest, e);
            }
            match e {
                Edit::Delete => {
                    entries.remove(i);
                }
                Edit::RenameKey(make) => {
                    let new = make();
                    // A key that already exists would merge two members: keep the first.
                    if entries.iter().any(|(key, _)| *key == new) {
                        entries.remove(i);
                    } else {
                        entries[i].0 = new;
                    }
                }
                Edit::Replace(v) => entries[i].1 = v.build(&entries[i].1),
            }
        }
        (Tree::List(items), Step::Index(i)) => {
            if *i >= items.len() {
                return;
            }
            if !rest.is_empty() {
                return edit(&mut items[*i], rest, e);
            }
            match e {
                Edit::Delete | Edit::RenameKey(_) => {
                    items.remove(*i);
                }
                Edit::Replace(v) => items[*i] = v.build(&items[*i]),
            }
        }
        _ => {}
    }
}

// ----------------------------------------------------------------------------------------------
// Writers.

/// Whether YAML 1.2 (core schema) reads `s`, written plain, back as the same string.
fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./@".contains(c))
    {
        return false;
    }
    !matches!(
        s,
        "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
    ) && !s.starts_with(".inf")
        && !s.eq_ignore_ascii_case(".nan")
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn yaml_scalar(t: &Tree) -> String {
    match t {
        Tree::Null => "null".into(),
        Tree::Bool(b) => b.to_string(),
        Tree::Int(i) => i.to_string(),
        Tree::Float(f) if f.is_nan() => ".nan".into(),
        Tree::Float(f) if f.is_infinite() => if *f > 0.0 { ".inf" } else { "-.inf" }.into(),
        Tree::Float(f) => format!("{f:?}"),
        Tree::Str(s) if plain_safe(s) => s.clone(),
        Tree::Str(s) => json_string(s),
        Tree::Plain(s) => s.clone(),
        Tree::List(_) => "[]".into(),
        Tree::Map(_) => "{}".into(),
    }
}

fn yaml_key(k: &str) -> String {
    if plain_safe(k) {
        k.to_string()
    } else {
        json_string(k)
    }
}

/// The tree as block-style YAML.
pub fn to_yaml(t: &Tree) -> String {
    let mut out = String::new();
    match t {
        Tree::Map(e) if !e.is_empty() => yaml_map(e, 0, &mut out),
        Tree::List(i) if !i.is_empty() => yaml_list(i, 0, &mut out),
        other => {
            out.push_str(&yaml_scalar(other));
            out.push('\n');
        }
    }
    out
}

fn is_block(t: &Tree) -> bool {
    match t {
        Tree::Map(e) => !e.is_empty(),
        Tree::List(i) => !i.is_empty(),
        _ => false,
    }
}

fn yaml_map(entries: &[(String, Tree)], indent: usize, out: &mut String) {
    for (i, (k, v)) in entries.iter().enumerate() {
        // The first member of a map that is a list item follows its `- ` on the same line.
        if i > 0 || indent == 0 || !out.ends_with("- ") {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&yaml_key(k));
        out.push(':');
        yaml_value(v, indent + 2, out);
    }
}

fn yaml_list(items: &[Tree], indent: usize, out: &mut String) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Tree::Map(e) if !e.is_empty() => yaml_map(e, indent + 2, out),
            Tree::List(i) if !i.is_empty() => {
                out.push('\n');
                yaml_list(i, indent + 2, out);
            }
            other => {
                out.push_str(&yaml_scalar(other));
                out.push('\n');
            }
        }
    }
}

fn yaml_value(v: &Tree, indent: usize, out: &mut String) {
    if is_block(v) {
        out.push('\n');
        match v {
            Tree::Map(e) => yaml_map(e, indent, out),
            Tree::List(i) => yaml_list(i, indent, out),
            _ => unreachable!("is_block holds only for non-empty maps and lists"),
        }
    } else {
        out.push(' ');
        out.push_str(&yaml_scalar(v));
        out.push('\n');
    }
}

/// The tree as JSON (plain scalars, which JSON lacks, become strings).
pub fn to_json(t: &Tree) -> String {
    fn conv(t: &Tree) -> serde_json::Value {
        use serde_json::Value as J;
        match t {
            Tree::Null => J::Null,
            Tree::Bool(b) => J::Bool(*b),
            Tree::Int(i) => J::from(*i),
            Tree::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Tree::Str(s) | Tree::Plain(s) => J::String(s.clone()),
            Tree::List(items) => J::Array(items.iter().map(conv).collect()),
            Tree::Map(entries) => {
                J::Object(entries.iter().map(|(k, v)| (k.clone(), conv(v))).collect())
            }
        }
    }
    serde_json::to_string_pretty(&conv(t)).expect("a tree is valid JSON") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Tree {
        let mut stream = isms_lint::doc::yaml::parse(text).expect("valid YAML");
        Tree::of(&stream.documents.remove(0))
    }

    #[test]
    fn yaml_round_trips() {
        let text = "a: 1\nb:\n  - x: yes\n    y: [1, 2]\n  - - 3\n    - {}\nc: \"true\"\nd: ''\ne: '##X##'\nf: 1.5\ng: ~\n";
        let t = parse(text);
        assert_eq!(parse(&to_yaml(&t)), t, "{}", to_yaml(&t));
        assert_eq!(parse(&to_json(&t)), t);
    }

    #[test]
    fn mutations_edit_one_node() {
        let t = parse("a:\n  b: true\nl: [x]\n");
        let ms = mutations(&t, Syntax::Yaml);
        let del = ms.iter().find(|m| m.what() == "a.b: delete key").unwrap();
        assert_eq!(to_yaml(&apply(&t, del)), "a: {}\nl:\n  - x\n");
        let yes = ms
            .iter()
            .find(|m| m.what() == "a.b: set to YAML 1.1 `yes`")
            .unwrap();
        assert_eq!(to_yaml(&apply(&t, yes)), "a:\n  b: yes\nl:\n  - x\n");
        assert!(ms.iter().any(|m| m.what() == "l[0]: delete item"));
        assert!(mutations(&t, Syntax::Json)
            .iter()
            .all(|m| !m.label.contains("YAML 1.1")));
    }
}
