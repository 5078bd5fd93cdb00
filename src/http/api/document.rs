//! The OpenAPI document as served: poem-openapi's, with every optional
//! property declared nullable. An `Option` field is written as JSON `null`
//! when it is `None`, but poem-openapi only leaves it out of `required`,
//! so a strict validator (schemathesis, generated clients) would reject
//! real answers. Every optional property in this API is an `Option`, so
//! "not required" and "may be null" are the same thing here.

use serde_json::Value;

/// The document `spec` (poem-openapi's JSON) with optional properties
/// nullable.
pub fn with_nullable_options(spec: &str) -> String {
    let Ok(mut doc) = serde_json::from_str::<Value>(spec) else {
        return spec.to_string();
    };
    mark(&mut doc);
    serde_json::to_string(&doc).unwrap_or_else(|_| spec.to_string())
}

fn mark(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let required: Vec<String> = map
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                for (name, schema) in properties.iter_mut() {
                    if !required.contains(name) {
                        nullable(schema);
                    }
                }
            }
            for child in map.values_mut() {
                mark(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mark),
        _ => {}
    }
}

/// OpenAPI 3.0 ignores siblings of `$ref`, so a reference is wrapped.
fn nullable(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    if let Some(reference) = map.remove("$ref") {
        let description = map.remove("description");
        map.clear();
        map.insert(
            "allOf".into(),
            Value::Array(vec![serde_json::json!({ "$ref": reference })]),
        );
        if let Some(description) = description {
            map.insert("description".into(), description);
        }
    }
    map.insert("nullable".into(), Value::Bool(true));
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    #[test]
    fn optional_properties_become_nullable_and_required_ones_do_not() {
        let spec = json!({"components": {"schemas": {"Connected": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "integer"},
                "secret": {"type": "string"},
                "source": {"$ref": "#/components/schemas/Source", "description": "where"},
                "items": {"type": "array", "items": {"type": "object",
                    "properties": {"note": {"type": "string"}}}}
            }
        }}}});
        let out: Value =
            serde_json::from_str(&super::with_nullable_options(&spec.to_string())).expect("json");
        let props = &out["components"]["schemas"]["Connected"]["properties"];
        assert_eq!(props["id"].get("nullable"), None);
        assert_eq!(props["secret"]["nullable"], true);
        assert_eq!(
            props["source"],
            json!({"allOf": [{"$ref": "#/components/schemas/Source"}], "description": "where", "nullable": true})
        );
        assert_eq!(
            props["items"]["items"]["properties"]["note"]["nullable"],
            true
        );
    }
}
