//! AWS SAM (`Transform: AWS::Serverless-2016-10-31`): the resources the transform implies,
//! added beside the `AWS::Serverless::*` resources so that the rules of the plain resources
//! judge them. Each implied resource is written where the SAM property that implies it is, so
//! findings point at the SAM template's own lines.
//!
//! - `Globals.Function` (and `Globals.Api`, …) fill the properties a resource leaves out.
//! - `AWS::Serverless::Function`: `FunctionUrlConfig` → `AWS::Lambda::Url` `<Id>Url` (its
//!   `AuthType` as written); each `Api` event → `AWS::ApiGateway::Method`
//!   `<Id><Event>Method` whose `AuthorizationType` is the event's `Auth.Authorizer`, else the
//!   API's `Auth.DefaultAuthorizer`, else `NONE` (and `AWS_IAM` for `AWS_IAM`); each `HttpApi`
//!   event → `AWS::ApiGatewayV2::Route` the same way.
//! - `AWS::Serverless::Api`: its stage `AWS::ApiGateway::Stage` `<Id><StageName>Stage` with
//!   `MethodSettings`, `AccessLogSetting` and `TracingEnabled`.
//! - `AWS::Serverless::HttpApi`: `AWS::ApiGatewayV2::Stage` with `AccessLogSettings` and
//!   `DefaultRouteSettings`.
//! - `AWS::Serverless::SimpleTable` becomes the `AWS::DynamoDB::Table` of the same logical id
//!   (its `SSESpecification` as written, none when absent: an AWS owned key only; its `Tags`
//!   map as the table's `Key`/`Value` list), and
//!   `AWS::Serverless::StateMachine` the `AWS::StepFunctions::StateMachine`, as the transform
//!   does.

use cel::common::types::CelString;

use crate::doc::{MapBuilder, MapNode, Node, Span, Value};

/// The transform that marks a SAM template.
const TRANSFORM: &str = "AWS::Serverless-2016-10-31";

/// Whether the template declares the SAM transform.
fn is_sam(template: &MapNode) -> bool {
    match template.get("Transform").map(|t| &t.value) {
        Some(Value::Str(s)) => s.inner() == TRANSFORM,
        Some(Value::List(l)) => l.items().iter().any(|i| i.as_str() == Some(TRANSFORM)),
        _ => false,
    }
}

/// The template with the resources SAM implies added to `Resources` (unchanged when it is not a
/// SAM template).
pub fn expand(root: &Node) -> Node {
    let Some(template) = root.as_map() else {
        return root.clone();
    };
    if !is_sam(template) {
        return root.clone();
    }
    let Some(resources) = template.entry("Resources") else {
        return root.clone();
    };
    let Some(all) = resources.value.as_map() else {
        return root.clone();
    };
    let globals = template.get("Globals").and_then(Node::as_map);
    let mut b = MapBuilder::new();
    let mut implied: Vec<(String, Span, Node)> = Vec::new();
    for (id, entry) in all.iter() {
        let r = with_globals(&entry.value, globals);
        implied.extend(implies(id, entry.key_span, &r, all, globals));
        let r = retyped(r);
        b.insert(id.to_string(), entry.key_span, r);
    }
    for (id, key_span, node) in implied {
        if all.get(&id).is_none() {
            b.insert(id, key_span, node);
        }
    }
    let expanded = Node::new(
        Value::Map(b.finish(resources.value.span)),
        resources.value.span,
    );
    let mut t = MapBuilder::new();
    for (key, entry) in template.iter() {
        let value = if key == "Resources" {
            expanded.clone()
        } else {
            entry.value.clone()
        };
        t.insert(key.to_string(), entry.key_span, value);
    }
    Node::new(Value::Map(t.finish(root.span)), root.span)
}

/// The `Globals` section that applies to a SAM resource type.
fn globals_for(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "AWS::Serverless::Function" => "Function",
        "AWS::Serverless::Api" => "Api",
        "AWS::Serverless::HttpApi" => "HttpApi",
        "AWS::Serverless::SimpleTable" => "SimpleTable",
        "AWS::Serverless::StateMachine" => "StateMachine",
        _ => return None,
    })
}

/// A SAM resource with the `Globals` properties it does not set itself.
fn with_globals(r: &Node, globals: Option<&MapNode>) -> Node {
    let section = type_of(r)
        .and_then(globals_for)
        .and_then(|g| globals?.get(g))
        .and_then(Node::as_map);
    let (Some(section), Some(map)) = (section, r.as_map()) else {
        return r.clone();
    };
    let props = map.get("Properties").and_then(Node::as_map);
    let mut b = MapBuilder::new();
    if let Some(p) = props {
        for (k, e) in p.iter() {
            b.insert(k.to_string(), e.key_span, e.value.clone());
        }
    }
    for (k, e) in section.iter() {
        if props.is_none_or(|p| p.get(k).is_none()) {
            b.insert(k.to_string(), e.key_span, e.value.clone());
        }
    }
    let props_span = map.get("Properties").map_or(r.span, |p| p.span);
    let mut out = MapBuilder::new();
    for (k, e) in map.iter() {
        if k != "Properties" {
            out.insert(k.to_string(), e.key_span, e.value.clone());
        }
    }
    let key_span = map.entry("Properties").map_or(r.span, |e| e.key_span);
    out.insert(
        "Properties".to_string(),
        key_span,
        Node::new(Value::Map(b.finish(props_span)), props_span),
    );
    Node::new(Value::Map(out.finish(r.span)), r.span)
}

/// A SAM resource that the transform turns into one plain resource of the same logical id and
/// properties: that resource (`SimpleTable` → `AWS::DynamoDB::Table`, `StateMachine` →
/// `AWS::StepFunctions::StateMachine`); any other resource as it is.
fn retyped(r: Node) -> Node {
    let plain = match type_of(&r) {
        Some("AWS::Serverless::SimpleTable") => "AWS::DynamoDB::Table",
        Some("AWS::Serverless::StateMachine") => "AWS::StepFunctions::StateMachine",
        _ => return r,
    };
    let Some(map) = r.as_map() else {
        return r;
    };
    let mut b = MapBuilder::new();
    for (k, e) in map.iter() {
        let value = match k {
            "Type" => text(plain, e.value.span),
            "Properties" => tags_as_list(&e.value),
            _ => e.value.clone(),
        };
        b.insert(k.to_string(), e.key_span, value);
    }
    Node::new(Value::Map(b.finish(r.span)), r.span)
}

/// Properties whose SAM-style `Tags` map (`owner: team`) is written as the plain resource's
/// list (`- Key: owner, Value: team`), each item at its key.
fn tags_as_list(props: &Node) -> Node {
    let Some(map) = props.as_map() else {
        return props.clone();
    };
    let mut b = MapBuilder::new();
    for (k, e) in map.iter() {
        let value = match (k, e.value.as_map()) {
            ("Tags", Some(tags)) => {
                let items = tags
                    .iter()
                    .map(|(name, t)| {
                        let mut item = MapBuilder::new();
                        item.insert("Key".to_string(), t.key_span, text(name, t.key_span));
                        item.insert("Value".to_string(), t.value.span, t.value.clone());
                        Node::new(Value::Map(item.finish(t.key_span)), t.key_span)
                    })
                    .collect();
                Node::new(
                    Value::List(crate::doc::ListNode::new(items, e.value.span)),
                    e.value.span,
                )
            }
            _ => e.value.clone(),
        };
        b.insert(k.to_string(), e.key_span, value);
    }
    Node::new(Value::Map(b.finish(props.span)), props.span)
}

fn type_of(r: &Node) -> Option<&str> {
    r.get("Type").and_then(Node::as_str)
}

fn text(s: &str, span: Span) -> Node {
    Node::new(Value::Str(CelString::from(s.to_string())), span)
}

/// A resource of type `ty` written at `span`, with `props` (key, node) as its properties.
fn resource(ty: &str, span: Span, props: Vec<(&str, Node)>) -> Node {
    let mut p = MapBuilder::new();
    for (k, v) in props {
        p.insert(k.to_string(), v.span, v);
    }
    let mut r = MapBuilder::new();
    r.insert("Type".to_string(), span, text(ty, span));
    r.insert(
        "Properties".to_string(),
        span,
        Node::new(Value::Map(p.finish(span)), span),
    );
    Node::new(Value::Map(r.finish(span)), span)
}

/// The resources one SAM resource implies, each `(logical id, key span, resource)`.
fn implies(
    id: &str,
    key_span: Span,
    r: &Node,
    all: &MapNode,
    globals: Option<&MapNode>,
) -> Vec<(String, Span, Node)> {
    let props = r.get("Properties");
    let prop = |k: &str| props.and_then(|p| p.get(k));
    let copy = |keys: &[&'static str]| -> Vec<(&'static str, Node)> {
        keys.iter()
            .filter_map(|k| prop(k).map(|v| (*k, v.clone())))
            .collect()
    };
    let mut out = Vec::new();
    match type_of(r) {
        Some("AWS::Serverless::Function") => {
            if let Some(url) = prop("FunctionUrlConfig").filter(|u| u.as_map().is_some()) {
                let mut p = vec![("TargetFunctionArn", text(id, url.span))];
                if let Some(auth) = url.get("AuthType") {
                    p.push(("AuthType", auth.clone()));
                }
                out.push((
                    format!("{id}Url"),
                    key_span,
                    resource("AWS::Lambda::Url", url.span, p),
                ));
            }
            let events = prop("Events").and_then(Node::as_map);
            for (event, e) in events.into_iter().flat_map(MapNode::iter) {
                if let Some(m) = event_method(id, (event, e.key_span), &e.value, all, globals) {
                    out.push((m.0, e.key_span, m.1));
                }
            }
        }
        Some("AWS::Serverless::Api") => {
            let stage = prop("StageName").and_then(Node::as_str).unwrap_or("Stage");
            let span = props.map_or(r.span, |p| p.span);
            let mut p = copy(&["MethodSettings", "AccessLogSetting", "TracingEnabled"]);
            p.push(("RestApiId", text(id, span)));
            out.push((
                format!("{id}{stage}Stage"),
                key_span,
                resource("AWS::ApiGateway::Stage", span, p),
            ));
        }
        Some("AWS::Serverless::HttpApi") => {
            let span = props.map_or(r.span, |p| p.span);
            let mut p = copy(&["AccessLogSettings", "DefaultRouteSettings"]);
            p.push(("ApiId", text(id, span)));
            out.push((
                format!("{id}ApiGatewayDefaultStage"),
                key_span,
                resource("AWS::ApiGatewayV2::Stage", span, p),
            ));
        }
        _ => {}
    }
    out
}

/// The API Gateway method (REST `Api` event) or route (`HttpApi` event) a function's event
/// (named, with its key's span) implies, with the authorization SAM gives it.
fn event_method(
    function: &str,
    (event, event_span): (&str, Span),
    e: &Node,
    all: &MapNode,
    globals: Option<&MapNode>,
) -> Option<(String, Node)> {
    let kind = e.get("Type").and_then(Node::as_str)?;
    let (api_type, global, ty, suffix) = match kind {
        "Api" => (
            "AWS::Serverless::Api",
            "Api",
            "AWS::ApiGateway::Method",
            "Method",
        ),
        "HttpApi" => (
            "AWS::Serverless::HttpApi",
            "HttpApi",
            "AWS::ApiGatewayV2::Route",
            "Route",
        ),
        _ => return None,
    };
    let props = e.get("Properties");
    let span = props.map_or(e.span, |p| p.span);
    // The API the event belongs to: `RestApiId`/`ApiId: !Ref X`, else the implicit one (whose
    // `Auth` comes from `Globals`).
    let api_ref = props
        .and_then(|p| p.get(if kind == "Api" { "RestApiId" } else { "ApiId" }))
        .and_then(|r| r.get("Ref"))
        .and_then(Node::as_str);
    let api_auth = match api_ref {
        Some(api) => all
            .get(api)
            .filter(|a| type_of(a) == Some(api_type))
            .and_then(|a| a.get("Properties"))
            .and_then(|p| p.get("Auth"))
            .or_else(|| globals?.get(global)?.get("Auth")),
        None => globals.and_then(|g| g.get(global)?.get("Auth")),
    };
    let event_auth = props.and_then(|p| p.get("Auth"));
    let authorizer = event_auth
        .and_then(|a| a.get("Authorizer"))
        .or_else(|| api_auth.and_then(|a| a.get("DefaultAuthorizer")));
    let (auth_type, at) = match authorizer {
        Some(a) => match a.as_str() {
            Some("NONE") => ("NONE", a.span),
            Some("AWS_IAM") => ("AWS_IAM", a.span),
            Some(_) => ("CUSTOM", a.span),
            None => ("CUSTOM", a.span),
        },
        // Nothing asks for authorization: the event itself is the open method.
        None => ("NONE", event_span),
    };
    let mut p = vec![("AuthorizationType", text(auth_type, at))];
    if let Some(m) = props.and_then(|p| p.get("Method")) {
        p.push(("HttpMethod", m.clone()));
    }
    if let Some(path) = props.and_then(|p| p.get("Path")) {
        p.push(("ResourcePath", path.clone()));
    }
    let api_key = event_auth
        .and_then(|a| a.get("ApiKeyRequired"))
        .or_else(|| api_auth.and_then(|a| a.get("ApiKeyRequired")));
    if let Some(k) = api_key {
        p.push(("ApiKeyRequired", k.clone()));
    }
    Some((format!("{function}{event}{suffix}"), resource(ty, span, p)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::yaml;

    fn expanded(text: &str) -> Node {
        expand(&yaml::parse(text).unwrap().documents.remove(0))
    }

    fn resource<'a>(t: &'a Node, id: &str) -> Option<&'a Node> {
        t.get("Resources").and_then(|r| r.get(id))
    }

    const SAM: &str = "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    FunctionUrlConfig:\n      AuthType: NONE\n  Api:\n    Auth:\n      DefaultAuthorizer: Cognito\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: a.b\n      Events:\n        Open:\n          Type: Api\n          Properties:\n            Path: /o\n            Method: get\n            Auth:\n              Authorizer: NONE\n        Closed:\n          Type: Api\n          Properties:\n            Path: /c\n            Method: get\n  Table:\n    Type: AWS::Serverless::SimpleTable\n    Properties:\n      Tags:\n        owner: team\n";

    #[test]
    fn globals_events_and_tables_imply_plain_resources_at_their_lines() {
        let t = expanded(SAM);
        let url = resource(&t, "FnUrl").expect("the function URL");
        assert_eq!(
            url.get("Type").and_then(Node::as_str),
            Some("AWS::Lambda::Url")
        );
        let auth = url
            .get("Properties")
            .and_then(|p| p.get("AuthType"))
            .unwrap();
        assert_eq!(auth.as_str(), Some("NONE"));
        let at = crate::doc::Positions::of_text(SAM);
        assert_eq!(at.start(auth.span).line, 5, "at the Globals line");

        let open = resource(&t, "FnOpenMethod")
            .and_then(|r| r.get("Properties"))
            .unwrap();
        let open_auth = open.get("AuthorizationType").unwrap();
        assert_eq!(open_auth.as_str(), Some("NONE"));
        assert_eq!(at.start(open_auth.span).line, 21);
        let closed = resource(&t, "FnClosedMethod")
            .and_then(|r| r.get("Properties"))
            .unwrap();
        // The implicit API's default authorizer comes from Globals.
        assert_eq!(
            closed.get("AuthorizationType").and_then(Node::as_str),
            Some("CUSTOM")
        );

        let table = resource(&t, "Table").unwrap();
        assert_eq!(
            table.get("Type").and_then(Node::as_str),
            Some("AWS::DynamoDB::Table")
        );
        let tags = table.get("Properties").and_then(|p| p.get("Tags")).unwrap();
        let first = &tags.as_list().unwrap().items()[0];
        assert_eq!(first.get("Key").and_then(Node::as_str), Some("owner"));
        assert_eq!(first.get("Value").and_then(Node::as_str), Some("team"));
    }

    #[test]
    fn without_the_transform_nothing_is_implied() {
        let t = expanded(&SAM.replace("Transform: AWS::Serverless-2016-10-31\n", ""));
        assert!(resource(&t, "FnUrl").is_none());
        assert_eq!(
            resource(&t, "Table")
                .and_then(|r| r.get("Type"))
                .and_then(Node::as_str),
            Some("AWS::Serverless::SimpleTable")
        );
    }
}
