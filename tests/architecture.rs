//! The library's layers, checked from the source: no import cycle between top-level modules
//! (docs/architecture.md draws them), the library never names the binary's CLI, and what
//! `include_dir!` embeds is in the packaged crate.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::root;

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The modules `main.rs` declares: they belong to the binary, not the library.
fn binary_modules(src: &Path) -> BTreeSet<String> {
    let main = std::fs::read_to_string(src.join("main.rs")).unwrap();
    main.lines()
        .filter_map(|l| l.trim().strip_prefix("mod "))
        .filter_map(|l| l.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// The top-level module a file of the library belongs to (`src/rules/load.rs` → `rules`).
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules a file names through `crate::…` (also inside `use crate::{a, b::c}`).
fn crate_references(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut open = 1;
            let end = group
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '{' => open += 1,
                        '}' => open -= 1,
                        _ => {}
                    }
                    open == 0
                })
                .map_or(group.len(), |(i, _)| i);
            // Top-level names of the group: the first segment of each comma-separated path,
            // ignoring nested groups.
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        let name: String = item
                            .trim()
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if !name.is_empty() {
                            out.insert(name);
                        }
                        item.clear();
                    }
                    c if depth == 0 => item.push(c),
                    _ => {}
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// The library's module graph: top-level module → the top-level modules it uses.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("src");
    let binary = binary_modules(&src);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let top = top_module(&src, &f);
        if top == "main" || top == "lib" || binary.contains(&top) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        // Unit tests (at the end of a file, after `#[cfg(test)]`) may use any module.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let refs = crate_references(code);
        let entry = g.entry(top.clone()).or_default();
        entry.extend(refs.into_iter().filter(|r| *r != top));
    }
    g
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.g.contains_key(w) {
                continue;
            }
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let g = graph();
    assert!(g.contains_key("inputs") && g.contains_key("eval"), "{g:?}");
    let found = cycles(&g);
    let described: Vec<String> = found
        .iter()
        .map(|c| {
            let edges: Vec<String> = c
                .iter()
                .flat_map(|a| {
                    g[a].iter()
                        .filter(|b| c.contains(b))
                        .map(move |b| format!("{a} -> {b}"))
                })
                .collect();
            format!("{} ({})", c.join(", "), edges.join("; "))
        })
        .collect();
    assert!(
        found.is_empty(),
        "import cycles between top-level modules:\n{}",
        described.join("\n")
    );
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.insert("a".into(), ["b".to_string()].into());
    g.insert("b".into(), ["c".to_string()].into());
    g.insert("c".into(), ["a".to_string(), "d".to_string()].into());
    g.insert("d".into(), BTreeSet::new());
    assert_eq!(cycles(&g), vec![vec!["a", "b", "c"]]);
    assert_eq!(
        crate_references("use crate::{a::{b, c}, d};\nlet x = crate::e::f();\n// crate::g\n"),
        ["a", "d", "e"].iter().map(|s| s.to_string()).collect()
    );
}

#[test]
fn the_library_knows_nothing_of_the_cli() {
    let g = graph();
    let src = root().join("src");
    for m in binary_modules(&src) {
        let users: Vec<&String> = g
            .iter()
            .filter(|(_, uses)| uses.contains(&m))
            .map(|(k, _)| k)
            .collect();
        assert!(
            users.is_empty(),
            "the library uses the binary's {m}: {users:?}"
        );
    }
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(!lib.contains("clap"), "lib.rs names clap");
    for (m, _) in g {
        let dir = src.join(&m);
        let mut files = Vec::new();
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src.join(format!("{m}.rs")));
        }
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(
                !text.contains("clap::"),
                "{} (library) uses clap",
                f.display()
            );
        }
    }
}

#[test]
fn the_packaged_crate_includes_what_include_dir_embeds() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let include = manifest
        .lines()
        .find(|l| l.starts_with("include"))
        .expect("Cargo.toml has an include list");
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut embedded = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for part in text.split("include_dir!(\"$CARGO_MANIFEST_DIR/").skip(1) {
            embedded.insert(part.split('"').next().unwrap().to_string());
        }
        for part in text
            .split("include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/")
            .skip(1)
        {
            let path = part.split('"').next().unwrap();
            embedded.insert(path.split('/').next().unwrap().to_string());
        }
    }
    assert!(
        embedded.contains("rules") && embedded.contains("fixtures"),
        "{embedded:?}"
    );
    for dir in &embedded {
        assert!(
            include.contains(&format!("\"{dir}/**\"")) || include.contains(&format!("\"{dir}\"")),
            "Cargo.toml's include leaves out {dir}/, which include_dir! embeds: {include}"
        );
    }
}
