//! azex-exchange (under construction).
