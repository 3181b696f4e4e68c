//! CloudFormation templates as rules read them. Intrinsic functions are resolved where the
//! template itself gives their value, and what only exists at deployment is said to be unknown:
//!
//! - `Ref` to a parameter with a literal `Default` is that default (written where the `Ref` is);
//!   without a default it is unknown. `Ref AWS::NoValue` leaves the key (or list item) out. Other
//!   pseudo parameters and `Ref`/`Fn::GetAtt` to resources stay as they are: references rules can
//!   follow, known to be set.
//! - `Fn::Sub` and `Fn::Join` of known parts are the resulting string (resource and pseudo
//!   parameter references keep their `${…}` text); a part that is unknown makes them unknown.
//! - `Conditions` are decided where their inputs are known (`Fn::Equals`, `Fn::Not`, `Fn::And`,
//!   `Fn::Or`, `Condition`). `Fn::If` on a decided condition is its branch; on an undecided one it
//!   is a [`Value::Choice`] of both branches, which the engine judges one by one. A resource
//!   whose `Condition` is decided false is not created and is left out.
//! - `Fn::FindInMap` and `Fn::Select` of known arguments are looked up; `Fn::ImportValue` is
//!   unknown but set (an export always has a value); `Fn::GetAZs`, `Fn::Cidr`, `Fn::Split`, `Fn::Length`, `Fn::ToJsonString`, `Fn::Transform`
//!   and unresolved lookups are unknown.
//!
//! Only `Resources` is rewritten; the other sections stay as written.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::doc::{ChoiceNode, ListNode, MapBuilder, MapNode, Node, Span, Value};

/// Intrinsics whose value only exists at deployment.
const DEPLOY_TIME: &[&str] = &[
    "Fn::ImportValue",
    "Fn::GetAZs",
    "Fn::Cidr",
    "Fn::Split",
    "Fn::Length",
    "Fn::ToJsonString",
    "Fn::Transform",
];

/// The template with its intrinsics resolved as far as the template allows.
///
/// When nothing else holds the template, `Resources` is rewritten in place: each resource as
/// read is replaced (and freed) as soon as its rewrite is made, so the template is not held
/// twice (a 5 MB template's peak memory). Otherwise the rewrite is a new template sharing what
/// did not change; the result is the same.
pub fn normalize(mut root: Node) -> Node {
    let Some(i) = root.as_map().and_then(|t| t.position("Resources")) else {
        return root;
    };
    let taken = match &mut root.value {
        Value::Map(t) => t
            .value_mut(i)
            .map(|v| std::mem::replace(v, Node::new(Value::Null, v.span))),
        _ => None,
    };
    let Some(resources) = taken else {
        return normalize_shared(&root);
    };
    let rewritten = match root.as_map() {
        Some(template) => Template::of(template).resources_owned(resources),
        None => resources,
    };
    if let Value::Map(t) = &mut root.value
        && let Some(v) = t.value_mut(i)
    {
        *v = rewritten;
    }
    root
}

/// [`normalize`] of a template that other handles share: a new template.
fn normalize_shared(root: &Node) -> Node {
    let Some(template) = root.as_map() else {
        return root.clone();
    };
    let Some(resources) = template.entry("Resources") else {
        return root.clone();
    };
    let cx = Template::of(template);
    let mut b = MapBuilder::new();
    for (key, entry) in template.iter() {
        let value = if key == "Resources" {
            cx.resources(&resources.value)
        } else {
            entry.value.clone()
        };
        b.insert(key.to_string(), entry.key_span, value);
    }
    Node::new(Value::Map(b.finish(root.span)), root.span)
}

/// What an intrinsic resolves to.
enum Resolved {
    /// A value (possibly unknown, or a choice).
    Node(Node),
    /// `AWS::NoValue`: the key or item is left out.
    Absent,
}

/// The parts of a template intrinsics read.
struct Template<'t> {
    parameters: HashMap<&'t str, Option<&'t Node>>,
    conditions: HashMap<&'t str, &'t Node>,
    mappings: Option<&'t MapNode>,
    decided: RefCell<HashMap<String, Option<bool>>>,
    /// How many maps or lists referenced from more than one place (a YAML alias, a merge) the
    /// rewrite is inside: there everything is copied, so that each place has its own nodes.
    copying: std::cell::Cell<u32>,
}

impl<'t> Template<'t> {
    fn of(template: &'t MapNode) -> Template<'t> {
        let section = |name: &str| template.get(name).and_then(Node::as_map);
        let parameters = section("Parameters")
            .map(|m| m.iter().map(|(k, e)| (k, e.value.get("Default"))).collect())
            .unwrap_or_default();
        let conditions = section("Conditions")
            .map(|m| m.iter().map(|(k, e)| (k, &e.value)).collect())
            .unwrap_or_default();
        Template {
            parameters,
            conditions,
            mappings: section("Mappings"),
            decided: RefCell::new(HashMap::new()),
            copying: std::cell::Cell::new(0),
        }
    }

    /// `Resources`, each rewritten; resources whose condition is decided false are left out.
    fn resources(&self, resources: &Node) -> Node {
        let Some(map) = resources.as_map() else {
            return resources.clone();
        };
        let mut b = MapBuilder::new();
        for (name, entry) in map.iter() {
            if self.never_created(&entry.value) {
                continue;
            }
            if let Resolved::Node(n) = self.rewrite(&entry.value, 0) {
                b.insert(name.to_string(), entry.key_span, n);
            }
        }
        Node::new(Value::Map(b.finish(resources.span)), resources.span)
    }

    /// [`Template::resources`] in place when nothing else holds `Resources`: each resource is
    /// replaced by its rewrite as soon as it is made, freeing the resource as read.
    fn resources_owned(&self, mut resources: Node) -> Node {
        let span = resources.span;
        let Value::Map(map) = &mut resources.value else {
            return resources;
        };
        if map.span() != span {
            return self.resources(&resources);
        }
        let Some(values) = map.values_mut() else {
            return self.resources(&resources);
        };
        let mut left_out = Vec::new();
        for (i, value) in values.enumerate() {
            if self.never_created(value) {
                left_out.push(i);
                continue;
            }
            match self.rewrite(value, 0) {
                Resolved::Node(n) => *value = n,
                Resolved::Absent => left_out.push(i),
            }
        }
        if left_out.is_empty() {
            return resources;
        }
        let mut b = MapBuilder::new();
        for (i, (name, entry)) in map.iter().enumerate() {
            if left_out.binary_search(&i).is_err() {
                b.insert(name.to_string(), entry.key_span, entry.value.clone());
            }
        }
        Node::new(Value::Map(b.finish(span)), span)
    }

    /// Whether the resource's `Condition` is decided false: it is not created.
    fn never_created(&self, resource: &Node) -> bool {
        resource
            .get("Condition")
            .and_then(Node::as_str)
            .and_then(|c| self.condition(c, 0))
            == Some(false)
    }

    fn rewrite(&self, node: &Node, depth: u32) -> Resolved {
        self.rewritten(node, depth)
            .unwrap_or_else(|| Resolved::Node(node.clone()))
    }

    /// `node` rewritten; `None` when nothing in it changes, so that the rewritten template
    /// shares every unchanged map and list with the template as read instead of copying it.
    /// A map or list referenced from several places is copied with everything in it, each
    /// time, as every place must have nodes of its own (findings are located by node).
    fn rewritten(&self, node: &Node, depth: u32) -> Option<Resolved> {
        if depth > 100 {
            return None;
        }
        let shared = match &node.value {
            Value::Map(m) => m.is_shared(),
            Value::List(l) => l.is_shared(),
            _ => false,
        };
        if !shared {
            return self.rewritten_here(node, depth);
        }
        self.copying.set(self.copying.get() + 1);
        let r = self.rewritten_here(node, depth);
        self.copying.set(self.copying.get() - 1);
        r
    }

    fn rewritten_here(&self, node: &Node, depth: u32) -> Option<Resolved> {
        let copy = self.copying.get() > 0;
        match &node.value {
            Value::Map(m) => {
                if m.len() == 1 {
                    let (name, entry) = m.iter().next().expect("one entry");
                    if let Some(r) = self.intrinsic(name, &entry.value, node, depth) {
                        return Some(r);
                    }
                }
                let changed: Vec<(usize, Resolved)> = m
                    .iter()
                    .enumerate()
                    .filter_map(|(i, (_, e))| Some((i, self.rewritten(&e.value, depth + 1)?)))
                    .collect();
                if changed.is_empty() && !copy {
                    return None;
                }
                let mut changed = changed.into_iter().peekable();
                let mut b = MapBuilder::new();
                for (i, (k, e)) in m.iter().enumerate() {
                    let value = match changed.next_if(|(j, _)| *j == i) {
                        Some((_, r)) => r,
                        None => Resolved::Node(e.value.clone()),
                    };
                    if let Resolved::Node(n) = value {
                        b.insert(k.to_string(), e.key_span, n);
                    }
                }
                Some(Resolved::Node(Node::new(
                    Value::Map(b.finish(m.span())),
                    node.span,
                )))
            }
            Value::List(l) => {
                let changed: Vec<(usize, Resolved)> = l
                    .items()
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| Some((i, self.rewritten(item, depth + 1)?)))
                    .collect();
                if changed.is_empty() && !copy {
                    return None;
                }
                let mut changed = changed.into_iter().peekable();
                let items = l
                    .items()
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| match changed.next_if(|(j, _)| *j == i) {
                        Some((_, Resolved::Node(n))) => Some(n),
                        Some((_, Resolved::Absent)) => None,
                        None => Some(item.clone()),
                    })
                    .collect();
                Some(Resolved::Node(Node::new(
                    Value::List(ListNode::new(items, l.span())),
                    node.span,
                )))
            }
            _ => None,
        }
    }

    /// The value of the intrinsic `name` with argument `arg` written as `node`; `None` when
    /// `name` is not an intrinsic this rewrites.
    fn intrinsic(&self, name: &str, arg: &Node, node: &Node, depth: u32) -> Option<Resolved> {
        let unknown = || Resolved::Node(unknown(name, arg, node.span));
        Some(match name {
            "Ref" => match arg.as_str() {
                Some("AWS::NoValue") => Resolved::Absent,
                Some(p) if self.parameters.contains_key(p) => match self.parameters[p] {
                    Some(default) if is_literal(default) => {
                        Resolved::Node(default.relocated(node.span))
                    }
                    _ => unknown(),
                },
                _ => return None,
            },
            "Fn::If" => {
                let args = arg.as_list()?.items();
                let [cond, yes, no] = args else {
                    return None;
                };
                let cond = cond.as_str()?;
                match self.condition(cond, 0) {
                    Some(true) => self.rewrite(yes, depth + 1),
                    Some(false) => self.rewrite(no, depth + 1),
                    None => {
                        let branch = |n: &Node| match self.rewrite(n, depth + 1) {
                            Resolved::Node(n) => Some(n),
                            Resolved::Absent => None,
                        };
                        let choice = ChoiceNode::new(cond.to_string(), branch(yes), branch(no));
                        Resolved::Node(Node::new(Value::Choice(choice), node.span))
                    }
                }
            }
            "Fn::Sub" => match self.sub(arg, depth) {
                Some(s) => Resolved::Node(Node::string(s, node.span)),
                None => unknown(),
            },
            "Fn::Join" => match self.join(arg, depth) {
                Some(s) => Resolved::Node(Node::string(s, node.span)),
                None => unknown(),
            },
            "Fn::FindInMap" => match self.find_in_map(arg, depth) {
                Some(v) => Resolved::Node(v.relocated(node.span)),
                None => unknown(),
            },
            "Fn::Select" => match self.select(arg, depth) {
                Some(v) => Resolved::Node(v.relocated(node.span)),
                None => unknown(),
            },
            // An export of another stack: not known before deployment, but always set.
            "Fn::ImportValue" => {
                let Value::Unknown(u) = self::unknown(name, arg, node.span).value else {
                    return None;
                };
                Resolved::Node(Node::reference(u.text(), node.span))
            }
            n if DEPLOY_TIME.contains(&n) => unknown(),
            _ => return None,
        })
    }

    /// A scalar argument resolved to its text, or `${…}` text for a reference to a resource or
    /// pseudo parameter; `None` when it is unknown.
    fn text(&self, node: &Node, depth: u32) -> Option<String> {
        self.text_of(node, depth, true)
    }

    /// A scalar argument resolved to its text; references give `${…}` text when `references`
    /// is set, else nothing (a condition cannot compare what is only known at deployment).
    fn text_of(&self, node: &Node, depth: u32, references: bool) -> Option<String> {
        match self.rewrite(node, depth + 1) {
            Resolved::Absent => Some(String::new()),
            Resolved::Node(n) => match &n.value {
                Value::Str(s) => Some(s.inner().to_string()),
                Value::Int(i) => Some(i.to_string()),
                Value::Float(f) => Some(f.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Map(m) if m.len() == 1 && references => {
                    if let Some(r) = m.get("Ref").and_then(Node::as_str) {
                        return Some(format!("${{{r}}}"));
                    }
                    let att = m.get("Fn::GetAtt")?;
                    let parts: Vec<String> = match &att.value {
                        Value::List(l) => l.items().iter().filter_map(scalar).collect(),
                        _ => vec![scalar(att)?],
                    };
                    Some(format!("${{{}}}", parts.join(".")))
                }
                _ => None,
            },
        }
    }

    /// `Fn::Sub`: a template string, optionally with its own variables.
    fn sub(&self, arg: &Node, depth: u32) -> Option<String> {
        let (template, vars) = match &arg.value {
            Value::Str(s) => (s.inner().to_string(), None),
            Value::List(l) => match l.items() {
                [t, v] => (t.as_str()?.to_string(), v.as_map()),
                [t] => (t.as_str()?.to_string(), None),
                _ => return None,
            },
            _ => return None,
        };
        let mut out = String::new();
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}')?;
            let name = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let value = match vars.and_then(|v| v.get(name)) {
                Some(v) => self.text(v, depth)?,
                None => match self.parameters.get(name) {
                    Some(Some(default)) if is_literal(default) => scalar(default)?,
                    Some(_) => return None,
                    None => format!("${{{name}}}"),
                },
            };
            out.push_str(&value);
        }
        out.push_str(rest);
        Some(out)
    }

    /// `Fn::Join`: `[delimiter, [parts]]`.
    fn join(&self, arg: &Node, depth: u32) -> Option<String> {
        let [delim, parts] = arg.as_list()?.items() else {
            return None;
        };
        let delim = delim.as_str()?;
        let parts = match self.rewrite(parts, depth + 1) {
            Resolved::Node(n) => n,
            Resolved::Absent => return Some(String::new()),
        };
        let texts: Option<Vec<String>> = parts
            .as_list()?
            .items()
            .iter()
            .map(|p| self.text(p, depth))
            .collect();
        Some(texts?.join(delim))
    }

    /// `Fn::FindInMap`: `[map, top key, second key]` of the template's `Mappings`.
    fn find_in_map(&self, arg: &Node, depth: u32) -> Option<Node> {
        let [map, top, second] = arg.as_list()?.items() else {
            return None;
        };
        let keys: Option<Vec<String>> = [map, top, second]
            .iter()
            .map(|k| self.text(k, depth))
            .collect();
        let keys = keys?;
        let found = self.mappings?.get(&keys[0])?.get(&keys[1])?.get(&keys[2])?;
        is_literal(found).then(|| found.clone())
    }

    /// `Fn::Select`: `[index, list]`.
    fn select(&self, arg: &Node, depth: u32) -> Option<Node> {
        let [index, list] = arg.as_list()?.items() else {
            return None;
        };
        let index: usize = self.text(index, depth)?.parse().ok()?;
        let list = match self.rewrite(list, depth + 1) {
            Resolved::Node(n) => n,
            Resolved::Absent => return None,
        };
        let item = list.as_list()?.items().get(index)?.clone();
        is_literal(&item).then_some(item)
    }

    /// Whether the condition `name` holds, when its inputs are known.
    fn condition(&self, name: &str, depth: u32) -> Option<bool> {
        if let Some(done) = self.decided.borrow().get(name) {
            return *done;
        }
        // A cycle, or a missing condition, decides nothing.
        self.decided.borrow_mut().insert(name.to_string(), None);
        let result = self
            .conditions
            .get(name)
            .and_then(|c| self.truth(c, depth + 1));
        self.decided.borrow_mut().insert(name.to_string(), result);
        result
    }

    /// The truth of a condition expression, when its inputs are known.
    fn truth(&self, node: &Node, depth: u32) -> Option<bool> {
        if depth > 50 {
            return None;
        }
        let m = node.as_map().filter(|m| m.len() == 1)?;
        let (name, entry) = m.iter().next()?;
        let args = || entry.value.as_list().map(ListNode::items).unwrap_or(&[]);
        match name {
            "Condition" => self.condition(entry.value.as_str()?, depth),
            "Fn::Not" => match args() {
                [c] => self.truth(c, depth + 1).map(|b| !b),
                _ => None,
            },
            // An operand that decides (false for `And`, true for `Or`) decides even beside an
            // unknown one.
            "Fn::And" | "Fn::Or" => {
                let deciding = name == "Fn::Or";
                let known: Vec<Option<bool>> =
                    args().iter().map(|c| self.truth(c, depth + 1)).collect();
                if known.contains(&Some(deciding)) {
                    return Some(deciding);
                }
                known
                    .into_iter()
                    .collect::<Option<Vec<bool>>>()
                    .map(|_| !deciding)
            }
            "Fn::Equals" => match args() {
                [a, b] => Some(self.text_of(a, depth, false)? == self.text_of(b, depth, false)?),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Whether a node holds no intrinsic (a literal scalar, list or map).
fn is_literal(node: &Node) -> bool {
    match &node.value {
        Value::Map(m) => {
            !(m.len() == 1 && m.iter().any(|(k, _)| k == "Ref" || k.starts_with("Fn::")))
                && m.iter().all(|(_, e)| is_literal(&e.value))
        }
        Value::List(l) => l.items().iter().all(is_literal),
        Value::Unknown(_) | Value::Choice(_) => false,
        _ => true,
    }
}

fn scalar(node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.inner().to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An unknown value for the intrinsic `name` of `arg`, in the short form it is written in.
fn unknown(name: &str, arg: &Node, span: Span) -> Node {
    let short = name.strip_prefix("Fn::").unwrap_or(name);
    let text = match arg.as_str() {
        Some(s) => format!("!{short} {s}"),
        None => format!("!{short} {}", arg.to_json()),
    };
    Node::unknown(text, span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::yaml;

    fn template(text: &str) -> Node {
        normalize(yaml::parse(text).unwrap().documents.remove(0))
    }

    /// Every value, span and key span of a tree, in order.
    fn spelled(n: &Node, out: &mut Vec<String>) {
        out.push(format!("{:?}", n.span));
        match &n.value {
            Value::Map(m) => {
                out.push(format!("map {:?}", m.span()));
                for (k, e) in m.iter() {
                    out.push(format!("{k} {:?}", e.key_span));
                    spelled(&e.value, out);
                }
            }
            Value::List(l) => {
                out.push(format!("list {:?}", l.span()));
                l.items().iter().for_each(|i| spelled(i, out));
            }
            Value::Choice(c) => {
                out.push(format!("if {}", c.condition()));
                for b in 0..2 {
                    match c.branch(b) {
                        Some(n) => spelled(n, out),
                        None => out.push("absent".into()),
                    }
                }
            }
            other => out.push(format!("{other:?}")),
        }
    }

    #[test]
    fn the_rewrite_in_place_and_the_shared_rewrite_agree() {
        let texts = [
            "Parameters:\n  Cidr: {Type: String, Default: 10.0.0.0/8}\n  Env: {Type: String}\nConditions:\n  Prod: !Equals [!Ref Env, prod]\n  Never: !Equals [a, b]\nResources:\n  Gone:\n    Type: AWS::S3::Bucket\n    Condition: Never\n  A:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      Kept: {X: [1, 2]}\n      Name: !Sub '${AWS::StackName}-a'\n      Rules:\n        - CidrIp: !Ref Cidr\n        - !Ref AWS::NoValue\n      Maybe: !If [Prod, 1, !Ref AWS::NoValue]\n  B: !Ref AWS::NoValue\n  C:\n    Type: AWS::S3::Bucket\nOutputs:\n  O: {Value: !Ref A}\n",
            "Resources:\n  A:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      Ingress: &open\n        - {CidrIp: 0.0.0.0/0, Rule: {Port: 22}}\n  B:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      Ingress: *open\n",
            "{\"Resources\": {\"R\": {\"Type\": \"AWS::S3::Bucket\", \"Properties\": {\"BucketName\": {\"Fn::Join\": [\"-\", [\"a\", \"b\"]]}}}}}",
            "Resources: []\n",
            "AWSTemplateFormatVersion: '2010-09-09'\n",
        ];
        for text in texts {
            let read = yaml::parse(text).unwrap().documents.remove(0);
            let (mut shared, mut owned) = (Vec::new(), Vec::new());
            spelled(&normalize(read.clone()), &mut shared);
            spelled(&template(text), &mut owned);
            assert_eq!(owned, shared, "{text}");
        }
        let t = template(texts[0]);
        let resources = t
            .get("Resources")
            .and_then(Node::as_map)
            .expect("resources");
        let names: Vec<&str> = resources.iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            ["A", "C"],
            "a condition decided false and NoValue leave out"
        );
        assert_eq!(
            props(&t, "A")
                .get("Rules")
                .and_then(Node::as_list)
                .map(|l| l.items().len()),
            Some(1)
        );
    }

    fn props<'a>(t: &'a Node, resource: &str) -> &'a Node {
        t.get("Resources")
            .and_then(|r| r.get(resource))
            .and_then(|r| r.get("Properties"))
            .expect("resource properties")
    }

    #[test]
    fn unchanged_parts_are_shared_with_the_template_as_read_changed_ones_rebuilt() {
        let text = "Parameters:\n  Cidr: {Type: String, Default: 10.0.0.0/8}\nResources:\n  Plain:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags: [{Key: a, Value: b}]\n      Vpc: !Ref Vpc\n  Changed:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      Kept: {X: [1, 2]}\n      Rules:\n        - CidrIp: !Ref Cidr\n        - CidrIp: 0.0.0.0/0\n        - !Ref AWS::NoValue\n";
        let read = yaml::parse(text).unwrap().documents.remove(0);
        let t = normalize(read.clone());
        let resource = |root: &Node, name: &str| {
            root.get("Resources")
                .and_then(|r| r.get(name))
                .cloned()
                .expect("resource")
        };
        let same = |a: &Node, b: &Node| a.as_map().unwrap().same(b.as_map().unwrap());
        assert!(same(&resource(&t, "Plain"), &resource(&read, "Plain")));
        assert!(!same(&resource(&t, "Changed"), &resource(&read, "Changed")));
        let (new, old) = (props(&t, "Changed"), props(&read, "Changed"));
        assert!(same(new.get("Kept").unwrap(), old.get("Kept").unwrap()));
        let rules = new.get("Rules").and_then(Node::as_list).expect("rules");
        let before = old.get("Rules").and_then(Node::as_list).expect("rules");
        assert_eq!(rules.items().len(), 2, "AWS::NoValue leaves the item out");
        assert_eq!(rules.span(), before.span());
        assert_eq!(
            rules.items()[0].get("CidrIp").and_then(Node::as_str),
            Some("10.0.0.0/8")
        );
        assert!(same(&rules.items()[1], &before.items()[1]));
        let cidr = rules.items()[0].as_map().unwrap().entry("CidrIp").unwrap();
        let at = crate::doc::Positions::of_text(text);
        assert_eq!(
            (at.start(cidr.key_span).line, at.start(cidr.value.span).line),
            (14, 14)
        );
        assert_eq!(new.to_json()["Kept"], serde_json::json!({"X": [1, 2]}));
    }

    #[test]
    fn a_part_written_once_and_aliased_gets_nodes_of_its_own_in_each_place() {
        let text = "Resources:\n  A:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      Ingress: &open\n        - {CidrIp: 0.0.0.0/0, Rule: {Port: 22}}\n  B:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      Ingress: *open\n";
        let read = yaml::parse(text).unwrap().documents.remove(0);
        let t = normalize(read.clone());
        let ingress = |root: &Node, r: &str| props(root, r).get("Ingress").cloned().unwrap();
        let (a, b) = (ingress(&t, "A"), ingress(&t, "B"));
        let (a, b) = (a.as_list().unwrap(), b.as_list().unwrap());
        assert!(
            ingress(&read, "A").as_list().unwrap().id()
                == ingress(&read, "B").as_list().unwrap().id()
        );
        assert_ne!(a.id(), b.id(), "each place its own list");
        let (ia, ib) = (
            a.items()[0].as_map().unwrap(),
            b.items()[0].as_map().unwrap(),
        );
        assert!(!ia.same(ib), "and its own items");
        assert!(!ia
            .get("Rule")
            .unwrap()
            .as_map()
            .unwrap()
            .same(ib.get("Rule").unwrap().as_map().unwrap()));
        assert_eq!(a.items()[0].to_json(), b.items()[0].to_json());
        assert_eq!(a.span(), b.span(), "both written where the anchor is");
    }

    #[test]
    fn parameters_with_defaults_and_subs_resolve_others_are_unknown() {
        let text = "Parameters:\n  Cidr: {Type: String, Default: 0.0.0.0/0}\n  Other: {Type: String}\nResources:\n  Sg:\n    Type: AWS::EC2::SecurityGroupIngress\n    Properties:\n      CidrIp: !Ref Cidr\n      Desc: !Sub \"from ${Cidr} to ${Bucket.Arn}\"\n      Plain: !Sub \"0.0.0.0/0\"\n      Imported: !ImportValue shared-cidr\n      Open: !Ref Other\n      Gone: !Ref AWS::NoValue\n";
        let t = template(text);
        let p = props(&t, "Sg");
        assert_eq!(p.get("CidrIp").and_then(Node::as_str), Some("0.0.0.0/0"));
        let at = crate::doc::Positions::of_text(text);
        assert_eq!(at.start(p.get("CidrIp").unwrap().span).line, 8);
        assert_eq!(
            p.get("Desc").and_then(Node::as_str),
            Some("from 0.0.0.0/0 to ${Bucket.Arn}")
        );
        assert_eq!(p.get("Plain").and_then(Node::as_str), Some("0.0.0.0/0"));
        assert!(matches!(
            &p.get("Imported").unwrap().value,
            Value::Unknown(u) if u.is_set() && u.text() == "!ImportValue shared-cidr"
        ));
        assert!(matches!(p.get("Open").unwrap().value, Value::Unknown(_)));
        assert!(p.get("Gone").is_none());
    }

    #[test]
    fn conditions_decide_branches_or_keep_both() {
        let t = template(
            "Parameters:\n  Env: {Type: String, Default: dev}\n  Mode: {Type: String}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n  Custom: !Equals [!Ref Mode, x]\n  InProdAccount: !Equals [!Ref AWS::AccountId, '111111111111']\n  Either: !Or [!Condition IsProd, !Condition Custom]\nResources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      StorageEncrypted: !If [IsProd, true, false]\n      Cidr: !If [Custom, 0.0.0.0/0, 10.0.0.0/8]\n      Maybe: !If [Either, !Ref AWS::NoValue, x]\n  OnlyProd:\n    Type: AWS::S3::Bucket\n    Condition: IsProd\n",
        );
        let p = props(&t, "Db");
        assert!(matches!(p.get("StorageEncrypted").unwrap().value, Value::Bool(b) if !*b));
        let Value::Choice(c) = &p.get("Cidr").unwrap().value else {
            panic!("a choice")
        };
        assert_eq!(c.condition(), "Custom");
        assert_eq!(c.branch(0).and_then(Node::as_str), Some("0.0.0.0/0"));
        assert_eq!(c.branch(1).and_then(Node::as_str), Some("10.0.0.0/8"));
        let Value::Choice(m) = &p.get("Maybe").unwrap().value else {
            panic!("a choice")
        };
        assert!(m.branch(0).is_none());
        assert!(t.get("Resources").unwrap().get("OnlyProd").is_none());
        let t2 = template(
            "Conditions:\n  InProdAccount: !Equals [!Ref AWS::AccountId, '111111111111']\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      V: !If [InProdAccount, a, b]\n",
        );
        assert!(matches!(
            props(&t2, "B").get("V").unwrap().value,
            Value::Choice(_)
        ));
    }

    #[test]
    fn joins_lookups_and_selects_of_known_parts() {
        let t = template(
            "Mappings:\n  Nets: {eu: {cidr: 10.1.0.0/16}}\nResources:\n  X:\n    Type: T::U::V\n    Properties:\n      A: !Join ['', ['arn:aws:s3:::', !Ref B, '/*']]\n      B: !FindInMap [Nets, eu, cidr]\n      C: !Select [1, [a, b]]\n      D: !Select [0, !GetAZs '']\n",
        );
        let p = props(&t, "X");
        assert_eq!(
            p.get("A").and_then(Node::as_str),
            Some("arn:aws:s3:::${B}/*")
        );
        assert_eq!(p.get("B").and_then(Node::as_str), Some("10.1.0.0/16"));
        assert_eq!(p.get("C").and_then(Node::as_str), Some("b"));
        assert!(matches!(p.get("D").unwrap().value, Value::Unknown(_)));
    }
}
