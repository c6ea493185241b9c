#!/usr/bin/env python3
"""Print the tables of docs/results.md from the JSON files `azex sim` writes.

    python3 crates/azex-sim/tools/results_tables.py out/sim            # per scenario and model
    python3 crates/azex-sim/tools/results_tables.py --capital out/sim out/sim-sweep ...
    python3 crates/azex-sim/tools/results_tables.py --adversaries out/sim out/sim-dd90 ...

Money is printed as in results.md ($12,307, $2.25M, −$3.23M); "–" marks a scenario the
directory does not contain. Rows of --capital and --adversaries are reformatted by hand into
results.md's columns (the "Trading" column of the capital table is not in the JSON: it follows
from whether the run hit the drawdown cap).

Nothing is computed here that the simulator did not write: the script only formats.
"""
import glob
import json
import os
import sys

ORDER = ["balanced-high", "balanced-moderate", "one-sided", "crash-replay",
         "attack-self-liquidation", "attack-spot-manipulation", "attack-stop-hunt"]
MODEL = {"azex": "AZEx", "classic": "classic", "reserve_factor": "reserve factor"}


def usd(units, digits_m=2):
    x = units / 1e6
    sign = "\u2212" if x < 0 else ""  # results.md writes losses as −$2.30M
    x = abs(x)
    if x >= 1e6:
        return f"{sign}${x / 1e6:,.{digits_m}f}M"
    return f"{sign}${x:,.0f}"


def pct(bps):
    return f"{bps / 100:.2f}%"


def load(d):
    out = {}
    for f in glob.glob(os.path.join(d, "*.json")):
        j = json.load(open(f))
        if "scenario" in j:
            out[j["scenario"]] = j
    return out


def crash(m, label):
    for c in m.get("crash_drawdowns", []):
        if c["label"] == label:
            return pct(c["drawdown_bps"])
    return "–"


def per_model(d):
    runs = load(d)
    names = [n for n in ORDER if n in runs] + sorted(n for n in runs if n not in ORDER)
    print("| Scenario | Model | Capital/OI avg | Capital/OI peak | Max drawdown | DD Jan–Feb 2018 "
          "| DD Nov 2018 | Deficits | Bad debt (LPs) | ADL volume | Liquidations | Fees to LPs "
          "| Funding to LPs | LP return |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in names:
        for i, m in enumerate(runs[n]["models"]):
            print("| " + " | ".join([
                n if i == 0 else "", MODEL.get(m["model"], m["model"]),
                f"{m['capital_per_oi_avg']:.3f}", f"{m['capital_per_oi_peak']:.3f}",
                pct(m["max_drawdown_bps"]), crash(m, "Jan-Feb 2018"), crash(m, "Nov 2018"),
                usd(m["deficits_usd"]), usd(m["bad_debt_usd"]), usd(m["adl_volume_usd"]),
                f"{m['liquidations']:,}", usd(m["fees_to_lp_usd"]), usd(m["funding_to_lp_usd"]),
                pct(m["lp_return_bps"])]) + " |")


def capital(dirs):
    print("| Scenario | Mean imbalance | AZEx per $100M (avg) | (peak) | Bare net per $100M "
          "| AZEx max drawdown | AZEx bad debt |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for d in dirs:
        for n, j in sorted(load(d).items()):
            h, a = j["headline"], j["models"][0]
            print(f"| {n} ({d}) | {h['imbalance_bps'] / 100:.2f} % | ${h['azex_per_classic_avg'] * 100:.1f}M "
                  f"| ${h['azex_per_classic_peak'] * 100:.1f}M | ${h['net_per_classic_avg'] * 100:.1f}M "
                  f"| {pct(a['max_drawdown_bps'])} | {usd(a['bad_debt_usd'])} |")


def adversaries(dirs):
    print("| Run | Self-liquidators | Spot manipulators | Stop hunters |")
    print("|---|---:|---:|---:|")
    kinds = [("attack-self-liquidation", "self_liquidator"),
             ("attack-spot-manipulation", "spot_manipulator"),
             ("attack-stop-hunt", "stop_hunter")]
    for d in dirs:
        runs = load(d)
        cells = []
        for scen, kind in kinds:
            j = runs.get(scen)
            a = [x for x in (j or {}).get("agents", []) if x["kind"] == kind]
            cells.append(usd(a[0]["pnl_usd"]) if a else "–")
        print(f"| {d} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--capital":
        capital(args[1:])
    elif args and args[0] == "--adversaries":
        adversaries(args[1:])
    else:
        for d in args or ["out/sim"]:
            per_model(d)
