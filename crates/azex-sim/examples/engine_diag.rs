//! Diagnostics of an engine run: where deficits (losses beyond collateral) and ADL come from.
//!
//! cargo run --release -p azex-sim --example engine_diag -- PRESET [MAX_BARS] [ENGINE_CONFIG.json]
//!
//! Prints every fill with a deficit (time, market, kind, owner's agent kind, size, deficit),
//! totals by agent kind, market and position size, and when the drawdown cap / reduce-only
//! state started.

#![allow(clippy::cast_possible_wrap)] // a diagnostic: amounts (micro-azUSD) are far below 2^127

use std::collections::BTreeMap;

use azex_sim::prices::format_timestamp;
use azex_sim::*;

struct Tap {
    inner: EngineVenue,
    ts: u64,
    deficits: Vec<(u64, Fill)>,
    reduce_only_since: Option<u64>,
    adl: BTreeMap<String, (u64, u128)>,
    errors: BTreeMap<String, (u64, String)>,
    /// owner → (Σ trader price PnL on fills, Σ LP fee share on fills, fills)
    perp: BTreeMap<AgentId, (i128, u128, u64)>,
    /// month (YYYY-MM) → (deficits, bad debt borne by the vault), from the snapshot counters
    monthly: std::cell::RefCell<BTreeMap<String, (u128, u128)>>,
    last: std::cell::Cell<(u128, u128)>,
}

impl Venue for Tap {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn markets(&self) -> Vec<MarketInfo> {
        self.inner.markets()
    }
    fn begin_block(&mut self, h: u64, ts: u64) {
        self.ts = ts;
        self.inner.begin_block(h, ts)
    }
    fn arbitrage_spot_to(&mut self, m: MarketId, t: u128) -> Result<Outcome, Rejection> {
        self.inner.arbitrage_spot_to(m, t)
    }
    fn observe(&self, m: MarketId) -> MarketObs {
        self.inner.observe(m)
    }
    fn vault(&self) -> VaultObs {
        self.inner.vault()
    }
    fn positions_of(&self, a: AgentId) -> Vec<PositionView> {
        self.inner.positions_of(a)
    }
    fn submit(&mut self, a: AgentId, x: &Action) -> Result<Outcome, Rejection> {
        let r = self.inner.submit(a, x);
        if let Err(e) = &r {
            let key: String = e
                .message
                .split(|c: char| c.is_ascii_digit() || c == ':')
                .next()
                .unwrap_or("")
                .to_string();
            let action: String = format!("{x:?}")
                .split([' ', '{'])
                .next()
                .unwrap_or("")
                .into();
            let k = format!("{:?} {action}: {key}", e.kind);
            let en = self.errors.entry(k).or_insert((0, e.message.clone()));
            en.0 += 1;
        }
        r
    }
    fn end_block(&mut self) {
        self.inner.end_block()
    }
    fn take_fills(&mut self) -> Vec<Fill> {
        let f = self.inner.take_fills();
        for x in &f {
            let e = self.perp.entry(x.owner).or_default();
            e.0 += x.trader_pnl_usd;
            e.1 += x.fee_usd;
            e.2 += 1;
            if x.deficit_usd > 0 {
                self.deficits.push((self.ts, x.clone()));
            }
            if x.kind == FillKind::Adl {
                let day = format_timestamp(self.ts)[..10].to_string();
                let e = self.adl.entry(day).or_default();
                e.0 += 1;
                e.1 += x.notional_usd;
            }
        }
        f
    }
    fn risk_snapshot(&self) -> RiskSnapshot {
        let r = self.inner.risk_snapshot();
        let (d0, b0) = self.last.get();
        if r.deficits_usd != d0 || r.bad_debt_usd != b0 {
            let month = format_timestamp(self.ts)[..7].to_string();
            let mut m = self.monthly.borrow_mut();
            let e = m.entry(month).or_default();
            e.0 += r.deficits_usd - d0;
            e.1 += r.bad_debt_usd - b0;
            self.last.set((r.deficits_usd, r.bad_debt_usd));
        }
        r
    }
    fn take_extra_arbitrage(&mut self) -> Vec<(MarketId, Outcome)> {
        if self.reduce_only_since.is_none() && self.inner.state().vault.drawdown_mode {
            self.reduce_only_since = Some(self.ts);
        }
        self.inner.take_extra_arbitrage()
    }
    fn error(&self) -> Option<String> {
        self.inner.error()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().cloned().unwrap_or("balanced-high".into());
    let mut cfg = preset(&name).expect("preset");
    if let Some(n) = args.get(1).and_then(|s| s.parse().ok()) {
        cfg.max_bars = Some(n);
    }
    let ecfg: EngineConfig = args
        .get(2)
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .unwrap_or_default();
    let prices = load_default_prices().unwrap();
    let p = prepare_prices(&cfg, &prices).unwrap();
    let inner = EngineVenue::for_run(ecfg, &cfg, &p).unwrap();
    let mut v = Tap {
        inner,
        ts: 0,
        deficits: vec![],
        reduce_only_since: None,
        adl: BTreeMap::new(),
        errors: BTreeMap::new(),
        perp: BTreeMap::new(),
        monthly: Default::default(),
        last: Default::default(),
    };
    let r = run_with(
        &cfg,
        &p,
        &mut v,
        &RunOptions {
            quiet: true,
            ..Default::default()
        },
    )
    .unwrap();
    // agent kinds by id (population order)
    let mut kinds = Vec::new();
    for (k, n) in cfg.population.counts() {
        for _ in 0..n {
            kinds.push(k.name());
        }
    }
    let adv = &cfg.population.adversaries;
    for (n, k) in [
        (adv.self_liquidators, "self_liquidator"),
        (adv.spot_manipulators, "spot_manipulator"),
        (adv.stop_hunters, "stop_hunter"),
    ] {
        kinds.extend(std::iter::repeat_n(k, n as usize));
    }
    let mut by_kind: BTreeMap<&str, (u64, u128)> = BTreeMap::new();
    let mut by_market: BTreeMap<String, (u64, u128)> = BTreeMap::new();
    let mut by_size: BTreeMap<&str, (u64, u128)> = BTreeMap::new();
    println!("deficit fills: {}", v.deficits.len());
    let mut top = v.deficits.clone();
    top.sort_by_key(|x| std::cmp::Reverse(x.1.deficit_usd));
    for (ts, f) in top.iter().take(25) {
        println!(
            "{} {} {:?} {:?} {} size {} @ {} deficit {}",
            format_timestamp(*ts),
            r.data.symbols[f.market],
            f.kind,
            f.side,
            kinds.get(f.owner as usize).unwrap_or(&"?"),
            units::fmt_usd(f.notional_usd as i128),
            units::fmt_wad(f.price, 4),
            units::fmt_usd(f.deficit_usd as i128)
        );
    }
    for (_, f) in &v.deficits {
        let k = kinds.get(f.owner as usize).copied().unwrap_or("?");
        let e = by_kind.entry(k).or_default();
        e.0 += 1;
        e.1 += f.deficit_usd;
        let e = by_market
            .entry(r.data.symbols[f.market].clone())
            .or_default();
        e.0 += 1;
        e.1 += f.deficit_usd;
        let s = match f.notional_usd / 1_000_000 {
            0..=100_000 => "<=100k",
            100_001..=250_000 => "100k-250k",
            250_001..=1_000_000 => "250k-1M",
            _ => ">1M",
        };
        let e = by_size.entry(s).or_default();
        e.0 += 1;
        e.1 += f.deficit_usd;
    }
    let show = |t: &str, m: &dyn Fn() -> Vec<(String, (u64, u128))>| {
        println!("by {t}:");
        for (k, (n, d)) in m() {
            println!("  {k:<18} {n:>6} fills  {}", units::fmt_usd(d as i128));
        }
    };
    show("agent kind", &|| {
        by_kind.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    });
    show("market", &|| by_market.clone().into_iter().collect());
    show("fill notional", &|| {
        by_size.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    });
    println!(
        "drawdown mode since: {}",
        v.reduce_only_since
            .map(format_timestamp)
            .unwrap_or("never".into())
    );
    let mut adl: Vec<_> = v.adl.iter().collect();
    adl.sort_by_key(|x| std::cmp::Reverse(x.1 .1));
    println!("ADL by day (top 10):");
    for (d, (n, usd)) in adl.iter().take(10) {
        println!("  {d} {n:>6} fills {}", units::fmt_usd(*usd as i128));
    }
    let mut perp_by_kind: BTreeMap<&str, (i128, u128, u64)> = BTreeMap::new();
    for (o, (p, f, n)) in &v.perp {
        let k = kinds.get(*o as usize).copied().unwrap_or("?");
        let e = perp_by_kind.entry(k).or_default();
        e.0 += p;
        e.1 += f;
        e.2 += n;
    }
    println!("perp legs by agent kind (price PnL realised on fills, fees = LP share / 0.7):");
    for (k, (p, f, n)) in &perp_by_kind {
        println!(
            "  {k:<18} {n:>8} fills  price PnL {:>18}  fees {:>16}",
            units::fmt_usd(*p),
            units::fmt_usd((*f * 10 / 7) as i128)
        );
    }
    for a in &r.agents {
        println!("  total PnL {:<18} {}", a.kind, units::fmt_usd(a.pnl_usd));
    }
    println!("deficits / bad debt by month:");
    for (m, (d, b)) in v.monthly.borrow().iter() {
        println!(
            "  {m}  deficits {:>16}  bad debt {:>16}",
            units::fmt_usd(*d as i128),
            units::fmt_usd(*b as i128)
        );
    }
    println!("rejections:");
    for (k, (n, ex)) in &v.errors {
        println!("  {n:>8}  {k}   e.g. {ex}");
    }
    let az = r.model("azex").unwrap();
    println!(
        "deficits {} bad debt {} liquidations {} max dd {} bps",
        units::fmt_usd(az.deficits_usd as i128),
        units::fmt_usd(az.bad_debt_usd as i128),
        az.liquidations,
        az.max_drawdown_bps
    );
}
