//! azex-keeper (under construction).
