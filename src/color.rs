//! When to colour terminal output: `--color`, then `NO_COLOR`, then `FORCE_COLOR`, then whether
//! the stream is a terminal. Environment variables count only when set and non-empty
//! (<https://no-color.org>, <https://force-color.org>); `NO_COLOR` wins over `FORCE_COLOR`.

use crate::cli::ColorChoice;

/// Whether output to a stream should be coloured. `is_terminal` tells whether the stream is a
/// terminal; `to_file` is true for `--output FILE`, which is coloured only with `--color always`.
pub fn enabled(choice: ColorChoice, is_terminal: bool, to_file: bool) -> bool {
    decide(choice, is_terminal, to_file, |k| std::env::var_os(k))
}

/// [`enabled`] with the environment passed in (for tests).
pub fn decide(
    choice: ColorChoice,
    is_terminal: bool,
    to_file: bool,
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> bool {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if to_file || set("NO_COLOR") => false,
        ColorChoice::Auto if set("FORCE_COLOR") => true,
        ColorChoice::Auto => is_terminal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn with<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(*v))
        }
    }

    #[test]
    fn environment_counts_only_when_non_empty() {
        let auto = ColorChoice::Auto;
        assert!(decide(auto, true, false, with(&[])));
        assert!(!decide(auto, false, false, with(&[])));
        assert!(!decide(auto, true, false, with(&[("NO_COLOR", "1")])));
        assert!(
            decide(auto, true, false, with(&[("NO_COLOR", "")])),
            "an empty NO_COLOR is unset"
        );
        assert!(decide(auto, false, false, with(&[("FORCE_COLOR", "1")])));
        assert!(
            !decide(auto, false, false, with(&[("FORCE_COLOR", "")])),
            "an empty FORCE_COLOR is unset"
        );
        assert!(
            !decide(
                auto,
                false,
                false,
                with(&[("FORCE_COLOR", "1"), ("NO_COLOR", "1")])
            ),
            "NO_COLOR wins"
        );
        assert!(
            !decide(auto, true, true, with(&[("FORCE_COLOR", "1")])),
            "files stay plain"
        );
    }

    #[test]
    fn the_flag_wins() {
        let env = with(&[("NO_COLOR", "1")]);
        assert!(decide(ColorChoice::Always, false, true, &env));
        assert!(!decide(
            ColorChoice::Never,
            true,
            false,
            with(&[("FORCE_COLOR", "1")])
        ));
    }
}
