"""SplitMix64 streams and Fisher-Yates, exactly as cpp/include/socialrec/rng.hpp (pure Python integers)."""
from __future__ import annotations

MASK = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class SplitMix64:
    """state += golden gamma; output mix(state)."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + GOLDEN_GAMMA) & MASK
        return mix(self.state)

    def below(self, n):
        """Uniform in [0, n): the high word of next() * n (Lemire), as rng.hpp."""
        return (self.next() * n) >> 64

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53


def stream_seed(seed, epoch, pass_id, block):
    s = SplitMix64(seed).next()
    s = SplitMix64(s ^ (epoch & MASK)).next()
    s = SplitMix64(s ^ pass_id).next()
    return SplitMix64(s ^ block).next()


def swap_positions(n, gen):
    """The (i, j) swaps of a Fisher-Yates shuffle of n values from the back, as rng.hpp ``shuffle``: positions
    i = n-1 ... 1 take 32-bit draws in turn, two per SplitMix64 output (low word, then high word), and j is
    ``(d * (i + 1)) >> 32``; lists longer than 2^32 take ``below(i + 1)`` (one 64-bit draw) instead."""
    if n > 1 << 32:
        for i in range(n - 1, 0, -1):
            yield i, gen.below(i + 1)
        return
    high = None
    for i in range(n - 1, 0, -1):
        if high is None:
            w = gen.next()
            d, high = w & 0xFFFFFFFF, w >> 32
        else:
            d, high = high, None
        yield i, (d * (i + 1)) >> 32


def shuffle(array, gen):
    """In-place Fisher-Yates from the back (works on NumPy arrays, structured ones included; lists too)."""
    for i, j in swap_positions(len(array), gen):
        if i != j:
            if hasattr(array[i], "copy"):
                array[i], array[j] = array[j].copy(), array[i].copy()
            else:
                array[i], array[j] = array[j], array[i]
