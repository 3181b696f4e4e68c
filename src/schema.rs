//! JSON Schemas for rule files and `.isms-lint.yaml`, derived from the types the loaders read
//! them into and committed under `schemas/` so editors validate and complete them (a test fails
//! when they drift).

fn pretty(schema: schemars::Schema) -> String {
    serde_json::to_string_pretty(&schema).expect("schema serializes") + "\n"
}

/// The rule file schema.
pub fn rule_schema() -> String {
    pretty(schemars::schema_for!(crate::rules::RawRule))
}

/// The config file schema.
pub fn config_schema() -> String {
    pretty(schemars::schema_for!(crate::config::Config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_schema_lists_exactly_the_loader_fields() {
        let v: serde_json::Value = serde_json::from_str(&rule_schema()).unwrap();
        let mut props: Vec<String> = v["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        props.sort();
        let mut fields: Vec<String> = crate::rules::rule_fields()
            .iter()
            .map(|s| s.to_string())
            .collect();
        fields.sort();
        assert_eq!(props, fields);
        assert_eq!(v["additionalProperties"], false);
    }

    #[test]
    fn kind_names_match_the_engine() {
        let v: serde_json::Value = serde_json::from_str(&rule_schema()).unwrap();
        let text = v.to_string();
        for k in crate::inputs::Kind::ALL {
            assert!(text.contains(&format!("\"{}\"", k.as_str())), "{k}");
        }
    }
}
