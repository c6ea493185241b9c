//! A Uniswap v4-exact concentrated-liquidity pool manager with hooks.

pub mod hooks;
pub mod types;

pub use hooks::*;
pub use types::*;
