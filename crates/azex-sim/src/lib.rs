//! azex-sim (under construction).
