"""Integers known up to the power function's enclosure (docs/protocol.md §1.5).

A figure that goes through a fractional power is not one integer but an interval: the
protocol fixes its rounding steps and lets the power return anything inside its enclosure.
`Iv(lo, mid, hi)` carries

- `lo`, `hi`: the smallest and largest value a conforming implementation can produce (the
  enclosure propagated through the figure's rounding steps by interval arithmetic), and
- `mid`: the value with a *perfect* power (`pow↓ = ⌊v⌋`, `pow↑ = ⌈v⌉`, `v` the exact real).

An engine's figure conforms when `lo ≤ e ≤ hi`; its error is `e − mid` and the bound on that
side is `hi − mid` (or `mid − lo`).
"""
from functools import lru_cache

import mpmath

mpmath.mp.dps = 80

W = 10**18


def fdiv(a, d):
    return a // d


def cdiv(a, d):
    return -((-a) // d)


class Iv:
    __slots__ = ("lo", "mid", "hi")

    def __init__(self, lo, mid=None, hi=None):
        if mid is None:
            mid = lo
        if hi is None:
            hi = lo if mid is lo else mid
        self.lo, self.mid, self.hi = lo, mid, hi

    @staticmethod
    def of(x):
        return x if isinstance(x, Iv) else Iv(x, x, x)

    @property
    def exact(self):
        return self.lo == self.hi

    def __repr__(self):
        if self.exact:
            return "Iv(%d)" % self.mid
        return "Iv(%d..%d..%d)" % (self.lo, self.mid, self.hi)

    # arithmetic -------------------------------------------------------------------------
    def __add__(self, o):
        o = Iv.of(o)
        return Iv(self.lo + o.lo, self.mid + o.mid, self.hi + o.hi)

    __radd__ = __add__

    def __sub__(self, o):
        o = Iv.of(o)
        return Iv(self.lo - o.hi, self.mid - o.mid, self.hi - o.lo)

    def __rsub__(self, o):
        return Iv.of(o) - self

    def __neg__(self):
        return Iv(-self.hi, -self.mid, -self.lo)

    def __mul__(self, o):
        o = Iv.of(o)
        c = [self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi]
        return Iv(min(c), self.mid * o.mid, max(c))

    __rmul__ = __mul__

    def fdiv(self, d):
        assert d > 0
        return Iv(self.lo // d, self.mid // d, self.hi // d)

    def cdiv(self, d):
        assert d > 0
        return Iv(cdiv(self.lo, d), cdiv(self.mid, d), cdiv(self.hi, d))

    def pos(self):
        """x⁺"""
        return Iv(max(self.lo, 0), max(self.mid, 0), max(self.hi, 0))

    def min(self, o):
        o = Iv.of(o)
        return Iv(min(self.lo, o.lo), min(self.mid, o.mid), min(self.hi, o.hi))

    def max(self, o):
        o = Iv.of(o)
        return Iv(max(self.lo, o.lo), max(self.mid, o.mid), max(self.hi, o.hi))

    def union(self, o):
        o = Iv.of(o)
        return Iv(min(self.lo, o.lo), self.mid, max(self.hi, o.hi))

    # decisions --------------------------------------------------------------------------
    def gt(self, o):
        """self > o: True / False when every conforming value agrees, None when it depends."""
        o = Iv.of(o)
        if self.lo > o.hi:
            return True
        if self.hi <= o.lo:
            return False
        return None

    def contains(self, e):
        return self.lo <= e <= self.hi


def _v(x, y):
    """Exact real W·(x/W)^(y/W) (as an mpf with 80 digits)."""
    return mpmath.mpf(W) * mpmath.power(mpmath.mpf(x) / W, mpmath.mpf(y) / W)


def _floor(v):
    return int(mpmath.floor(v))


def _ceil(v):
    return int(mpmath.ceil(v))


def _exact_case(x, y):
    if y == 0:
        return W
    if x == 0:
        return 0
    if y == W:
        return x
    if x == W:
        return W
    return None


@lru_cache(maxsize=1 << 16)
def pow_down(x, y):
    """pow↓(x, y) as an interval: lo = the lowest the enclosure allows, mid = ⌊v⌋, hi = ⌊v⌋."""
    e = _exact_case(x, y)
    if e is not None:
        return Iv(e)
    if y % W == 0 and 2 <= y // W <= 5:
        k = y // W
        return Iv(x**k // W ** (k - 1))
    v = _v(x, y)
    eps = (mpmath.mpf(y) / W + 16) * mpmath.power(2, -60)
    gap = _ceil(eps * v) + 1
    hi = _floor(v)
    lo = max(0, _ceil(v - gap))
    return Iv(lo, hi, hi)


@lru_cache(maxsize=1 << 16)
def pow_up(x, y):
    """pow↑(x, y): lo = mid = ⌈v⌉, hi = the highest the enclosure allows."""
    e = _exact_case(x, y)
    if e is not None:
        return Iv(e)
    if y % W == 0 and 2 <= y // W <= 5:
        k = y // W
        return Iv(cdiv(x**k, W ** (k - 1)))
    v = _v(x, y)
    eps = (mpmath.mpf(y) / W + 16) * mpmath.power(2, -60)
    gap = _ceil(eps * v) + 1
    lo = _ceil(v)
    return Iv(lo, lo, max(lo, _floor(v + gap)))


def ipow_down(x, y):
    """pow↓ of an interval argument (monotone in x for y ≥ 0)."""
    x = Iv.of(x)
    if x.exact:
        return pow_down(x.mid, y)
    a, m, b = pow_down(x.lo, y), pow_down(x.mid, y), pow_down(x.hi, y)
    return Iv(a.lo, m.mid, b.hi)


def ipow_up(x, y):
    x = Iv.of(x)
    if x.exact:
        return pow_up(x.mid, y)
    a, m, b = pow_up(x.lo, y), pow_up(x.mid, y), pow_up(x.hi, y)
    return Iv(a.lo, m.mid, b.hi)
