//! Prints the first refusals of a short engine run (diagnostics for a configuration that
//! trades nothing): `cargo run --release -p azex-sim --example rejections -- PRESET SUBSTEPS`.

use azex_sim::*;

struct Log(EngineVenue, u32);

impl Venue for Log {
    fn markets(&self) -> Vec<MarketInfo> {
        self.0.markets()
    }
    fn begin_block(&mut self, h: u64, ts: u64) {
        self.0.begin_block(h, ts)
    }
    fn arbitrage_spot_to(&mut self, m: MarketId, p: u128) -> Result<Outcome, Rejection> {
        self.0.arbitrage_spot_to(m, p)
    }
    fn observe(&self, m: MarketId) -> MarketObs {
        self.0.observe(m)
    }
    fn vault(&self) -> VaultObs {
        self.0.vault()
    }
    fn positions_of(&self, a: AgentId) -> Vec<PositionView> {
        self.0.positions_of(a)
    }
    fn submit(&mut self, a: AgentId, action: &Action) -> Result<Outcome, Rejection> {
        let r = self.0.submit(a, action);
        if let Err(e) = &r {
            if self.1 < 12 {
                self.1 += 1;
                eprintln!("{action:?}: {e}");
            }
        }
        r
    }
    fn end_block(&mut self) {
        self.0.end_block()
    }
    fn take_fills(&mut self) -> Vec<Fill> {
        self.0.take_fills()
    }
    fn risk_snapshot(&self) -> RiskSnapshot {
        self.0.risk_snapshot()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = preset(args.first().map_or("balanced-high", |s| s.as_str())).expect("preset");
    cfg.substeps = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4);
    cfg.max_bars = Some(48);
    cfg.start = None;
    cfg.end = None;
    cfg.population.agents = 100;
    let prices = load_default_prices().expect("data");
    let p = prepare_prices(&cfg, &prices).expect("slice");
    let v = EngineVenue::for_run(EngineConfig::default(), &cfg, &p).expect("venue");
    let mut l = Log(v, 0);
    let r = run_with(
        &cfg,
        &p,
        &mut l,
        &RunOptions {
            quiet: true,
            ..Default::default()
        },
    )
    .expect("run");
    eprintln!("{:?}", r.actions);
}
