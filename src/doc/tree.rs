//! The spanned document tree that rules read: every node remembers where it came from, and maps
//! and lists are CEL values themselves, so evaluation borrows the tree instead of copying it.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use cel::common::traits::{
    Adder, Container, Indexer, Iterable, Iterator as CelIterator, Sizer, Zeroer,
};
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelNull, CelString, CelUInt, Kind, Type, LIST_TYPE,
    MAP_TYPE,
};
use cel::common::value::{CowVal, StaticVal, Val};
use cel::ExecutionError;

use super::{keys, reads};

/// A 1-based line and column (columns count characters, as editors and SARIF do).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
}

impl Pos {
    /// A position from 1-based line and column.
    pub fn new(line: u32, col: u32) -> Pos {
        Pos { line, col }
    }
}

/// Where a node was written: a pair of offsets in its document's position space, which the
/// document's [`super::positions::Positions`] turns back into a file, a line and a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// Offset of the first character.
    pub start: u32,
    /// Offset just past the last character.
    pub end: u32,
}

impl Default for Span {
    /// Nowhere: a value made during evaluation (file 0, line 0, column 0).
    fn default() -> Span {
        Span {
            start: super::positions::NOWHERE,
            end: super::positions::NOWHERE,
        }
    }
}

impl Span {
    /// The span from the start of `first` to the end of `last`.
    pub fn to(self, last: Span) -> Span {
        Span {
            start: self.start,
            end: last.end,
        }
    }
}

static MAP_T: Type = MAP_TYPE;
static LIST_T: Type = LIST_TYPE;

/// A value of the document tree together with its source span.
#[derive(Clone, Debug)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value was written.
    pub span: Span,
}

/// The values a document holds. Scalars are CEL's own types, so every CEL function accepts them.
#[derive(Clone, Debug)]
pub enum Value {
    /// `null`, `~` or an empty YAML value.
    Null,
    /// `true` / `false`.
    Bool(CelBool),
    /// An integer.
    Int(CelInt),
    /// A floating point number.
    Float(CelDouble),
    /// A string.
    Str(CelString<'static>),
    /// A mapping, in source order.
    Map(MapNode),
    /// A sequence.
    List(ListNode),
    /// A value not known until deployment (a Terraform reference to a data source, a
    /// resource attribute, a function call; a CloudFormation import). CEL sees its source text
    /// as a string, and the engine notices when a rule reads it: a verdict that depends on it
    /// is "unknown", never a pass or a violation (see [`super::reads`]).
    Unknown(reads::Unresolved),
    /// One of two values, decided by a condition not known before deployment (CloudFormation
    /// `Fn::If`, a Terraform conditional): the engine judges each branch.
    Choice(ChoiceNode),
}

/// A conditional value: its condition's text and the node of each branch (`None` when the
/// branch leaves the key out, as `AWS::NoValue` or a Terraform `null` do).
#[derive(Clone)]
pub struct ChoiceNode(Arc<ChoiceData>);

#[derive(Debug)]
struct ChoiceData {
    condition: String,
    branches: [Option<Node>; 2],
}

impl fmt::Debug for ChoiceNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Choice")
            .field("if", &self.0.condition)
            .field("then", &self.0.branches[0])
            .field("else", &self.0.branches[1])
            .finish()
    }
}

impl ChoiceNode {
    /// A value that is `when_true` if `condition` holds at deployment, else `when_false`.
    pub fn new(condition: String, when_true: Option<Node>, when_false: Option<Node>) -> ChoiceNode {
        ChoiceNode(Arc::new(ChoiceData {
            condition,
            branches: [when_true, when_false],
        }))
    }

    /// The condition, as written (a CloudFormation condition name, a Terraform expression).
    pub fn condition(&self) -> &str {
        &self.0.condition
    }

    /// The node of branch 0 (condition true) or 1 (false); `None` when that branch is absent.
    pub fn branch(&self, i: usize) -> Option<&Node> {
        self.0.branches.get(i).and_then(Option::as_ref)
    }

    /// Stable identity while the tree lives.
    pub fn id(&self) -> reads::ChoiceId {
        Arc::as_ptr(&self.0) as usize
    }

    /// The branch this evaluation takes.
    fn selected(&self) -> Option<&Node> {
        self.branch(reads::branch(self))
    }
}

static NULL: CelNull = CelNull;

impl Node {
    /// The value CEL reads here, recording what the evaluation touched: an unknown value (read
    /// as unresolved in strict reading), or the branch a conditional takes; `None` when that
    /// branch leaves the value out.
    pub(crate) fn read(&self) -> Option<&(dyn Val + 'static)> {
        match &self.value {
            Value::Unknown(u) => Some(if reads::note_unknown(u.text(), self.span) {
                u
            } else {
                u.as_cel_string()
            }),
            Value::Choice(c) => c.selected()?.read(),
            _ => Some(self.as_val()),
        }
    }

    /// Whether a conditional leaves this value out in this evaluation.
    fn is_absent(&self) -> bool {
        match &self.value {
            Value::Choice(c) => c.selected().is_none_or(Node::is_absent),
            _ => false,
        }
    }

    /// A node of `value` written at `span`.
    pub fn new(value: Value, span: Span) -> Node {
        Node { value, span }
    }

    /// A value not known before deployment, written as `text`.
    pub fn unknown(text: impl Into<String>, span: Span) -> Node {
        Node::new(Value::Unknown(reads::Unresolved::new(text)), span)
    }

    /// A reference to another resource's attribute, written as `text`: not known before
    /// deployment, but set.
    pub fn reference(text: impl Into<String>, span: Span) -> Node {
        Node::new(Value::Unknown(reads::Unresolved::reference(text)), span)
    }

    /// A copy of this node written at `span` all the way down (keys too): a value resolved from
    /// elsewhere (a parameter default, a variable) shown where it is used.
    pub fn relocated(&self, span: Span) -> Node {
        let value = match &self.value {
            Value::Map(m) => {
                let mut b = MapBuilder::new();
                for (k, e) in m.iter() {
                    b.insert(k.to_string(), span, e.value.relocated(span));
                }
                Value::Map(b.finish(span))
            }
            Value::List(l) => Value::List(ListNode::new(
                l.items().iter().map(|i| i.relocated(span)).collect(),
                span,
            )),
            other => other.clone(),
        };
        Node::new(value, span)
    }

    /// A string node (a short string is kept in the node itself).
    pub fn string(s: impl Into<String>, span: Span) -> Node {
        Node::new(Value::Str(CelString::compact_owned(s.into())), span)
    }

    /// The node as a CEL value, borrowed.
    pub fn as_val(&self) -> &(dyn Val + 'static) {
        match &self.value {
            Value::Null => &NULL,
            Value::Bool(b) => b,
            Value::Int(i) => i,
            Value::Float(f) => f,
            Value::Str(s) => s,
            Value::Unknown(u) => u.as_cel_string(),
            Value::Map(m) => m,
            Value::List(l) => l,
            Value::Choice(c) => c.selected().map_or(&NULL, Node::as_val),
        }
    }

    /// The mapping, if this node is one.
    pub fn as_map(&self) -> Option<&MapNode> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence, if this node is one.
    pub fn as_list(&self) -> Option<&ListNode> {
        match &self.value {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The string, if this node is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s.inner()),
            _ => None,
        }
    }

    /// The member `key` of a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// A plain-text rendering for messages: strings as they are, other values as compact JSON.
    pub fn to_display(&self) -> String {
        match &self.value {
            Value::Str(s) => s.inner().to_string(),
            Value::Unknown(u) => u.text().to_string(),
            Value::Choice(c) => c.selected().map(Node::to_display).unwrap_or_default(),
            _ => self.to_json().to_string(),
        }
    }

    /// The node as JSON (spans dropped).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(**b),
            Value::Int(i) => J::from(**i),
            Value::Float(f) => serde_json::Number::from_f64(**f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.inner().to_string()),
            Value::Unknown(u) => J::String(u.text().to_string()),
            Value::Map(m) => J::Object(
                m.iter()
                    .map(|(k, e)| (k.to_string(), e.value.to_json()))
                    .collect(),
            ),
            Value::List(l) => J::Array(l.items().iter().map(Node::to_json).collect()),
            Value::Choice(c) => c.selected().map_or(J::Null, Node::to_json),
        }
    }
}

/// One member of a mapping: where its key was written, and its value.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Span of the key.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

/// Maps of at most this many members are searched in order, without an index: most maps of
/// configuration files are this small, and a scan of a few keys is as fast as hashing one.
const SMALL_MAP: usize = 8;

/// A member of a mapping: its key (a handle to a CEL string, so that iterating a map hands CEL
/// its keys without copies) and its entry.
type Member = (keys::Key, Entry);

/// Deterministic, fast hashing of keys while a large map is built.
type Hasher = foldhash::fast::FixedState;

/// A mapping's data, in one allocation with its members when it has at most [`SMALL_MAP`] of
/// them (`members`, an array of their exact number seen as a slice); a larger map's members are
/// in `large` with their index, and `members` is empty.
#[derive(Debug)]
struct MapData<M: ?Sized> {
    span: Span,
    large: Option<Box<LargeMap>>,
    members: M,
}

/// The members of a map of more than [`SMALL_MAP`] members, and their positions sorted by key
/// (a binary search finds a key).
#[derive(Debug)]
struct LargeMap {
    members: Box<[Member]>,
    sorted: Box<[u32]>,
}

/// A mapping's data of any size.
type Data = MapData<[Member]>;

impl Data {
    /// Members in source order.
    fn members(&self) -> &[Member] {
        match &self.large {
            Some(l) => &l.members,
            None => &self.members,
        }
    }

    /// Members in source order, to change in place.
    fn members_mut(&mut self) -> &mut [Member] {
        match &mut self.large {
            Some(l) => &mut l.members,
            None => &mut self.members,
        }
    }

    /// The position of `key` among the members.
    fn position(&self, key: &str) -> Option<usize> {
        let Some(large) = &self.large else {
            return self
                .members
                .iter()
                .position(|(k, _)| same_key(k.inner(), key));
        };
        large
            .sorted
            .binary_search_by(|&i| large.members[i as usize].0.inner().cmp(key))
            .ok()
            .map(|i| large.sorted[i] as usize)
    }
}

/// Whether two keys are equal, telling most unequal ones apart by length and first byte
/// without calling `memcmp` (many keys of a configuration file have the same length: `name`,
/// `kind`, `spec`, `type`).
#[inline]
fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// A small map's data: its `N` members in the same allocation.
fn small_map<const N: usize>(members: Vec<Member>, span: Span) -> Arc<Data> {
    let members: [Member; N] = match members.try_into() {
        Ok(array) => array,
        Err(v) => unreachable!("{} members, not {N}", v.len()),
    };
    Arc::new(MapData {
        span,
        large: None,
        members,
    })
}

/// A mapping of the document tree; cheap to clone (shared), a CEL `map` value.
#[derive(Clone)]
pub struct MapNode(Arc<Data>);

impl fmt::Debug for MapNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.members().iter().map(|(k, v)| (k.inner(), &v.value)))
            .finish()
    }
}

/// Builds a [`MapNode`]; later duplicates of a key replace earlier ones, as YAML loaders do.
#[derive(Default)]
pub struct MapBuilder {
    members: Vec<Member>,
    /// Once there are more than [`SMALL_MAP`] members: the hash of each key to its position
    /// (a key whose hash is already taken by another key is found by a scan instead).
    index: std::collections::HashMap<u64, u32, Hasher>,
    /// Keys that came from a `<<` merge: an explicit key may override them.
    merged: std::collections::HashSet<String>,
}

fn hash_key(key: &str) -> u64 {
    use std::hash::BuildHasher;
    Hasher::default().hash_one(key)
}

/// A position in a map as stored (a map's members are counted in `u32`).
fn position_u32(i: usize) -> u32 {
    u32::try_from(i).expect("a mapping of fewer than 2^32 members")
}

impl MapBuilder {
    /// An empty builder.
    pub fn new() -> MapBuilder {
        MapBuilder::default()
    }

    fn position(&self, key: &str) -> Option<usize> {
        if self.index.is_empty() {
            return self.members.iter().position(|(k, _)| k.inner() == key);
        }
        match self.index.get(&hash_key(key)) {
            Some(&i) if self.members[i as usize].0.inner() == key => Some(i as usize),
            Some(_) => self.members.iter().position(|(k, _)| k.inner() == key),
            None => None,
        }
    }

    fn push(&mut self, key: keys::Key, entry: Entry) {
        self.members.push((key, entry));
        let n = self.members.len();
        if n == SMALL_MAP + 1 {
            for (i, (k, _)) in self.members.iter().enumerate() {
                self.index.entry(hash_key(k)).or_insert(position_u32(i));
            }
        } else if n > SMALL_MAP + 1 {
            self.index
                .entry(hash_key(&self.members[n - 1].0))
                .or_insert(position_u32(n - 1));
        }
    }

    /// Adds a member; returns true when the key was already present.
    pub fn insert(&mut self, key: String, key_span: Span, value: Node) -> bool {
        match self.position(&key) {
            Some(i) => self.replace(i, &key, key_span, value),
            None => {
                self.push(keys::intern(key), Entry { key_span, value });
                false
            }
        }
    }

    /// [`insert`](Self::insert) with a key already interned (a parser's: no copy of its text).
    pub fn insert_key(&mut self, key: keys::Key, key_span: Span, value: Node) -> bool {
        match self.position(key.inner()) {
            Some(i) => self.replace(i, key.inner(), key_span, value),
            None => {
                self.push(key, Entry { key_span, value });
                false
            }
        }
    }

    /// Replaces the value of the member at `i`: whether that repeats an explicit key (a key a
    /// merge brought in may be overridden silently).
    fn replace(&mut self, i: usize, key: &str, key_span: Span, value: Node) -> bool {
        let overrides_merge = !self.merged.is_empty() && self.merged.remove(key);
        self.members[i].1 = Entry { key_span, value };
        !overrides_merge
    }

    /// Adds a member only when the key is absent (YAML merge keys: explicit keys win).
    pub fn insert_if_absent(&mut self, key: &str, entry: &Entry) {
        if self.position(key).is_none() {
            self.push(keys::intern_str(key), entry.clone());
            self.merged.insert(key.to_string());
        }
    }

    /// Whether the key is present.
    pub fn contains(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// The finished mapping, written at `span`.
    pub fn finish(self, span: Span) -> MapNode {
        const { assert!(SMALL_MAP == 8, "one arm below for each small size") };
        let members = self.members;
        MapNode(match members.len() {
            0 => small_map::<0>(members, span),
            1 => small_map::<1>(members, span),
            2 => small_map::<2>(members, span),
            3 => small_map::<3>(members, span),
            4 => small_map::<4>(members, span),
            5 => small_map::<5>(members, span),
            6 => small_map::<6>(members, span),
            7 => small_map::<7>(members, span),
            8 => small_map::<8>(members, span),
            _ => {
                let members = members.into_boxed_slice();
                let mut sorted: Vec<u32> = (0..position_u32(members.len())).collect();
                sorted.sort_unstable_by(|&a, &b| {
                    members[a as usize]
                        .0
                        .inner()
                        .cmp(members[b as usize].0.inner())
                });
                let large = LargeMap {
                    members,
                    sorted: sorted.into_boxed_slice(),
                };
                let empty: [Member; 0] = [];
                Arc::new(MapData {
                    span,
                    large: Some(Box::new(large)),
                    members: empty,
                })
            }
        })
    }
}

impl MapNode {
    /// The member `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The member `key` with its key span.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.0.position(key).map(|i| &self.0.members()[i].1)
    }

    /// Members in source order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &Entry)> + ExactSizeIterator {
        self.0.members().iter().map(|(k, e)| (k.inner(), e))
    }

    /// The member at position `i` in source order (as [`MapNode::iter`] gives them).
    pub fn member(&self, i: usize) -> Option<(&str, &Entry)> {
        self.0.members().get(i).map(|(k, e)| (k.inner(), e))
    }

    /// The position of the member `key` in source order.
    pub fn position(&self, key: &str) -> Option<usize> {
        self.0.position(key)
    }

    /// The value of the member at position `i`, to replace in place; `None` when another handle
    /// shares this mapping (its holders must not see it change) or `i` is out of range.
    pub fn value_mut(&mut self, i: usize) -> Option<&mut Node> {
        Arc::get_mut(&mut self.0)?
            .members_mut()
            .get_mut(i)
            .map(|(_, e)| &mut e.value)
    }

    /// The values of the members in source order, to replace in place; `None` when another
    /// handle shares this mapping.
    pub fn values_mut(&mut self) -> Option<impl Iterator<Item = &mut Node>> {
        Some(
            Arc::get_mut(&mut self.0)?
                .members_mut()
                .iter_mut()
                .map(|(_, e)| &mut e.value),
        )
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.0.members().len()
    }

    /// Whether the mapping has no members.
    pub fn is_empty(&self) -> bool {
        self.0.members().is_empty()
    }

    /// Where the mapping was written.
    pub fn span(&self) -> Span {
        self.0.span
    }

    /// Whether this mapping is referenced from more than one place (a YAML alias or merge, or
    /// a handle held elsewhere).
    pub fn is_shared(&self) -> bool {
        Arc::strong_count(&self.0) > 1
    }

    /// Whether two handles share the same mapping.
    pub fn same(&self, other: &MapNode) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Debug)]
struct ListData {
    /// Allocated to the exact number of items.
    items: Box<[Node]>,
    span: Span,
}

/// A sequence of the document tree; cheap to clone (shared), a CEL `list` value.
#[derive(Clone)]
pub struct ListNode(Arc<ListData>);

impl fmt::Debug for ListNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.items.iter().map(|n| &n.value))
            .finish()
    }
}

impl ListNode {
    /// A list of `items` written at `span`.
    pub fn new(items: Vec<Node>, span: Span) -> ListNode {
        ListNode(Arc::new(ListData {
            items: items.into_boxed_slice(),
            span,
        }))
    }

    /// The items.
    pub fn items(&self) -> &[Node] {
        &self.0.items
    }

    /// Where the list was written.
    pub fn span(&self) -> Span {
        self.0.span
    }

    /// Whether this list is referenced from more than one place (a YAML alias or merge, or a
    /// handle held elsewhere).
    pub fn is_shared(&self) -> bool {
        Arc::strong_count(&self.0) > 1
    }
}

fn key_of(idx: &dyn Val) -> Option<&str> {
    idx.downcast_ref::<CelString>().map(|s| s.inner())
}

fn no_such_key(idx: &dyn Val) -> ExecutionError {
    match key_of(idx) {
        Some(k) => ExecutionError::no_such_key(k),
        None => ExecutionError::UnexpectedType {
            got: idx.get_type().name().to_owned(),
            want: "string map key".to_owned(),
        },
    }
}

/// Structural equality between a tree value and any CEL value.
fn equal_lists(items: &[Node], other: &dyn Val) -> bool {
    if other.get_type().kind() != Kind::List {
        return false;
    }
    let (Some(sizer), Some(iterable)) = (other.as_sizer(), other.as_iterable()) else {
        return false;
    };
    if *sizer.size() != items.len() as i64 {
        return false;
    }
    let mut it = iterable.iter();
    items
        .iter()
        .all(|n| it.next().is_some_and(|o| n.as_val().equals(o)))
}

impl Val for MapNode {
    fn get_type(&self) -> &Type {
        &MAP_T
    }
    fn cel_type() -> &'static Type {
        &MAP_T
    }
    fn as_container(&self) -> Option<&dyn Container> {
        Some(self)
    }
    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
    fn as_iterable<'b, 'v>(&'b self) -> Option<&'b (dyn Iterable + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
    fn as_sizer(&self) -> Option<&dyn Sizer> {
        Some(self)
    }
    fn as_zeroer(&self) -> Option<&dyn Zeroer> {
        Some(self)
    }
    fn equals(&self, other: &dyn Val) -> bool {
        if let Some(o) = other.downcast_ref::<MapNode>()
            && self.same(o)
        {
            return true;
        }
        if other.get_type().kind() != Kind::Map {
            return false;
        }
        let (Some(sizer), Some(indexer)) = (other.as_sizer(), other.as_indexer()) else {
            return false;
        };
        *sizer.size() == self.len() as i64
            && self.0.members().iter().all(|(k, e)| {
                indexer
                    .get(&**k)
                    .is_ok_and(|v| e.value.as_val().equals(v.as_ref()))
            })
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(self.clone())
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl StaticVal for MapNode {}

impl Container for MapNode {
    fn contains(&self, value: &dyn Val) -> Result<bool, ExecutionError> {
        if reads::is_unresolved(value) {
            return Err(reads::error());
        }
        Ok(key_of(value).is_some_and(|k| self.get(k).is_some_and(|n| !n.is_absent())))
    }
}

impl Indexer for MapNode {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.get_optional(idx).ok_or_else(|| {
            if reads::is_unresolved(idx) {
                reads::error()
            } else {
                no_such_key(idx)
            }
        })
    }

    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        match key_of(idx).and_then(|k| MapNode::get(&self, k)) {
            Some(n) => Ok(n.as_val().clone_as_boxed()),
            None => Err(no_such_key(idx)),
        }
    }

    /// The lookup itself: `get` adds the error, which `a.?b` would discard (most optional
    /// selections miss).
    fn get_optional<'b, 'v>(&'b self, idx: &dyn Val) -> Option<CowVal<'b, 'v>>
    where
        Self: 'v,
    {
        if reads::is_unresolved(idx) {
            return None;
        }
        key_of(idx)
            .and_then(|k| MapNode::get(self, k))
            .and_then(Node::read)
            .map(CowVal::Borrowed)
    }
}

struct KeyIter<'b> {
    inner: std::slice::Iter<'b, Member>,
}

impl<'b, 'v> CelIterator<'b, 'v> for KeyIter<'b> {
    fn next(&mut self) -> Option<&'b (dyn Val + 'v)> {
        self.inner
            .by_ref()
            .find(|(_, e)| !e.value.is_absent())
            .map(|(k, _)| &**k as &(dyn Val + 'v))
    }
}

impl Iterable for MapNode {
    fn iter<'b, 'v>(&'b self) -> Box<dyn CelIterator<'b, 'v> + 'b>
    where
        Self: 'v,
    {
        Box::new(KeyIter {
            inner: self.0.members().iter(),
        })
    }
}

impl Sizer for MapNode {
    fn size(&self) -> CelInt {
        CelInt::from(self.len() as i64)
    }
}

impl Zeroer for MapNode {
    fn is_zero_value(&self) -> bool {
        self.is_empty()
    }
}

impl Val for ListNode {
    fn get_type(&self) -> &Type {
        &LIST_T
    }
    fn cel_type() -> &'static Type {
        &LIST_T
    }
    fn as_adder<'b, 'v>(&'b self) -> Option<&'b (dyn Adder + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
    fn as_container(&self) -> Option<&dyn Container> {
        Some(self)
    }
    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
    fn as_iterable<'b, 'v>(&'b self) -> Option<&'b (dyn Iterable + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
    fn as_sizer(&self) -> Option<&dyn Sizer> {
        Some(self)
    }
    fn as_zeroer(&self) -> Option<&dyn Zeroer> {
        Some(self)
    }
    fn equals(&self, other: &dyn Val) -> bool {
        if let Some(o) = other.downcast_ref::<ListNode>()
            && Arc::ptr_eq(&self.0, &o.0)
        {
            return true;
        }
        equal_lists(self.items(), other)
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(self.clone())
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl StaticVal for ListNode {}

impl Adder for ListNode {
    fn add<'b, 'w>(&'b self, rhs: &(dyn Val + 'w)) -> Result<CowVal<'b, 'w>, ExecutionError>
    where
        Self: 'w,
    {
        let mut rhs = rhs
            .as_iterable()
            .ok_or_else(|| ExecutionError::UnexpectedType {
                got: rhs.get_type().name().to_owned(),
                want: "list".to_owned(),
            })?
            .iter();
        let mut items: Vec<Box<dyn Val + 'w>> = self
            .items()
            .iter()
            .filter_map(Node::read)
            .map(|v| v.clone_as_boxed())
            .collect();
        while let Some(other) = rhs.next() {
            items.push(other.clone_as_boxed());
        }
        Ok(CowVal::owned(CelList::from(items)))
    }
}

impl Container for ListNode {
    fn contains(&self, value: &dyn Val) -> Result<bool, ExecutionError> {
        if reads::is_unresolved(value) {
            return Err(reads::error());
        }
        let mut unresolved = false;
        for v in self.items().iter().filter_map(Node::read) {
            if reads::is_unresolved(v) {
                unresolved = true;
            } else if v.equals(value) {
                return Ok(true);
            }
        }
        if unresolved {
            Err(reads::error())
        } else {
            Ok(false)
        }
    }
}

fn list_index(idx: &dyn Val, len: usize) -> Result<usize, ExecutionError> {
    let i = if let Some(i) = idx.downcast_ref::<CelInt>() {
        **i
    } else if let Some(u) = idx.downcast_ref::<CelUInt>() {
        i64::try_from(**u).unwrap_or(i64::MAX)
    } else {
        return Err(ExecutionError::UnexpectedType {
            got: idx.get_type().name().to_owned(),
            want: "int list index".to_owned(),
        });
    };
    usize::try_from(i)
        .ok()
        .filter(|i| *i < len)
        .ok_or_else(|| ExecutionError::IndexOutOfBounds(cel::Value::Int(i)))
}

impl Indexer for ListNode {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let i = list_index(idx, self.items().len())?;
        Ok(CowVal::Borrowed(self.items()[i].read().unwrap_or(&NULL)))
    }

    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let i = list_index(idx, self.items().len())?;
        Ok(self.items()[i].as_val().clone_as_boxed())
    }
}

struct ItemIter<'b> {
    inner: std::slice::Iter<'b, Node>,
}

impl<'b, 'v> CelIterator<'b, 'v> for ItemIter<'b> {
    fn next(&mut self) -> Option<&'b (dyn Val + 'v)> {
        self.inner
            .by_ref()
            .find_map(Node::read)
            .map(|v| v as &(dyn Val + 'v))
    }
}

impl Iterable for ListNode {
    fn iter<'b, 'v>(&'b self) -> Box<dyn CelIterator<'b, 'v> + 'b>
    where
        Self: 'v,
    {
        Box::new(ItemIter {
            inner: self.items().iter(),
        })
    }
}

impl Sizer for ListNode {
    fn size(&self) -> CelInt {
        CelInt::from(self.items().len() as i64)
    }
}

impl Zeroer for ListNode {
    fn is_zero_value(&self) -> bool {
        self.items().is_empty()
    }
}

/// Identity of a map or list for locating it again: the address of its shared data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(usize);

impl MapNode {
    /// Stable identity of this mapping while the tree lives.
    pub fn id(&self) -> NodeId {
        NodeId(Arc::as_ptr(&self.0).cast::<()>() as usize)
    }
}

impl ListNode {
    /// Stable identity of this list while the tree lives.
    pub fn id(&self) -> NodeId {
        NodeId(Arc::as_ptr(&self.0) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32) -> Span {
        Span {
            start: line * 10,
            end: line * 10 + 4,
        }
    }

    fn int(i: i64, line: u32) -> Node {
        Node::new(Value::Int(CelInt::from(i)), at(line))
    }

    /// A map of `n` members `k0`… written in reverse order (so source order is not key order).
    fn map_of(n: u32) -> MapNode {
        let mut b = MapBuilder::new();
        for i in (0..n).rev() {
            assert!(!b.insert(format!("k{i}"), at(i + 1), int(i64::from(i), i + 1)));
        }
        b.finish(at(0))
    }

    #[test]
    fn small_and_large_maps_find_every_key_in_source_order() {
        for n in [0, 1, SMALL_MAP as u32, SMALL_MAP as u32 + 1, 1000] {
            let m = map_of(n);
            assert_eq!(m.len(), n as usize);
            let keys: Vec<String> = m.iter().map(|(k, _)| k.to_string()).collect();
            let expected: Vec<String> = (0..n).rev().map(|i| format!("k{i}")).collect();
            assert_eq!(keys, expected, "source order, {n} members");
            for i in 0..n {
                let e = m.entry(&format!("k{i}")).expect("present");
                assert_eq!(e.key_span, at(i + 1));
                assert_eq!(e.value.to_json(), serde_json::json!(i));
                assert_eq!(e.value.span, at(i + 1));
            }
            for absent in ["", "k", "k-1", "zz", "k00"] {
                assert!(m.get(absent).is_none(), "{absent} in a map of {n}");
            }
        }
    }

    #[test]
    fn a_repeated_key_replaces_the_value_in_its_first_place() {
        for n in [3, 20] {
            let mut b = MapBuilder::new();
            for i in 0..n {
                b.insert(format!("k{i}"), at(i + 1), int(i64::from(i), i + 1));
            }
            assert!(b.insert("k1".to_string(), at(99), int(-1, 99)));
            assert!(b.contains("k1"));
            assert!(!b.contains("k99"));
            let m = b.finish(at(0));
            assert_eq!(m.len(), n as usize);
            assert_eq!(m.iter().nth(1).map(|(k, _)| k), Some("k1"));
            let e = m.entry("k1").expect("present");
            assert_eq!(
                (e.key_span, e.value.to_json()),
                (at(99), serde_json::json!(-1))
            );
        }
    }

    #[test]
    fn merged_keys_yield_to_explicit_ones_at_any_size() {
        for n in [2, 30] {
            let source = map_of(n);
            let mut b = MapBuilder::new();
            b.insert("k0".to_string(), at(50), int(50, 50));
            for (k, e) in source.iter() {
                b.insert_if_absent(k, e);
            }
            assert!(
                !b.insert("k1".to_string(), at(60), int(60, 60)),
                "overrides a merge"
            );
            let m = b.finish(at(0));
            assert_eq!(m.len(), n as usize);
            assert_eq!(m.get("k0").map(Node::to_json), Some(serde_json::json!(50)));
            assert_eq!(m.get("k1").map(Node::to_json), Some(serde_json::json!(60)));
            assert_eq!(m.iter().next().map(|(k, _)| k), Some("k0"));
        }
    }

    #[test]
    fn an_optional_lookup_gives_what_get_gives_without_its_error() {
        for n in [3, 40] {
            let m = map_of(n);
            for key in ["k1", "k2", "absent", ""] {
                let idx = CelString::from(key);
                let got = Indexer::get(&m, &idx)
                    .ok()
                    .map(|v| crate::cel::values::to_json(v.as_ref()));
                let optional = Indexer::get_optional(&m, &idx)
                    .map(|v| crate::cel::values::to_json(v.as_ref()));
                assert_eq!(optional, got, "{key} in a map of {n}");
            }
            assert!(Indexer::get_optional(&m, &CelInt::from(1)).is_none());
            let unresolved = reads::Unresolved::new("var.x");
            assert!(Indexer::get(&m, &unresolved).is_err());
            assert!(Indexer::get_optional(&m, &unresolved).is_none());
        }
    }

    #[test]
    fn large_maps_index_cel_lookups_and_equality() {
        let m = map_of(40);
        let key = CelString::from("k17");
        let got = Indexer::get(&m, &key).expect("present");
        assert!(got.as_ref().equals(&CelInt::from(17)));
        assert!(Container::contains(&m, &CelString::from("k39")).expect("ok"));
        assert!(!Container::contains(&m, &CelString::from("k40")).expect("ok"));
        assert!(m.equals(&map_of(40)));
        assert!(!m.equals(&map_of(39)));
    }

    #[test]
    fn short_strings_are_kept_in_the_node_and_read_the_same() {
        use std::hash::BuildHasher;
        const INLINE_MAX: usize = CelString::INLINE_MAX;
        assert_eq!(size_of::<CelString<'static>>(), 24);
        assert_eq!(size_of::<Value>(), 24);
        assert_eq!(size_of::<Span>(), 8);
        assert_eq!(size_of::<Node>(), 32);
        assert_eq!(size_of::<Member>(), 48);
        let hash = |s: &CelString<'_>| Hasher::default().hash_one(s);
        let short = "é".repeat(7); // 14 bytes
        let exact = "x".repeat(INLINE_MAX);
        let long = "y".repeat(INLINE_MAX + 1);
        for text in [
            "",
            "a",
            "tcp",
            short.as_str(),
            exact.as_str(),
            long.as_str(),
        ] {
            let plain = CelString::from(text.to_string());
            let borrowed = CelString::from(text);
            let node = Node::string(text, at(1));
            let Value::Str(from_node) = &node.value else {
                panic!("a string node");
            };
            for compact in [CelString::compact(text), from_node.clone()] {
                assert_eq!(compact.inner(), text);
                assert_eq!((&compact, &compact), (&plain, &borrowed));
                assert_eq!(compact.cmp(&plain), std::cmp::Ordering::Equal);
                assert_eq!(hash(&compact), hash(&plain));
                assert_eq!(format!("{compact:?}"), format!("{plain:?}"));
                assert!(compact.equals(&plain) && plain.equals(&compact));
                assert_eq!(compact.as_borrowed(), None);
                assert_eq!(compact.clone().into_static().inner(), text);
                assert_eq!(compact.clone().into_inner(), text);
            }
            assert_eq!(node.to_json(), serde_json::json!(text));
        }
        assert!(CelString::compact("a") < CelString::from("b"));
    }

    #[test]
    fn lists_keep_their_items() {
        let items: Vec<Node> = (0..5).map(|i| int(i, 1)).collect();
        let l = ListNode::new(items, at(1));
        assert_eq!(l.items().len(), 5);
        assert_eq!(l.items()[4].to_json(), serde_json::json!(4));
        assert_eq!(l.span(), at(1));
    }

    #[test]
    fn unknown_values_keep_their_text_and_kind() {
        let n = Node::reference("aws_s3_bucket.b.arn", at(3));
        let Value::Unknown(u) = &n.value else {
            panic!("unknown");
        };
        assert_eq!((u.text(), u.is_set()), ("aws_s3_bucket.b.arn", true));
        assert_eq!(n.clone().to_display(), "aws_s3_bucket.b.arn");
        let Value::Unknown(v) = Node::unknown("var.x", at(3)).value else {
            panic!("unknown");
        };
        assert!(!v.is_set());
    }
}
