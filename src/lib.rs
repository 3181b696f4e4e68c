//! isms-lint: evidences ISO/IEC 27001:2022 Annex A controls from configuration files.
//!
//! Data flows one way: [`discover`] → [`doc`] (parse) → [`eval`] (rules × documents) →
//! [`finding`] → [`report`]. The CLI in `main.rs` wires them together.

pub mod baseline;
pub mod catalog;
pub mod cel;
pub mod checks;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod doc;
pub mod docs;
pub mod eval;
pub mod evidence;
pub mod finding;
pub mod fuzzing;
pub mod git;
pub mod inputs;
pub mod oscal;
pub mod paths;
pub mod pipeline;
pub mod repo_scope;
pub mod report;
pub mod rules;
pub mod ruletest;
pub mod scan;
pub mod schema;
pub mod signing;
pub mod soa;
pub mod suggest;
pub mod suppress;
