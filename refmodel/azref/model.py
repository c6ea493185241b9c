"""The AZEx protocol as docs/protocol.md states it, in exact integer arithmetic.

Written from docs/protocol.md (section numbers in comments), not from the Rust. The model keeps
its own state: wallets (azUSD, USDC), positions, per-side funding indexes, impact pools,
margins, the vault (cash, shares, high-water mark), LP accounts, treasury and insurance, the
azUSD ledger and strategies. Its only inputs besides the transactions are the oracle's outputs
(§3: per block S, R, pool price, depth; at listing the pool's price, depth and seed amounts),
which the spot pool produces and which are checked elsewhere against Uniswap bytecode.

Figures that go through a fractional power are `Iv` intervals (iv.py). Where the state needs
one integer (the impact charge and rebate of a trade, the funding rate), `Ctx.resolve` takes
the engine's value if it lies in the interval (any conforming engine could have produced it)
and the perfect-power value otherwise; the comparison records the check either way.

Out of scope (the model stops the scenario, it does not guess): an ADL trigger firing (§7),
liquidity removals (their depth after the change is not an oracle output).
"""
import copy

import mpmath as mp

from .iv import Iv, W, cdiv, ipow_down, ipow_up, pow_down

PCT = W // 100
BP = W // 10_000
U = 10**6
E12 = 10**12
E30 = 10**30
E36 = 10**36
DAY = 86_400
YEAR = 365 * 86_400

AZUSD = "0x00000000000000000000000000000000a2050000"
USDC = "0x00000000000000000000000000000000005dc000"
ZERO = "0x0000000000000000000000000000000000000000"
BAND_TICKS = 198  # §3: the oracle's depth band
BAND_STEP = 103_000_000_000_000  # §11: b per tick taken from above, 1.03e-4 (WAD)
MAX_LISTING_FEE_PIPS = 10_000  # §11, R9
MIN_CUT = 10**9  # §7


class Reject(Exception):
    def __init__(self, kind, msg=""):
        super().__init__(kind)
        self.kind = kind
        self.msg = msg


class OutOfScope(Exception):
    pass


# §1.2 named conversions ----------------------------------------------------------------------
def N_dn(q, P):
    return abs(q) * P // E30


def N_up(q, P):
    return cdiv(abs(q) * P, E30)


def value_dn(q, P):
    return N_dn(q, P) if q >= 0 else -N_up(q, P)


def value_up(q, P):
    return N_up(q, P) if q >= 0 else -N_dn(q, P)


def mulW_dn(a, r):
    return a * r // W


def mulW_up(a, r):
    return cdiv(a * r, W)


# §4.1, §5, §6 parameters ---------------------------------------------------------------------
def default_market_params():
    return dict(
        alpha=5 * PCT, beta=3 * W // 2, k1=W, k2=W // 2, max_premium=2 * PCT,
        rebate_factor=80 * PCT, taker_fee=6 * BP, funding_factor=W, max_funding=PCT,
        safety_tiers=[(10 * PCT, 3 * W // 2), (30 * PCT, 7 * W // 4), (60 * PCT, 2 * W), (W, 5 * W // 2)],
        stress=5 * PCT, max_oi=1_000_000_000 * U, min_notional=10 * U,
        margin_tiers=[(100_000 * U, 5 * PCT, 5 * PCT // 2), (1_000_000 * U, 10 * PCT, 5 * PCT),
                      (10_000_000 * U, 20 * PCT, 10 * PCT), (None, 50 * PCT, 25 * PCT)],
        min_spot_liq=10_000 * U, liq_penalty=PCT // 2, keeper_start=20 * PCT, keeper_growth=PCT,
        keeper_max=60 * PCT, step_notional=250_000 * U, step=25 * PCT, adl_cap=45 * PCT,
        adl_target=40 * PCT, delist_after=10,
    )


GLOBAL_KEYS = {  # genesis name -> model name
    "min_listing_depth": "min_listing_depth", "oi_cap_depth_multiple": "oi_mult",
    "lp_fee_share_wad": "lp_fee_share", "lp_yield_share_wad": "lp_yield_share",
    "liquid_buffer_wad": "liquid_buffer", "max_vault_utilisation_wad": "max_util",
    "lp_lockup_secs": "lockup", "max_abs_tick_move": "max_tick", "risk_twap_window_secs": "twap",
    "block_time_secs": "block_time", "max_drawdown_wad": "max_drawdown",
    "max_block_gap_secs": "max_gap",
}


def default_global_params():
    return dict(min_listing_depth=50_000 * U, oi_mult=20, lp_fee_share=70 * PCT,
                lp_yield_share=80 * PCT, liquid_buffer=20 * PCT, max_util=90 * PCT, lockup=3_600,
                max_tick=50, twap=60, block_time=2, max_drawdown=20 * PCT, max_gap=2)


def bound_ratio(max_tick):
    """§8.6: one truncation bound as a price ratio, WAD: floor(1.0001^(t/2) * 1e9) squared."""
    with mp.workprec(200):
        h = int(mp.floor(mp.power(mp.mpf("1.0001"), mp.mpf(max(max_tick, 0)) / 2) * 10**9))
    return h * h


def step_toward(cur, target, r):
    """§8.6: `cur` moved toward `target` by at most the ratio r (rounded toward cur), at least 1."""
    if target > cur:
        return min(max(cur * r // W, cur + 1), target)
    if target < cur:
        return max(min(-(-cur * W // r), cur - 1), target)
    return cur


def safety_factor(p, imb):
    for mx, sf in p["safety_tiers"]:
        if imb <= mx:
            return sf
    return p["safety_tiers"][-1][1]


def margin_tier(p, c_abs):
    for mx, im, mm in p["margin_tiers"]:
        if mx is None or c_abs <= mx:
            return im, mm
    return p["margin_tiers"][-1][1:]


# state ------------------------------------------------------------------------------------
class Position:
    __slots__ = ("id", "owner", "market", "q", "c", "margin", "entry", "debt", "liq_start", "liq_block",
                 "opened_at")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k, 0))


class Market:
    def __init__(self, mid, base, params, uc, ts):
        self.id = mid
        self.listed_height = None
        self.base = base
        self.p = params
        self.uc = uc  # Iv, §4.4
        self.status = "Active"
        self.settle_price = 0
        self.S = self.R = self.pool = self.D = self.F = self.C = 0
        self.frozen = 0
        # protocol.md §8.6: new exposure waits for a settled oracle
        self.settled_at = 0
        self.thaw_s = self.thaw_r = 0
        self.lag = 0
        self.low = 0
        self.rate = 0
        self.last_funding = ts
        self.I = {True: 0, False: 0}  # funding index per side (long=True)
        self.impact_pool = 0
        self.volume = 0

    def status_str(self):
        if self.status == "Delisted":
            return "Delisted { settlement_price: %d }" % self.settle_price
        return self.status


class Strategy:
    def __init__(self, cfg):
        self.name = cfg["name"]
        self.rate = int(cfg["rate_per_year_wad"])
        self.capacity = int(cfg["capacity"])
        self.delay = int(cfg["withdrawal_delay_secs"])
        self.share = int(cfg["target_share_wad"])
        self.assets = 0
        self.pending = []  # [amount, ready_at]
        self.last = 0


class State:
    def __init__(self):
        self.g = default_global_params()
        self.market_defaults = None
        self.wallets = {}  # (owner, token) -> int
        self.unknown_wallets = set()  # owners whose azUSD moved through the pool (swappers)
        self.markets = []
        self.positions = {}  # id -> Position (insertion order = id order)
        self.next_id = 1
        self.cash = 0
        self.shares = 0
        self.hwm = 0
        self.drawdown = False
        self.lps = {}  # owner -> [shares, unlock]
        self.treasury = 0
        self.insurance = 0
        self.supply = 0
        self.usdc_liquid = 0
        self.strategies = []
        self.height = 0
        self.ts = 0
        self.started = False  # a block has begun (the gap rule needs a previous block)
        self.block_free = 0  # F at the start of the current block (§4.2)


def snapshot(st):
    """A copy of the state deep enough for a rollback (faster than copy.deepcopy)."""
    c = copy.copy(st)
    c.wallets = dict(st.wallets)
    c.unknown_wallets = set(st.unknown_wallets)
    c.positions = {k: copy.copy(v) for k, v in st.positions.items()}
    c.lps = {k: list(v) for k, v in st.lps.items()}
    c.markets = []
    for m in st.markets:
        mc = copy.copy(m)
        mc.I = dict(m.I)
        mc.p = dict(m.p)
        c.markets.append(mc)
    c.strategies = []
    for x in st.strategies:
        xc = copy.copy(x)
        xc.pending = [list(pp) for pp in x.pending]
        c.strategies.append(xc)
    return c


class Ctx:
    """The engine's output for the line being checked: used only to resolve a power-dependent
    figure inside its interval and to follow an engine choice the rules leave open (a decision
    whose interval straddles its threshold). Records every such check."""

    def __init__(self, events=None, rejected=None):
        self.events = events or []
        self.rejected = rejected  # engine's error kind, or None
        self.checks = []  # (name, Iv, engine value or None, adopted)
        self.force = False
        self.model_rejects = []  # kinds the model would have refused with (force mode)
        self.explained = []  # (class, what, model's figures, followed figures, engine event)

    def find(self, kind, **match):
        for e in self.events:
            if e.get("event") == kind and all(e.get(k) == v for k, v in match.items()):
                return e
        return None

    def resolve(self, name, iv, engine_value):
        iv = Iv.of(iv)
        if engine_value is not None and iv.contains(engine_value):
            v = engine_value
        else:
            v = iv.mid
        self.checks.append((name, iv, engine_value))
        return v

    def decide(self, name, verdict, engine_says):
        """A decision taken on an interval: None (straddles) follows the engine."""
        if verdict is None:
            self.checks.append((name + " (straddles the threshold)", None, None))
            return bool(engine_says)
        return verdict


class Model:
    def __init__(self, genesis):
        s = self.s = State()
        gp = (genesis or {}).get("params") or {}
        for k, v in gp.items():
            if k in GLOBAL_KEYS:
                s.g[GLOBAL_KEYS[k]] = int(v)
            elif k == "market_defaults" and v is not None:
                raise OutOfScope("genesis market_defaults")
        for b in (genesis or {}).get("balances", []):
            key = (b["owner"].lower(), b["token"].lower())
            s.wallets[key] = s.wallets.get(key, 0) + int(b["amount"])
        s.strategies = [Strategy(c) for c in (genesis or {}).get("strategies", [])]
        self.ctx = Ctx()
        self.events = []

    # helpers ----------------------------------------------------------------------------
    def emit(self, ev):
        self.events.append(ev)

    def check(self, fails, kind, msg=""):
        if fails:
            if self.ctx.force:
                self.ctx.model_rejects.append(kind)
            else:
                raise Reject(kind, msg)

    def wallet(self, owner, token):
        return self.s.wallets.get((owner, token), 0)

    def debit(self, owner, token, amount):
        have = self.wallet(owner, token)
        if owner in self.s.unknown_wallets and token == AZUSD:
            have = max(have, amount)
        self.check(have < amount, "InsufficientBalance")
        self.s.wallets[(owner, token)] = max(have - amount, 0)

    def credit(self, owner, token, amount):
        self.s.wallets[(owner, token)] = self.wallet(owner, token) + amount

    def market(self, mid):
        if not (0 <= mid < len(self.s.markets)):
            raise Reject("UnknownMarket")
        return self.s.markets[mid]

    def side_positions(self, m, long):
        return [p for p in self.s.positions.values() if p.market == m.id and (p.q > 0) == long]

    def side_qty(self, m, long):
        return sum(abs(p.q) for p in self.side_positions(m, long))

    def net(self, m):
        return self.side_qty(m, True) - self.side_qty(m, False)

    # §8.1 risk figures --------------------------------------------------------------------
    def side_risk(self, m, long, P=None):
        P = m.R if P is None else P
        ps = self.side_positions(m, long)
        Q = sum(abs(p.q) for p in ps)
        cost = sum(p.c for p in ps)
        value = N_dn(Q, P) if long else -N_up(Q, P)
        upnl = value - cost
        raw = (sum(abs(p.q) * (m.I[long] - p.entry) for p in ps)) // E36 + sum(p.debt for p in ps)
        holds = max(sum(p.margin for p in ps) + upnl, 0)
        owed = min(raw, holds) if raw > 0 else raw
        return N_up(Q, P), upnl, owed

    def market_risk(self, m, P=None):
        ln, lu, lo = self.side_risk(m, True, P)
        sn, su, so = self.side_risk(m, False, P)
        return dict(long_notional=ln, short_notional=sn, required=self.requirement(m, ln, sn),
                    classic=max(ln, sn), upnl=lu + su, owed=lo + so, long_upnl=lu, short_upnl=su)

    def requirement(self, m, L, S):  # §5
        gross = L + S
        imb = 0 if gross == 0 else abs(L - S) * W // gross
        sf = safety_factor(m.p, imb)
        return min(mulW_up(abs(L - S), sf) + mulW_up(min(L, S), m.p["stress"]), max(L, S))

    def totals(self):
        s = self.s
        nav, req, classic = s.cash, 0, 0
        per = []
        for m in s.markets:
            r = self.market_risk(m)
            per.append(r)
            nav += -r["upnl"] + r["owed"]
            req += r["required"]
            classic += r["classic"]
        usable = mulW_dn(nav, s.g["max_util"]) if nav > 0 else 0
        return dict(nav=nav, required=req, classic=classic, free=max(usable - req, 0), markets=per)

    def share_price(self, nav):
        s = self.s
        if s.shares == 0 or nav <= 0:
            return 0
        return nav * W // s.shares

    # §4 pricing ---------------------------------------------------------------------------
    @staticmethod
    def u_iv(n, P, C, up):
        num, den = abs(n) * P, C * E12
        return cdiv(num, den) if up else num // den

    def within(self, m, n, B, C, uc=None):
        """|n|·B ≤ C·u_c·1e12, as True/False/None (None: depends on where u_c lies)."""
        uc = m.uc if uc is None else uc
        lhs = abs(n) * B
        if lhs <= C * uc.lo * E12:
            return True
        if lhs > C * uc.hi * E12:
            return False
        return None

    def premium_iv(self, m, n, P, C):
        """§4.10 prem(n) (signed, clamped at max_premium), at price P."""
        if n == 0:
            return Iv(0)
        mx = m.p["max_premium"]
        if C == 0:
            p = Iv(mx)
        else:
            u = self.u_iv(n, P, C, False)
            p = (pow_down(u, m.p["beta"]) * m.p["alpha"]).fdiv(W).min(mx)
        return p if n > 0 else -p

    @staticmethod
    def mark_iv(S, prem):
        """§4.10 mark(n): monotone in the premium, so an interval maps end to end."""
        def mark(p):
            return S + p * S // W if p >= 0 else max(S - (-p) * S // W, 0)
        prem = Iv.of(prem)
        return Iv(mark(prem.lo), mark(prem.mid), mark(prem.hi))

    def cap_premium(self, m, n1, B, C):
        """§4.9: ⌊α·pow↓(u↑(n1, B), β)/W⌋."""
        u = self.u_iv(n1, B, C, True)
        return (pow_down(u, m.p["beta"]) * m.p["alpha"]).fdiv(W)

    def curve_within(self, m, n0, n1, B, C):
        """§4.5 within the clamp at `far`: (charge, curve rebate)."""
        a, b1 = m.p["alpha"], m.p["beta"] + W
        den = b1 * W

        def K(x, up):
            x = Iv.of(x) * (a * C)
            return x.cdiv(den) if up else x.fdiv(den)

        f1 = ipow_up(self.u_iv(n1, B, C, True), b1)
        f0 = ipow_down(self.u_iv(n0, B, C, False), b1)
        if (n0 >= 0 and n1 >= 0) or (n0 <= 0 and n1 <= 0):
            if abs(n1) > abs(n0):
                return K((f1 - f0).pos(), True), Iv(0)
            return Iv(0), K((f0 - f1).pos(), False)
        return K(f1, True), K(f0, False)

    def integral(self, m, n, B, C, up, uc):
        """§4.5 I↑ / I↓ from 0 to |n| on the clamped curve, in U·W."""
        if n == 0:
            return Iv(0)
        a, beta, b1 = m.p["alpha"], m.p["beta"], m.p["beta"] + W
        pw = ipow_up if up else ipow_down

        def div(x, d):
            return x.cdiv(d) if up else x.fdiv(d)

        def branch(within):
            if within:
                u = self.u_iv(n, B, C, up)
                return div(pw(u, b1) * (a * C), b1)
            head = Iv(0) if C == 0 else div(pw(uc, b1) * (a * C), b1)
            g = pw(uc, beta)
            nw = cdiv(abs(n) * B, E12) if up else abs(n) * B // E12
            excess = (Iv.of(nw) - uc * C).pos()
            tail = div(g * excess * a, W * W)
            return head + tail

        w = self.within(m, n, B, C, uc)
        if w is None:
            return branch(True).union(branch(False))
        return branch(w)

    def curve_clamped(self, m, n0, n1, B, C):
        uc = m.uc

        def I(n, up):
            return self.integral(m, n, B, C, up, uc)

        if (n0 >= 0 and n1 >= 0) or (n0 <= 0 and n1 <= 0):
            if abs(n1) > abs(n0):
                return (I(n1, True) - I(n0, False)).pos().cdiv(W), Iv(0)
            return Iv(0), (I(n0, False) - I(n1, True)).pos().fdiv(W)
        return I(n1, True).cdiv(W), I(n0, False).fdiv(W)

    def curve(self, m, n0, n1, B, C, clamp=True):
        if n0 == n1:
            return Iv(0), Iv(0)
        far = n1 if abs(n1) > abs(n0) else n0
        if not clamp:
            if C == 0:
                raise Reject("DivisionByZero")
            return self.curve_within(m, n0, n1, B, C)
        w = self.within(m, far, B, C)
        if w is True:
            return self.curve_within(m, n0, n1, B, C)
        if w is False:
            return self.curve_clamped(m, n0, n1, B, C)
        a1, b1 = self.curve_within(m, n0, n1, B, C)
        a2, b2 = self.curve_clamped(m, n0, n1, B, C)
        return a1.union(a2), b1.union(b2)

    def price(self, m, n0, delta, growing, B=None, C=None, clamp=True, netting=True, pool=None,
              fee_rate=None):
        """§4.3–4.9, pure: everything a trade's price is, as intervals where powers enter.
        The keyword arguments let the diagnosis price a trade under another rule."""
        buy = delta > 0
        if B is None:
            B = max(m.S, m.R) if buy else min(m.S, m.R)  # §4.3 (R3)
        C = m.C if C is None else C
        n1 = n0 + delta
        grows_net = abs(n1) > abs(n0)
        held = growing and grows_net
        out = dict(B=B, C=C, n0=n0, n1=n1, held=held, cap_error=None, cap_verdict=False)
        if held and C == 0:
            out["cap_error"] = "NoImpactCapacity"
            return out
        if held:
            prem_end = self.cap_premium(m, n1, B, C)
            out["cap_premium"] = prem_end
            out["cap_verdict"] = prem_end.gt(m.p["max_premium"])
        charge, crv_rebate = self.curve(m, n0, n1, B, C, clamp)
        rg = (crv_rebate * m.p["rebate_factor"]).fdiv(W)
        pool = m.impact_pool if pool is None else pool
        out["curve_charge"], out["curve_rebate"] = charge, crv_rebate
        if netting:
            d = charge - rg
            out["charge"] = d.pos()
            out["rebate"] = (-d).pos().min(pool)
        else:
            out["charge"] = charge
            out["rebate"] = rg.min(charge + pool)
        n_dn, n_up = N_dn(delta, B), N_up(delta, B)
        out["n_dn"], out["n_up"] = n_dn, n_up
        out["spot_cost"] = n_up if delta >= 0 else -n_dn
        out["fee"] = mulW_up(n_up, m.p["taker_fee"] if fee_rate is None else fee_rate)
        p0 = self.premium_iv(m, n0, m.S, C)
        p1 = self.premium_iv(m, n1, m.S, C)
        out["pricing"] = dict(price=B, capacity=C, free_liquidity=m.F, net_before=n0, net_after=n1,
                              premium_before_wad=p0, premium_after_wad=p1,
                              mark_before=self.mark_iv(m.S, p0), mark_after=self.mark_iv(m.S, p1))
        return out

    @staticmethod
    def avg_price(delta, cost):
        c = abs(cost) * E30
        return cdiv(c, abs(delta)) if delta > 0 else c // abs(delta)

    HYPOTHESES = [  # the rules an engine might still apply the old way (issue 9)
        ("R1", "net without the trading position"),
        ("R2", "capacity from the free liquidity at the transaction"),
        ("R3", "base price = truncated spot for buys and sells"),
        ("R4", "unclamped curve"),
        ("R5", "charge and rebate not netted"),
        ("R9", "taker fee not raised to the pool's fee tier"),
    ]

    @staticmethod
    def fits(pr, ee, delta):
        """Whether an engine's trade event is one a conforming engine could report for `pr`."""
        ch, rb = Iv.of(pr["charge"]), Iv.of(pr["rebate"])
        e_ch = ee.get("impact_charge", 0) + (ee.get("pricing") or {}).get("charge_waived", 0)
        if not ch.contains(e_ch) and not ee.get("impact_charge", 0) < ch.lo:  # waived (old: none)
            return False
        if not rb.contains(ee.get("impact_rebate", 0)) or ee.get("fee") != pr["fee"]:
            return False
        cost = ch - rb + pr["spot_cost"]
        e_cost = ee.get("cost", ee.get("cost_delta"))
        if e_cost is not None and not cost.contains(e_cost):
            return False
        if e_cost is None and "avg_price" in ee:
            lo, hi = Model.avg_price(delta, cost.lo), Model.avg_price(delta, cost.hi)
            if not min(lo, hi) <= ee["avg_price"] <= max(lo, hi):
                return False
        return True

    def diagnose(self, m, n0, delta, growing, pos_q, F_now, pool, ee):
        """The smallest set of old rules under which the engine's figures fit: (label, pricing)."""
        from itertools import combinations
        names = [h for h, _ in self.HYPOTHESES]
        for size in range(1, len(names) + 1):
            for hs in combinations(names, size):
                if "R1" in hs and pos_q == 0:
                    continue
                if "R9" in hs and m.p["taker_fee"] == default_market_params()["taker_fee"]:
                    continue
                C = (mulW_dn(m.D, m.p["k1"]) + mulW_dn(F_now, m.p["k2"])) if "R2" in hs else None
                try:
                    alt = self.price(m, n0 - pos_q if "R1" in hs else n0, delta, growing,
                                     B=m.S if "R3" in hs else None, C=C, clamp="R4" not in hs,
                                     netting="R5" not in hs, pool=pool,
                                     fee_rate=default_market_params()["taker_fee"] if "R9" in hs else None)
                except Reject:
                    continue
                if "charge" in alt and self.fits(alt, ee, delta):
                    return "+".join(hs), alt
        return None, None

    def price_trade(self, m, n0, delta, bound, growing, ev_kind, pid, pos_q=0):
        """price() plus the decisions and the resolution of the power-dependent figures."""
        ctx = self.ctx
        ev = ctx.find(ev_kind, position=pid) if pid is not None else ctx.find(ev_kind)
        e_cap = ((ev or {}).get("pricing") or {}).get("capacity")
        if (getattr(m, "listed_height", None) == self.s.height and e_cap is not None
                and e_cap != m.C and e_cap == m.C_alt):
            ctx.explained.append(("C1", "listing-block capacity", m.C, m.C_alt, e_cap))
            m.C, m.F = m.C_alt, m.F_alt
        pr = self.price(m, n0, delta, growing)
        pr.update(pool_before=m.impact_pool, F_now=self._F_now, market=m)
        if pr["cap_error"]:
            self.check(True, pr["cap_error"])
        if pr["held"]:
            refused = ctx.decide("premium cap", pr["cap_verdict"], ctx.rejected == "ImpactCapExceeded")
            self.check(refused, "ImpactCapExceeded")
        if "charge" not in pr:  # forced past NoImpactCapacity
            pr["charge"], pr["rebate"] = Iv(0), Iv(0)
            pr.update(n_dn=N_dn(delta, pr["B"]), n_up=N_up(delta, pr["B"]), fee=0, pricing={})
            pr["spot_cost"] = pr["n_up"] if delta >= 0 else -pr["n_dn"]
        e_charge = e_rebate = None
        if ev is not None:
            if not self.fits(pr, ev, delta):
                # Lockstep: an engine whose figures one of the old rules explains is followed
                # (the difference is recorded once, here, with its class), so that one defect
                # is counted where it occurs and not again in everything after it.
                label, alt = self.diagnose(m, n0, delta, growing, pos_q, self._F_now, m.impact_pool, ev)
                if label:
                    ctx.explained.append((label, ev_kind, pr, alt, ev))
                    if "R9" in label:  # follow the engine's fee from now on (counted once)
                        m.p["taker_fee"] = default_market_params()["taker_fee"]
                    alt.update(pool_before=m.impact_pool, F_now=self._F_now, market=m,
                               held=pr["held"], cap_error=pr["cap_error"])
                    pr = alt
            waived = (ev.get("pricing") or {}).get("charge_waived", 0)
            e_charge = ev["impact_charge"] + waived
            e_rebate = ev["impact_rebate"]
        pr["charge_iv"], pr["rebate_iv"] = pr["charge"], pr["rebate"]
        pr["charge"] = ctx.resolve("impact charge", pr["charge"], e_charge)
        pr["rebate"] = ctx.resolve("impact rebate", pr["rebate"], e_rebate)
        pr["cost"] = pr["spot_cost"] + pr["charge"] - pr["rebate"]
        pr["avg"] = self.avg_price(delta, pr["cost"])
        self.check((delta > 0 and pr["avg"] > bound) or (delta < 0 and pr["avg"] < bound), "PriceBoundExceeded")
        return pr

    def book_impact(self, m, pr, collected):  # §4.6, §4.7
        m.impact_pool += collected - pr["rebate"]
        m.volume += pr["n_dn"]
        pr["waived"] = pr["charge"] - collected
        pr["collected"] = collected
        # The reported figures: the intervals where the power enters (checked as such), the
        # collected amount where a waiver made it an exact integer.
        pr["charge_out"] = pr["charge_iv"] if pr["waived"] == 0 else collected
        pr["rebate_out"] = pr["rebate_iv"]

    def pricing_out(self, m, pr):
        out = dict(pr["pricing"])
        if out:
            out["charge_waived"] = pr["waived"]
            out["impact_pool_after"] = m.impact_pool
        return out

    # money (§4.7, §6.7, §9.3) ---------------------------------------------------------------
    def settle_pnl(self, pid, margin, pnl):
        s = self.s
        if pnl >= 0:
            self.check(s.cash < pnl, "VaultCashShort")
            s.cash -= pnl
            return margin + pnl
        loss = -pnl
        take = min(loss, margin)
        margin -= take
        s.cash += take
        if loss - take > 0:
            self.cover_deficit(pid, loss - take)
        return margin

    def cover_deficit(self, pid, deficit):
        s = self.s
        ins = min(deficit, s.insurance)
        if ins > 0:
            s.insurance -= ins
            s.cash += ins
            self.emit(dict(event="deficit_covered", position=pid, payer="insurance_fund", amount=ins))
        if deficit - ins > 0:
            self.emit(dict(event="deficit_covered", position=pid, payer="vault", amount=deficit - ins))

    def take_fee(self, margin, fee):
        fee = min(fee, margin)
        to_vault = mulW_dn(fee, self.s.g["lp_fee_share"])
        self.s.cash += to_vault
        self.s.treasury += fee - to_vault
        return margin - fee, fee

    @staticmethod
    def funding_owed(q, I, entry):
        d = I - entry
        prod = abs(q) * abs(d)
        qq, r = divmod(prod, E36)
        return qq + (1 if r else 0) if d >= 0 else -qq

    def touch(self, m, p):
        """§9.3 settle the position's funding (ADL PnL: none in scope)."""
        owed = self.funding_owed(p.q, m.I[p.q > 0], p.entry)
        p.entry = m.I[p.q > 0]
        if owed > 0:
            p.debt += owed
        elif owed < 0:
            due = -owed
            cancel = min(due, p.debt)
            p.debt -= cancel
            p.margin = self.settle_pnl(p.id, p.margin, due - cancel)
        before = p.debt
        pay = min(p.debt, p.margin)
        p.margin -= pay
        p.debt -= pay
        self.s.cash += pay
        if owed != 0 or before != p.debt:
            self.emit(dict(event="funding_settled", position=p.id, amount=owed, debt_after=p.debt))

    def check_im(self, m, q, c, margin, debt, n_pair):  # §6.2, §6.3
        n_dn, n_up = n_pair
        value = n_dn if q >= 0 else -n_up
        eq = margin + value - c - debt - mulW_up(n_up, m.p["taker_fee"])
        im = mulW_up(n_up, margin_tier(m.p, abs(c))[0])
        self.check(eq < im, "InitialMarginNotMet")

    def check_oi(self, m, long):  # §11: the listing's cap and the bound at the block's depth
        cap = min(m.p["max_oi"], self.manip_cap(m.D, m.p))
        self.check(N_up(self.side_qty(m, long), m.S) > cap, "OpenInterestCapExceeded")

    def check_capacity(self, required_before):  # §5
        t = self.totals()
        if t["required"] > required_before:
            usable = mulW_dn(t["nav"], self.s.g["max_util"]) if t["nav"] > 0 else 0
            self.check(t["required"] > usable, "VaultCapacityExceeded")

    def settled(self, m):
        """§8.6: the market takes new exposure (warm-up/stall over, no lag, not thawing)."""
        return self.s.ts >= m.settled_at and m.lag == 0 and m.thaw_s == 0

    def tradeable(self, m, growing):
        if m.status == "Active" and growing:
            self.check(not self.settled(m), "PriceNotSettled")
        if m.status == "Delisted":
            self.check(True, "Delisted")
        elif m.status == "ReduceOnly" and growing:
            self.check(True, "ReduceOnly")

    def owned(self, user, pid):
        p = self.s.positions.get(pid)
        if p is None:
            raise Reject("UnknownPosition")
        if p.owner != user:
            raise Reject("NotPositionOwner")
        return p

    @staticmethod
    def released_cost(c, part, whole):  # §1.4
        return cdiv(c * part, whole) if c >= 0 else -((-c) * part // whole)

    # transactions -------------------------------------------------------------------------
    def apply(self, tx, ctx):
        """Run one transaction; returns its events. Raises Reject (state unchanged)."""
        self.ctx = ctx
        self.events = []
        self._saved = snapshot(self.s)
        try:
            getattr(self, "tx_" + tx["type"])(tx)
        except Reject:
            self.s = self._saved
            raise
        return self.events

    def rollback(self):
        """Undo the last transaction (the engine refused it where the model did not)."""
        self.s = self._saved

    def tx_mint_azusd(self, tx):  # §10
        u, a = tx["user"].lower(), int(tx["usdc"])
        self.check(a == 0, "ZeroAmount")
        self.debit(u, USDC, a)
        self.s.usdc_liquid += a
        self.s.supply += a
        self.credit(u, AZUSD, a)
        self.emit(dict(event="azusd_minted", user=u, amount=a))

    def tx_redeem_azusd(self, tx):
        u, a = tx["user"].lower(), int(tx["azusd"])
        self.check(a == 0, "ZeroAmount")
        self.debit(u, AZUSD, a)
        self.check(self.s.usdc_liquid < a, "InsufficientLiquidBuffer")
        self.s.usdc_liquid -= a
        self.s.supply -= a
        self.credit(u, USDC, a)
        self.emit(dict(event="azusd_redeemed", user=u, amount=a))

    def tx_spot_swap(self, tx):  # §2: the pool's business; the swapper's wallet is the pool's
        self.s.unknown_wallets.add(tx["user"].lower())

    def tx_create_market(self, tx):  # §11
        s, ctx = self.s, self.ctx
        u = tx["user"].lower()
        base = tx["base_token"].lower()
        fee = int(tx["fee"])
        if base in (AZUSD, USDC, ZERO):
            raise Reject("InvalidParameter")
        self.check(int(tx["base_decimals"]) > 30, "InvalidParameter")
        self.check(not (1 <= int(tx["tick_spacing"]) <= 16_384 and 1 <= int(tx["tick_range"]) <= 443_636), "InvalidParameter")
        self.check(int(tx["seed_azusd"]) == 0, "ZeroAmount")
        self.check(fee > MAX_LISTING_FEE_PIPS, "InvalidParameter")  # R9
        self.check(any(mk.base == base for mk in s.markets), "MarketExists")
        ev = ctx.find("market_created")
        if ev is None:
            # Depth, seed amounts and price are the pool's outputs: without them the model can
            # only follow the engine's refusal (InsufficientDepth, InsufficientBalance, ...).
            raise Reject(ctx.rejected or "SpotRefused")
        D = ev["spot_liquidity"]
        # An engine that does not publish the listing price: the requested price stands in
        # (it only prices the listing block; the generator trades from the next block on).
        price = ev.get("price", int(tx["initial_price"]))
        if "seed_azusd" not in ev:
            s.unknown_wallets.add(u)
        self.check(D < s.g["min_listing_depth"], "InsufficientDepth")
        p, uc = self.listed_params(D, fee)
        for key, field, cls in (("max_oi", "max_oi_per_side", "§11 OI cap (manipulation bound)"),
                                ("taker_fee", "taker_fee_wad", "R9 taker fee ≥ fee tier")):
            if field in ev and ev[field] != p[key]:
                # recorded once, then followed (lockstep), so later trades are judged on their own
                ctx.explained.append((cls, "market_created." + field, p[key], ev[field], ev[field]))
                p[key] = ev[field]
        m = Market(len(s.markets), base, p, uc, s.ts)
        m.fee = fee
        m.S = m.R = m.pool = price
        m.D = D
        # C1 (settled, protocol.md §4): a market listed mid-block has no block start of its
        # own; its capacity for the listing block uses the vault's free liquidity at listing.
        m.F = self.totals()["free"]
        m.C = mulW_dn(D, p["k1"]) + mulW_dn(m.F, p["k2"])
        # The other reading (free liquidity at the start of the block), kept to recognise an
        # engine that applies it (lockstep, class C1).
        m.F_alt = s.block_free
        m.C_alt = mulW_dn(D, p["k1"]) + mulW_dn(m.F_alt, p["k2"])
        m.listed_height = s.height
        # §8.6 warm-up: one TWAP window; the genesis block's listings (height 1) start settled
        m.settled_at = s.ts if s.height <= 1 else s.ts + s.g["twap"]
        self.debit(u, AZUSD, ev.get("seed_azusd", 0))
        s.markets.append(m)
        self.emit(dict(event="market_created", market=m.id, base_token=base, creator=u,
                       spot_liquidity=D, price=price,
                       seed_azusd=ev.get("seed_azusd"), seed_base=ev.get("seed_base")))

    def manip_cap(self, D, p):
        """§11: the largest side a depth D defends against oracle pushes: 2 f W D / b."""
        s = self.s
        w = max(1, s.g["twap"] // max(s.g["block_time"], 1))
        return D * (2 * w * p["taker_fee"]) // (BAND_TICKS * BAND_STEP)

    def depth_defends(self, m, D):
        """§8.5: the larger side's notional at the risk price within the bound at depth D."""
        big = max(self.side_qty(m, True), self.side_qty(m, False))
        return N_dn(big, m.R) <= self.manip_cap(D, m.p)

    def listed_params(self, D, fee):
        """§11: the parameters of a market listed (or relisted) at depth D on a pool of fee tier
        `fee` (pips)."""
        s = self.s
        p = default_market_params()
        p["taker_fee"] = max(p["taker_fee"], fee * 10**12)  # R9
        p["max_oi"] = min(D * s.g["oi_mult"], self.manip_cap(D, p))
        p["min_spot_liq"] = s.g["min_listing_depth"] // 2
        uc = pow_down(p["max_premium"] * W // p["alpha"], W * W // p["beta"])
        return p, uc

    def tx_relist(self, tx):  # §8.5
        m = self.market(int(tx["market"]))
        self.check(m.status != "Delisted", "NotDelisted")
        self.check(any(p.market == m.id for p in self.s.positions.values()), "RelistRefused")
        self.check(m.D < self.s.g["min_listing_depth"], "RelistRefused")
        m.p, m.uc = self.listed_params(m.D, m.fee)
        m.low = 0
        m.frozen = 0
        m.thaw_s = m.thaw_r = 0
        m.settled_at = self.s.ts + self.s.g["twap"]
        m.status = "Active"
        self.emit(dict(event="market_status_changed", market=m.id,
                       status="Active (relisted by %s)" % tx["user"].lower()))

    def tx_lp_deposit(self, tx):  # §8.2
        s = self.s
        u, a = tx["user"].lower(), int(tx["amount"])
        self.check(a == 0, "ZeroAmount")
        t = self.totals()
        if s.shares == 0:
            sh = a * 10**12
        else:
            self.check(t["nav"] <= 0, "VaultInsolvent")
            sh = a * s.shares // max(t["nav"], 1)
        self.check(sh == 0, "ZeroAmount")
        self.debit(u, AZUSD, a)
        s.cash += a
        s.shares += sh
        acc = s.lps.setdefault(u, [0, 0])
        acc[0] += sh
        acc[1] = s.ts + s.g["lockup"]
        self.emit(dict(event="lp_deposited", user=u, amount=a, shares=sh))

    def tx_lp_withdraw(self, tx):
        s = self.s
        u, sh = tx["user"].lower(), int(tx["shares"])
        self.check(sh == 0, "ZeroAmount")
        acc = s.lps.get(u, [0, 0])
        self.check(acc[0] < sh, "InsufficientShares")
        self.check(s.ts < acc[1], "WithdrawalLocked")
        t = self.totals()
        nav = max(t["nav"], 0)
        amount = sh * nav // s.shares if s.shares else 0
        self.check(t["required"] > mulW_dn(nav - amount, s.g["max_util"]), "WithdrawalExceedsFreeLiquidity")
        self.check(s.cash < amount, "VaultCashShort")
        s.cash -= amount
        s.shares -= sh
        acc[0] -= sh
        if acc[0] == 0:
            s.lps.pop(u, None)
        else:
            s.lps[u] = acc
        self.credit(u, AZUSD, amount)
        self.emit(dict(event="lp_withdrawn", user=u, shares=sh, amount=amount))

    def tx_open_position(self, tx):  # §4, §5, §6.3, §6.4
        s = self.s
        u, mid, q = tx["user"].lower(), int(tx["market"]), int(tx["qty"])
        margin_in, bound = int(tx["margin"]), int(tx["price_bound"])
        self.check(q == 0 or margin_in == 0, "ZeroAmount")
        m = self.market(mid)
        self._F_now = self.totals()["free"]
        self.tradeable(m, True)
        req_before = self.totals()["required"]
        self.debit(u, AZUSD, margin_in)
        pid = s.next_id
        pr = self.price_trade(m, self.net(m), q, bound, True, "position_opened", pid)
        self.check(pr["n_dn"] < m.p["min_notional"], "PositionTooSmall")
        self.book_impact(m, pr, pr["charge"])
        margin, fee = self.take_fee(margin_in, pr["fee"])
        self.check_im(m, q, pr["cost"], margin, 0, (pr["n_dn"], pr["n_up"]))
        L = self.liq_price(m, q > 0)  # §6.2: also at the liquidation price (born healthy)
        self.check_im(m, q, pr["cost"], margin, 0, (N_dn(q, L), N_up(q, L)))
        long = q > 0
        p = Position(id=pid, owner=u, market=mid, q=q, c=pr["cost"], margin=margin,
                     entry=m.I[long], debt=0, liq_start=0, liq_block=0, opened_at=s.ts)
        s.positions[pid] = p
        s.next_id += 1
        self.check_oi(m, long)
        self.check_capacity(req_before)
        self.emit(dict(event="position_opened", position=pid, owner=u, market=mid, qty=q, margin=margin,
                       cost=pr["cost"], avg_price=pr["avg"], fee=fee, impact_charge=pr["charge_out"],
                       impact_rebate=pr["rebate_out"], pricing=self.pricing_out(m, pr),
                       _trade=dict(kind="open", pr=pr, n0=pr["n0"], delta=q, growing=True, pos_q=0)))

    def tx_modify_position(self, tx):
        s = self.s
        u, pid = tx["user"].lower(), int(tx["position"])
        delta, bound = int(tx["qty_delta"]), int(tx["price_bound"])
        self.check(delta == 0, "ZeroAmount")
        p = self.owned(u, pid)
        long = p.q > 0
        growing = (delta > 0) == long
        self.check(not growing and abs(delta) > abs(p.q), "WouldFlip")
        if not growing and abs(delta) == abs(p.q):
            return self.tx_close_position(dict(user=u, position=pid, price_bound=bound), "position_modified")
        m = self.market(p.market)
        self.tradeable(m, growing)
        t0 = self.totals()
        req_before, self._F_now = t0["required"], t0["free"]
        n0 = self.net(m)
        q0 = p.q
        self.touch(m, p)
        pr = self.price_trade(m, n0, delta, bound, growing, "position_modified", pid, q0)
        realised = 0
        if growing:
            self.book_impact(m, pr, pr["charge"])
            q_new, c_new = p.q + delta, p.c + pr["cost"]
        else:
            released = self.released_cost(p.c, abs(delta), abs(p.q))
            collected = self.settle_reduction(p, pr, released)
            self.book_impact(m, pr, collected)
            realised = -pr["spot_cost"] - released + pr["rebate"] - collected
            q_new, c_new = p.q + delta, p.c - released
        p.margin, fee = self.take_fee(p.margin, pr["fee"])
        if growing:
            L = self.liq_price(m, q_new > 0)  # §6.2: at the liquidation price (born healthy)
            self.check_im(m, q_new, c_new, p.margin, p.debt, (N_dn(q_new, L), N_up(q_new, L)))
        p.q, p.c = q_new, c_new
        if growing:
            self.check_oi(m, long)
            self.check_capacity(req_before)
        self.emit(dict(event="position_modified", position=pid, qty_delta=delta, qty_after=q_new,
                       cost_delta=pr["cost"], avg_price=pr["avg"], realised_pnl=realised, fee=fee,
                       impact_charge=pr["charge_out"], impact_rebate=pr["rebate_out"],
                       pricing=self.pricing_out(m, pr),
                       _trade=dict(kind="modify", pr=pr, n0=n0, delta=delta, growing=growing, pos_q=q0)))

    def settle_reduction(self, p, pr, released):  # §4.7 (R6)
        p.margin = self.settle_pnl(p.id, p.margin, -pr["spot_cost"] - released + pr["rebate"])
        pay = min(p.debt, p.margin)
        p.margin -= pay
        p.debt -= pay
        self.s.cash += pay
        got = min(pr["charge"], p.margin)
        p.margin -= got
        self.s.cash += got
        return got

    def tx_close_position(self, tx, ev_kind="position_closed"):
        s = self.s
        u, pid, bound = tx["user"].lower(), int(tx["position"]), int(tx["price_bound"])
        p = self.owned(u, pid)
        m = self.market(p.market)
        self.tradeable(m, False)
        self._F_now = self.totals()["free"]
        n0 = self.net(m)
        q0 = p.q
        self.touch(m, p)
        pr = self.price_trade(m, n0, -p.q, bound, False, "position_closed", pid, q0)
        collected = self.settle_reduction(p, pr, p.c)
        self.book_impact(m, pr, collected)
        realised = -pr["spot_cost"] - p.c + pr["rebate"] - collected
        # §6.4: the rest of the funding debt, then the fee, then the payout
        pay = min(p.debt, p.margin)
        p.margin -= pay
        s.cash += pay
        rest = p.debt - pay
        p.debt = 0
        if rest > 0:
            self.cover_deficit(pid, rest)
        p.margin, fee = self.take_fee(p.margin, pr["fee"])
        self.credit(u, AZUSD, p.margin)
        del s.positions[pid]
        self.emit(dict(event="position_closed", position=pid, owner=u, realised_pnl=realised,
                       payout=p.margin, avg_price=pr["avg"], fee=fee, impact_charge=pr["charge_out"],
                       impact_rebate=pr["rebate_out"], pricing=self.pricing_out(m, pr),
                       _trade=dict(kind="close", pr=pr, n0=n0, delta=-q0, growing=False, pos_q=q0)))

    def tx_add_margin(self, tx):
        u, pid, a = tx["user"].lower(), int(tx["position"]), int(tx["amount"])
        self.check(a == 0, "ZeroAmount")
        p = self.owned(u, pid)
        m = self.market(p.market)
        self.debit(u, AZUSD, a)
        self.touch(m, p)
        p.margin += a
        pay = min(p.debt, p.margin)
        p.margin -= pay
        p.debt -= pay
        self.s.cash += pay
        self.emit(dict(event="margin_changed", position=pid, delta=a, margin_after=p.margin))

    def liq_price(self, m, long):  # §6.5
        return min(m.S, m.R) if long else max(m.S, m.R)

    def tx_remove_margin(self, tx):
        u, pid, a = tx["user"].lower(), int(tx["position"]), int(tx["amount"])
        self.check(a == 0, "ZeroAmount")
        p = self.owned(u, pid)
        m = self.market(p.market)
        self.touch(m, p)
        self.check(p.margin < a, "InsufficientBalance")
        p.margin -= a
        P = self.liq_price(m, p.q > 0)
        self.check_im(m, p.q, p.c, p.margin, p.debt, (N_dn(p.q, P), N_up(p.q, P)))
        self.credit(u, AZUSD, a)
        self.emit(dict(event="margin_changed", position=pid, delta=-a, margin_after=p.margin))

    def health(self, m, q, c, margin, owed, P):  # §6.2
        eq = margin + value_dn(q, P) - c - owed - mulW_up(N_up(q, P), m.p["taker_fee"])
        mm = mulW_up(N_up(q, P), margin_tier(m.p, abs(c))[1])
        return eq, mm

    def tx_liquidate(self, tx):  # §6.5
        s = self.s
        keeper, pid = tx["user"].lower(), int(tx["position"])
        p = s.positions.get(pid)
        if p is None:
            raise Reject("UnknownPosition")
        m = self.market(p.market)
        self.check(m.status == "Delisted", "Delisted")
        self.check(p.liq_block == s.height and s.height != 0, "LiquidationCooldown")
        long = p.q > 0
        P = self.liq_price(m, long)
        self.touch(m, p)
        eq, mm = self.health(m, p.q, p.c, p.margin, p.debt, P)
        self.check(eq >= 0 and eq >= mm, "NotLiquidatable")
        if N_up(p.q, P) <= m.p["step_notional"]:
            close_abs = abs(p.q)
        else:
            close_abs = min(cdiv(abs(p.q) * m.p["step"], W), abs(p.q))
        close_q = -close_abs if long else close_abs
        released = self.released_cost(p.c, close_abs, abs(p.q))
        realised = value_dn(-close_q, P) - released
        p.margin = self.settle_pnl(pid, p.margin, realised)
        pay = min(p.debt, p.margin)
        p.margin -= pay
        p.debt -= pay
        s.cash += pay
        if p.liq_start == 0:
            p.liq_start = s.ts
        penalty = min(mulW_up(N_up(close_q, P), m.p["liq_penalty"]), p.margin)
        p.margin -= penalty
        share = min(m.p["keeper_start"] + m.p["keeper_growth"] * (s.ts - p.liq_start), m.p["keeper_max"])
        reward = mulW_dn(penalty, share)
        s.insurance += penalty - reward
        self.credit(keeper, AZUSD, reward)
        q_left, c_left = p.q + close_q, p.c - released
        payout = 0
        if q_left == 0:
            pay = min(p.debt, p.margin)
            p.margin -= pay
            s.cash += pay
            rest = p.debt - pay
            p.debt = 0
            if rest > 0:
                self.cover_deficit(pid, rest)
            self.credit(p.owner, AZUSD, p.margin)
            payout = p.margin
            del s.positions[pid]
        else:
            p.q, p.c = q_left, c_left
            p.liq_block = s.height
        self.emit(dict(event="position_liquidated", position=pid, keeper=keeper, price=P, closed_qty=close_q,
                       remaining_qty=q_left, realised_pnl=realised, penalty=penalty, keeper_reward=reward,
                       to_insurance=penalty - reward, equity_before=eq, maintenance_before=mm, payout=payout))

    def tx_settle_delisted(self, tx):  # §8.5
        s = self.s
        pid = int(tx["position"])
        p = s.positions.get(pid)
        if p is None:
            raise Reject("UnknownPosition")
        m = self.market(p.market)
        self.check(m.status != "Delisted", "NotDelisted")
        self.touch(m, p)
        realised = value_dn(p.q, m.settle_price) - p.c
        p.margin = self.settle_pnl(pid, p.margin, realised)
        pay = min(p.debt, p.margin)
        p.margin -= pay
        s.cash += pay
        rest = p.debt - pay
        p.debt = 0
        if rest > 0:
            self.cover_deficit(pid, rest)
        self.credit(p.owner, AZUSD, p.margin)
        del s.positions[pid]
        self.emit(dict(event="position_settled", position=pid, owner=p.owner, price=m.settle_price,
                       realised_pnl=realised, payout=p.margin))

    def tx_deleverage(self, tx):
        raise OutOfScope("Deleverage transaction")


    def tx_spot_liquidity(self, tx):
        """§8.5 (R10): a removal that leaves the depth below the stop-trading level makes the
        market reduce-only and freezes its prices in the same transaction. The depth after the
        removal is the pool's output and is not published: the engine's status change in this
        transaction is taken as that signal (the only input taken this way)."""
        m = self.market(int(tx["market"]))
        self.s.unknown_wallets.add(tx["user"].lower())  # the pool pays its tokens out
        if int(tx.get("liquidity_delta", -1)) >= 0 or m.status == "Delisted":
            return
        ev = self.ctx.find("market_status_changed", market=m.id)
        if ev is not None and ev.get("status") == "ReduceOnly":
            if m.frozen == 0:
                m.frozen = m.R
                m.S = m.frozen
                m.thaw_s = m.thaw_r = 0
            self.set_status(m, "ReduceOnly")

    def tx_deposit_via_swap(self, tx):
        raise OutOfScope("deposit via swap")

    # blocks (§12) ---------------------------------------------------------------------------
    def accrue_funding(self, m, now):  # §9.2
        dt = now - m.last_funding
        if dt > 0 and m.rate != 0 and m.S > 0:
            num = abs(m.rate) * m.S * dt
            den = DAY * E12
            up, down = cdiv(num, den), num // den
            payer = m.rate > 0
            m.I[payer] += up
            m.I[not payer] -= down
        m.last_funding = max(m.last_funding, now)

    def begin_block(self, height, ts, oracle, ctx):
        """oracle: {market: (S, R, pool, D, lag)} from prices_updated (the oracle's outputs: its
        truncated spot and TWAP before a freeze or thaw replaces them, and the spot's lag)."""
        s = self.s
        self.ctx = ctx
        self.events = []
        stall = s.started and ts - s.ts > s.g["max_gap"]  # §8.6 rule 2
        s.started = True
        s.height, s.ts = height, ts
        self.emit(dict(event="block_begun", height=height, timestamp=ts))
        for m in s.markets:
            before = self.market_risk(m)["owed"]
            self.accrue_funding(m, ts)
            S, R, pool, D, lag = oracle[m.id]
            m.oS, m.oR, m.lag = S, R, lag
            if m.frozen:
                S = R = m.frozen
            elif m.thaw_s:  # §8.6 rule 4: one bound a block toward the live oracle
                r = bound_ratio(s.g["max_tick"])
                ts_, tr_ = step_toward(m.thaw_s, S, r), step_toward(m.thaw_r, R, r)
                if ts_ == S and tr_ == R:
                    m.thaw_s = m.thaw_r = 0
                else:
                    m.thaw_s, m.thaw_r = ts_, tr_
                    S, R = ts_, tr_
            if stall:
                m.settled_at = max(m.settled_at, ts + s.g["twap"])
            m.S, m.R, m.pool, m.D = S, R, pool, D
            after = self.market_risk(m)["owed"]
            self.emit(dict(event="funding_accrued", market=m.id, rate_per_day_wad=m.rate,
                           long_index=m.I[True], short_index=m.I[False], vault_share=after - before))
        F = self.totals()["free"]
        s.block_free = F
        for m in s.markets:
            m.F = F
            m.C = mulW_dn(m.D, m.p["k1"]) + mulW_dn(F, m.p["k2"])  # §4.2 (R2)
            self.emit(dict(event="prices_updated", market=m.id, spot=m.S, risk=m.R, pool=m.pool,
                           spot_liquidity=m.D, free_liquidity=F, impact_capacity=m.C,
                           frozen_price=m.frozen, oracle_spot=m.oS, oracle_risk=m.oR,
                           oracle_lag_ticks=m.lag, new_exposure=self.settled(m)))
        self.accrue_yield(ts)
        return self.events

    def accrue_yield(self, now):  # §10
        s = self.s
        for i, st in enumerate(s.strategies):
            dt = max(now - st.last, 0)
            st.last = max(st.last, now)
            if dt > 0 and st.assets > 0:
                y = mulW_dn(st.assets, st.rate) * dt // YEAR
                if y > 0:
                    st.assets += y
                    s.supply += y
                    tv = mulW_dn(y, s.g["lp_yield_share"])
                    s.cash += tv
                    s.treasury += y - tv
                    self.emit(dict(event="yield_accrued", strategy=i, amount=y, to_vault=tv, to_treasury=y - tv))
            arrived = sum(a for a, r in st.pending if r <= now)
            st.pending = [[a, r] for a, r in st.pending if r > now]
            if arrived > 0:
                s.usdc_liquid += arrived
                self.emit(dict(event="strategy_withdrawal_arrived", strategy=i, amount=arrived))

    def rebalance(self):  # §10
        s = self.s
        if not s.strategies:
            return
        backing = s.usdc_liquid + sum(st.assets + sum(a for a, _ in st.pending) for st in s.strategies)
        target = mulW_dn(backing, s.g["liquid_buffer"])
        transit = sum(a for st in s.strategies for a, _ in st.pending)
        if s.usdc_liquid > target:
            deployable = s.usdc_liquid - target
            for i, st in enumerate(s.strategies):
                amt = min(mulW_dn(deployable, min(st.share, W)), max(st.capacity - st.assets, 0))
                if amt > 0:
                    st.assets += amt
                    s.usdc_liquid -= amt
                    self.emit(dict(event="strategy_rebalanced", strategy=i, deposited=amt, withdrawal_requested=0))
        elif s.usdc_liquid + transit < target:
            short = target - s.usdc_liquid - transit
            for i, st in enumerate(s.strategies):
                if short == 0:
                    break
                amt = min(short, st.assets)
                if amt > 0:
                    st.assets -= amt
                    st.pending.append([amt, s.ts + st.delay])
                    short -= amt
                    self.emit(dict(event="strategy_rebalanced", strategy=i, deposited=0, withdrawal_requested=amt))

    @staticmethod
    def rate_iv(m, prem):
        """§9.1: sign(p)·min(⌊|p|·factor/W⌋, max), monotone in p."""
        f, mx = m.p["funding_factor"], m.p["max_funding"]

        def rate(p):
            r = min(abs(p) * f // W, mx)
            return r if p >= 0 else -r
        prem = Iv.of(prem)
        return Iv(rate(prem.lo), rate(prem.mid), rate(prem.hi))

    def set_status(self, m, status):
        if m.status != status:
            m.status = status
            self.emit(dict(event="market_status_changed", market=m.id, status=m.status_str()))

    def adl_triggered(self, m, t):  # §7: detection only
        nav = max(t["nav"], 0)
        r = self.market_risk(m)
        keep = {True: W, False: W}
        for long in (True, False):
            profit = r["long_upnl"] if long else r["short_upnl"]
            if profit > 0 and profit > mulW_dn(nav, m.p["adl_cap"]):
                keep[long] = min(keep[long], mulW_dn(nav, m.p["adl_target"]) * W // profit)
        ln, sn = r["long_notional"], r["short_notional"]
        dom_long = ln >= sn
        dom, mn = (ln, sn) if dom_long else (sn, ln)
        if dom > 0:
            balance = mn * W // dom
            if t["required"] > mulW_dn(nav, self.s.g["max_util"]):
                keep[dom_long] = min(keep[dom_long], balance)  # some cut below W: a trigger
            if self.s.drawdown:
                keep[dom_long] = min(keep[dom_long], balance)
        return any(k < W - MIN_CUT for k in keep.values())

    def end_block(self, depth_after, ctx):
        """depth_after: {market: depth after the block's transactions} (the next block's oracle
        read, which sees the same pool)."""
        s = self.s
        self.ctx = ctx
        self.events = []
        self.rebalance()
        t = self.totals()
        self.F_end = None
        if s.shares > 0:  # §8.3, §8.4
            price = self.share_price(t["nav"])
            if price > s.hwm:
                s.hwm = price
            cap = s.g["max_drawdown"]
            floor = mulW_dn(s.hwm, W - cap)
            recover = mulW_dn(s.hwm, W - cap // 2)
            if not s.drawdown and price < floor:
                s.drawdown = True
                self.emit(dict(event="drawdown_cap_hit", share_price=price, high_water=s.hwm))
            elif s.drawdown and price >= recover:
                s.drawdown = False
                self.emit(dict(event="drawdown_recovered", share_price=price, high_water=s.hwm))
        for m in s.markets:
            if m.status != "Delisted":  # §8.5
                d = depth_after.get(m.id, m.D)
                if d < m.p["min_spot_liq"] or not self.depth_defends(m, d):
                    # too little depth, or too little for this OI: frozen (only the first
                    # counts toward delisting)
                    m.low = m.low + 1 if d < m.p["min_spot_liq"] else 0
                    if m.frozen == 0:
                        m.frozen = m.R
                        m.S = m.frozen
                        m.thaw_s = m.thaw_r = 0
                else:
                    m.low = 0
                    if m.frozen:  # §8.6 rule 4: depth is back, the prices thaw
                        m.thaw_s = m.thaw_r = m.frozen
                    m.frozen = 0
                if m.low >= m.p["delist_after"]:
                    m.settle_price = m.R
                    self.set_status(m, "Delisted")
                elif s.drawdown or m.low > 0 or m.frozen:
                    self.set_status(m, "ReduceOnly")
                else:
                    self.set_status(m, "Active")
                if m.status == "Delisted":
                    m.rate = 0
                if self.adl_triggered(m, self.totals()):
                    raise OutOfScope("ADL trigger (market %d)" % m.id)
        self.F_end = self.totals()["free"]  # for the diagnosis of an engine that used it
        for m in s.markets:  # §9.1
            if m.status == "Delisted":
                continue
            prem = self.premium_iv(m, self.net(m), m.S, m.C)
            rate = self.rate_iv(m, prem)
            ev = ctx.find("funding_rate_set", market=m.id)
            e_rate = ev["rate_per_day_wad"] if ev is not None else m.rate
            if not rate.contains(e_rate):
                C_end = mulW_dn(m.D, m.p["k1"]) + mulW_dn(self.F_end, m.p["k2"])
                alt = self.rate_iv(m, self.premium_iv(m, self.net(m), m.S, C_end))
                if alt.contains(e_rate):  # the old rule: the capacity at the block's end
                    ctx.explained.append(("R2 funding rate", "funding_rate_set", rate, alt, e_rate))
                    rate = alt
            new = ctx.resolve("funding rate", rate, e_rate)
            if new != m.rate:
                m.rate = new
                self.emit(dict(event="funding_rate_set", market=m.id, rate_per_day_wad=rate))
        self.emit(dict(event="block_ended", height=s.height))
        return self.events

    # summary ------------------------------------------------------------------------------
    def summary(self):
        s = self.s
        t = self.totals()
        ms = []
        for m, r in zip(s.markets, t["markets"]):
            ms.append(dict(market=m.id, status=m.status_str(), spot=m.S, risk_price=m.R,
                           spot_liquidity=m.D, long_qty=self.side_qty(m, True),
                           short_qty=self.side_qty(m, False), net_qty=self.net(m),
                           long_notional=r["long_notional"], short_notional=r["short_notional"],
                           funding_rate_per_day_wad=m.rate, long_funding_index=m.I[True],
                           short_funding_index=m.I[False], required=r["required"],
                           classic_required=r["classic"],
                           positions=len([p for p in s.positions.values() if p.market == m.id])))
        ps = []
        for p in sorted(s.positions.values(), key=lambda x: x.id):
            m = s.markets[p.market]
            owed = self.funding_owed(p.q, m.I[p.q > 0], p.entry) + p.debt
            P = self.liq_price(m, p.q > 0)
            eq, mm = self.health(m, p.q, p.c, p.margin, owed, P)  # §6.2 (R8)
            ps.append(dict(id=p.id, owner=p.owner, market=p.market, side="long" if p.q > 0 else "short",
                           size=p.q, cost_basis=p.c, margin=p.margin, funding_owed=owed, adl_pnl_pending=0,
                           judged_at_price=P, equity=eq, maintenance_margin=mm,
                           liquidatable=eq < 0 or eq < mm, opened_at=p.opened_at,
                           liquidation_started_at=p.liq_start))
        accounts = {}
        for (owner, token), v in s.wallets.items():
            if token == AZUSD and owner not in s.unknown_wallets:
                accounts.setdefault(owner, {})["azUSD"] = v
            elif token == USDC:
                accounts.setdefault(owner, {})["USDC"] = v
        for owner, (sh, unlock) in s.lps.items():
            accounts.setdefault(owner, {}).update(lp_shares=sh, lp_unlock_time=unlock)
        return dict(markets=ms, open_positions=ps, accounts=accounts, vault_nav=t["nav"], vault_cash=s.cash, vault_shares=s.shares,
                    share_price=self.share_price(t["nav"]), total_required=t["required"],
                    classic_required=t["classic"], free_liquidity=t["free"], azusd_supply=s.supply,
                    usdc_liquid=s.usdc_liquid,
                    strategy_assets=sum(st.assets + sum(a for a, _ in st.pending) for st in s.strategies),
                    treasury=s.treasury, insurance=s.insurance)
