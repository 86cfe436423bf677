//! `encchan generate`: the man page (clap_mangen) and shell completions
//! (clap_complete), both from the clap definition in [`crate::args`].

use crate::args::Cli;
use clap::CommandFactory;
use std::io::{self, Write};
use std::path::Path;

/// The top-level page, encchan(1), with its SUBCOMMANDS section.
pub fn man_page(out: &mut impl Write) -> io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

/// One page per command into `dir` (encchan.1, encchan-analyze.1 …).
pub fn man_pages(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Cli::command(), dir)
}

pub fn completions(shell: clap_complete::Shell, out: &mut impl Write) {
    clap_complete::generate(shell, &mut Cli::command(), "encchan", out);
}
