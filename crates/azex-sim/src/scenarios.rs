//! Scenario presets.

use crate::agents::{AdversaryConfig, PopulationConfig};
use crate::driver::SimConfig;

/// Names of the presets, in report order.
pub const PRESET_NAMES: [&str; 7] = [
    "balanced-high",
    "balanced-moderate",
    "one-sided",
    "crash-replay",
    "attack-self-liquidation",
    "attack-spot-manipulation",
    "attack-stop-hunt",
];

fn with(name: &str, description: &str, balance: f64) -> SimConfig {
    SimConfig {
        name: name.into(),
        description: description.into(),
        population: PopulationConfig {
            balance,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn attack(name: &str, description: &str, adv: AdversaryConfig) -> SimConfig {
    let mut c = with(name, description, 0.6);
    c.population.adversaries = adv;
    c
}

/// A preset by name.
pub fn preset(name: &str) -> Option<SimConfig> {
    Some(match name {
        "balanced-high" => with(
            name,
            "Highly balanced flow (balance 0.95): hedgers keep each market within 5% imbalance.",
            0.95,
        ),
        "balanced-moderate" => with(name, "Moderately balanced flow (balance 0.6).", 0.6),
        "one-sided" => with(
            name,
            "One-sided flow (balance 0): undirected traders all go long, no hedging.",
            0.0,
        ),
        "crash-replay" => {
            let mut c = with(
                name,
                "Leveraged, long-leaning flow (balance 0.3, 5-25x) through the Jan-Feb 2018 crash.",
                0.3,
            );
            c.start = Some("2017-12-01".into());
            c.end = Some("2018-03-01".into());
            c.population.leverage = [5, 25];
            c
        }
        "attack-self-liquidation" => attack(
            name,
            "Moderate flow plus 5 attackers opening equal 50x long and short legs and letting one die.",
            AdversaryConfig { self_liquidators: 5, ..Default::default() },
        ),
        "attack-spot-manipulation" => attack(
            name,
            "Moderate flow plus 5 attackers moving the spot pool 5% around a perp trade (GMX AVAX 2022).",
            AdversaryConfig { spot_manipulators: 5, ..Default::default() },
        ),
        "attack-stop-hunt" => attack(
            name,
            "Moderate flow plus 5 attackers dumping spot 5% to trigger long liquidations, then covering.",
            AdversaryConfig { stop_hunters: 5, ..Default::default() },
        ),
        _ => return None,
    })
}

/// All presets.
pub fn presets() -> Vec<SimConfig> {
    PRESET_NAMES.iter().map(|n| preset(n).unwrap()).collect()
}
