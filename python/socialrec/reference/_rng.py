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


def shuffle(array, gen):
    """In-place Fisher-Yates from the back (works on NumPy arrays, structured ones included)."""
    for i in range(len(array) - 1, 0, -1):
        j = gen.below(i + 1)
        if i != j:
            array[i], array[j] = array[j].copy(), array[i].copy()
