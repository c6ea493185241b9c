#!/usr/bin/env python3
"""Writes the example scenario files of this folder (run from anywhere: python3 make_scenarios.py).

Units: azUSD 1e-6 (U), sizes 1e-18 (Q), prices WAD (W). Users: 1 lister and LP, 2-3 traders,
4 a market maker who moves the spot pool, 5 an attacker, 9 a keeper (no funds needed).
"""
import json, os

U = 10**6; Q = 10**18; W = 10**18
USDC = "0x00000000000000000000000000000000005dc000"
BASE = "0x%040x" % (0xB0 << 152 | 1)
HERE = os.path.dirname(os.path.abspath(__file__))

def a(n): return "0x%040x" % (0xAA << 152 | n)

def genesis(strategies=True):
    bal = []
    for u in range(1, 6):
        bal.append({"owner": a(u), "token": USDC, "amount": str(100_000_000 * U)})
        bal.append({"owner": a(u), "token": BASE, "amount": str(1_000_000 * Q)})
    g = {"balances": bal}
    if strategies:
        g["strategies"] = [
            {"name": "aave-usdc", "rate_per_year_wad": str(4 * W // 100), "capacity": str(50_000_000 * U), "withdrawal_delay_secs": 0, "target_share_wad": str(W // 2)},
            {"name": "morpho-usdc", "rate_per_year_wad": str(6 * W // 100), "capacity": str(20_000_000 * U), "withdrawal_delay_secs": 86400, "target_share_wad": str(3 * W // 10)}]
    return {"genesis": g}

def setup(lp, seed=20_000_000, strategies=True):
    L = [{"comment": "five funded users; BASE listed at $2,000 by user 1 with $%s of azUSD (+ BASE) over +-6000 ticks; $%s in the LP vault" % (f"{seed:,}", f"{lp:,}")},
         genesis(strategies), {"block": {"height": 1, "timestamp": 1700000000}}]
    for u in range(1, 6):
        L.append({"tx": {"type": "mint_azusd", "user": a(u), "usdc": str(50_000_000 * U)}})
    L.append({"tx": {"type": "create_market", "user": a(1), "base_token": BASE, "base_decimals": 18, "fee": 500, "tick_spacing": 10,
                     "initial_price": str(2000 * W), "tick_range": 6000, "seed_azusd": str(seed * U)}, "expect": "ok"})
    L.append({"tx": {"type": "lp_deposit", "user": a(1), "amount": str(lp * U)}, "expect": "ok"})
    L.append({"block": {"height": 2, "timestamp": 1700000002}})
    return L

def op(u, qty, margin, expect="ok"):
    return {"tx": {"type": "open_position", "user": a(u), "market": 0, "qty": str(qty), "margin": str(margin * U),
                   "price_bound": str(10**30 if qty > 0 else 0)}, "expect": expect}

def close(u, pos, expect="ok", long=True):
    return {"tx": {"type": "close_position", "user": a(u), "position": pos, "price_bound": "0" if long else str(10**30)}, "expect": expect}

def liq(pos, expect="ok"):
    return {"tx": {"type": "liquidate", "user": a(9), "position": pos}, "expect": expect}

def swap_to(price, expect="ok"):
    return {"swap_to_price": {"user": a(4), "market": 0, "price": str(int(price * W))}, "expect": expect}

def blocks(n, s=2): return {"blocks": {"count": n, "seconds": s}}

def c(text): return {"comment": text}

def write(name, lines):
    with open(os.path.join(HERE, name), "w") as f:
        for l in lines:
            if "comment" in l and len(l) == 1:
                f.write("# " + l["comment"] + "\n")
            else:
                f.write(json.dumps(l) + "\n")

# --- issue 3: the exchange --------------------------------------------------------------------
L = setup(10_000_000)
L.append(c("longs and shorts nearly offset: 300 long vs 290 short"))
L += [op(2, 200 * Q, 100_000), op(3, -190 * Q, 100_000), op(4, 100 * Q, 50_000), op(5, -100 * Q, 50_000)]
L.append({"block": {"height": 3, "timestamp": 1700003602}})
L.append(c("an hour later: half of one long closes; a short's grow waits (a block an hour after the last is a stall:"))
L.append(c("no new exposure for one TWAP window, docs/risk.md section 8), then grows a little"))
L.append({"tx": {"type": "modify_position", "user": a(4), "position": 3, "qty_delta": str(-50 * Q), "price_bound": "0"}, "expect": "ok"})
L.append({"tx": {"type": "modify_position", "user": a(5), "position": 4, "qty_delta": str(-5 * Q), "price_bound": "0"}, "expect": "PriceNotSettled"})
L.append(blocks(30))
L.append({"tx": {"type": "modify_position", "user": a(5), "position": 4, "qty_delta": str(-5 * Q), "price_bound": "0"}, "expect": "ok"})
L.append(blocks(1, 86_340))
write("balanced.jsonl", L)

L = setup(10_000_000)
L.append(c("a one-sided market: longs dominate, funding makes them pay, the vault carries the net"))
L += [op(2, 300 * Q, 150_000), op(3, 200 * Q, 100_000), op(4, -50 * Q, 30_000)]
for h, t in [(3, 1700003602), (4, 1700007202), (5, 1700090002)]:
    L.append({"block": {"height": h, "timestamp": t}})
L.append(close(2, 1))
L.append({"block": {"height": 6, "timestamp": 1700090014}})
write("imbalanced.jsonl", L)

L = setup(50_000)
L.append(c("a $50k vault (90% usable) cannot back a one-sided $60k long: the trade is rejected before it executes"))
L.append(op(2, 30 * Q, 15_000, "VaultCapacityExceeded"))
L.append(c("a balancing pair fits: the net is what the vault backs"))
L.append(op(2, 5 * Q, 2_000))
L.append(op(3, -5 * Q, 2_000))
L.append(c("withdrawing the LP capital that backs them is refused"))
L.append({"block": {"height": 3, "timestamp": 1700007202}})
L.append({"tx": {"type": "lp_withdraw", "user": a(1), "shares": str(50_000 * U * 10**12)}, "expect": "WithdrawalExceedsFreeLiquidity"})
L.append({"block": {"height": 4, "timestamp": 1700007214}})
write("over-limit.jsonl", L)

# --- issue 4: liquidation and protection --------------------------------------------------------
L = setup(20_000_000, seed=20_000_000, strategies=False)
L.append(c("a 19x long (position 1) and a well-margined short"))
L += [op(2, 10 * Q, 1_050), op(3, -10 * Q, 5_000)]
L.append(liq(1, "NotLiquidatable"))
L.append(c("the market maker pushes the pool 3% down; the truncated oracle follows 0.5% per block"))
L.append(swap_to(1940))
L.append(blocks(3))
L.append(liq(1, "NotLiquidatable"))
L.append(blocks(30))
L.append(c("now under maintenance at its liquidation price: a keeper liquidates it; no deficit"))
L.append(liq(1, "ok"))
L.append(c("a second keeper's duplicate is a harmless refusal"))
L.append(liq(1, "UnknownPosition"))
L.append(blocks(1))
write("liquidation.jsonl", L)

L = setup(20_000_000, seed=20_000_000, strategies=False)
L.append(c("a $400k long at ~9x (position 1) is liquidated stepwise: 25% per block, until healthy"))
L += [op(2, 200 * Q, 45_000), op(3, -200 * Q, 200_000)]
L.append(swap_to(1850))
L.append(blocks(40))
L.append(liq(1, "ok"))
L.append(liq(1, "LiquidationCooldown"))
L.append(blocks(1))
L.append(liq(1, "error"))
L.append(blocks(1))
write("stepwise-liquidation.jsonl", L)

L = setup(500_000, seed=20_000_000, strategies=False)
L.append(c("a small vault backs a one-sided long market; the price rises 50%; traders' profit passes 45% of NAV"))
for i in range(20):
    L.append(op(2 + i % 2, 10 * Q, 4_000))
L.append(swap_to(3000))
L.append(blocks(100))
L.append(c("ADL has cut every long by the same fraction in one event; closing credits the realised ADL PnL"))
L.append(close(2, 1))
L.append(blocks(1))
write("adl.jsonl", L)

L = setup(1_000_000, seed=20_000_000, strategies=False)
L.append(c("$600k of longs against a $1M vault; the price rises 45%: the vault's share price falls >20% below its high-water mark"))
for i in range(5):
    L.append(op(2, 60 * Q, 30_000))
L.append(swap_to(2900))
L.append(blocks(100))
L.append(c("drawdown cap hit: markets are reduce-only, the dominant side was cut to balance"))
L.append(op(3, 1 * Q, 1_000, "ReduceOnly"))
L.append(blocks(1))
write("drawdown.jsonl", L)

L = setup(10_000_000, strategies=False)
L.append(op(2, 5 * Q, 2_000))
L.append(c("the listing liquidity leaves the pool: depth falls below the market's safety level"))
L.append({"remove_spot_position": {"user": a(1), "market": 0}, "expect": "ok"})
L.append(blocks(2))
L.append(c("reduce-only now; after 10 such blocks the market is delisted at its risk price"))
L.append(op(3, 1 * Q, 1_000, "ReduceOnly"))
L.append(blocks(12))
L.append({"tx": {"type": "relist", "user": a(3), "market": 0}, "expect": "RelistRefused"})
L.append({"tx": {"type": "settle_delisted", "user": a(9), "position": 1}, "expect": "ok"})
L.append(c("liquidity comes back; the empty market can be listed again"))
L.append({"tx": {"type": "spot_liquidity", "user": a(1), "market": 0, "tick_lower": 199800, "tick_upper": 200820, "liquidity_delta": str(10**19), "salt": 1}, "expect": "ok"})
L.append(blocks(1))
L.append({"tx": {"type": "relist", "user": a(3), "market": 0}, "expect": "ok"})
L.append(blocks(1))
write("delisting.jsonl", L)

L = setup(100_000, seed=20_000_000, strategies=False)
L.append(c("the attacker opens an equal $80k long (1) and short (2): the pair needs only the stress term"))
L += [op(5, 40 * Q, 4_300), op(5, -40 * Q, 4_300)]
L.append({"block": {"height": 3, "timestamp": 1700003602}})
L.append(c("net-exposure accounting lets LPs take out capital the pair does not need"))
L.append({"tx": {"type": "lp_withdraw", "user": a(1), "shares": str(40_000 * U * 10**12)}, "expect": "ok"})
L.append(c("the price rises until the short leg is liquidated, leaving the vault with a lone $80k long"))
L.append(swap_to(2200))
L.append(c("a keeper tries every block (no expectation: refused until the leg is under maintenance)"))
for _ in range(12):
    L.append(blocks(1))
    L.append({"tx": {"type": "liquidate", "user": a(9), "position": 2}})
L.append(c("the block ends: the vault cannot back the lone leg, ADL cuts it in the same block"))
L.append(blocks(1))
L.append(close(5, 1))
L.append(blocks(1))
write("self-liquidation.jsonl", L)

L = setup(20_000_000, seed=20_000_000, strategies=False)
L.append(c("the loss waterfall: a 19x long left unliquidated (no keeper) through a crash ends below zero"))
L += [op(2, 10 * Q, 1_050), op(3, 10 * Q, 1_050), op(4, -30 * Q, 100_000)]
L.append(swap_to(1900))
L.append(blocks(30))
L.append(c("a keeper liquidates position 2 in time: its penalty funds the insurance fund"))
L.append(liq(2, "ok"))
L.append(swap_to(1700))
L.append(blocks(60))
L.append(c("position 1 is far under water: margin, then the insurance fund, then the vault pay (DeficitCovered events)"))
L.append(liq(1, "ok"))
L.append(blocks(1))
write("waterfall.jsonl", L)

# --- issue 9: economic soundness (each a defect class found by the outside review) -------------
def modify(u, pos, delta, bound):
    return {"tx": {"type": "modify_position", "user": a(u), "position": pos, "qty_delta": str(delta), "price_bound": str(bound)}, "expect": "ok"}

L = setup(20_000_000, strategies=False)
L.append(c("defect 1: a long of 400 opened from balance (net 0 -> 400) then closed in the same block"))
L.append(c("is priced 400 -> 0: paid the rebate (rebate factor x the charge), never charged"))
L.append(op(2, 400 * Q, 300_000))
L.append(close(2, 1))
L.append(c("a long of 250 grown by 150 is priced 250 -> 400"))
L.append(op(3, 250 * Q, 200_000))
L.append(modify(3, 2, 150 * Q, 10**30))
L.append(blocks(1))
write("regress-true-net.jsonl", L)

L = setup(20_000_000, strategies=False)
L.append(c("defect 2: the impact capacity is fixed for the block: two opens of 250 in one block cost"))
L.append(c("what one open of 500 costs (compare with regress-true-net's position 1 sizes)"))
L.append(op(2, 250 * Q, 200_000))
L.append(op(3, 250 * Q, 200_000))
L.append(c("an LP deposit in the block does not change the capacity until the next block"))
L.append({"tx": {"type": "lp_deposit", "user": a(4), "amount": str(10_000_000 * U)}, "expect": "ok"})
L.append(op(4, 250 * Q, 200_000))
L.append(blocks(1))
L.append(op(5, 250 * Q, 200_000))
L.append(blocks(1))
write("regress-capacity-per-block.jsonl", L)

L = setup(2_000_000, strategies=False)
L.append(c("defect 3: the lister holds a small long (1) and short (2) and removes all its spot liquidity"))
L.append(op(1, 1 * Q, 2_000))
L.append(op(1, -1 * Q, 2_000))
L.append(blocks(1))
L.append({"remove_spot_position": {"user": a(1), "market": 0}, "expect": "ok"})
L.append(c("reduce-only and prices frozen in the same transaction; new exposure is refused"))
L.append(op(2, 1 * Q, 2_000, "ReduceOnly"))
L.append(blocks(1))
L.append(c("next block (capacity now from an empty pool): the long closes with a $1,900 minimum on its proceeds per unit;"))
L.append(c("it pays at most the capped premium, only from its margin: no deficit, nothing for the short to collect as a rebate"))
L.append({"tx": {"type": "close_position", "user": a(1), "position": 1, "price_bound": str(1900 * W)}, "expect": "ok"})
L.append(close(1, 2, long=False))
L.append(blocks(1))
write("regress-thin-depth-close.jsonl", L)

L = setup(5_000_000, strategies=False)
L.append(c("defect 4: a lone $900k long pays funding for a month; the margin cannot pay it all"))
L.append(op(2, 450 * Q, 100_000))
L.append(blocks(1))
L.append(blocks(1, 30 * 86_400))
L.append(c("touching it leaves the unpaid funding as its debt (no deficit); its equity counts it: a keeper liquidates"))
L.append({"tx": {"type": "add_margin", "user": a(2), "position": 1, "amount": "1"}, "expect": "ok"})
L.append(liq(1, "ok"))
L.append(blocks(1))
write("regress-funding-debt.jsonl", L)

L = setup(2_000_000, strategies=False)
L[1]["genesis"]["balances"].append({"owner": a(2), "token": "0x%040x" % (0xB0 << 152 | 2), "amount": str(1_000_000 * Q)})
L.append(c("defect 7: a 50% fee tier is refused (no arbitrageur can correct a pool inside its fee band)"))
L.append({"tx": {"type": "create_market", "user": a(2), "base_token": "0x%040x" % (0xB0 << 152 | 2), "base_decimals": 18, "fee": 500000, "tick_spacing": 10,
                 "initial_price": str(2000 * W), "tick_range": 6000, "seed_azusd": str(20_000_000 * U)}, "expect": "InvalidParameter"})
L.append(c("a 1% tier is listed with a 1% taker fee and OI caps sized to the cost of moving its oracle"))
L.append({"tx": {"type": "create_market", "user": a(2), "base_token": "0x%040x" % (0xB0 << 152 | 2), "base_decimals": 18, "fee": 10000, "tick_spacing": 200,
                 "initial_price": str(2000 * W), "tick_range": 6000, "seed_azusd": str(20_000_000 * U)}, "expect": "ok"})
L.append(c("the lister empties the first pool and pushes it 10% up: prices stay frozen, settlement is at the frozen price"))
L.append(op(3, 1 * Q, 2_000))
L.append({"remove_spot_position": {"user": a(1), "market": 0}, "expect": "ok"})
L.append(swap_to(2200))
L.append(blocks(11))
L.append({"tx": {"type": "settle_delisted", "user": a(9), "position": 1}, "expect": "ok"})
L.append(blocks(1))
write("regress-oracle-listing.jsonl", L)
print("ok")
