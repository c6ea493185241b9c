//! `azex devnet`: one command starts a node, keepers (separate processes when the `azex` binary
//! is given, threads otherwise) and trading bots — an LP (market maker of a peer-to-pool
//! exchange: it backs the vault), traders, and an arbitrageur that drives each spot pool along
//! the shipped price data (BTC, ETH, LTC, XRP, EOS, 2017–2019, one 30-minute bar every
//! `bar_ms`). Key files go to `DATA/keys/`; the chain lives in `DATA/node/`; started again on the
//! same directory it resumes from the log. Ctrl-C or SIGTERM stops everything.

use crate::api::ApiLimits;
use crate::keeper::{run_keeper, KeeperOptions};
use crate::node::{start, NodeHandle, NodeOptions};
use crate::setup::{bootstrap, MarketSpec};
use azex_client::{Client, Key, Sender};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use azex_exchange::Tx;
use azex_sim::prices::PriceSeries;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Options of `azex devnet`.
#[derive(Debug, Clone)]
pub struct DevnetOptions {
    /// The devnet's directory (`keys/`, `node/`).
    pub data: PathBuf,
    /// The API's port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Keepers started.
    pub keepers: usize,
    /// Trading bots started.
    pub traders: usize,
    /// The node's block time, ms.
    pub block_time_ms: u64,
    /// Real milliseconds per 30-minute bar of the price data.
    pub bar_ms: u64,
    /// The `azex` binary: keepers run as `azex keeper` processes (None: threads).
    pub keeper_exe: Option<PathBuf>,
    /// Stop after this long (None: on Ctrl-C / SIGTERM).
    pub run_for: Option<Duration>,
}

impl DevnetOptions {
    /// Defaults: 3 keepers (threads), 3 traders, 200 ms blocks, a bar every 2 s, until stopped.
    pub fn new(data: PathBuf, port: u16) -> Self {
        DevnetOptions {
            data,
            port,
            keepers: 3,
            traders: 3,
            block_time_ms: 200,
            bar_ms: 2_000,
            keeper_exe: None,
            run_for: None,
        }
    }
}

/// Number of markets: one per symbol.
const N_SYMBOLS: u32 = 5;
/// The markets' symbols, in market order.
const SYMBOLS: [&str; N_SYMBOLS as usize] = ["BTC", "ETH", "LTC", "XRP", "EOS"];

fn key(dir: &Path, name: &str) -> Result<Key, String> {
    Key::load_or_create(&dir.join(format!("{name}.key"))).map_err(|e| e.to_string())
}

/// The devnet's own accounts, their key files in `DATA/keys/`.
struct Accounts {
    lister: Key,
    market_maker: Key,
    arbitrageur: Key,
    traders: Vec<Key>,
}

impl Accounts {
    fn load(keys_dir: &Path, traders: usize) -> Result<Accounts, String> {
        std::fs::create_dir_all(keys_dir).map_err(|e| e.to_string())?;
        Ok(Accounts {
            lister: key(keys_dir, "lister")?,
            market_maker: key(keys_dir, "market-maker")?,
            arbitrageur: key(keys_dir, "arbitrageur")?,
            traders: (1..=traders)
                .map(|i| key(keys_dir, &format!("trader-{i}")))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The bots and the dev keys, funded by the genesis.
    fn funded(&self) -> Vec<alloy_primitives::Address> {
        let mut addrs = vec![
            self.lister.address(),
            self.market_maker.address(),
            self.arbitrageur.address(),
        ];
        addrs.extend(self.traders.iter().map(|k| k.address()));
        addrs.extend(
            (1..=crate::genesis::DEV_ACCOUNTS).map(|i| crate::genesis::dev_key(i).address()),
        );
        addrs
    }
}

/// The shipped price data and, for each of [`SYMBOLS`], its series in it.
struct Prices {
    series: PriceSeries,
    columns: Vec<usize>,
}

fn load_prices() -> Result<Prices, String> {
    let series = azex_sim::prices::load_default_prices().map_err(|e| e.to_string())?;
    let columns = SYMBOLS
        .iter()
        .map(|s| {
            series
                .symbol_index(&format!("{s}USD"))
                .or_else(|| series.symbol_index(s))
                .ok_or(format!("no {s} in the price data"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Prices { series, columns })
}

/// Run a devnet (blocks until stopped).
pub fn run(o: &DevnetOptions) -> Result<(), String> {
    let keys_dir = o.data.join("keys");
    let accounts = Accounts::load(&keys_dir, o.traders)?;
    let prices = load_prices()?;
    let node_dir = o.data.join("node");
    let node = start(node_options(o, &node_dir, &accounts)?).map_err(|e| e.to_string())?;
    let url = node.url();
    let client = Client::new(&url);
    crate::say!("azex devnet");
    crate::say!("  API        {url}/v1/status");
    crate::say!("  WebSocket  ws://{}/v1/ws", node.addr);
    crate::say!("  OpenAPI    {url}/v1/openapi.json");
    crate::say!("  metrics    {url}/metrics");
    crate::say!("  keys       {}", keys_dir.display());
    crate::say!("  data       {}", node_dir.display());
    list_markets(&client, accounts.lister, &prices)?;

    let stop = Arc::new(AtomicBool::new(false));
    let (mut threads, children) = start_keepers(o, &keys_dir, &url, &stop)?;
    let (mm, c) = (stop.clone(), client.clone());
    threads.push(std::thread::spawn(move || {
        market_maker(accounts.market_maker, c, &mm)
    }));
    for (i, k) in accounts.traders.into_iter().enumerate() {
        let (stop, c) = (stop.clone(), client.clone());
        threads.push(std::thread::spawn(move || trader(i as u64, k, c, &stop)));
    }
    let (arb, c, bar_ms) = (stop.clone(), client.clone(), o.bar_ms);
    threads.push(std::thread::spawn(move || {
        arbitrageur(accounts.arbitrageur, c, &prices, bar_ms, &arb)
    }));
    crate::say!("running; Ctrl-C or SIGTERM stops everything");
    wait_for_stop(&node, o.run_for);
    stop.store(true, Ordering::SeqCst);
    for mut c in children {
        // SIGTERM to our own child, by its id.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let _ = c.wait();
    }
    for t in threads {
        let _ = t.join();
    }
    let h = node.shared.head();
    node.stop();
    crate::say!("stopped at height {} state {}", h.0, h.1);
    Ok(())
}

/// The node's options; on the first start, a genesis (`DATA/genesis.json`) funding the bots
/// and the dev keys.
fn node_options(
    o: &DevnetOptions,
    node_dir: &Path,
    accounts: &Accounts,
) -> Result<NodeOptions, String> {
    let mut opts = NodeOptions::new(node_dir.to_path_buf(), o.port);
    opts.block_time_ms = o.block_time_ms;
    opts.handle_signals = true;
    opts.api = ApiLimits::default();
    if !node_dir.join("genesis.json").exists() {
        let g = crate::genesis::funded_genesis(
            &accounts.funded(),
            10_000_000_000 * USD_ONE,
            1_000_000_000_000 * QTY_ONE,
        );
        let gp = o.data.join("genesis.json");
        std::fs::write(
            &gp,
            serde_json::to_vec_pretty(&g).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
        opts.genesis = Some(gp);
    }
    Ok(opts)
}

/// List a market per symbol at its first price (those not listed yet).
fn list_markets(client: &Client, lister: Key, prices: &Prices) -> Result<(), String> {
    let mut ls = Sender::connect(client.clone(), lister).map_err(|e| e.to_string())?;
    let specs: Vec<MarketSpec> = prices
        .columns
        .iter()
        .enumerate()
        .map(|(i, &s)| MarketSpec {
            token: i as u64 + 1,
            price_wad: prices.series.bars[s][0].close,
            seed_azusd: 20_000_000 * USD_ONE,
        })
        .collect();
    let n = bootstrap(&mut ls, &specs, 50_000_000 * USD_ONE).map_err(|e| e.to_string())?;
    crate::say!(
        "  markets    {} listed now ({} in all): {}",
        n,
        specs.len(),
        SYMBOLS.join(", ")
    );
    Ok(())
}

/// The keepers: `azex keeper` processes when the binary is given, else threads.
fn start_keepers(
    o: &DevnetOptions,
    keys_dir: &Path,
    url: &str,
    stop: &Arc<AtomicBool>,
) -> Result<(Vec<JoinHandle<()>>, Vec<Child>), String> {
    let mut threads = Vec::new();
    let mut children: Vec<Child> = Vec::new();
    for i in 1..=o.keepers {
        let kf = keys_dir.join(format!("keeper-{i}.key"));
        match &o.keeper_exe {
            Some(exe) => {
                let c = Command::new(exe)
                    .args(["keeper", "--node", url, "--key"])
                    .arg(&kf)
                    .spawn()
                    .map_err(|e| format!("starting keeper {i}: {e}"))?;
                crate::say!("  keeper {i}   pid {} ({})", c.id(), kf.display());
                children.push(c);
            }
            None => {
                let (stop, url) = (stop.clone(), url.to_string());
                threads.push(std::thread::spawn(move || {
                    let ko = KeeperOptions {
                        node: url,
                        key: kf,
                        until_height: None,
                        quiet: true,
                    };
                    if let Err(e) = run_keeper(&ko, &stop) {
                        crate::warn_line!("keeper {i}: {e}");
                    }
                }));
            }
        }
    }
    Ok((threads, children))
}

/// Until the node stops (Ctrl-C / SIGTERM or a fault) or `run_for` has passed.
fn wait_for_stop(node: &NodeHandle, run_for: Option<Duration>) {
    let t0 = std::time::Instant::now();
    while !node.shared.stop.load(Ordering::SeqCst) {
        if let Some(d) = run_for {
            if t0.elapsed() >= d {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The market maker backs the vault: mints azUSD and deposits it, then waits.
fn market_maker(k: Key, c: Client, stop: &AtomicBool) {
    let Ok(mut s) = Sender::connect(c, k) else {
        return;
    };
    let me = s.address();
    let _ = s.send(
        Tx::MintAzusd {
            user: me,
            usdc: 100_000_000 * USD_ONE,
        },
        true,
    );
    let _ = s.send(
        Tx::LpDeposit {
            user: me,
            amount: 50_000_000 * USD_ONE,
        },
        true,
    );
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The arbitrageur drives each market's pool along the price data, one bar every `bar_ms`.
fn arbitrageur(k: Key, c: Client, prices: &Prices, bar_ms: u64, stop: &AtomicBool) {
    let Ok(mut s) = Sender::connect(c.clone(), k) else {
        return;
    };
    let me = s.address();
    let mut t = 0usize;
    while !stop.load(Ordering::Relaxed) {
        t = (t + 1) % prices.series.len();
        for (m, &si) in (0..=u32::MAX).zip(&prices.columns) {
            let target = prices.series.bars[si][t].close;
            let _ = arbitrage(&mut s, &c, me, m, target);
        }
        sleep_while(stop, Duration::from_millis(bar_ms));
    }
}

fn sleep_while(stop: &AtomicBool, d: Duration) {
    let t0 = std::time::Instant::now();
    while t0.elapsed() < d && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20).min(d));
    }
}

/// Swap market `m`'s pool toward `target` (WAD), bounded by the price limit.
fn arbitrage(
    s: &mut Sender,
    c: &Client,
    me: alloy_primitives::Address,
    m: u32,
    target: u128,
) -> Result<(), String> {
    let v: Value = c
        .get(&format!("/v1/markets/{m}"))
        .map_err(|e| e.to_string())?;
    let mk = &v["market"];
    let pool: u128 = mk["prices"]["pool"]
        .as_str()
        .map(|x| x.parse().unwrap_or(0))
        .or_else(|| mk["prices"]["pool"].as_u64().map(u128::from))
        .unwrap_or(0);
    let q0 = mk["quote_is_token0"].as_bool().unwrap_or(true);
    if pool == 0 || target == 0 {
        return Ok(());
    }
    // Within 0.1%: nothing to do.
    let diff = pool.abs_diff(target);
    if diff.saturating_mul(1000) < pool {
        return Ok(());
    }
    let sqrt =
        azex_exchange::spot_link::sqrt_from_price(target, q0, 18).map_err(|e| e.to_string())?;
    let sell_base = target < pool;
    // Exact input, large enough to reach the limit.
    let amount = i128::try_from(if sell_base {
        1_000_000 * QTY_ONE
    } else {
        100_000_000 * USD_ONE
    })
    .map_err(|e| e.to_string())?;
    let amount = -amount;
    if !sell_base {
        let _ = s.send(
            Tx::MintAzusd {
                user: me,
                usdc: 100_000_000 * USD_ONE,
            },
            false,
        );
    }
    s.send(
        Tx::SpotSwap {
            user: me,
            market: m,
            base_for_quote: sell_base,
            amount_specified: amount,
            sqrt_price_limit_x96: Some(sqrt),
        },
        false,
    )
    .map_err(|e| e.to_string())?;
    Ok(())
}

fn trader(i: u64, k: Key, c: Client, stop: &AtomicBool) {
    let Ok(mut s) = Sender::connect(c.clone(), k) else {
        return;
    };
    let me = s.address();
    let mut rng = rand::rngs::StdRng::seed_from_u64(i);
    let _ = s.send(
        Tx::MintAzusd {
            user: me,
            usdc: 10_000_000 * USD_ONE,
        },
        true,
    );
    let mut open: Vec<(u64, bool)> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        if open.len() < 5 && rng.random_bool(0.6) {
            let m = rng.random_range(0..N_SYMBOLS);
            let Ok(v) = c.get::<Value>(&format!("/v1/markets/{m}")) else {
                continue;
            };
            let spot: u128 = v["market"]["spot_price"]
                .as_str()
                .and_then(|x| x.parse().ok())
                .unwrap_or(0);
            if spot == 0 {
                sleep_while(stop, Duration::from_millis(500));
                continue;
            }
            let usd = rng.random_range(1_000..50_000u64);
            // qty (1e18 per token) = usd × 1e18 × 1e18 / spot (WAD).
            let q = alloy_primitives::U256::from(usd)
                * alloy_primitives::U256::from(QTY_ONE)
                * alloy_primitives::U256::from(WAD)
                / alloy_primitives::U256::from(spot);
            let qty = i128::try_from(q).unwrap_or(0).max(1);
            let long = rng.random_bool(0.5);
            let lev = rng.random_range(2..10u64);
            let margin = u128::from(usd) * USD_ONE / u128::from(lev);
            if let Ok(ack) = s.send(
                Tx::OpenPosition {
                    user: me,
                    market: m,
                    qty: if long { qty } else { -qty },
                    margin,
                    price_bound: if long { u128::MAX } else { 0 },
                },
                true,
            ) {
                if let Ok(r) = c.tx(ack.hash) {
                    if let Some(id) = r["events"]
                        .as_array()
                        .and_then(|e| e.iter().find(|e| e["event"] == "position_opened"))
                        .and_then(|e| e["position"].as_u64())
                    {
                        open.push((id, long));
                    }
                }
            }
        } else if let Some((id, long)) = open.first().copied() {
            open.remove(0);
            // Closing a long sells: any price above 0; closing a short buys: any price.
            let _ = s.send(
                Tx::ClosePosition {
                    user: me,
                    position: id,
                    price_bound: if long { 0 } else { u128::MAX },
                },
                false,
            );
        }
        sleep_while(stop, Duration::from_millis(rng.random_range(200..1_500)));
    }
}
