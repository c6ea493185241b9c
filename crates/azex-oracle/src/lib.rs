//! azex-oracle (under construction).
