//! The ISO/IEC 27001:2022 Annex A control catalog (93 controls), embedded from `data/annex-a-2022.tsv`.

use std::fmt;
use std::sync::OnceLock;

/// The four themes of Annex A 2022, in catalog order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// 5.1–5.37
    Organizational,
    /// 6.1–6.8
    People,
    /// 7.1–7.14
    Physical,
    /// 8.1–8.34
    Technological,
}

impl Theme {
    /// All themes in order.
    pub const ALL: [Theme; 4] = [
        Theme::Organizational,
        Theme::People,
        Theme::Physical,
        Theme::Technological,
    ];

    /// Lowercase name, as in the catalog file.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Organizational => "organizational",
            Theme::People => "people",
            Theme::Physical => "physical",
            Theme::Technological => "technological",
        }
    }

    /// Heading used in reports, e.g. "5 Organizational controls".
    pub fn heading(self) -> &'static str {
        match self {
            Theme::Organizational => "A.5 Organizational controls",
            Theme::People => "A.6 People controls",
            Theme::Physical => "A.7 Physical controls",
            Theme::Technological => "A.8 Technological controls",
        }
    }

    /// The clause number of the theme ("5" … "8").
    pub fn clause(self) -> &'static str {
        match self {
            Theme::Organizational => "5",
            Theme::People => "6",
            Theme::Physical => "7",
            Theme::Technological => "8",
        }
    }
}

impl fmt::Display for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Annex A control.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Control {
    /// Bare id, e.g. `8.11`.
    pub id: String,
    /// Theme it belongs to.
    pub theme: Theme,
    /// Title, e.g. "Data masking".
    pub title: String,
    /// Whether the control was introduced by the 2022 revision.
    pub new_in_2022: bool,
}

impl Control {
    /// The `A.`-prefixed id, e.g. `A.8.11`.
    pub fn annex_id(&self) -> String {
        format!("A.{}", self.id)
    }
}

const CATALOG_TSV: &str = include_str!("../data/annex-a-2022.tsv");

/// Every control, in catalog order.
pub fn controls() -> &'static [Control] {
    static CATALOG: OnceLock<Vec<Control>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        CATALOG_TSV
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let cols: Vec<&str> = line.split('\t').collect();
                let theme = match cols[1] {
                    "organizational" => Theme::Organizational,
                    "people" => Theme::People,
                    "physical" => Theme::Physical,
                    "technological" => Theme::Technological,
                    other => panic!("embedded catalog has an unknown theme {other}"),
                };
                Control {
                    id: cols[0].to_string(),
                    theme,
                    title: cols[2].to_string(),
                    new_in_2022: cols[3] == "yes",
                }
            })
            .collect()
    })
}

const PURPOSES_TSV: &str = include_str!("../data/control-purposes.tsv");

/// What a control is for, in one sentence of this project's own words (the ISO text is
/// copyrighted; ids and titles are facts): from `data/control-purposes.tsv`.
pub fn purpose(id: &str) -> Option<&'static str> {
    static PURPOSES: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    let id = normalize_id(id);
    PURPOSES
        .get_or_init(|| {
            PURPOSES_TSV
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once('\t'))
                .map(|(id, text)| (id.trim(), text.trim()))
                .collect()
        })
        .iter()
        .find(|(k, _)| *k == id)
        .map(|(_, text)| *text)
}

/// Normalises `A.8.11`, `a.8.11` or `8.11` to `8.11`.
pub fn normalize_id(id: &str) -> &str {
    let id = id.trim();
    id.strip_prefix("A.")
        .or_else(|| id.strip_prefix("a."))
        .unwrap_or(id)
}

/// Looks a control up by id, with or without the `A.` prefix.
pub fn find(id: &str) -> Option<&'static Control> {
    let id = normalize_id(id);
    controls().iter().find(|c| c.id == id)
}

/// Orders control ids numerically (5.2 before 5.10).
pub fn id_order(id: &str) -> (u32, u32) {
    let id = normalize_id(id);
    let mut parts = id.split('.').map(|p| p.parse::<u32>().unwrap_or(u32::MAX));
    (
        parts.next().unwrap_or(u32::MAX),
        parts.next().unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_93_controls_in_four_themes() {
        let all = controls();
        assert_eq!(all.len(), 93);
        let count = |t| all.iter().filter(|c| c.theme == t).count();
        assert_eq!(count(Theme::Organizational), 37);
        assert_eq!(count(Theme::People), 8);
        assert_eq!(count(Theme::Physical), 14);
        assert_eq!(count(Theme::Technological), 34);
        assert_eq!(all.iter().filter(|c| c.new_in_2022).count(), 11);
    }

    #[test]
    fn every_control_has_one_purpose_sentence_and_nothing_else_has_one() {
        for c in controls() {
            let p = purpose(&c.id).unwrap_or_else(|| panic!("A.{} has no purpose", c.id));
            assert!(
                p.len() > 30 && p.len() < 200 && p.ends_with('.'),
                "A.{}: {p}",
                c.id
            );
            assert_eq!(
                p.matches(". ").count(),
                0,
                "A.{}: one sentence, please: {p}",
                c.id
            );
            assert!(
                !p.contains(&c.title),
                "A.{}: say what it is for, not its title",
                c.id
            );
        }
        let listed = PURPOSES_TSV.lines().skip(1).filter(|l| !l.is_empty());
        assert_eq!(listed.count(), 93, "one line per control, no more");
        assert_eq!(purpose("A.8.9"), purpose("8.9"));
        assert!(purpose("8.35").is_none());
    }

    #[test]
    fn ids_accept_annex_prefix() {
        assert_eq!(find("A.8.11").unwrap().title, "Data masking");
        assert_eq!(find("8.9").unwrap().title, "Configuration management");
        assert!(find("8.35").is_none());
        assert!(id_order("5.2") < id_order("5.10"));
    }
}
