//! The bounded adversary search, and the properties that make its verdicts trustworthy.
//!
//! `AZEX_ADVERSARY_ITERS=N` runs the bounded search longer (default: [`DEFAULT_ITERS`], about a
//! minute on two cores in the test profile); `AZEX_ADVERSARY_SEED=S` changes its seed.

use azex_adversary::search::{search, SearchConfig};
use azex_adversary::{run, scenario, Action, Base};
use rand::SeedableRng;

/// Iterations of the bounded search in CI.
const DEFAULT_ITERS: u64 = 24_000;
const DEFAULT_SEED: u64 = 20_261_203;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The search proper: no sequence the bounded search finds may break an invariant. On failure
/// the best sequence of every violation class is written as a scenario file (paths printed).
#[test]
fn bounded_search_finds_no_violation() {
    let cfg = SearchConfig {
        seed: env_u64("AZEX_ADVERSARY_SEED", DEFAULT_SEED),
        iterations: env_u64("AZEX_ADVERSARY_ITERS", DEFAULT_ITERS),
        ..SearchConfig::default()
    };
    println!(
        "adversary search: seed {} · {} iterations",
        cfg.seed, cfg.iterations
    );
    let base = Base::standard(false).expect("world");
    let t = std::time::Instant::now();
    let report = search(&base, &cfg);
    println!("{}in {:.1} s", report.summary(), t.elapsed().as_secs_f64());
    if !report.findings.is_empty() {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("adversary");
        std::fs::create_dir_all(&dir).expect("dir");
        for f in &report.findings {
            let p = dir.join(format!("{}-seed{}.jsonl", f.kind, report.seed));
            let text = azex_adversary::finding_to_jsonl(f, report.seed, "see git rev-parse HEAD")
                .expect("re-run");
            std::fs::write(&p, text).expect("write");
            println!("counterexample: {}", p.display());
        }
    }
    assert!(
        report.findings.is_empty(),
        "the search found violations:\n{}",
        report.summary()
    );
}

/// Same seed, same search: the report (classes, sequences, scores) is identical.
#[test]
fn search_is_deterministic() {
    let base = Base::standard(false).expect("world");
    let cfg = SearchConfig {
        seed: 7,
        iterations: 150,
        minimize_runs: 20,
        ..SearchConfig::default()
    };
    let a = search(&base, &cfg);
    let b = search(&base, &cfg);
    assert_eq!(a.summary(), b.summary());
    let genomes = |r: &azex_adversary::SearchReport| {
        r.findings
            .iter()
            .chain(r.best_clean.iter())
            .map(|f| serde_json::to_string(&f.genome).expect("json"))
            .collect::<Vec<_>>()
    };
    assert_eq!(genomes(&a), genomes(&b));
}

/// A coalition that does nothing (beyond listing B at set-up) ends with at most what it started
/// with, the vault is untouched, and every probe passes: the checks do not fire on their own.
#[test]
fn an_idle_coalition_breaks_nothing() {
    let base = Base::standard(false).expect("world");
    let (o, _) = run(&base, &[], false);
    assert!(o.violations.is_empty(), "{:?}", o.violations);
    assert!(o.coalition_gain <= 0, "gain {}", o.coalition_gain);
    assert_eq!(o.vault_loss, 0);
    assert_eq!(o.arbitrageur_gain, 0);
}

/// An honest round trip (open, wait, close) costs the coalition money.
#[test]
fn an_honest_round_trip_loses() {
    let base = Base::standard(false).expect("world");
    let g = vec![
        Action::Open {
            who: 0,
            market: 0,
            long: true,
            usd: 50_000,
            lev: 5,
        },
        Action::Block { secs: 600 },
        Action::Close { who: 0, slot: 0 },
    ];
    let (o, _) = run(&base, &g, false);
    assert!(o.violations.is_empty(), "{:?}", o.violations);
    assert!(o.coalition_gain < 0, "gain {}", o.coalition_gain);
    assert_eq!(o.coalition_txs, 2);
}

/// A run written as a scenario file replays to the same verdict with this crate's checks, and
/// runs in the scenario runner `azex run` uses.
#[test]
fn scenario_files_replay_to_the_same_verdict() {
    let base = Base::standard(true).expect("world");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for _ in 0..4 {
        let g: Vec<Action> = (0..25).map(|_| Action::random(&mut rng)).collect();
        let (o, transcript) = run(&base, &g, true);
        let text = scenario::to_jsonl(&transcript, &["test".into()], &g);
        assert_eq!(scenario::genome_of(&text).as_ref(), Some(&g));
        let r = scenario::replay(&text).expect("replay");
        assert_eq!(r.coalition_gain, o.coalition_gain);
        assert_eq!(r.vault_loss, o.vault_loss);
        assert_eq!(r.kinds(), o.kinds());
        assert_eq!(r.share_price_min, o.share_price_min);
        assert_eq!(r.coalition_txs, o.coalition_txs);
        azex_exchange::scenario::run(&text).expect("azex run replays it");
    }
}
