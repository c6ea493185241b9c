"""Random scenario files (seeded) in the format of crates/azex-exchange/src/scenario.rs.

Default parameters throughout (k2 > 0): nothing is special-cased to make the model simpler.
Each scenario: a genesis with funded users (optionally yield strategies), a listing and an LP
deposit, then blocks of opens, modifies, closes, margin changes, liquidation attempts, spot
swaps that move the pool (hence the truncated spot and its TWAP), LP deposits and withdrawals,
mints and redemptions, with time passing between blocks (seconds to a day, for funding).
Sizes are drawn relative to the market's impact capacity so that the premium cap, the clamp,
thin closes and zero crossings are all reached. Every scenario ends with an empty block.
"""
import json
import random

U = 10**6
Q = 10**18
W = 10**18
USDC = "0x00000000000000000000000000000000005dc000"


def a(n):
    return "0x%040x" % (0xAA << 152 | n)


def token(n):
    return "0x%040x" % (0xB0 << 152 | n)


LISTER, LP2, SWAPPER, KEEPER = 1, 7, 8, 9
TRADERS = [2, 3, 4, 5, 6]
FEES = [(100, 1), (500, 10), (3000, 60), (10_000, 200)]


def max_leverage(notional_usd):
    """The highest leverage the default margin tiers allow at this entry size, less a margin for
    impact and fees (§6.1)."""
    im = 0.05 if notional_usd <= 1e5 else 0.10 if notional_usd <= 1e6 else 0.20 if notional_usd <= 1e7 else 0.5
    return 1 / (im + 0.012)


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.lines = []
        self.h = 0
        self.ts = 1_700_000_000
        self.markets = []  # dict(price, cap_estimate)
        self.positions = []  # guessed (id, owner, market, qty)
        self.opens = 0
        self.lp_shares = {}  # user -> rough share count (first-deposit units)
        self.usdc = {}

    def add(self, obj):
        self.lines.append(json.dumps(obj))

    def block(self, dt=None):
        r = self.r
        if dt is None:
            dt = r.choice([2, 2, 2, 4, 10, 60, 600, 3600, 14_400, 86_400])
        self.h += 1
        self.ts += dt
        self.add({"block": {"height": self.h, "timestamp": self.ts}})
        if dt > 2 and r.random() < 0.85:
            # A block after a stall holds new exposure back for one TWAP window (protocol.md
            # §8.6): mostly wait it out (31 blocks of 2 s), sometimes trade into the refusal.
            self.add({"blocks": {"count": 31, "seconds": 2}})
            self.h += 31
            self.ts += 62

    def genesis(self):
        r = self.r
        bal = []
        for u in [LISTER, LP2, SWAPPER] + TRADERS:
            usd = {LISTER: 400, LP2: 40, SWAPPER: 5}.get(u) or r.choice([2, 20, 200])
            self.usdc[u] = usd * 10**6
            bal.append({"owner": a(u), "token": USDC, "amount": str(usd * 10**6 * U)})
        for u in (LISTER, SWAPPER):
            for t in (1, 2):
                bal.append({"owner": a(u), "token": token(t), "amount": str(10**13 * Q)})
        g = {"balances": bal}
        if r.random() < 0.4:
            g["strategies"] = [
                {"name": "aave-usdc", "rate_per_year_wad": str(r.choice([2, 4, 9]) * W // 100),
                 "capacity": str(r.choice([10**6, 5 * 10**7]) * U), "withdrawal_delay_secs": 0,
                 "target_share_wad": str(r.choice([3, 5]) * W // 10)},
                {"name": "morpho-usdc", "rate_per_year_wad": str(6 * W // 100),
                 "capacity": str(2 * 10**7 * U), "withdrawal_delay_secs": r.choice([0, 3600, 86_400]),
                 "target_share_wad": str(W // 5)}][: r.choice([1, 2])]
        self.add({"genesis": g})

    def mint(self, u, usd):
        self.add({"tx": {"type": "mint_azusd", "user": a(u), "usdc": str(usd * U)}})

    def listing(self, t):
        r = self.r
        price = r.choice([0.05, 0.8, 3, 17, 150, 2000, 2000, 45_000]) * r.uniform(0.7, 1.4)
        price_w = int(price * 10**6) * 10**12
        fee, spacing = r.choice(FEES)
        if r.random() < 0.06:
            fee, spacing = 20_000, 200  # above the 1 % bound: refused (R9)
        rng = r.choice([1200, 3000, 6000, 6000, 12_000])
        depth = 10 ** r.uniform(4.95, 6.7)  # target depth (the listing minimum is $50k)
        seed_usd = int(min(depth * rng / 198 * 0.6, 2.4e8))
        self.add({"tx": {"type": "create_market", "user": a(LISTER), "base_token": token(t),
                         "base_decimals": r.choice([18, 18, 8, 6]), "fee": fee, "tick_spacing": spacing,
                         "initial_price": str(price_w), "tick_range": rng, "seed_azusd": str(seed_usd * U)}})
        if fee > 10_000:
            fee, spacing = 3000, 60
            self.add({"tx": {"type": "create_market", "user": a(LISTER), "base_token": token(t),
                             "base_decimals": 18, "fee": fee, "tick_spacing": spacing,
                             "initial_price": str(price_w), "tick_range": rng, "seed_azusd": str(seed_usd * U)}})
        self.markets.append(dict(price=price, depth=depth, rng=rng))

    def lp_deposit(self, u, usd):
        self.add({"tx": {"type": "lp_deposit", "user": a(u), "amount": str(usd * U)}})
        self.lp_shares[u] = self.lp_shares.get(u, 0) + usd * U * 10**12

    def capacity_estimate(self, mi):
        m = self.markets[mi]
        return m["depth"] + 0.45 * self.vault

    def open(self):
        r = self.r
        mi = r.randrange(len(self.markets))
        m = self.markets[mi]
        u = r.choice(TRADERS)
        cap = self.capacity_estimate(mi)
        kind = r.random()
        if kind < 0.15:
            frac = r.uniform(0.3, 0.8)  # near and beyond the premium cap
        elif kind < 0.25:
            frac = 10 ** r.uniform(-7, -5)  # tiny, around the minimum size
        else:
            frac = 10 ** r.uniform(-4, -0.8)
        notional = max(cap * frac, 1)
        qty = int(notional / m["price"] * Q)
        if qty == 0:
            qty = 1
        if r.random() < 0.5:
            qty = -qty
        lev = max_leverage(notional) * r.choice([0.1, 0.3, 0.6, 0.9, 0.97, 1.1])
        margin = max(int(notional / lev * U * r.uniform(1.0, 1.3)), 1)
        bound = str(10**30) if qty > 0 else "0"
        if r.random() < 0.12:  # a tight bound, near the spot
            px = m["price"] * (1 + (0.002 if qty > 0 else -0.002) * r.uniform(-1, 3))
            bound = str(int(px * 10**6) * 10**12)
        self.add({"tx": {"type": "open_position", "user": a(u), "market": mi, "qty": str(qty),
                         "margin": str(margin), "price_bound": bound}})
        self.opens += 1
        self.positions.append([self.opens, u, mi, qty])

    def pick(self):
        if not self.positions:
            return None
        return self.r.choice(self.positions)

    def modify(self):
        r = self.r
        p = self.pick()
        if p is None:
            return
        pid, u, mi, q = p
        if r.random() < 0.5:
            d = -int(q * r.choice([0.1, 0.25, 0.5, 0.9, 1.0]))
        else:
            d = int(q * r.choice([0.1, 0.5, 1.0, 3.0]))
        if d == 0:
            d = -q
        bound = str(10**30) if d > 0 else "0"
        if r.random() < 0.05:
            u = r.choice(TRADERS)  # maybe not the owner
        self.add({"tx": {"type": "modify_position", "user": a(u), "position": pid, "qty_delta": str(d),
                         "price_bound": bound}})

    def close(self):
        p = self.pick()
        if p is None:
            return
        pid, u, mi, q = p
        self.add({"tx": {"type": "close_position", "user": a(u), "position": pid,
                         "price_bound": "0" if q > 0 else str(10**30)}})
        self.positions.remove(p)

    def margin(self):
        r = self.r
        p = self.pick()
        if p is None:
            return
        pid, u, mi, q = p
        amt = int(abs(q) * self.markets[mi]["price"] / Q * U * r.choice([0.001, 0.01, 0.05, 0.3]))
        t = "add_margin" if r.random() < 0.5 else "remove_margin"
        self.add({"tx": {"type": t, "user": a(u), "position": pid, "amount": str(max(amt, 1))}})

    def liquidate(self):
        p = self.pick()
        if p is None:
            return
        self.add({"tx": {"type": "liquidate", "user": a(KEEPER), "position": p[0]}})

    def swap(self):
        r = self.r
        mi = r.randrange(len(self.markets))
        m = self.markets[mi]
        move = r.choice([-1, 1]) * r.choice([0.002, 0.006, 0.015, 0.03, 0.06])
        m["price"] *= 1 + move
        self.add({"swap_to_price": {"user": a(SWAPPER), "market": mi,
                                    "price": str(int(m["price"] * 10**6) * 10**12)}})

    def lp(self):
        r = self.r
        u = r.choice([LISTER, LP2])
        if r.random() < 0.5 or u not in self.lp_shares:
            usd = int(10 ** r.uniform(4, 7))
            self.vault += usd
            self.lp_deposit(u, usd)
        else:
            sh = int(self.lp_shares[u] * r.choice([0.01, 0.1, 0.5, 0.9]))
            self.add({"tx": {"type": "lp_withdraw", "user": a(u), "shares": str(max(sh, 1))}})

    def ledger(self):
        r = self.r
        u = r.choice(TRADERS)
        if r.random() < 0.6:
            self.mint(u, int(10 ** r.uniform(3, 6)))
        else:
            self.add({"tx": {"type": "redeem_azusd", "user": a(u), "azusd": str(int(10 ** r.uniform(3, 6)) * U)}})

    # episodes: the regions a uniform draw rarely reaches --------------------------------------
    def trend(self, mi=None, down=None, keepers=True):
        """The pool pushed the same way block after block, the truncated spot and its TWAP
        following 0.5 % per block; then keepers try the positions (liquidations, R8 equity)."""
        r = self.r
        mi = r.randrange(len(self.markets)) if mi is None else mi
        m = self.markets[mi]
        down = r.random() < 0.5 if down is None else down
        for _ in range(r.randint(3, 7)):
            m["price"] *= (1 - r.uniform(0.01, 0.03)) if down else (1 + r.uniform(0.01, 0.03))
            self.add({"swap_to_price": {"user": a(SWAPPER), "market": mi,
                                        "price": str(int(m["price"] * 10**6) * 10**12)}})
            self.add({"blocks": {"count": r.randint(4, 12), "seconds": 2}})
            self._resync_height()
            self.block(2)
            for p in r.sample(self.positions, min(len(self.positions), 3)) if keepers else []:
                self.add({"tx": {"type": "liquidate", "user": a(KEEPER), "position": p[0]}})

    def funding_days(self):
        """Days without a touch: funding beyond the margin becomes debt (R8)."""
        r = self.r
        if r.random() < 0.7:
            self.big_pair(r.choice([0.8, 0.95, 0.99]), 0.3)  # the dominant side pays
        self.add({"blocks": {"count": r.randint(4, 15), "seconds": 86_400}})
        self._resync_height()
        self.block(2)
        for p in r.sample(self.positions, min(len(self.positions), 4)):
            what = r.choice(["liquidate", "add_margin", "close_position", "modify_position", "remove_margin"])
            pid, u, mi, q = p
            if what == "liquidate":
                self.add({"tx": {"type": "liquidate", "user": a(KEEPER), "position": pid}})
            elif what in ("add_margin", "remove_margin"):
                self.add({"tx": {"type": what, "user": a(u), "position": pid, "amount": str(r.choice([1, 10**6, 10**8]))}})
            elif what == "close_position":
                self.add({"tx": {"type": what, "user": a(u), "position": pid, "price_bound": "0" if q > 0 else str(10**30)}})
            else:
                self.add({"tx": {"type": what, "user": a(u), "position": pid, "qty_delta": str(-q // 2 or -q),
                                 "price_bound": "0" if q > 0 else str(10**30)}})

    def big_pair(self, dominant_lev, minority_lev):
        """A large position (the market's net) and a levered one against it."""
        r = self.r
        mi = r.randrange(len(self.markets))
        m = self.markets[mi]
        notional = self.capacity_estimate(mi) * r.uniform(0.3, 0.55)
        sign = 1 if r.random() < 0.5 else -1
        out = []
        for frac, lev, sg in ((1.0, dominant_lev, sign), (r.uniform(0.1, 0.5), minority_lev, -sign)):
            u = r.choice(TRADERS)
            lev = max_leverage(notional * frac) * lev
            qty = int(notional * frac / m["price"] * Q) * sg
            self.add({"tx": {"type": "open_position", "user": a(u), "market": mi, "qty": str(qty),
                             "margin": str(int(notional * frac / lev * U)),
                             "price_bound": str(10**30) if qty > 0 else "0"}})
            self.opens += 1
            self.positions.append([self.opens, u, mi, qty])
            out.append(self.positions[-1])
        return mi, out

    def thin_close(self):
        """The market's net near the clamp and a levered position against it; the price moves
        against that position, then it closes: its charge (it grows |net|) is collected only
        from what it holds, the rest waived (R6), at most p_c per unit (R4)."""
        r = self.r
        mi, (dom, mino) = self.big_pair(0.3, r.choice([0.85, 0.95, 0.99]))
        if r.random() < 0.5 and self.lp_shares.get(LISTER):
            self.add({"tx": {"type": "lp_withdraw", "user": a(LISTER), "shares": str(int(self.lp_shares[LISTER] * 0.4))}})
        self.trend(mi, down=mino[3] > 0, keepers=False)
        self.add({"tx": {"type": "close_position", "user": a(mino[1]), "position": mino[0],
                         "price_bound": "0" if mino[3] > 0 else str(10**30)}})

    def range_exit(self):
        """The pool pushed out of its liquidity range: depth falls below the stop-trading level,
        the market freezes and goes reduce-only (R10), then is delisted and settled (§8.5)."""
        r = self.r
        mi = min(range(len(self.markets)), key=lambda i: self.markets[i]["rng"])
        m = self.markets[mi]
        move = 1.0001 ** (m["rng"] * 1.3)
        down = r.random() < 0.5
        m["price"] = m["price"] / move if down else m["price"] * move
        self.add({"swap_to_price": {"user": a(SWAPPER), "market": mi,
                                    "price": str(int(m["price"] * 10**6) * 10**12)}})
        self.block(2)
        for p in self.positions[-3:]:
            self.add({"tx": {"type": "close_position", "user": a(p[1]), "position": p[0],
                             "price_bound": "0" if p[3] > 0 else str(10**30)}})
        self.open()
        self.add({"blocks": {"count": r.randint(3, 14), "seconds": 2}})
        self._resync_height()
        self.block(2)
        for p in self.positions:
            self.add({"tx": {"type": "settle_delisted", "user": a(KEEPER), "position": p[0]}})
        if r.random() < 0.5:  # depth back: the pool returned into its range
            m["price"] = m["price"] * move if down else m["price"] / move
            self.add({"swap_to_price": {"user": a(SWAPPER), "market": mi,
                                        "price": str(int(m["price"] * 10**6) * 10**12)}})
            self.block(2)
            self.open()

    def scenario(self):
        r = self.r
        self.genesis()
        self.block(0)
        for u in [LISTER, LP2] + TRADERS:
            self.mint(u, {LISTER: 350_000_000, LP2: 35_000_000}.get(u, int(self.usdc[u] * 0.7)))
        self.mint(SWAPPER, 1_000_000)
        self.vault = int(10 ** r.uniform(5.3, 7.5))
        if r.random() < 0.15:
            self.lp_deposit(LISTER, self.vault)  # deposit before the listing
            self.listing(1)
        else:
            self.listing(1)
            self.lp_deposit(LISTER, self.vault)
        second = r.random() < 0.15
        nblocks = r.randint(3, 12)
        weights = [("open", 30), ("modify", 14), ("close", 10), ("margin", 8), ("liquidate", 8),
                   ("swap", 12), ("lp", 6), ("ledger", 3)]
        episodes = [e for e, pr in (("trend", 0.35), ("funding_days", 0.3), ("thin_close", 0.2),
                                    ("range_exit", 0.1)) if r.random() < pr]
        r.shuffle(episodes)
        for b in range(nblocks):
            if r.random() < 0.1:
                self.add({"blocks": {"count": r.randint(2, 40), "seconds": r.choice([2, 12, 60])}})
                self.h = None  # re-derived below
                self._resync_height()
            self.block()
            n = r.choice([0, 1, 2, 3, 4, 6, 8])
            for i in range(n):
                if second and len(self.markets) == 1 and b >= 1 and r.random() < 0.3:
                    self.listing(2)
                    continue
                what = r.choices([w for w, _ in weights], [x for _, x in weights])[0]
                getattr(self, what)()
            if episodes and b >= 1 and r.random() < 0.4:
                getattr(self, episodes.pop())()
        self.block(r.choice([2, 60, 3600, 86_400]))
        return "\n".join(self.lines) + "\n"

    def _resync_height(self):
        # a {"blocks": ...} line advances height and time; recompute from the lines written
        h, ts = 0, 0
        for raw in self.lines:
            o = json.loads(raw)
            if "block" in o:
                h, ts = o["block"]["height"], o["block"]["timestamp"]
            elif "blocks" in o:
                h += o["blocks"]["count"]
                ts += o["blocks"]["count"] * o["blocks"]["seconds"]
        self.h, self.ts = h, ts


def generate(seed):
    return Gen(seed).scenario()


if __name__ == "__main__":
    import sys
    print(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 1), end="")
