//! AZEx hook oracle (documentation in progress).

pub mod error;
pub mod hook;
pub mod observation;
pub mod params;
pub mod pool;
pub mod twap;

pub use error::{OracleError, OracleResult};
pub use hook::OracleHook;
pub use observation::{truncate_tick, Cumulative, Observation, ObservationBuffer, PreparedWrite};
pub use params::*;
pub use pool::PoolOracle;
pub use twap::{arithmetic_mean_tick, harmonic_mean_liquidity};
