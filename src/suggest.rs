//! "Did you mean …?": the closest known name to one the user typed (rule ids in `--only`,
//! `--skip`, suppressions, waivers, config switches, `rules show`, `test --only`).

/// The candidate closest to `typed`, when it is close enough to be a likely typo: at most a third
/// of the longer name's characters differ (edit distance), or one name contains the other.
pub fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed_l = typed.to_ascii_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c == typed {
            continue;
        }
        let c_l = c.to_ascii_lowercase();
        let d = strsim::levenshtein(&typed_l, &c_l);
        let longest = typed_l.chars().count().max(c_l.chars().count());
        let near = d * 3 <= longest
            || (typed_l.len() >= 6 && (c_l.contains(&typed_l) || typed_l.contains(&c_l)));
        if near && best.is_none_or(|(bd, bc)| (d, c) < (bd, bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// ` (did you mean `x`?)` for a message, or nothing.
pub fn hint<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(typed, candidates)
        .map(|c| format!("; did you mean '{c}'?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 4] = [
        "k8s-container-privileged",
        "k8s-host-pid",
        "docker-final-user-root",
        "gha-unpinned-action",
    ];

    #[test]
    fn typos_find_their_rule() {
        assert_eq!(
            closest("k8s-container-privilegd", IDS),
            Some("k8s-container-privileged")
        );
        assert_eq!(closest("k8s-hostpid", IDS), Some("k8s-host-pid"));
        assert_eq!(
            closest("K8S-CONTAINER-PRIVILEGED", IDS),
            Some("k8s-container-privileged")
        );
        assert_eq!(
            closest("container-privileged", IDS),
            Some("k8s-container-privileged")
        );
    }

    #[test]
    fn unrelated_names_get_no_suggestion() {
        assert_eq!(closest("terraform-s3-public", IDS), None);
        assert_eq!(closest("x", IDS), None);
        assert_eq!(hint("nothing-like-it", IDS), "");
        assert_eq!(hint("k8s-host-pdi", IDS), "; did you mean 'k8s-host-pid'?");
    }
}
