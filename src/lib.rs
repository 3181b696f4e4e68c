//! isms-lint: evidences ISO/IEC 27001:2022 Annex A controls from configuration files.
//!
//! Data flows one way: [`discover`] → [`doc`] (parse) → [`eval`] (rules × documents) →
//! [`finding`] → [`report`]. The CLI in `main.rs` wires them together.

pub mod catalog;
pub mod doc;
pub mod cel_env;
pub mod diagnostic;
pub mod paths;
pub mod rules;
pub mod eval;
pub mod finding;
pub mod discover;
pub mod scan;
