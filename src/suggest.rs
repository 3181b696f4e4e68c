//! "Did you mean …?": the one helper that finds the closest known name to one the user typed —
//! rule ids (`--only`, `--skip`, suppressions, waivers, config switches, `rules show`,
//! `test --only`), config keys and values, rule-file fields and CEL helper names.

/// The candidate closest to `typed`, when it is close enough to be a likely typo: at most a third
/// of the longer name's characters differ (edit distance, a swap of two neighbours counting as
/// one edit, case ignored), or, for names of six characters or more, one contains the other.
/// Ties go to the closer, then the alphabetically first candidate, so the answer is stable.
pub fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed_l = typed.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c == typed {
            continue;
        }
        let c_l = c.to_lowercase();
        let d = strsim::osa_distance(&typed_l, &c_l);
        let longest = typed_l.chars().count().max(c_l.chars().count());
        let near = d * 3 <= longest
            || (typed_l.chars().count() >= 6 && (c_l.contains(&typed_l) || typed_l.contains(&c_l)));
        if near && best.is_none_or(|(bd, bc)| (d, c) < (bd, bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `; did you mean 'x'?` to end a one-line message, or nothing.
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
    fn swapped_letters_are_one_edit() {
        let levels = ["critical", "high", "medium", "low", "info"];
        assert_eq!(closest("hihg", levels), Some("high"));
        assert_eq!(closest("hgih", levels), Some("high"));
        assert_eq!(closest("prv", ["priv", "pub"]), Some("priv"));
    }

    #[test]
    fn unrelated_names_get_no_suggestion() {
        assert_eq!(closest("terraform-s3-public", IDS), None);
        assert_eq!(closest("x", IDS), None);
        assert_eq!(closest("zzzzzz", ["exclude", "waivers", "rules"]), None);
        assert_eq!(hint("nothing-like-it", IDS), "");
        assert_eq!(hint("k8s-host-pdi", IDS), "; did you mean 'k8s-host-pid'?");
    }

    #[test]
    fn ties_are_settled_by_name() {
        assert_eq!(closest("ab", ["ac", "aa"]), None, "1 of 2 differs: too far");
        assert_eq!(closest("abcx", ["abcz", "abcy"]), Some("abcy"));
    }
}
