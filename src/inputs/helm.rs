//! Helm charts: a directory with a `Chart.yaml` and a `templates/` folder. Its templates are Go
//! templates, not YAML, so they are never parsed; the chart is reported once as not evaluated
//! (render it with `helm template` and pipe the output in). Rendered output read from standard
//! input is mapped back to its templates through Helm's `# Source:` comments.

use std::path::{Path, PathBuf};

use super::{Input, Kind, NotEvaluated, Read, Source, Unit};

/// The Helm chart input.
pub struct Helm;

/// The one instance the registry lists.
pub static INPUT: Helm = Helm;

/// Whether `dir` is a chart: a `Chart.yaml` (or `Chart.yml`) beside a `templates/` directory.
pub fn is_chart(dir: &Path) -> bool {
    dir.join("templates").is_dir() && chart_file(dir).is_some()
}

fn chart_file(dir: &Path) -> Option<PathBuf> {
    ["Chart.yaml", "Chart.yml"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// The chart a file belongs to: its `Chart.yaml`'s directory, or the directory above the
/// nearest `templates/` folder holding it, when that directory is a chart.
pub fn chart_of(path: &Path) -> Option<PathBuf> {
    let name = super::file_name(path);
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    if matches!(name.as_str(), "Chart.yaml" | "Chart.yml") && parent.join("templates").is_dir() {
        return Some(parent);
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d.file_name().is_some_and(|n| n == "templates") {
            let chart = d
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let chart = if chart.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                chart
            };
            if is_chart(&chart) {
                return Some(chart);
            }
        }
        dir = d.parent();
    }
    None
}

impl Input for Helm {
    fn name(&self) -> &'static str {
        "helm"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::HelmChart]
    }

    fn patterns(&self) -> &'static [&'static str] {
        &["Chart.yaml", "Chart.yml"]
    }

    fn claim(&self, path: &Path) -> Option<Unit> {
        chart_of(path).map(Unit::Directory)
    }

    fn read(&self, source: &Source<'_>) -> Read {
        let Source::Directory { path, display, .. } = source else {
            return Read::default();
        };
        let at = chart_file(path).unwrap_or_else(|| path.join("Chart.yaml"));
        Read {
            not_evaluated: vec![NotEvaluated {
                path: display(&at),
                start: crate::doc::Pos::new(1, 1),
                end: crate::doc::Pos::new(1, 1),
                what: "helm-chart".into(),
                via: Vec::new(),
                message: format!(
                    "not evaluated: Helm chart '{}', render it and pipe it in (`helm template {} | isms-lint scan --kind kubernetes -`)",
                    display(path),
                    display(path)
                ),
            }],
            ..Read::default()
        }
    }

    fn fence(&self, _path: &Path) -> &'static str {
        "yaml"
    }
}

/// Where each document of `helm template` output came from: for each `# Source: PATH` comment,
/// the line it is on and the template path. Findings on later lines (up to the next `---`) are
/// shown at `PATH`, at their line counted from the comment (line 1 is the line after it).
pub fn rendered_sources(text: &str) -> Vec<(u32, u32, String)> {
    let mut out: Vec<(u32, u32, String)> = Vec::new();
    let mut open: Option<(u32, String)> = None;
    let mut last = 0;
    for (i, line) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        last = n;
        if line.starts_with("---") {
            if let Some((from, path)) = open.take() {
                out.push((from, n.saturating_sub(1), path));
            }
        } else if let Some(p) = line.strip_prefix("# Source: ") {
            if let Some((from, path)) = open.take() {
                out.push((from, n.saturating_sub(1), path));
            }
            open = Some((n, p.trim().to_string()));
        }
    }
    if let Some((from, path)) = open {
        out.push((from, last, path));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_found_from_their_templates_and_chart_file() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("web");
        std::fs::create_dir_all(chart.join("templates/sub")).unwrap();
        std::fs::write(chart.join("Chart.yaml"), "name: web\n").unwrap();
        std::fs::write(chart.join("templates/sub/d.yaml"), "{{ x }}\n").unwrap();
        assert_eq!(
            chart_of(&chart.join("templates/sub/d.yaml")),
            Some(chart.clone())
        );
        assert_eq!(chart_of(&chart.join("Chart.yaml")), Some(chart.clone()));
        assert_eq!(chart_of(&chart.join("values.yaml")), None);
        // A `templates/` folder without a Chart.yaml beside it is no chart.
        std::fs::create_dir_all(dir.path().join("x/templates")).unwrap();
        assert_eq!(chart_of(&dir.path().join("x/templates/a.yaml")), None);
    }

    #[test]
    fn rendered_documents_map_to_their_templates() {
        let text = "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\n---\n# Source: web/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\n";
        assert_eq!(
            rendered_sources(text),
            [
                (2, 4, "web/templates/svc.yaml".to_string()),
                (6, 8, "web/templates/deploy.yaml".to_string())
            ]
        );
    }
}
