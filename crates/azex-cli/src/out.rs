//! Standard output and error for every subcommand, without panics.
//!
//! `println!` panics when stdout is closed (`azex run … | head`) or full (`> /dev/full`). All
//! output goes through [`Out`] instead: a write that fails because the reader went away
//! (`EPIPE`) ends the command quietly with exit code 0 (the reader asked for no more); any other
//! write error is reported on stderr with exit code 2. Diagnostics go through [`say`], which
//! ignores a closed stderr.

use std::fmt::Display;
use std::io::{self, BufWriter, Write};

/// Why a command stopped early.
#[derive(Debug)]
pub(crate) enum Fail {
    /// Stdout's reader went away: stop quietly, exit 0.
    Pipe,
    /// Anything else: print `error: <message>` on stderr, exit non-zero.
    Msg(String),
}

impl From<String> for Fail {
    fn from(s: String) -> Self {
        Fail::Msg(s)
    }
}

/// An output write error, classified.
pub(crate) fn write_error(e: io::Error) -> Fail {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Fail::Pipe
    } else {
        Fail::Msg(format!("writing to standard output: {e}"))
    }
}

/// Buffered standard output.
pub(crate) struct Out {
    w: BufWriter<io::StdoutLock<'static>>,
}

impl Out {
    pub(crate) fn new() -> Self {
        Out {
            w: BufWriter::with_capacity(1 << 16, io::stdout().lock()),
        }
    }

    /// Writes `x` and a newline.
    pub(crate) fn line(&mut self, x: impl Display) -> Result<(), Fail> {
        writeln!(self.w, "{x}").map_err(write_error)
    }

    /// The underlying writer (errors through [`write_error`]).
    pub(crate) fn writer(&mut self) -> &mut impl Write {
        &mut self.w
    }

    /// Flushes: the last chance for a write error to show up.
    pub(crate) fn finish(mut self) -> Result<(), Fail> {
        self.w.flush().map_err(write_error)
    }
}

/// A line on stderr; a closed or failing stderr is ignored (nothing else could report it).
pub(crate) fn say(x: impl Display) {
    let _ = writeln!(io::stderr().lock(), "{x}");
}

/// A line on stdout for commands that print outside [`Out`] (the node shells): unbuffered, and
/// never a panic — a closed stdout ends the process quietly with 0, any other write error with
/// a message and 2.
pub(crate) fn println_or_exit(x: impl Display) {
    let mut w = io::stdout().lock();
    if let Err(e) = writeln!(w, "{x}").and_then(|_| w.flush()) {
        match write_error(e) {
            Fail::Pipe => std::process::exit(0),
            Fail::Msg(m) => {
                say(format_args!("error: {m}"));
                std::process::exit(2)
            }
        }
    }
}
