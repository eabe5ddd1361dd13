"""The visiting orders of the SGD engine (cpp/include/socialrec/sgd.hpp), in plain Python."""
from __future__ import annotations

from ._rng import SplitMix64, shuffle, stream_seed

RATING_PASS, LINK_PASS, USER_PASS, SAMPLE_PASS, TRUSTEE_PASS = 0, 1, 2, 3, 4
SAMPLE_CHUNK = 4096  # samples per chunk of a sampled pass (sgd.hpp kSampleChunk)


def grid_pass(grid, seed, epoch, pass_id, step):
    """Stratified pass over a packed rating grid (see socialrec._engine.pack_grid); ``step(user, item,
    value)`` applies one update. Strata in shuffled order; stratum s holds blocks (a, (a + s) mod B); each
    block's records shuffled in place just before it is visited."""
    records, offsets, B = grid["records"], grid["offsets"], grid["blocks"]
    strata = list(range(B))
    shuffle(strata, SplitMix64(stream_seed(seed, epoch, pass_id, B * B)))
    for s in strata:
        for a in range(B):
            block = a * B + (a + s) % B
            chunk = records[offsets[block]:offsets[block + 1]]  # a view: shuffled in place
            shuffle(chunk, SplitMix64(stream_seed(seed, epoch, pass_id, block)))
            for r in chunk:
                step(int(r[0]), int(r[1]), r[2])


def flat_pass(records, seed, epoch, pass_id, step):
    """Single-order pass: the whole list shuffled in place with stream (seed, epoch, pass, 0), then visited."""
    if len(records) == 0:
        return
    shuffle(records, SplitMix64(stream_seed(seed, epoch, pass_id, 0)))
    for r in records:
        step(r)


def grouped_pass(groups, members, offsets, seed, epoch, pass_id, step):
    """Groups visited as in flat_pass; group g's members shuffled with stream (seed, epoch, pass, g + 1)."""
    def visit(g):
        g = int(g)
        segment = members[offsets[g]:offsets[g + 1]]
        shuffle(segment, SplitMix64(stream_seed(seed, epoch, pass_id, g + 1)))
        step(g, segment)

    flat_pass(groups, seed, epoch, pass_id, visit)


def sampled_pass(n_samples, seed, epoch, pass_id, step):
    """Pass of ``n_samples`` drawn observations: chunk c (samples c*SAMPLE_CHUNK ...) draws from stream
    (seed, epoch, pass, c); ``step(gen)`` draws one observation from ``gen`` and applies its update. This is
    the deterministic order (chunks in order); the parallel mode runs the same chunks Hogwild."""
    for c in range(-(-n_samples // SAMPLE_CHUNK)):
        gen = SplitMix64(stream_seed(seed, epoch, pass_id, c))
        for _ in range(min(SAMPLE_CHUNK, n_samples - c * SAMPLE_CHUNK)):
            step(gen)

