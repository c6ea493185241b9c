#!/usr/bin/env python3
"""Markdown tables of a capital study (`azex sim --study ...` writes <out>/study.json).

    python3 crates/azex-sim/tools/study_tables.py out/sim-full/study.json

Prints, per block length, capital per $100M of the demand's peak OI at the study's criterion
for every design and scenario ("*": bad debt on some path at every capital, so the figure is
the drawdown-and-service-only capital; "none": no capital up to the reference is safe), then
per design the formula figure, drawdowns, bad debt and the per-path distribution.
"""
import json
import sys


def m(v):
    return "none" if v is None else f"${v / 1e6:.1f}M"


def cell(d):
    if d["solvent_capital_per_100m_peak_oi"] is not None:
        return m(d["solvent_capital_per_100m_peak_oi"])
    if d["capital_drawdown_only_per_100m_peak_oi"] is not None:
        return m(d["capital_drawdown_only_per_100m_peak_oi"]) + "*"
    return "none"


def key(s):
    c = s.get("chain") or {}
    return (s["block_seconds"], 1 if c.get("control_substeps") else 0)


def label(s):
    return f"{s['block_seconds']} s" + (" (windows)" if key(s)[1] else "")


def main(path):
    r = json.load(open(path))
    names = [d["design"] for d in r["scenarios"][0]["designs"]]
    blocks = sorted({key(s) for s in r["scenarios"]}, key=lambda k: (-k[0], k[1]))
    for b, ctl in blocks:
        rows = [s for s in r["scenarios"] if key(s) == (b, ctl)]
        c = rows[0].get("chain")
        if ctl:
            print(f"\n**{b}-second blocks: control — the chain-resolution windows at coarse blocks** "
                  f"({rows[0]['paths']} windows per scenario, {rows[0]['bars_per_path']} bars, no chain mode; "
                  f"worst bars {', '.join(c['stress_bars'])})\n")
        elif c:
            print(f"\n**{b}-second blocks: chain-resolution stress** ({rows[0]['paths']} windows per scenario, "
                  f"{c['window_bars']} bars at {b}-s blocks after {rows[0]['bars_per_path'] - c['window_bars']} bars of "
                  f"{c['warmup_block_seconds']}-s warm-up blocks; keeper latency {c['keeper_latency_blocks']} blocks, "
                  f"{c['keeper_txs_per_block']} keeper txs per block, adversarial ordering "
                  f"{'on' if c['adversarial_ordering'] else 'off'}; worst bars {', '.join(c['stress_bars'])})\n")
        else:
            print(f"\n**{b}-second blocks** ({rows[0]['paths']} paths x {rows[0]['bars_per_path']} bars each)\n")
        print("| scenario | imbalance (median / worst) | " + " | ".join(names) + " |")
        print("|---|---|" + "---|" * len(names))
        for s in rows:
            i = s["imbalance_bps"]
            print(f"| {s['scenario']} | {i['median'] / 100:.1f} % / {i['worst'] / 100:.1f} % | "
                  + " | ".join(cell(d) for d in s["designs"]) + " |")
    print("\nPer design (worst path unless stated):\n")
    print("| scenario | block | design | per $100M peak OI: median / p95 / worst path | per $100M avg OI (worst) | formula per $100M peak / avg | max DD | DD p99 | bad debt | paths with bad debt |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s in r["scenarios"]:
        for d in s["designs"]:
            p = d["per_path_per_100m_peak_oi"]
            a = d["per_path_per_100m_avg_oi"]
            print(f"| {s['scenario']} | {label(s)} | {d['design']} | "
                  f"{m(p['median'])} / {m(p['p95'])} / {m(p['worst'])} | {m(a['worst'])} | "
                  f"{m(d['formula_per_100m_peak_oi'])} / {m(d['formula_per_100m_avg_oi'])} | "
                  f"{d['lp_max_drawdown_bps'] / 100:.1f} % | {d['lp_drawdown_p99_bps'] / 100:.1f} % | "
                  f"${d['bad_debt_usd'] / 1e6:,.0f} | {d['paths_with_bad_debt']}/{s['paths']} |")
    print("\nAdversaries (reference runs, sum over paths / best path for the attacker):\n")
    print("| scenario | block | adversary | PnL, all paths | best path |")
    print("|---|---|---|---|---|")
    for s in r["scenarios"]:
        for k, v in s["attacker_pnl_usd"].items():
            best = s["attacker_best_path_pnl_usd"][k]
            print(f"| {s['scenario']} | {label(s)} | {k} | ${v / 1e6:,.0f} | ${best / 1e6:,.0f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/sim/study.json")
