//! Terraform (HCL) fixtures mutated as text: each edit replaces or removes the exact byte range
//! the HCL parser gives for an attribute, its value, a value inside an object or tuple, or a
//! nested block, so the rest of the file keeps its layout and every mutant is valid HCL.

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Body, Structure};
use hcl_edit::Span as _;

/// One textual edit of a `.tf` or `.tfvars` file.
#[derive(Clone, Debug)]
pub struct TextEdit {
    /// The kind of change, e.g. `odd string` (alternatives of one family are not all tried).
    pub family: &'static str,
    /// Block types, labels and attribute names down to the edited place, e.g.
    /// `[resource, aws_s3_bucket, logs, versioning, enabled]` (`dynamic` and `content` left
    /// out: the document holds a dynamic block's content where a block would be).
    keys: Vec<String>,
    /// e.g. `set to null`.
    pub label: String,
    /// What was there: `attribute`, `block` or the expression's kind.
    pub of_type: &'static str,
    /// Byte range replaced.
    range: std::ops::Range<usize>,
    /// What goes there.
    with: String,
}

impl TextEdit {
    /// e.g. `resource.aws_s3_bucket.logs.versioning.enabled: set to null`.
    pub fn what(&self) -> String {
        format!("{}: {}", self.keys.join("."), self.label)
    }

    /// The place in terms that recur across modules: a resource, data source or module by
    /// its type, not its name.
    pub fn shape(&self) -> String {
        let mut k = self.keys.clone();
        match k.first().map(String::as_str) {
            Some("resource" | "data") if k.len() > 2 => k[2] = "*".into(),
            Some("module") if k.len() > 1 => k[1] = "*".into(),
            _ => {}
        }
        k.join(".")
    }

    /// `text` with the edit made.
    pub fn apply(&self, text: &str) -> String {
        format!(
            "{}{}{}",
            &text[..self.range.start],
            self.with,
            &text[self.range.end..]
        )
    }
}

/// A stable hash (FNV-1a) of a place, to choose among alternatives.
fn seed_of(keys: &[String]) -> u64 {
    keys.join(".").bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Replacement values for an expression, by what it is now: (family, label, text). Where a
/// family has alternatives, one is chosen per place.
fn replacements(e: &Expression, seed: u64) -> Vec<(&'static str, &'static str, String)> {
    let pick = |options: &[(&'static str, String)]| {
        options[(seed % options.len() as u64) as usize].clone()
    };
    let odd = pick(&[
        ("'##X##'", "\"##X##\"".to_string()),
        ("unicode", "\"ünïcödé ✓ 名前 🚀\"".to_string()),
        ("very long string", format!("\"{}\"", "x".repeat(4096))),
    ]);
    let unknown = pick(&[
        (
            "unresolved reference",
            "var.isms_lint_undefined".to_string(),
        ),
        ("function call", "lower(\"X\")".to_string()),
    ]);
    let mut out = vec![
        ("null", "null", "null".to_string()),
        ("empty string", "empty string", "\"\"".to_string()),
        ("odd string", odd.0, odd.1),
        ("unknown", unknown.0, unknown.1),
    ];
    match e {
        Expression::Bool(b) => {
            out.push(("string", "string", format!("\"{}\"", b.value())));
            out.push(("number", "number", u8::from(*b.value()).to_string()));
            out.push(("negated", "negated", (!b.value()).to_string()));
        }
        Expression::Number(n) => {
            out.push(("string", "string", format!("\"{}\"", n.value())));
            out.push(("bool", "bool", "true".into()));
            out.push(("negative", "negative", "-1".into()));
        }
        Expression::Array(_) => {
            out.push(("empty", "empty list", "[]".into()));
            out.push(("odd items", "list of odd items", "[null, 0, \"\"]".into()));
            out.push(("map", "map", "{ x = 1 }".into()));
        }
        Expression::Object(_) => {
            out.push(("empty", "empty map", "{}".into()));
            out.push(("list", "list", "[]".into()));
        }
        _ => {
            out.push(("number", "number", "0".into()));
            out.push(("bool", "bool", "true".into()));
            let c = pick(&[
                ("list", "[\"##X##\"]".to_string()),
                ("map", "{ x = \"##X##\" }".to_string()),
            ]);
            out.push(("collection", c.0, c.1));
        }
    }
    out
}

/// Every edit of the file `text`: delete each attribute and each nested block (top-level blocks
/// are kept: deleting a resource only removes what rules judge), empty each block body, and
/// replace each attribute value, and each value inside object and tuple literals, by null, by
/// values of other types, by odd strings, by an unresolved reference and by a function call.
/// `None` when the text is not HCL.
pub fn edits(text: &str) -> Option<Vec<TextEdit>> {
    let body: Body = hcl_edit::parser::parse_body(text).ok()?;
    let mut out = Vec::new();
    body_edits(&body, &[], true, &mut out);
    Some(out)
}

fn edit(
    keys: &[String],
    (family, label): (&'static str, &str),
    of_type: &'static str,
    range: std::ops::Range<usize>,
    with: String,
) -> TextEdit {
    TextEdit {
        family,
        keys: keys.to_vec(),
        label: label.to_string(),
        of_type,
        range,
        with,
    }
}

fn body_edits(body: &Body, prefix: &[String], top: bool, out: &mut Vec<TextEdit>) {
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let here = join(prefix, a.key.as_str());
                if let Some(range) = a.span() {
                    out.push(edit(
                        &here,
                        ("delete", "delete attribute"),
                        "attribute",
                        range,
                        String::new(),
                    ));
                }
                expr_edits(&a.value, &here, out);
            }
            Structure::Block(b) => {
                let mut here = prefix.to_vec();
                if !matches!(b.ident.as_str(), "dynamic" | "content") {
                    here.push(b.ident.as_str().to_string());
                }
                for l in &b.labels {
                    here.push(l.as_str().to_string());
                }
                if !top && let Some(range) = b.span() {
                    out.push(edit(
                        &here,
                        ("delete", "delete block"),
                        "block",
                        range,
                        String::new(),
                    ));
                }
                if let Some(range) = body_range(&b.body) {
                    out.push(edit(
                        &here,
                        ("empty", "empty block"),
                        "block",
                        range,
                        "\n".into(),
                    ));
                }
                body_edits(&b.body, &here, false, out);
            }
        }
    }
}

/// From the first to the last structure of a non-empty body.
fn body_range(body: &Body) -> Option<std::ops::Range<usize>> {
    let first = body.iter().next()?.span()?;
    let last = body.iter().last()?.span()?;
    Some(first.start..last.end)
}

fn expr_type(e: &Expression) -> &'static str {
    match e {
        Expression::Null(_) => "null",
        Expression::Bool(_) => "bool",
        Expression::Number(_) => "number",
        Expression::String(_) => "string",
        Expression::Array(_) => "tuple",
        Expression::Object(_) => "object",
        Expression::StringTemplate(_) | Expression::HeredocTemplate(_) => "template",
        _ => "expression",
    }
}

fn expr_edits(e: &Expression, here: &[String], out: &mut Vec<TextEdit>) {
    let Some(range) = e.span() else {
        return;
    };
    for (family, label, with) in replacements(e, seed_of(here)) {
        let label = format!("set to {label}");
        out.push(edit(
            here,
            (family, &label),
            expr_type(e),
            range.clone(),
            with,
        ));
    }
    match e {
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                let key = k
                    .as_ident()
                    .map(|i| i.as_str().to_string())
                    .or_else(|| k.as_expr().map(|e| e.to_string().trim().to_string()))
                    .unwrap_or_default();
                expr_edits(v.expr(), &join(here, &key), out);
            }
        }
        Expression::Array(a) => {
            // Tuple items: the document path has no key for them (like list indices).
            for v in a.iter() {
                expr_edits(v, here, out);
            }
        }
        _ => {}
    }
}

fn join(prefix: &[String], part: &str) -> Vec<String> {
    let mut v = prefix.to_vec();
    v.push(part.to_string());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_valid_hcl() {
        let text = "resource \"a\" \"b\" {\n  x = true\n  tags = { k = \"v\" }\n  nested {\n    y = [1, 2]\n  }\n}\n";
        let edits = edits(text).unwrap();
        for e in &edits {
            let t = e.apply(text);
            assert!(
                hcl_edit::parser::parse_body(&t).is_ok(),
                "{}:\n{t}",
                e.what()
            );
        }
        let null = edits
            .iter()
            .find(|e| e.what() == "resource.a.b.x: set to null")
            .unwrap();
        assert!(null.apply(text).contains("  x = null\n"));
        assert!(edits
            .iter()
            .any(|e| e.what() == "resource.a.b.nested: delete block"));
        assert!(edits
            .iter()
            .any(|e| e.what() == "resource.a.b.tags.k: set to empty string"));
        assert!(edits
            .iter()
            .any(|e| e.what() == "resource.a.b.nested.y: set to null" && e.of_type == "number"));
    }
}
