//! CEL values as reports show them: text for messages, JSON for tools.

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelNull, CelString, CelUInt, Kind as CelKind,
};
use cel::common::value::Val;

use crate::doc::{ListNode, MapNode, Node};

/// Renders a CEL value for a message: strings as they are, everything else as compact JSON.
pub fn display(v: &dyn Val) -> String {
    match to_json(v) {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Converts a CEL value to JSON (maps keep their order when they come from a document).
pub fn to_json(v: &dyn Val) -> serde_json::Value {
    use serde_json::Value as J;
    if let Some(s) = v.downcast_ref::<CelString>() {
        return J::String(s.inner().to_string());
    }
    if let Some(i) = v.downcast_ref::<CelInt>() {
        return J::from(**i);
    }
    if let Some(u) = v.downcast_ref::<CelUInt>() {
        return J::from(**u);
    }
    if let Some(b) = v.downcast_ref::<CelBool>() {
        return J::Bool(**b);
    }
    if let Some(d) = v.downcast_ref::<CelDouble>() {
        return serde_json::Number::from_f64(**d).map_or(J::Null, J::Number);
    }
    if v.downcast_ref::<CelNull>().is_some() {
        return J::Null;
    }
    if let Some(m) = v.downcast_ref::<MapNode>() {
        return J::Object(
            m.iter()
                .map(|(k, e)| (k.to_string(), e.value.to_json()))
                .collect(),
        );
    }
    if let Some(l) = v.downcast_ref::<ListNode>() {
        return J::Array(l.items().iter().map(Node::to_json).collect());
    }
    match v.get_type().kind() {
        CelKind::List => {
            let mut out = Vec::new();
            if let Some(it) = v.as_iterable() {
                let mut it = it.iter();
                while let Some(x) = it.next() {
                    out.push(to_json(x));
                }
            }
            J::Array(out)
        }
        CelKind::Map => {
            let mut out = serde_json::Map::new();
            if let (Some(it), Some(ix)) = (v.as_iterable(), v.as_indexer()) {
                let mut it = it.iter();
                while let Some(k) = it.next() {
                    let value = ix.get(k).map(|x| to_json(x.as_ref())).unwrap_or(J::Null);
                    out.insert(display(k), value);
                }
            }
            J::Object(out)
        }
        _ => J::String(format!("{v:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Helper functions. Each receives its arguments as CEL values and returns one.
