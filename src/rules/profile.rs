//! Rule profiles: which rules a scan runs by default. `default` rules find problems worth
//! fixing on any repository; `strict` rules are hardening and conventions that are right but
//! loud on most code (a health check in every image, digests everywhere); `org` rules check an
//! organisation's own conventions (owner labels). A scan runs `default` plus the profiles the
//! config (`profiles:`) or `--profile` select; rules left out are reported in the Statement of
//! Applicability as *not evaluated: not in profile*, never as passing.

use std::fmt;
use std::str::FromStr;

/// A rule's profile.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Run by every scan.
    #[default]
    Default,
    /// Hardening and conventions that are right but loud on most repositories.
    Strict,
    /// An organisation's own conventions (owner labels).
    Org,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 3] = [Profile::Default, Profile::Strict, Profile::Org];

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Default => "default",
            Profile::Strict => "strict",
            Profile::Org => "org",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Profile, String> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown profile '{s}' (expected default, strict or org)"))
    }
}

/// The profiles a run selects: always `default`, plus those named (`all` names every one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selected(Vec<Profile>);

impl Default for Selected {
    fn default() -> Self {
        Selected(vec![Profile::Default])
    }
}

impl Selected {
    /// `default` plus the named profiles; an unknown name is an error.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Selected, String> {
        let mut out = Selected::default();
        for n in names {
            let n = n.as_ref().trim();
            let add: Vec<Profile> = if n == "all" {
                Profile::ALL.to_vec()
            } else {
                vec![n.parse::<Profile>().map_err(|e| format!("{e}, or all"))?]
            };
            for p in add {
                if !out.0.contains(&p) {
                    out.0.push(p);
                }
            }
        }
        out.0.sort();
        Ok(out)
    }

    /// Whether rules of `p` run.
    pub fn contains(&self, p: Profile) -> bool {
        self.0.contains(&p)
    }

    /// The names, in order (`default, strict`).
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_always_selected() {
        assert_eq!(Selected::default().names(), ["default"]);
        assert_eq!(
            Selected::parse(&["org"]).unwrap().names(),
            ["default", "org"]
        );
        assert_eq!(
            Selected::parse(&["all"]).unwrap().names(),
            ["default", "strict", "org"]
        );
        assert!(Selected::parse(&["loud"])
            .unwrap_err()
            .contains("unknown profile 'loud'"));
    }
}
