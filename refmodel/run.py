#!/usr/bin/env python3
"""Generate scenarios, run them through the engine (`azex run FILE`) and the reference model,
compare every figure. Exit status 1 on any mismatch (the first mismatching file and line are
printed), 0 otherwise.

    python3 refmodel/run.py [--seed N] [--count N] [--engine PATH] [--jobs N] [--out DIR]
    python3 refmodel/run.py --files scenarios/*.jsonl        # check given scenario files
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from multiprocessing import Pool

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from azref.compare import Stats, load_scenario, run_scenario  # noqa: E402
from azref.gen import generate  # noqa: E402


def work(job):
    engine, path, text = job
    if text is not None:
        with open(path, "w") as f:
            f.write(text)
    st = Stats()
    try:
        out = subprocess.run([engine, "run", path], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        st.scenarios += 1
        st.mismatches.append(dict(file=path, line=0, block=0, what="engine", model="", engine="timeout", cls="engine run"))
        st.first.append(st.mismatches[-1])
        return st.to_json()
    if out.returncode != 0:
        st.scenarios += 1
        rec = dict(file=path, line=0, block=0, what="engine exit %d" % out.returncode, model="",
                   engine=out.stderr.strip()[-300:], cls="engine run")
        st.mismatches.append(rec)
        st.first.append(rec)
        return st.to_json()
    try:
        run_scenario(path, load_scenario(path), out.stdout, st)
    except Exception as e:  # a model crash is a failure too, never silent
        import traceback
        rec = dict(file=path, line=0, block=0, what="model crash", model=traceback.format_exc()[-800:],
                   engine="", cls="model crash")
        st.mismatches.append(rec)
        st.first.append(rec)
        st.scenarios += 1
    return st.to_json()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--count", type=int, default=1000)
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(HERE, "..", "target")
    ap.add_argument("--engine", default=os.path.join(target, "release", "azex"))
    ap.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--files", nargs="*", help="check these scenario files instead of generated ones")
    ap.add_argument("--report", help="write the full result (every mismatch) as JSON here")
    ap.add_argument("--show", type=int, default=12, help="mismatches to print")
    ap.add_argument("--coverage", action="store_true", help="print what the scenarios reached")
    args = ap.parse_args()

    t0 = time.time()
    if args.files:
        jobs = [(args.engine, f, None) for f in args.files]
    else:
        d = os.path.join(args.out, "seed-%d" % args.seed)
        os.makedirs(d, exist_ok=True)
        jobs = [(args.engine, os.path.join(d, "s%05d.jsonl" % i),
                 generate(int(hashlib.sha256(b"%d/%d" % (args.seed, i)).hexdigest()[:15], 16)))
                for i in range(args.count)]
    st = Stats()
    with Pool(args.jobs) as pool:
        for r in pool.imap(work, jobs, chunksize=4):
            st.merge(Stats.from_json(r))
    dt = time.time() - t0

    figures = st.exact + st.power
    print("reference model vs %s" % os.path.relpath(args.engine))
    print("  scenarios: %d (%s)  in %.0f s" % (st.scenarios, "files" if args.files else "seed %d" % args.seed, dt))
    print("  figures compared: %d (%d exact integers, %d through a power, checked against their"
          " enclosure bound); %d trades" % (figures, st.exact, st.power, st.trades))
    print("  fields the engine does not publish (skipped): %d" % st.absent)
    oos = Counter(r[2] for r in st.out_of_scope)
    if oos:
        print("  scenarios stopped out of the model's scope: %d (%s)" % (
            len(st.out_of_scope), "; ".join("%s: %d" % kv for kv in oos.most_common())))
    if st.straddles:
        print("  decisions whose interval straddled the threshold (followed the engine): %d" % st.straddles)
    ratio, where = st.worst
    print("  largest power-figure error / its bound: %.3f%s" % (ratio, "  (%s)" % where if where else ""))
    failing = len({m["file"] for m in st.mismatches})
    print("  mismatching figures: %d in %d scenarios" % (len(st.mismatches), failing))
    if st.mismatches:
        print("  by class (every mismatch):")
        for cls, n in Counter(m["cls"] for m in st.mismatches).most_common():
            print("    %6d  %s" % (n, cls))
        if st.rule_scenarios:
            print("  scenarios with a mismatch a rule explains: " + ", ".join(
                "%s %d" % kv for kv in sorted(st.rule_scenarios.items(), key=lambda kv: (len(kv[0]), kv[0]))))
        print("  by class (first mismatch of each scenario):")
        for cls, n in Counter(m["cls"] for m in st.first).most_common():
            print("    %6d  %s" % (n, cls))
        if st.trade_classes:
            print("  trades whose pricing only old rules reproduce (followed in lockstep): %d" % sum(st.trade_classes.values()))
            per = Counter()
            for cls, n in st.trade_classes.items():
                for rule in cls.split("+"):
                    per[rule] += n
            print("    per rule (a trade counts for every rule of its smallest explaining set): " +
                  ", ".join("%s %d" % kv for kv in sorted(per.items())))
            for cls, n in sorted(st.trade_classes.items(), key=lambda kv: -kv[1]):
                print("    %6d  %s" % (n, cls))
        print("  examples:")
        for m in st.mismatches[: args.show]:
            print("    %s:%d (block %d) %s [%s]: model %s, engine %s" % (
                m["file"], m["line"], m["block"], m["what"], m["cls"], m["model"][:160], m["engine"][:160]))
        f = st.first[0]
        print("FIRST MISMATCH: %s line %d: %s" % (f["file"], f["line"], f["what"]))
    if args.coverage:
        print("  coverage (over all scenarios):")
        for k, v in sorted(st.coverage.items()):
            print("    %7d  %s" % (v, k))
    if args.report:
        with open(args.report, "w") as fh:
            json.dump(st.to_json(), fh, indent=1, default=str)
    sys.exit(1 if st.mismatches else 0)


if __name__ == "__main__":
    main()
