//! scenario files (todo)
