"""Run one scenario through the model alongside the engine's output and compare every figure.

Inputs the model takes from the engine's output: only the oracle's outputs (`prices_updated`:
spot, risk, pool, spot_liquidity; `market_created`: price, spot_liquidity, seed amounts) and,
for a figure that goes through a power, the engine's value when it lies inside the figure's
interval (model.Ctx.resolve). Everything else is the model's own.
"""
import json
from itertools import combinations

from .iv import Iv, W
from .model import Ctx, Model, OutOfScope, Reject, mulW_dn

IGNORED = {"spot_swapped", "spot_liquidity_changed", "swapped_into_azusd", "fees_distributed"}
TRADE_EVENTS = {"position_opened", "position_modified", "position_closed"}
# Fields that are the oracle's / pool's outputs (inputs of the model, not compared).
INPUT_FIELDS = {("prices_updated", "pool"), ("prices_updated", "oracle_spot"),
                ("prices_updated", "oracle_risk"), ("prices_updated", "oracle_lag_ticks"),
                ("market_created", "price"),
                ("market_created", "spot_liquidity"), ("market_created", "seed_azusd"),
                ("market_created", "seed_base")}
SUMMARY_FIELDS = ["vault_nav", "vault_cash", "vault_shares", "share_price", "total_required",
                  "classic_required", "free_liquidity", "azusd_supply", "usdc_liquid",
                  "strategy_assets", "treasury", "insurance"]
HYPOTHESES = [  # the rules an engine might still apply the old way (issue 9)
    ("R1", "net without the trading position"),
    ("R2", "capacity from the free liquidity at the transaction"),
    ("R3", "base price = truncated spot for buys and sells"),
    ("R4", "unclamped curve"),
    ("R5", "charge and rebate not netted"),
]


def parse_engine_output(text):
    events, rest = [], []
    for line in text.splitlines():
        if not rest and line.startswith('{"line"'):
            events.append(json.loads(line))
        elif line.strip():
            rest.append(line)
    summary = json.loads("\n".join(rest)) if rest else None
    return events, summary


def lower(v):
    return v.lower() if isinstance(v, str) else v  # addresses are printed checksummed or not


class Stats:
    def __init__(self):
        self.scenarios = 0
        self.exact = 0
        self.power = 0
        self.absent = 0
        self.mismatches = []  # dicts
        self.first = []  # first mismatch of each failing scenario
        self.out_of_scope = []  # (file, line, reason)
        self.worst = (0.0, None)  # (error / bound, description)
        self.power_err_hist = {}
        self.straddles = 0
        self.trades = 0
        self.trade_classes = {}  # per mismatching trade, class of the hypotheses that explain it
        self.coverage = {}  # what the scenarios reached (engine events, refusals, trade regions)
        self.rule_scenarios = {}  # rule -> scenarios with at least one mismatch it explains

    def merge(self, o):
        self.scenarios += o.scenarios
        self.exact += o.exact
        self.power += o.power
        self.absent += o.absent
        self.mismatches += o.mismatches
        self.first += o.first
        self.out_of_scope += o.out_of_scope
        if o.worst[0] > self.worst[0]:
            self.worst = o.worst
        self.straddles += o.straddles
        self.trades += o.trades
        for k, v in o.trade_classes.items():
            self.trade_classes[k] = self.trade_classes.get(k, 0) + v
        for k, v in o.coverage.items():
            self.coverage[k] = self.coverage.get(k, 0) + v
        for k, v in o.rule_scenarios.items():
            self.rule_scenarios[k] = self.rule_scenarios.get(k, 0) + v

    def to_json(self):
        return dict(scenarios=self.scenarios, exact=self.exact, power=self.power, absent=self.absent,
                    mismatches=self.mismatches, first=self.first, out_of_scope=self.out_of_scope,
                    worst=list(self.worst), straddles=self.straddles, trades=self.trades,
                    trade_classes=self.trade_classes, coverage=self.coverage,
                    rule_scenarios=self.rule_scenarios)

    @staticmethod
    def from_json(d):
        s = Stats()
        for k, v in d.items():
            setattr(s, k, tuple(v) if k == "worst" else v)
        return s


class Checker:
    def __init__(self, fname, stats):
        self.fname = fname
        self.st = stats
        self.failed = False
        self.trade_diag = {}
        self.rules = set()

    def mismatch(self, line, block, what, model, engine, cls):
        for rule in cls.replace(" ", "+").split("+"):
            if len(rule) >= 2 and rule[0] in "RC" and rule[1:].isdigit():
                self.rules.add(rule)
        rec = dict(file=self.fname, line=line, block=block, what=what, model=str(model),
                   engine=str(engine), cls=cls)
        self.st.mismatches.append(rec)
        if not self.failed:
            self.failed = True
            self.st.first.append(rec)

    def figure(self, line, block, what, mv, ev, cls):
        if isinstance(mv, Iv) and not mv.exact:
            self.st.power += 1
            if not isinstance(ev, int) or not mv.contains(ev):
                self.mismatch(line, block, what, mv, ev, cls)
                return
            err = ev - mv.mid
            bound = (mv.hi - mv.mid) if err >= 0 else (mv.mid - mv.lo)
            ratio = 0.0 if err == 0 else abs(err) / bound
            if ratio > self.st.worst[0]:
                self.st.worst = (ratio, "%s:%d %s error %d bound %d" % (self.fname, line, what, err, bound))
            return
        if isinstance(mv, Iv):
            mv = mv.mid
        self.st.exact += 1
        if lower(mv) != lower(ev):
            self.mismatch(line, block, what, mv, ev, cls)

    def compare_events(self, line, block, mevs, eevs, model):
        eevs = [e for e in eevs if e.get("event") not in IGNORED]
        mt = sorted(e["event"] for e in mevs)
        et = sorted(e["event"] for e in eevs)
        if mt != et:
            self.mismatch(line, block, "events", mt, et, self.seq_class(mt, et))
        used = set()
        for me in mevs:
            ee = None
            for i, e in enumerate(eevs):
                if i not in used and e["event"] == me["event"] and all(
                        e.get(k) == me.get(k) for k in ("market", "position", "strategy") if k in me):
                    ee = e
                    used.add(i)
                    break
            if ee is None:
                continue
            self.compare_fields(line, block, me, ee, model)

    def cover(self, key):
        self.st.coverage[key] = self.st.coverage.get(key, 0) + 1

    def trade_coverage(self, me, ee):
        t = me.get("_trade")
        if not t:
            return
        pr = t["pr"]
        m = pr["market"]
        n0, n1 = pr["n0"], pr["n1"]
        far = n1 if abs(n1) > abs(n0) else n0
        self.cover("trade: " + t["kind"] + (" (grow)" if t["growing"] and t["kind"] != "open" else ""))
        if m.S != m.R:
            self.cover("trade: B differs from S (S != R)")
        if n0 * n1 < 0:
            self.cover("trade: net crosses zero")
        w = m.within if False else None
        if pr["C"] == 0:
            self.cover("trade: C = 0")
        elif abs(far) * pr["B"] > pr["C"] * m.uc.hi * 10**12:
            self.cover("trade: beyond the clamp u_c")
        if abs(n1) < abs(n0):
            self.cover("trade: shrinks |net| (rebate)")
        if pr.get("waived"):
            self.cover("trade: charge waived (R6)")
        if pr.get("rebate") and pr.get("rebate") == pr.get("pool_before"):
            self.cover("trade: rebate capped by the impact pool")
        if t["kind"] != "open" and t.get("pos_q") and abs(n0 - t["pos_q"]) != abs(n0):
            self.cover("trade: modify/close (R1 matters)")

    def compare_fields(self, line, block, me, ee, model):
        kind = me["event"]
        if kind in TRADE_EVENTS:
            self.st.trades += 1
            self.trade_coverage(me, ee)
        for k, mv in me.items():
            if k == "event" or k.startswith("_") or (kind, k) in INPUT_FIELDS:
                continue
            if k not in ee:
                self.st.absent += 1 if not isinstance(mv, dict) else len(mv)
                continue
            if isinstance(mv, dict):
                for k2, mv2 in mv.items():
                    if k2 not in ee[k]:
                        self.st.absent += 1
                        continue
                    self.figure(line, block, "%s.%s.%s" % (kind, k, k2), mv2, ee[k][k2],
                                self.field_class(kind, k2, me, ee, model))
            else:
                self.figure(line, block, "%s.%s" % (kind, k), mv, ee[k], self.field_class(kind, k, me, ee, model))

    # classes ------------------------------------------------------------------------------
    @staticmethod
    def seq_class(mt, et):
        diff = set(mt) ^ set(et)
        if diff & {"deficit_covered"}:
            return "R6/R8 settlement (deficits)"
        if diff & {"funding_settled"}:
            return "R8 funding debt"
        if diff & {"funding_rate_set"}:
            return "R2 funding rate (capacity)"
        if diff & {"market_status_changed"}:
            return "R10 depth/status"
        return "events: " + ",".join(sorted(diff))

    def field_class(self, kind, field, me, ee, model):
        if kind in TRADE_EVENTS:
            key = id(me)
            if key not in self.trade_diag:
                self.trade_diag[key] = diagnose_trade(model, me, ee)
            return self.trade_diag[key]
        if kind == "prices_updated" and field in ("impact_capacity", "free_liquidity"):
            return "R2 block capacity / NAV"
        if kind == "prices_updated" and field == "new_exposure":
            return "R11 settled oracle (new exposure)"
        if kind == "prices_updated":
            return "R10 frozen price / thaw"
        if kind == "funding_rate_set":
            return diagnose_rate(model, me, ee)
        if kind == "funding_settled":
            return "R8 funding debt"
        if kind == "funding_accrued":
            return "§9.2 funding accrual / NAV"
        if kind == "market_created":
            return "R9 listing parameters"
        if kind in ("lp_deposited", "lp_withdrawn"):
            return "§8.2 shares / NAV"
        if kind == "position_liquidated":
            return "R8 liquidation equity"
        if kind == "margin_changed":
            return "R8 margin"
        return "%s.%s" % (kind, field)


def hyp_label(h):
    return "+".join(h) if h else "none"


def diagnose_trade(model, me, ee):
    """Which of the old rules (HYPOTHESES) reproduce the engine's figures of this trade."""
    t = me.get("_trade")
    if t is None:
        return "trade"
    pr = t["pr"]
    m = pr["market"]
    names = [h for h, _ in HYPOTHESES]
    for size in range(0, len(names) + 1):
        for hs in combinations(names, size):
            n0 = pr["n0"] - t["pos_q"] if "R1" in hs else pr["n0"]
            C = (mulW_dn(m.D, m.p["k1"]) + mulW_dn(pr["F_now"], m.p["k2"])) if "R2" in hs else None
            B = m.S if "R3" in hs else None
            try:
                alt = model.price(m, n0, t["delta"], t["growing"], B=B, C=C, clamp="R4" not in hs,
                                  netting="R5" not in hs, pool=pr["pool_before"])
            except Reject:
                continue
            if "charge" not in alt:
                continue
            if fits(alt, ee):
                return "R?" if not hs else hyp_label(hs)
    return "unexplained trade"


def fits(alt, ee):
    ch = Iv.of(alt["charge"])
    rb = Iv.of(alt["rebate"])
    e_ch = ee.get("impact_charge", 0) + (ee.get("pricing") or {}).get("charge_waived", 0)
    if not ch.contains(e_ch) or not rb.contains(ee.get("impact_rebate", 0)):
        return False
    if ee.get("fee") != alt["fee"]:
        return False
    cost = alt["spot_cost"] + ch - rb
    e_cost = ee.get("cost", ee.get("cost_delta"))
    if e_cost is not None and not cost.contains(e_cost):
        return False
    return True


def diagnose_rate(model, me, ee):
    """The engine's rate with the capacity from the vault at the block's end (the old rule)."""
    try:
        m = model.s.markets[me["market"]]
        C = mulW_dn(m.D, m.p["k1"]) + mulW_dn(model.F_end, m.p["k2"])
        alt = model.rate_iv(m, model.premium_iv(m, model.net(m), m.S, C))
        if alt.contains(ee["rate_per_day_wad"]):
            return "R2 funding rate (capacity)"
    except Exception:
        pass
    return "§9.1 funding rate"


def run_scenario(fname, lines, engine_text, stats):
    """lines: [(line number, parsed object)]; engine_text: the engine's stdout."""
    ck = Checker(fname, stats)
    stats.scenarios += 1
    events, summary = parse_engine_output(engine_text)
    groups = {}
    for e in events:
        groups.setdefault((e["line"], e["block"]), []).append(e)
    model = None
    open_block = False
    h = ts = 0
    try:
        for n, obj in lines:
            if "genesis" in obj:
                model = Model(obj["genesis"])
                continue
            if model is None:
                model = Model(None)
            trans = []
            if "block" in obj:
                trans = [(int(obj["block"]["height"]), int(obj["block"]["timestamp"]))]
            elif "blocks" in obj:
                c, sec = int(obj["blocks"]["count"]), int(obj["blocks"]["seconds"])
                trans = [(h + i + 1, ts + (i + 1) * sec) for i in range(c)]
            for (bh, bts) in trans:
                grp = groups.get((n, bh), [])
                ctx = Ctx([e["event"] for e in grp if "event" in e])
                pu = {e["market"]: e for e in ctx.events if e["event"] == "prices_updated"}
                mev = []
                if open_block:
                    depth = {k: v["spot_liquidity"] for k, v in pu.items()}
                    mev += model.end_block(depth, ctx)
                # The live oracle's figures (before a freeze or a thaw replaces them); an engine
                # that does not publish them gives its spot and risk.
                oracle = {k: (v.get("oracle_spot", v["spot"]), v.get("oracle_risk", v["risk"]), v["pool"],
                              v["spot_liquidity"], v.get("oracle_lag_ticks", 0)) for k, v in pu.items()}
                for mk in model.s.markets:
                    if mk.id not in oracle:
                        raise OutOfScope("no oracle read for market %d at block %d" % (mk.id, bh))
                mev += model.begin_block(bh, bts, oracle, ctx)
                ck.compare_events(n, bh, mev, ctx.events, model)
                note_checks(ck, ctx, n, bh)
                for e in ctx.events:
                    if e.get("event") in ("market_status_changed", "funding_rate_set", "yield_accrued",
                                          "strategy_withdrawal_arrived"):
                        ck.cover("event: " + e["event"])
                    if e.get("event") == "prices_updated" and e.get("frozen_price"):
                        ck.cover("block: frozen price")
                open_block = True
                h, ts = bh, bts
            if "tx" in obj or "swap_to_price" in obj or "remove_spot_position" in obj:
                if "remove_spot_position" in obj:
                    tx = dict(type="spot_liquidity", user=obj["remove_spot_position"]["user"],
                              market=obj["remove_spot_position"]["market"], liquidity_delta=-1)
                else:
                    tx = obj.get("tx") or dict(type="spot_swap", user=obj["swap_to_price"]["user"])
                grp = groups.get((n, h), [])
                rej = [e for e in grp if "rejected" in e]
                ctx = Ctx([e["event"] for e in grp if "event" in e], rej[0]["error_kind"] if rej else None)
                ctx.force = not rej
                try:
                    mev = model.apply(tx, ctx)
                    mkind = ctx.model_rejects[0] if ctx.model_rejects else None
                except Reject as r:
                    mev, mkind = [], r.kind
                ekind = ctx.rejected
                ck.cover("tx %s: %s" % (tx["type"], ekind or "ok"))
                for e in ctx.events:
                    if e.get("event") in ("deficit_covered", "position_liquidated", "market_status_changed",
                                          "funding_settled", "drawdown_cap_hit"):
                        ck.cover("event: " + e["event"] + (" (debt left)" if e.get("debt_after") else ""))
                if mkind != ekind:
                    ck.mismatch(n, h, "outcome", mkind or "ok", ekind or "ok",
                                outcome_class(model, tx, mkind, ekind))
                if not rej:
                    ck.compare_events(n, h, mev, ctx.events, model)
                elif mkind is None:
                    model.rollback()
                note_checks(ck, ctx, n, h)
        # the last block's end (line 0)
        if open_block and model is not None:
            grp = groups.get((0, h), [])
            ctx = Ctx([e["event"] for e in grp if "event" in e])
            mev = model.end_block({mk.id: mk.D for mk in model.s.markets}, ctx)
            ck.compare_events(0, h, mev, ctx.events, model)
            note_checks(ck, ctx, 0, h)
        if summary is not None and model is not None:
            compare_summary(ck, model.summary(), summary)
    except OutOfScope as e:
        stats.out_of_scope.append((fname, n if 'n' in dir() else 0, str(e)))
    for rule in ck.rules:
        stats.rule_scenarios[rule] = stats.rule_scenarios.get(rule, 0) + 1
    return ck.failed


def note_checks(ck, ctx, line=0, block=0):
    for name, iv, ev in ctx.checks:
        if iv is None:
            ck.st.straddles += 1
    for label, what, mine, followed, ev in ctx.explained:
        if what in ("funding_rate_set", "listing-block capacity") or what.startswith("market_created."):
            ck.mismatch(line, block, what, mine, ev, label)
            continue
        diffs = []
        for k, ek in (("charge", "impact_charge"), ("rebate", "impact_rebate"), ("fee", "fee")):
            if not Iv.of(mine[k]).contains(ev.get(ek, 0)):
                diffs.append(ek)
        ck.mismatch(line, block, "%s pricing (%s)" % (what, ",".join(diffs) or "cost"),
                    dict(charge=mine["charge"], rebate=mine["rebate"], fee=mine["fee"], B=mine["B"], C=mine["C"], n0=mine["n0"]),
                    dict(charge=ev.get("impact_charge"), rebate=ev.get("impact_rebate"), fee=ev.get("fee"),
                         cost=ev.get("cost", ev.get("cost_delta"))), label)
        ck.st.trade_classes[label] = ck.st.trade_classes.get(label, 0) + 1


def outcome_class(model, tx, mkind, ekind):
    kinds = {mkind, ekind} - {None}
    if kinds & {"ImpactCapExceeded", "NoImpactCapacity", "PriceBoundExceeded"}:
        return "cap/bound decision (R1-R4)"
    if kinds & {"InitialMarginNotMet", "NotLiquidatable"}:
        return "R8 equity"
    if kinds & {"VaultCapacityExceeded", "WithdrawalExceedsFreeLiquidity"}:
        return "§5 capacity rule / NAV"
    if kinds & {"InvalidParameter"}:
        return "R9 listing bounds"
    if kinds & {"ReduceOnly", "Delisted"}:
        return "R10 status"
    if "PriceNotSettled" in kinds:
        return "R11 settled oracle (new exposure)"
    return "outcome %s/%s" % (mkind, ekind)


def compare_summary(ck, ms, es):
    line = 0
    for k in SUMMARY_FIELDS:
        if k in es:
            ck.figure(line, es.get("block", 0), "summary." + k, ms[k], es[k], "summary")
    for mm, em in zip(ms["markets"], es.get("markets", [])):
        for k, v in mm.items():
            if k in em:
                ck.figure(line, es.get("block", 0), "summary.market.%s" % k, v, em[k], "summary")
    if "open_positions" in es:
        mine = {p["id"]: p for p in ms["open_positions"]}
        theirs = {p["id"]: p for p in es["open_positions"]}
        if sorted(mine) != sorted(theirs):
            ck.mismatch(line, 0, "summary.open_positions", sorted(mine), sorted(theirs), "summary positions")
        for pid in sorted(set(mine) & set(theirs)):
            for k, v in mine[pid].items():
                if k in theirs[pid]:
                    ck.figure(line, 0, "summary.position.%s" % k, v, theirs[pid][k],
                              "R8 equity" if k in ("equity", "liquidatable", "funding_owed") else "summary positions")
    if "accounts" in es:
        for acc in es["accounts"]:
            mine = ms["accounts"].get(acc["owner"].lower())
            if mine is None:
                continue
            for b in acc.get("balances", []):
                if b["token"] in mine:
                    ck.figure(line, 0, "summary.account.%s" % b["token"], mine[b["token"]], b["amount"], "summary accounts")
            for k in ("lp_shares", "lp_unlock_time"):
                if k in acc and (k in mine or acc[k]):
                    ck.figure(line, 0, "summary.account." + k, mine.get(k, 0), acc[k], "summary accounts")
    if len(ms["markets"]) != len(es.get("markets", [])):
        ck.mismatch(line, 0, "summary.markets", len(ms["markets"]), len(es.get("markets", [])), "summary")


def load_scenario(path):
    out = []
    with open(path) as f:
        for i, raw in enumerate(f, 1):
            t = raw.strip()
            if not t or t.startswith("#"):
                continue
            out.append((i, json.loads(t)))
    return out
