//! Hostile inputs through the built `azex` binary (issue 9): every class the outside review found
//! (panics, hangs, silently accepted input) must now give a clear error naming the input, a
//! non-zero exit code, no panic — or, for a closed stdout, a quiet exit 0.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const AZEX: &str = env!("CARGO_BIN_EXE_azex");
/// A command that takes longer than this is taken to hang.
const TIMEOUT: Duration = Duration::from_secs(240);

const USER: &str = "0xaa00000000000000000000000000000000000001";
const USDC: &str = "0x00000000000000000000000000000000005dc000";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh file in this test run's temporary directory.
fn tmp(name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "bad_inputs-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn show(&self) -> String {
        format!(
            "exit {:?}\n--- stderr ---\n{}\n--- stdout (start) ---\n{}",
            self.code,
            self.stderr,
            self.stdout.chars().take(2_000).collect::<String>()
        )
    }
}

/// Where the child's stdout goes.
enum StdoutTo {
    /// Captured.
    Capture,
    /// A pipe whose reading end is closed at once (`azex … | head` after head exited).
    ClosedPipe,
    /// A file (e.g. /dev/full).
    File(std::fs::File),
}

/// Runs `azex args`, failing the test if it hangs.
fn azex_with(args: &[&str], to: StdoutTo) -> Run {
    let capture = matches!(to, StdoutTo::Capture);
    let stdout = match to {
        StdoutTo::Capture | StdoutTo::ClosedPipe => Stdio::piped(),
        StdoutTo::File(f) => Stdio::from(f),
    };
    let mut child = Command::new(AZEX)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .env("RUST_BACKTRACE", "0")
        .spawn()
        .unwrap();
    // For ClosedPipe this drops the only reading end.
    let mut out_pipe = child.stdout.take().filter(|_| capture);
    let mut err_pipe = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        String::from_utf8_lossy(&s).into_owned()
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err_pipe.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("azex {args:?} hung (killed after {TIMEOUT:?})");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

fn azex(args: &[&str]) -> Run {
    azex_with(args, StdoutTo::Capture)
}

fn no_panic(r: &Run, what: &str) {
    assert!(
        !r.stderr.contains("panicked") && r.code != Some(101),
        "{what}: panicked\n{}",
        r.show()
    );
}

/// The command fails cleanly: non-zero exit, no panic, `error: …` naming what is wrong.
fn refused(args: &[&str], needles: &[&str]) -> Run {
    let r = azex(args);
    let what = format!("azex {args:?}");
    no_panic(&r, &what);
    assert!(
        matches!(r.code, Some(c) if c != 0),
        "{what}: accepted\n{}",
        r.show()
    );
    assert!(
        r.stderr.contains("error: "),
        "{what}: no message\n{}",
        r.show()
    );
    for n in needles {
        assert!(
            r.stderr.contains(n),
            "{what}: message lacks {n:?}\n{}",
            r.show()
        );
    }
    r
}

/// `azex run` on a scenario made of `lines` fails at `FILE:LINE` with a message containing
/// every needle.
fn scenario_refused(lines: &[&str], at_line: Option<usize>, needles: &[&str]) {
    let f = tmp("s.jsonl", lines.join("\n"));
    let p = f.to_string_lossy().into_owned();
    let mut all: Vec<String> = needles.iter().map(|s| s.to_string()).collect();
    all.push(match at_line {
        Some(n) => format!("{p}:{n}: "),
        None => format!("{p}: "),
    });
    let all: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
    refused(&["run", &p], &all);
}

fn genesis(extra: &str) -> String {
    format!(
        r#"{{"genesis": {{"balances": [{{"owner": "{USER}", "token": "{USDC}", "amount": "1000000000000"}}]{extra}}}}}"#
    )
}

const B1: &str = r#"{"block": {"height": 1, "timestamp": 1700000000}}"#;

fn mint(extra: &str) -> String {
    format!(r#"{{"tx": {{"type": "mint_azusd", "user": "{USER}", "usdc": "1000000"{extra}}}}}"#)
}

#[test]
fn scenario_block_arithmetic_and_counts() {
    let g = genesis("");
    // unchecked `+` on heights and timestamps
    scenario_refused(
        &[
            &g,
            r#"{"block": {"height": 1, "timestamp": 18446744073709551615}}"#,
        ],
        Some(2),
        &["timestamp"],
    );
    scenario_refused(
        &[
            &g,
            r#"{"block": {"height": 18446744073709551615, "timestamp": 1}}"#,
            r#"{"blocks": {"count": 1, "seconds": 1}}"#,
        ],
        Some(3),
        &["would pass"],
    );
    scenario_refused(
        &[
            &g,
            B1,
            r#"{"blocks": {"count": 3, "seconds": 18446744073709551615}}"#,
        ],
        Some(3),
        &["would pass"],
    );
    scenario_refused(
        &[
            &g,
            B1,
            r#"{"block": {"height": 1, "timestamp": 1700000001}}"#,
        ],
        Some(3),
        &[],
    );
    // a count of u64::MAX used to loop for ever; 0 did nothing
    scenario_refused(
        &[
            &g,
            r#"{"blocks": {"count": 18446744073709551615, "seconds": 1}}"#,
        ],
        Some(2),
        &["blocks.count"],
    );
    scenario_refused(
        &[&g, r#"{"blocks": {"count": 0, "seconds": 1}}"#],
        Some(2),
        &["blocks.count"],
    );
}

#[test]
fn scenario_line_shapes() {
    let g = genesis("");
    let m = mint("");
    let both = format!(
        r#"{{"block": {{"height": 1, "timestamp": 1}}, "tx": {}}}"#,
        &m[6..m.len() - 1]
    );
    scenario_refused(&[&g, &both], Some(2), &["block and tx"]);
    scenario_refused(
        &[
            &g,
            B1,
            &format!(
                r#"{{"swap_to_price": {{"user": "{USER}", "market": 0, "price": "1"}}, "remove_spot_position": {{"user": "{USER}", "market": 0}}}}"#
            ),
        ],
        Some(3),
        &["on one line"],
    );
    scenario_refused(
        &[
            &g,
            r#"{"block": {"height": 1, "timestamp": 1}, "expect": "ok"}"#,
        ],
        Some(2),
        &["expect"],
    );
    scenario_refused(
        &[
            &g,
            B1,
            r#"{"blocks": {"count": 1, "seconds": 1}, "expect": "error"}"#,
        ],
        Some(3),
        &["expect"],
    );
    scenario_refused(&[&g, r#"{"expect": "ok"}"#], Some(2), &["expect"]);
    scenario_refused(&[&g, "{}"], Some(2), &["nothing to do"]);
    scenario_refused(&[&g, "  { }  "], Some(2), &["nothing to do"]);
    scenario_refused(
        &[&g, r#"[null, {"height": 1, "timestamp": 1}]"#],
        Some(2),
        &["JSON object"],
    );
    scenario_refused(&[&g, "not json"], Some(2), &[]);
    scenario_refused(&[&g, B1, &g], Some(3), &["genesis must be the first line"]);
    scenario_refused(&[&g, &m], Some(2), &["before the first block"]);
    // a failed expectation names the line
    let bad = format!(r#"{}, "expect": "error"}}"#, &m[..m.len() - 1]);
    scenario_refused(&[&g, B1, &bad], Some(3), &["expected error, got ok"]);
    // empty files and files of comments only
    scenario_refused(&[], None, &["empty scenario"]);
    scenario_refused(
        &["# nothing", "", r#"{"comment": "x"}"#],
        None,
        &["empty scenario"],
    );
    // not UTF-8, a line above the limit
    let f = tmp("bin.jsonl", b"{\"comment\": \"\xff\xfe\"}\n");
    refused(&["run", &f.to_string_lossy()], &[":1: ", "UTF-8"]);
    let mut long = genesis("").into_bytes();
    long.push(b'\n');
    long.extend(std::iter::repeat_n(b' ', 16 << 20));
    long.extend(b"{}\n");
    let f = tmp("long.jsonl", long);
    refused(&["run", &f.to_string_lossy()], &[":2: ", "longer than"]);
    refused(&["run", "/nonexistent/scenario.jsonl"], &["/nonexistent"]);
    let dir = workspace().join("scenarios");
    refused(&["run", &dir.to_string_lossy()], &["directory"]);
}

#[test]
fn scenario_unknown_fields_at_every_level() {
    let g = genesis("");
    let cases: Vec<(Vec<String>, usize, &str)> = vec![
        (vec![r#"{"genesis": {}, "comment": "x", "blok": 1}"#.into()], 1, "blok"),
        (vec![genesis(r#", "paramz": {}"#)], 1, "paramz"),
        (
            vec![r#"{"genesis": {"params": {"lp_lockup_sec": 5}}}"#.into()],
            1,
            "lp_lockup_sec",
        ),
        (
            vec![r#"{"genesis": {"params": {"min_listing_depth": "50000000000", "oi_cap_depth_multiple": "20", "lp_fee_share_wad": "700000000000000000", "lp_yield_share_wad": "800000000000000000", "liquid_buffer_wad": "200000000000000000", "max_vault_utilisation_wad": "900000000000000000", "lp_lockup_secs": 3600, "max_abs_tick_move": 50, "risk_twap_window_secs": 60, "max_drawdown_wad": "200000000000000000", "market_defaults": {"alpha": "1"}}}}"#.into()],
            1,
            "alpha",
        ),
        (
            vec![format!(
                r#"{{"genesis": {{"balances": [{{"owner": "{USER}", "token": "{USDC}", "amount": "1", "amout": "2"}}]}}}}"#
            )],
            1,
            "amout",
        ),
        (
            vec![genesis(
                r#", "strategies": [{"name": "a", "rate_per_year_wad": "1", "capacity": "1", "withdrawal_delay_secs": 0, "target_share_wad": "1", "rate": "5"}]"#,
            )],
            1,
            "rate",
        ),
        (
            vec![g.clone(), r#"{"block": {"height": 1, "timestamp": 1, "heigth": 2}}"#.into()],
            2,
            "heigth",
        ),
        (
            vec![
                g.clone(),
                B1.into(),
                r#"{"blocks": {"count": 1, "seconds": 1, "secs": 2}}"#.into(),
            ],
            3,
            "secs",
        ),
        (vec![g.clone(), B1.into(), mint(r#", "usd": "5""#)], 3, "usd"),
        (
            vec![
                g.clone(),
                B1.into(),
                format!(
                    r#"{{"swap_to_price": {{"user": "{USER}", "market": 0, "price": "1", "limit": 2}}}}"#
                ),
            ],
            3,
            "limit",
        ),
    ];
    for (lines, at, needle) in cases {
        let lines: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        scenario_refused(&lines, Some(at), &[needle]);
    }
}

#[test]
fn genesis_bounds() {
    // a strategy yield of 1e24 WAD a year and an LP lock-up of u64::MAX were accepted
    scenario_refused(
        &[&genesis(
            r#", "strategies": [{"name": "a", "rate_per_year_wad": "1000000000000000000000000", "capacity": "1", "withdrawal_delay_secs": 0, "target_share_wad": "1"}]"#,
        )],
        Some(1),
        &["rate_per_year"],
    );
    scenario_refused(
        &[&genesis(
            r#", "strategies": [{"name": "a", "rate_per_year_wad": "1", "capacity": "1", "withdrawal_delay_secs": 18446744073709551615, "target_share_wad": "1"}]"#,
        )],
        Some(1),
        &["withdrawal_delay"],
    );
    scenario_refused(
        &[
            r#"{"genesis": {"params": {"min_listing_depth": "50000000000", "oi_cap_depth_multiple": "20", "lp_fee_share_wad": "700000000000000000", "lp_yield_share_wad": "800000000000000000", "liquid_buffer_wad": "200000000000000000", "max_vault_utilisation_wad": "900000000000000000", "lp_lockup_secs": 18446744073709551615, "max_abs_tick_move": 50, "risk_twap_window_secs": 60, "max_drawdown_wad": "200000000000000000"}}}"#,
        ],
        Some(1),
        &["lp_lockup_secs"],
    );
}

/// A scenario with a lot of output: one market's worth of events per block.
fn chatty_scenario() -> PathBuf {
    let mut text = std::fs::read_to_string(workspace().join("scenarios/balanced.jsonl")).unwrap();
    text.push_str("{\"blocks\": {\"count\": 3000, \"seconds\": 2}}\n");
    tmp("chatty.jsonl", text)
}

fn price_csv(bars: usize) -> PathBuf {
    let mut s = String::from("timestamp,symbol,open,high,low,close\n");
    for i in 0..bars {
        let t = 1_500_000_000 + i * 1800;
        let p = 100.0 + (i % 7) as f64;
        s.push_str(&format!(
            "{t},AAA,{p},{},{},{}\n",
            p + 2.0,
            p - 2.0,
            p + 1.0
        ));
        s.push_str(&format!(
            "{t},BBB,{p},{},{},{}\n",
            p + 1.0,
            p - 1.0,
            p - 0.5
        ));
    }
    tmp("prices.csv", s)
}

#[test]
fn closed_or_full_stdout() {
    let chatty = chatty_scenario();
    let vectors =
        workspace().join("crates/azex-spot/tests/vectors/uniswap-v4-core-1.0.2_pool_seed1.jsonl");
    let prices = price_csv(60);
    let out_dir = prices.parent().unwrap().join("out");
    let cmds: Vec<Vec<String>> = vec![
        vec!["run".into(), chatty.to_string_lossy().into()],
        vec!["demo".into()],
        vec![
            "spot".into(),
            "replay-vectors".into(),
            vectors.to_string_lossy().into(),
        ],
        vec![
            "sim".into(),
            "--prices".into(),
            prices.to_string_lossy().into(),
            "--scenario".into(),
            "balanced-high".into(),
            "--agents".into(),
            "20".into(),
            "--no-charts".into(),
            "--quiet".into(),
            "--json".into(),
            "--out".into(),
            out_dir.to_string_lossy().into(),
        ],
        vec!["--help".into()],
    ];
    for args in &cmds {
        let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        // `azex … | head`: the reader is gone before azex writes; exit 0, nothing on stderr
        let r = azex_with(&args, StdoutTo::ClosedPipe);
        no_panic(&r, &format!("azex {args:?} | (closed)"));
        assert_eq!(r.code, Some(0), "azex {args:?} | (closed)\n{}", r.show());
        assert!(
            !r.stderr.contains("error"),
            "azex {args:?} | (closed): {}",
            r.show()
        );
        // `azex … > /dev/full`: a clear error and a non-zero exit
        if Path::new("/dev/full").exists() && args != ["--help"] {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap();
            let r = azex_with(&args, StdoutTo::File(full));
            no_panic(&r, &format!("azex {args:?} > /dev/full"));
            assert!(
                matches!(r.code, Some(c) if c != 0),
                "azex {args:?} > /dev/full\n{}",
                r.show()
            );
            assert!(
                r.stderr.contains("writing to standard output"),
                "azex {args:?} > /dev/full\n{}",
                r.show()
            );
        }
    }
}

#[test]
fn sim_inputs() {
    let prices = price_csv(40);
    let p = prices.to_string_lossy().into_owned();
    let dir = prices.parent().unwrap().to_path_buf();
    let out = dir.join("out");
    let o = out.to_string_lossy().into_owned();
    let sim = |extra: &[&str], needles: &[&str]| {
        let mut args = vec![
            "sim",
            "--prices",
            &p,
            "--agents",
            "10",
            "--no-charts",
            "--quiet",
            "--out",
            &o,
        ];
        args.extend_from_slice(extra);
        if !extra.contains(&"--scenario") {
            args.extend_from_slice(&["--scenario", "balanced-high"]);
        }
        refused(&args, needles);
    };
    // prices at or below ~5e-12 panicked in the unit conversion
    let tiny = tmp(
        "tiny.csv",
        "timestamp,symbol,close\n1500000000,T,0.000000000005\n1500001800,T,0.000000000004\n",
    );
    refused(
        &[
            "sim",
            "--prices",
            &tiny.to_string_lossy(),
            "--quiet",
            "--no-charts",
            "--out",
            &o,
        ],
        &["tiny.csv", "line 2", "price outside"],
    );
    for (csv, needle) in [
        ("timestamp,symbol\n1,A\n", "close"),
        ("timestamp,symbol,close\nx,A,1\n", "timestamp"),
        (
            "timestamp,symbol,close\n99999999999999999999,A,1\n",
            "timestamp",
        ),
        ("timestamp,symbol,close\n1500000000,A,1e40\n", "too large"),
        ("timestamp,symbol,close\n1500000000,A,-1\n", "negative"),
        ("timestamp,symbol,close\n", "no data"),
    ] {
        let f = tmp("p.csv", csv);
        refused(
            &[
                "sim",
                "--prices",
                &f.to_string_lossy(),
                "--quiet",
                "--no-charts",
                "--out",
                &o,
            ],
            &[needle],
        );
    }
    // unbounded --substeps / --agents aborted on allocation
    sim(&["--substeps", "4294967295"], &["substeps"]);
    sim(&["--substeps", "0"], &["substeps"]);
    sim(&["--agents", "4294967295"], &["agents"]);
    // u32 overflow on agent leverage
    let lev = tmp(
        "lev.json",
        r#"{"name": "lev", "population": {"leverage": [4294967295, 4294967295]}}"#,
    );
    sim(&["--scenario", &lev.to_string_lossy()], &["leverage"]);
    // misspelled fields
    let typo = tmp("typo.json", r#"{"name": "typo", "populaton": {}}"#);
    sim(&["--scenario", &typo.to_string_lossy()], &["populaton"]);
    let typo = tmp(
        "typo2.json",
        r#"{"name": "typo", "population": {"levrage": [1, 2]}}"#,
    );
    sim(&["--scenario", &typo.to_string_lossy()], &["levrage"]);
    let eng = tmp("eng.json", r#"{"max_drawdown": 9000}"#);
    sim(
        &["--engine-config", &eng.to_string_lossy()],
        &["max_drawdown"],
    );
    let eng = tmp("eng2.json", r#"{"mint_chunk_usd": 0}"#);
    sim(
        &["--engine-config", &eng.to_string_lossy()],
        &["mint_chunk_usd"],
    );
    // a scenario named `../x` wrote outside --out
    for name in ["../x", "/tmp/x", "a/b", ".hidden", ""] {
        let f = tmp(
            "name.json",
            format!(r#"{{"name": {}}}"#, serde_json_string(name)),
        );
        sim(&["--scenario", &f.to_string_lossy()], &["plain file name"]);
    }
    assert!(!dir.join("x.json").exists(), "wrote outside --out");
    sim(
        &["--scenario", "balanced-high", "--scenario", "balanced-high"],
        &["twice"],
    );
    sim(&["--scenario", "no-such-preset"], &["unknown scenario"]);
}

fn serde_json_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn spot_replay_inputs() {
    let v = |text: &str, needles: &[&str]| {
        let f = tmp("v.jsonl", text);
        refused(&["spot", "replay-vectors", &f.to_string_lossy()], needles);
    };
    // "0 mismatches" for an empty file or steps with nothing to compare
    v("", &["no steps compared"]);
    v("\n\n", &["no steps compared"]);
    v(
        r#"{"seed": 1, "scenario": 1, "steps": []}"#,
        &["no steps compared"],
    );
    v(
        r#"{"steps": [{"op": {"op": "init", "fee": 500, "tickSpacing": 10, "sqrtPriceX96": "79228162514264337593543950336"}}]}"#,
        &[":1: ", "nothing to compare"],
    );
    // fee and tick wrapped with `as`
    v(
        r#"{"steps": [{"op": {"op": "init", "fee": 4294967796, "tickSpacing": 10, "sqrtPriceX96": "79228162514264337593543950336"}, "result": {"tick": 0}}]}"#,
        &["fee 4294967796 out of range"],
    );
    v(
        r#"{"steps": [{"op": {"op": "init", "fee": 500, "tickSpacing": 10, "sqrtPriceX96": "79228162514264337593543950336"}, "result": {"tick": 4294967296}}]}"#,
        &["result.tick"],
    );
    v("{not json", &[":1: "]);
    v(r#"{"steps": {}}"#, &["steps is not an array"]);
    // replay-chain: a header-only log, an unknown STATE.json field
    let header = "timestamp_utc,block,log_index,action,amount0,amount1,sqrt_price_x96_after,tick_lower,tick_upper,liquidity,owner\n";
    let state = r#"{"fee": 3000, "tick_spacing": 60, "sqrt_price_x96": "79228162514264337593543950336", "tick": 0, "liquidity_by_range": {}}"#;
    let s = tmp("STATE.json", state);
    let e = tmp("EVENTS.csv", header);
    let s = s.to_string_lossy().into_owned();
    let e = e.to_string_lossy().into_owned();
    refused(
        &["spot", "replay-chain", "--state", &s, "--events", &e],
        &["EVENTS.csv", "no event rows"],
    );
    let bad_state = tmp("STATE2.json", state.replace("\"tick\"", "\"tik\""));
    refused(
        &[
            "spot",
            "replay-chain",
            "--state",
            &bad_state.to_string_lossy(),
            "--events",
            &e,
        ],
        &["STATE2.json", "tik"],
    );
    let empty = tmp("EMPTY.csv", "");
    refused(
        &[
            "spot",
            "replay-chain",
            "--state",
            &s,
            "--events",
            &empty.to_string_lossy(),
        ],
        &["EMPTY.csv"],
    );
}

/// Peak resident memory (kB) of a running child, polled from /proc until it exits.
fn peak_rss_kb(args: &[&str]) -> Option<u64> {
    let mut child = Command::new(AZEX)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    let start = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(&status) {
            if let Some(v) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                peak = Some(v);
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "azex {args:?} failed");
            return peak;
        }
        assert!(start.elapsed() < TIMEOUT, "azex {args:?} hung");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `azex run` streams: a file ten times longer (and ten times the output) needs about the same
/// memory. (The whole-file implementation held every line and every event: 365 MB for 1M lines.)
#[test]
fn run_memory_does_not_grow_with_the_file() {
    if !Path::new("/proc/self/status").exists() {
        return;
    }
    let make = |blocks: usize| {
        let mut s = genesis("");
        s.push('\n');
        for h in 1..=blocks {
            s.push_str(&format!(
                "{{\"block\": {{\"height\": {h}, \"timestamp\": {}}}}}\n",
                1_700_000_000 + 2 * h
            ));
            if h % 10 == 0 {
                s.push_str(&mint(""));
                s.push('\n');
            }
        }
        tmp("mem.jsonl", s)
    };
    let small = make(10_000);
    let large = make(100_000);
    let a = peak_rss_kb(&["run", &small.to_string_lossy()]);
    let b = peak_rss_kb(&["run", &large.to_string_lossy()]);
    eprintln!("peak RSS: {a:?} kB (11k lines), {b:?} kB (110k lines)");
    let (Some(a), Some(b)) = (a, b) else { return };
    // 110k lines and ~210k events more must not cost more than a few MB
    assert!(
        b < a + 8 * 1024,
        "peak RSS {a} kB for 11k lines, {b} kB for 110k lines: memory grows with the file"
    );
}
