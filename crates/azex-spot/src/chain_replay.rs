//! Replay of on-chain pool event logs (placeholder, filled in below).
