//! The documentation the binary prints about itself: shell completion scripts
//! (`isms-lint completions SHELL`, clap_complete) and the man page (`isms-lint manpage`,
//! clap_mangen), both generated from the argument definitions in `cli.rs`.

use std::path::Path;

use crate::cli::Cli;

/// `isms-lint completions SHELL`: the completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> u8 {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut cmd, "isms-lint", &mut std::io::stdout());
    0
}

/// `isms-lint manpage [--dir DIR]`: the roff man page of isms-lint on stdout, or one page per
/// command written into DIR.
pub fn manpage(dir: Option<&Path>) -> u8 {
    let cmd = <Cli as clap::CommandFactory>::command();
    let result = match dir {
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd).render(&mut out)
        }
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| {
            clap_mangen::generate_to(cmd, dir)?;
            Ok(())
        }),
    };
    match result {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: cannot write the man page: {e}");
            2
        }
    }
}
