//! AZEx simulator: drives an exchange ([`Venue`]) block by block over historical prices with
//! seeded agents, and compares AZEx's net-exposure accounting with two baselines (classic
//! peer-to-pool and a reserve-factor pool) on the same flow.
//!
//! ```no_run
//! use azex_sim::*;
//! let prices = load_default_prices().unwrap(); // or load_prices("my.csv.gz")
//! let cfg = preset("balanced-moderate").unwrap();
//! let result = run_engine(&cfg, &prices, EngineConfig::default(), &RunOptions::default()).unwrap();
//! println!("{}", result.to_json());
//! write_report(std::slice::from_ref(&result), "report.md").unwrap();
//! write_charts(&result, "charts").unwrap();
//! ```
//!
//! Modules: [`prices`] (CSV loading, alignment, intrabar paths, crash windows), [`agents`]
//! (the `Agent` trait, every agent type, `Population`), [`venue`] (the `Venue` trait),
//! [`engine_venue`] (`EngineVenue`, the real exchange), [`baselines`], [`driver`] (`run`), [`metrics`] (`SimResult`),
//! [`report`], [`charts`], [`scenarios`] (presets), [`units`] (fixed point).

pub mod agents;
pub mod attack_search;
pub mod attackers;
pub mod baselines;
pub mod charts;
pub mod designs;
pub mod driver;
pub mod engine_venue;
pub mod metrics;
pub mod prices;
pub mod report;
pub mod scenarios;
pub mod study;
pub mod study_report;
pub mod types;
pub mod units;
pub mod venue;

pub use agents::{AdversaryConfig, Agent, AgentKind, AgentMix, Population, PopulationConfig};
pub use attack_search::{run_attack_search, AttackSearchConfig, AttackSearchResult};
pub use attackers::{AttackKind, AttackSpec};
pub use charts::{write_charts, ChartError};
pub use driver::{
    prepare_prices, run, run_engine, run_with, CrashConfig, RunOptions, SimConfig, SimError,
};
pub use engine_venue::{EngineConfig, EngineVenue};
/// Progress-bar group for runs in parallel ([`RunOptions::progress`]).
pub use indicatif;
pub use indicatif::MultiProgress;
pub use metrics::{ModelMetrics, SimResult};
pub use prices::{
    default_data_path, load_default_prices, load_prices, parse_prices, PriceError, PriceSeries,
};
pub use report::{render_report, write_report};
pub use scenarios::{preset, presets, PRESET_NAMES};
pub use study::{run_study, StudyConfig, StudyResult};
pub use types::*;
pub use venue::*;
