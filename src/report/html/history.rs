//! Trends for the HTML page: the points of earlier evidence bundles (loaded and verified by
//! [`crate::evidence::history`]), drawn as a chart of open findings per theme and a row of
//! status marks per control. A bundle that failed verification is listed, never plotted.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{escape, status_class, status_letter, FindingRecord};
use crate::catalog::{self, Theme};
use crate::soa::{Soa, Status};

/// One bundle plotted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    /// Its folder's name inside the history folder (`this run` for the run being written).
    pub name: String,
    /// Evidence date.
    pub date: String,
    /// Commit.
    pub commit: Option<String>,
    /// Whether uncommitted changes were scanned.
    pub dirty: bool,
    /// Its `bundle_digest`.
    pub bundle_digest: Option<String>,
    /// When it was written (orders bundles of the same date).
    pub started_at: String,
    /// Open findings per theme (a finding counts once in each theme its controls are in).
    pub open_by_theme: [usize; 4],
    /// Status of each control.
    pub statuses: BTreeMap<String, Status>,
    /// The run being written, not an earlier bundle.
    pub current: bool,
}

/// A bundle left out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Its folder's name inside the history folder.
    pub name: String,
    /// Why it is not plotted.
    pub why: String,
}

/// The verified history, oldest first, and the bundles left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Bundles that verified, oldest first.
    pub points: Vec<Point>,
    /// Bundles that did not.
    pub rejected: Vec<Rejected>,
}

/// Open findings per theme, in [`Theme::ALL`] order.
pub fn open_by_theme(findings: &[FindingRecord]) -> [usize; 4] {
    let mut n = [0; 4];
    for f in findings.iter().filter(|f| f.is_open()) {
        let mut seen = [false; 4];
        for c in &f.controls {
            if let Some(ctl) = catalog::find(c) {
                let i = Theme::ALL
                    .iter()
                    .position(|t| *t == ctl.theme)
                    .expect("every theme is listed");
                seen[i] = true;
            }
        }
        for (i, s) in seen.iter().enumerate() {
            n[i] += usize::from(*s);
        }
    }
    n
}

/// The point of the run being written.
pub fn current(soa: &Soa, findings: &[FindingRecord]) -> Point {
    Point {
        name: "this run".to_string(),
        date: soa.meta.date.clone(),
        commit: soa.meta.commit.clone(),
        dirty: soa.meta.dirty,
        bundle_digest: None,
        started_at: String::new(),
        open_by_theme: open_by_theme(findings),
        statuses: soa
            .controls
            .iter()
            .map(|r| (r.id.clone(), r.status))
            .collect(),
        current: true,
    }
}

fn short_commit(c: &Option<String>) -> String {
    c.as_deref()
        .map(|c| c[..c.len().min(10)].to_string())
        .unwrap_or_else(|| "no commit".to_string())
}

const SERIES: [(&str, &str, &str); 4] = [
    // colour, dash pattern, marker
    ("#0550ae", "", "circle"),
    ("#8250df", "6 4", "square"),
    ("#bc4c00", "2 3", "triangle"),
    ("#116329", "8 3 2 3", "diamond"),
];

fn marker(out: &mut String, shape: &str, x: f64, y: f64, colour: &str, title: &str) {
    let _ = match shape {
        "circle" => write!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{colour}\">"
        ),
        "square" => write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"{colour}\">",
            x - 4.0,
            y - 4.0
        ),
        "triangle" => write!(
            out,
            "<path d=\"M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z\" fill=\"{colour}\">",
            y - 5.0,
            x + 5.0,
            y + 4.0,
            x - 5.0,
            y + 4.0
        ),
        _ => write!(
            out,
            "<path d=\"M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z\" fill=\"{colour}\">",
            y - 5.0,
            x + 5.0,
            y + 5.0,
            x - 5.0
        ),
    };
    let close = match shape {
        "circle" => "</circle>",
        "square" => "</rect>",
        _ => "</path>",
    };
    let _ = write!(out, "<title>{}</title>{close}", escape(title));
}

/// A round upper bound for the y axis.
fn nice_max(v: usize) -> usize {
    let v = v.max(4);
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step * 4 >= v {
                return m * step * 4;
            }
        }
        step *= 10;
    }
}

fn label(p: &Point) -> String {
    if p.current {
        "this run".to_string()
    } else {
        p.date.clone()
    }
}

/// "A.5 Organizational" for the chart's legend.
fn theme_short(t: Theme) -> &'static str {
    t.heading().trim_end_matches(" controls")
}

/// The chart of open findings per theme over the bundles, as inline SVG.
fn chart(out: &mut String, points: &[&Point]) {
    let (w, h) = (820.0, 280.0);
    let (left, right, top, bottom) = (80.0, 170.0, 16.0, 64.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let max = nice_max(
        points
            .iter()
            .flat_map(|p| p.open_by_theme)
            .max()
            .unwrap_or(0),
    );
    let x = |i: usize| {
        if points.len() == 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (points.len() - 1) as f64
        }
    };
    let y = |v: usize| top + plot_h - plot_h * v as f64 / max as f64;
    let _ = write!(
        out,
        "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-labelledby=\"trend-t trend-d\" font-family=\"system-ui, sans-serif\" font-size=\"11\"><title id=\"trend-t\">Open findings per theme over the last {} bundles</title><desc id=\"trend-d\">One point per verified bundle, oldest on the left; the table below the chart lists the same numbers.</desc>",
        points.len()
    );
    for k in 0..=4 {
        let v = max * k / 4;
        let yy = y(v);
        let _ = write!(
            out,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#d0d7de\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#424a53\">{v}</text>",
            left + plot_w,
            left - 6.0,
            yy + 4.0
        );
    }
    let every = points.len().div_ceil(12).max(1);
    for (i, p) in points.iter().enumerate() {
        if i % every != 0 && i + 1 != points.len() {
            continue;
        }
        let xx = x(i);
        let _ = write!(
            out,
            "<text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"end\" transform=\"rotate(-35 {xx:.1} {:.1})\" fill=\"#424a53\">{}</text>",
            top + plot_h + 14.0,
            top + plot_h + 14.0,
            escape(&label(p))
        );
    }
    for (t, theme) in Theme::ALL.iter().enumerate() {
        let (colour, dash, shape) = SERIES[t];
        let d: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1} {:.1}", x(i), y(p.open_by_theme[t])))
            .collect();
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let _ = write!(
            out,
            "<path d=\"M{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>",
            d.join("L")
        );
        for (i, p) in points.iter().enumerate() {
            let title = format!(
                "{}: {} open finding(s) on {}",
                theme.heading(),
                p.open_by_theme[t],
                label(p)
            );
            marker(out, shape, x(i), y(p.open_by_theme[t]), colour, &title);
        }
        let ly = top + 14.0 + 22.0 * t as f64;
        let lx = left + plot_w + 18.0;
        let _ = write!(
            out,
            "<path d=\"M{lx:.1} {ly:.1}L{:.1} {ly:.1}\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>",
            lx + 28.0
        );
        marker(out, shape, lx + 14.0, ly, colour, theme.heading());
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1f2328\">{}</text>",
            lx + 36.0,
            ly + 4.0,
            theme_short(*theme)
        );
    }
    let _ = write!(
        out,
        "<text x=\"30\" y=\"{:.1}\" transform=\"rotate(-90 30 {:.1})\" text-anchor=\"middle\" fill=\"#424a53\">open findings</text></svg>",
        top + plot_h / 2.0,
        top + plot_h / 2.0
    );
    out.push_str("<figcaption>Open findings per theme, one point per verified bundle (a finding counts once in each theme its controls belong to).</figcaption></figure>\n");
}

/// The trends section: the chart, the numbers, and every history entry with its verification.
pub(crate) fn trends(out: &mut String, h: &History, now: &Point) {
    let mut points: Vec<&Point> = h.points.iter().collect();
    points.push(now);
    out.push_str(
        "<section id=\"trends\" aria-labelledby=\"trends-h\">\n<h2 id=\"trends-h\">Trends</h2>\n",
    );
    let _ = writeln!(
        out,
        "<p>{} earlier bundle(s) verified and plotted with this run{}.</p>",
        h.points.len(),
        if h.rejected.is_empty() {
            String::new()
        } else {
            format!(
                "; {} left out because they did not verify (listed below)",
                h.rejected.len()
            )
        }
    );
    chart(out, &points);
    out.push_str("<table class=\"history\"><caption>Bundles in the history, oldest first</caption><thead><tr><th scope=\"col\">Bundle</th><th scope=\"col\">Date</th><th scope=\"col\">Commit</th><th scope=\"col\">Bundle digest</th><th scope=\"col\">Verification</th>");
    for t in Theme::ALL {
        let _ = write!(
            out,
            "<th scope=\"col\" class=\"n\">Open, {}</th>",
            t.heading()
        );
    }
    out.push_str("</tr></thead><tbody>");
    for p in &points {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}{}</td><td class=\"mono\">{}</td><td>{}</td>",
            escape(&p.name),
            escape(&p.date),
            escape(&short_commit(&p.commit)),
            if p.dirty { " (dirty)" } else { "" },
            escape(
                &p.bundle_digest
                    .as_deref()
                    .map(|d| format!("{}…", &d[..d.len().min(16)]))
                    .unwrap_or_else(|| "—".to_string())
            ),
            if p.current {
                "being written"
            } else {
                "verified"
            }
        );
        for n in p.open_by_theme {
            let _ = write!(out, "<td class=\"n\">{n}</td>");
        }
        out.push_str("</tr>");
    }
    for r in &h.rejected {
        let _ = write!(
            out,
            "<tr class=\"rejected\"><td>{}</td><td colspan=\"3\">—</td><td colspan=\"5\"><strong>not plotted: failed verification</strong> — {}</td></tr>",
            escape(&r.name),
            escape(&r.why)
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

/// A control's status in each verified bundle, oldest first, then in this run.
pub(crate) fn marks(out: &mut String, h: &History, id: &str, now: Status) {
    let _ = write!(
        out,
        "<div class=\"history-marks\"><span class=\"marks-label\">Status history</span><ol class=\"marks\" aria-label=\"Status of A.{} in the last {} bundles, oldest first, then this run\">",
        escape(id),
        h.points.len()
    );
    for p in &h.points {
        match p.statuses.get(id) {
            Some(s) => {
                let _ = write!(
                    out,
                    "<li class=\"{}\" title=\"{} {}: {s}\"><span aria-hidden=\"true\">{}</span><span class=\"sr\">{}: {s}</span></li>",
                    status_class(*s),
                    escape(&p.date),
                    escape(&short_commit(&p.commit)),
                    status_letter(*s),
                    escape(&p.date)
                );
            }
            None => {
                let _ = write!(
                    out,
                    "<li title=\"{}: not in that bundle\"><span class=\"sr\">{}: not in that bundle</span></li>",
                    escape(&p.date),
                    escape(&p.date)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "<li class=\"{} now\" title=\"this run: {now}\"><span aria-hidden=\"true\">{}</span><span class=\"sr\">this run: {now}</span></li></ol></div>",
        status_class(now),
        status_letter(now)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_axis_ends_on_a_round_number() {
        assert_eq!(nice_max(0), 4);
        assert_eq!(nice_max(5), 8);
        assert_eq!(nice_max(37), 40);
        assert_eq!(nice_max(41), 80);
        assert_eq!(nice_max(2488), 4000);
    }

    #[test]
    fn a_finding_counts_once_per_theme() {
        let f = |controls: &[&str], sev: crate::rules::Severity| FindingRecord {
            rule_id: "r".into(),
            severity: sev,
            controls: controls.iter().map(|c| c.to_string()).collect(),
            message: String::new(),
            path: String::new(),
            start: super::super::Position { line: 1, col: 1 },
            end: super::super::Position { line: 1, col: 1 },
            unknown: false,
            suppression: None,
        };
        use crate::rules::Severity::*;
        let findings = [
            f(&["8.2", "8.9"], High),
            f(&["5.36", "8.9"], Low),
            f(&["8.9"], Info),
        ];
        assert_eq!(open_by_theme(&findings), [1, 0, 0, 2]);
    }
}
