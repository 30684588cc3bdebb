"""The seeded N-way K-shot sampler: disjoint support/query, labels, rotations, determinism, errors."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from engine.core.errors import ConfigError
from engine.core.tasks import stack_tasks
from engine.data.class_pool import ClassPool, base_classes
from engine.data.task_sampler import ClassificationTaskSampler

N, K, Q = 5, 2, 3


def make_pool(num_chars: int = 12, rotation: str = "none", drawings: int = 20, seed: int = 0) -> ClassPool:
    """Random images (so every drawing and every quarter turn of it is unique and asymmetric) and
    shuffled drawer ids (so a drawer id is not just the drawing index)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(num_chars, drawings, 28, 28), dtype=np.uint8)
    class_chars, class_rotation = base_classes(num_chars, rotation)
    drawers = np.stack([rng.permutation(drawings) + 1 for _ in range(num_chars)]).astype(np.int16)
    return ClassPool(
        images=images,
        alphabets=tuple(f"Alphabet_{c // 4}" for c in range(num_chars)),
        characters=tuple(f"character{c + 1:02d}" for c in range(num_chars)),
        class_chars=class_chars,
        class_rotation=class_rotation,
        drawers=drawers,
    )


def sampler_for(pool: ClassPool, ways: int = N, shots: int = K, queries: int = Q, protocol: str = "test"):
    return ClassificationTaskSampler(
        pool, ways, shots, queries, dataset="fake", protocol=protocol, split="train"
    )


class Locator:
    """Finds which stored drawing, turned by which quarter turn, an image tensor is."""

    def __init__(self, pool: ClassPool) -> None:
        self.index: dict[bytes, tuple[int, int, int]] = {}
        rotated = pool.rotated  # [4, C, D, 28, 28], or [1, ...] for a pool that never rotates
        for t in range(rotated.shape[0]):
            for c in range(rotated.shape[1]):
                for d in range(rotated.shape[2]):
                    self.index[rotated[t, c, d].tobytes()] = (c, d, t)
        assert len(self.index) == rotated.shape[0] * rotated.shape[1] * rotated.shape[2]

    def __call__(self, images: torch.Tensor) -> list[tuple[int, int, int]]:
        """(character, drawing, quarter turns) of each image ``[n, 1, 28, 28]``."""
        as_bytes = (images[:, 0] * 255).round().to(torch.uint8).numpy()
        return [self.index[im.tobytes()] for im in as_bytes]


def char_index(pool: ClassPool, name: str) -> int:
    return pool.characters.index(name)


def drawing_index(pool: ClassPool, char: int, drawer: int) -> int:
    return int(np.flatnonzero(pool.drawers[char] == drawer)[0])


@pytest.fixture(scope="module")
def pool() -> ClassPool:
    return make_pool()


@pytest.fixture(scope="module")
def locate(pool) -> Locator:
    return Locator(pool)


def test_task_shapes_and_provenance_counts(pool):
    task = sampler_for(pool).sample(np.random.default_rng(0))
    assert task.x_support.shape == (N * K, 1, 28, 28) and task.x_support.dtype == torch.float32
    assert task.x_query.shape == (N * Q, 1, 28, 28) and task.x_query.dtype == torch.float32
    assert task.y_support.shape == (N * K,) and task.y_support.dtype == torch.int64
    assert task.y_query.shape == (N * Q,) and task.y_query.dtype == torch.int64
    assert len(task.support_info) == N * K and len(task.query_info) == N * Q
    assert 0.0 <= float(task.x_support.min()) and float(task.x_support.max()) <= 1.0
    assert (task.ways, task.shots, task.queries) == (N, K, Q)
    assert task.is_classification and not any(i.synthetic for i in task.support_info)


@pytest.mark.parametrize("seed", range(30))
def test_support_and_query_never_share_a_drawing(pool, locate, seed):
    task = sampler_for(pool, shots=4, queries=16).sample(np.random.default_rng(seed))
    infos = task.support_info + task.query_info
    pairs = [(i.character, i.drawer) for i in infos]
    assert len(set(pairs)) == len(pairs), "a (character, drawer) pair appears twice in one task"
    # The same from the pixels, independent of the provenance bookkeeping.
    found = locate(torch.cat([task.x_support, task.x_query]))
    assert len({(c, d) for c, d, _ in found}) == len(found)
    # And the provenance tells the truth about each image.
    for info, (c, d, t) in zip(infos, found):
        assert info.character == pool.characters[c]
        assert info.drawer == pool.drawers[c, d]
        assert info.alphabet == pool.alphabets[c]
        assert info.rotation == 90 * t


def test_batch_support_and_query_never_share_a_drawing(pool, locate):
    batch = sampler_for(pool, shots=5, queries=15).sample_batch(16, np.random.default_rng(1))
    for b in range(batch.size):
        found = locate(torch.cat([batch.x_support[b], batch.x_query[b]]))
        assert len({(c, d) for c, d, _ in found}) == len(found)


def check_labels(y_s, y_q, x_s, x_q, locate, ways, shots, queries):
    assert Counter(y_s.tolist()) == {c: shots for c in range(ways)}
    assert Counter(y_q.tolist()) == {c: queries for c in range(ways)}
    chars_s = [c for c, _, _ in locate(x_s)]
    chars_q = [c for c, _, _ in locate(x_q)]
    label_char: dict[int, int] = {}
    for label, char in list(zip(y_s.tolist(), chars_s)) + list(zip(y_q.tolist(), chars_q)):
        assert label_char.setdefault(label, char) == char, "one label covers two characters"
    assert len(set(label_char.values())) == ways, "two labels share a character"
    return tuple(label_char[c] for c in range(ways))


def test_labels_are_0_to_n_minus_1_with_k_and_q_each(pool, locate):
    sampler = sampler_for(pool)
    for seed in range(10):
        task = sampler.sample(np.random.default_rng(seed))
        check_labels(task.y_support, task.y_query, task.x_support, task.x_query, locate, N, K, Q)
        # Provenance agrees: one character per label.
        for infos, ys in ((task.support_info, task.y_support), (task.query_info, task.y_query)):
            for c in range(N):
                assert len({infos[i].character for i in np.flatnonzero(ys.numpy() == c)}) == 1
    batch = sampler.sample_batch(8, np.random.default_rng(0))
    for b in range(8):
        check_labels(
            batch.y_support[b], batch.y_query[b], batch.x_support[b], batch.x_query[b], locate, N, K, Q
        )


def test_labels_are_redrawn_for_every_task():
    # With exactly N classes every task holds the same classes; only the labelling may change.
    small = make_pool(num_chars=N)
    locate = Locator(small)
    sampler = sampler_for(small)
    rng = np.random.default_rng(0)
    single = set()
    for _ in range(20):
        task = sampler.sample(rng)
        single.add(check_labels(task.y_support, task.y_query, task.x_support, task.x_query, locate, N, K, Q))
    assert len(single) > 5
    batch = sampler.sample_batch(20, rng)
    batched = {
        check_labels(
            batch.y_support[b], batch.y_query[b], batch.x_support[b], batch.x_query[b], locate, N, K, Q
        )
        for b in range(20)
    }
    assert len(batched) > 5


def test_same_seed_same_task_different_seed_different_task(pool):
    sampler = sampler_for(pool)
    a = sampler.sample(np.random.default_rng(42))
    b = sampler.sample(np.random.default_rng(42))
    c = sampler.sample(np.random.default_rng(43))
    for name in ("x_support", "y_support", "x_query", "y_query"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert a.support_info == b.support_info and a.query_info == b.query_info
    assert not torch.equal(a.x_support, c.x_support)
    assert a.support_info != c.support_info

    ba = sampler.sample_batch(4, np.random.default_rng(7))
    bb = sampler.sample_batch(4, np.random.default_rng(7))
    bc = sampler.sample_batch(4, np.random.default_rng(8))
    for name in ("x_support", "y_support", "x_query", "y_query"):
        assert torch.equal(getattr(ba, name), getattr(bb, name)), name
    assert not torch.equal(ba.x_query, bc.x_query)


def test_a_batch_holds_different_tasks_with_distinct_classes(pool, locate):
    batch = sampler_for(pool).sample_batch(32, np.random.default_rng(3))
    class_sets = set()
    for b in range(32):
        chars = [c for c, _, _ in locate(batch.x_support[b])]
        assert len(set(chars)) == N  # N different classes in one task
        class_sets.add(frozenset(chars))
    assert len(class_sets) > 20


def test_finn_rotates_whole_classes_by_a_fresh_quarter_turn_per_task():
    pool = make_pool(rotation="per_task")
    sampler = sampler_for(pool, protocol="finn")
    rng = np.random.default_rng(0)
    turns_seen: dict[str, set[int]] = {}
    for _ in range(60):
        task = sampler.sample(rng)
        for xs, ys, infos in (
            (task.x_support, task.y_support, task.support_info),
            (task.x_query, task.y_query, task.query_info),
        ):
            for x, info in zip(xs, infos):
                c = char_index(pool, info.character)
                d = drawing_index(pool, c, info.drawer)
                expected = np.rot90(pool.images[c, d], k=info.rotation // 90)
                np.testing.assert_array_equal((x[0] * 255).round().to(torch.uint8).numpy(), expected)
        infos = task.support_info + task.query_info
        labels = torch.cat([task.y_support, task.y_query]).tolist()
        for c in range(N):
            rotations = {infos[i].rotation for i, y in enumerate(labels) if y == c}
            assert len(rotations) == 1, "images of one class in one task are turned differently"
            character = next(infos[i].character for i, y in enumerate(labels) if y == c)
            turns_seen.setdefault(character, set()).update(rotations)
    # Across tasks a character shows up under different turns: the turn is drawn per task.
    assert all(r in {0, 90, 180, 270} for s in turns_seen.values() for r in s)
    assert max(len(s) for s in turns_seen.values()) == 4

    # Batched: every class of every task is turned by one quarter turn, and turns vary.
    batch = sampler.sample_batch(32, rng)
    locate = Locator(pool)
    all_turns = set()
    for b in range(32):
        found = locate(torch.cat([batch.x_support[b], batch.x_query[b]]))
        labels = torch.cat([batch.y_support[b], batch.y_query[b]]).tolist()
        for c in range(N):
            turns = {t for (_, _, t), y in zip(found, labels) if y == c}
            assert len(turns) == 1
            all_turns |= turns
    assert all_turns == {0, 1, 2, 3}


def test_finn_turn_is_not_a_property_of_the_class():
    pool = make_pool(num_chars=6, rotation="per_task")
    sampler = sampler_for(pool, protocol="finn")
    classes, _, turns, _ = sampler._draw(200, np.random.default_rng(0))
    per_class = {c: set(turns[classes == c].tolist()) for c in range(6)}
    assert all(s == {0, 1, 2, 3} for s in per_class.values())


def test_vinyals_rotations_are_fixed_per_class():
    pool = make_pool(num_chars=3, rotation="as_classes")  # 12 classes: 3 characters x 4 turns
    assert pool.num_classes == 12
    sampler = sampler_for(pool, protocol="vinyals")
    classes, chars, turns, _ = sampler._draw(200, np.random.default_rng(0))
    np.testing.assert_array_equal(turns, pool.class_rotation[classes])
    np.testing.assert_array_equal(chars, pool.class_chars[classes])
    # One character under two turns is two classes, and can meet itself in one task.
    locate = Locator(pool)
    rng = np.random.default_rng(1)
    same_char_twice = False
    for _ in range(20):
        task = sampler.sample(rng)
        found = locate(torch.cat([task.x_support, task.x_query]))
        labels = torch.cat([task.y_support, task.y_query]).tolist()
        label_class = {}
        for (c, _, t), y in zip(found, labels):
            assert label_class.setdefault(y, (c, t)) == (c, t)
        assert len(set(label_class.values())) == N
        same_char_twice |= len({c for c, _ in label_class.values()}) < N
        for info, (c, _, t) in zip(task.support_info + task.query_info, found):
            assert info.rotation == 90 * t
    assert same_char_twice


@pytest.mark.parametrize("protocol", ["cs330", "lake"])
def test_no_rotation_without_a_rotation_scheme(locate, pool, protocol):
    sampler = sampler_for(pool, protocol=protocol)
    rng = np.random.default_rng(0)
    for _ in range(10):
        task = sampler.sample(rng)
        assert all(i.rotation == 0 for i in task.support_info + task.query_info)
        assert all(t == 0 for _, _, t in locate(torch.cat([task.x_support, task.x_query])))
    batch = sampler.sample_batch(16, rng)
    assert all(t == 0 for b in range(16) for _, _, t in locate(batch.x_query[b]))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"ways": 0}, r"ways \(N\) must be a positive whole number, got 0"),
        ({"ways": -3}, r"ways \(N\) must be a positive whole number"),
        ({"ways": 2.5}, r"ways \(N\) must be a positive whole number, got 2.5"),
        ({"ways": "5"}, r"ways \(N\) must be a positive whole number, got '5'"),
        ({"shots": 0}, r"shots \(K\) must be a positive whole number"),
        ({"queries": 0}, r"queries \(Q\) must be a positive whole number"),
        ({"queries": -1}, r"queries \(Q\) must be a positive whole number"),
        ({"ways": 13}, r"13-way tasks need 13 classes, but the test train split has only 12"),
        (
            {"shots": 5, "queries": 16},
            r"shots \+ queries = 21 but each class has only 20 drawings; lower K or Q",
        ),
    ],
)
def test_bad_settings_raise_config_errors(pool, kwargs, message):
    settings = {"ways": N, "shots": K, "queries": Q} | kwargs
    with pytest.raises(ConfigError, match=message):
        sampler_for(pool, **settings)


def test_edge_settings_are_served(pool, locate):
    # All classes, and every drawing used (K + Q = 20).
    sampler = sampler_for(pool, ways=12, shots=5, queries=15)
    task = sampler.sample(np.random.default_rng(0))
    found = locate(torch.cat([task.x_support, task.x_query]))
    assert len(set(found)) == 12 * 20
    assert sampler.sample_batch(2, np.random.default_rng(0)).x_query.shape == (2, 12 * 15, 1, 28, 28)


@pytest.mark.parametrize("batch", [1, 7])
def test_sample_batch_shapes(pool, batch):
    tb = sampler_for(pool).sample_batch(batch, np.random.default_rng(0))
    assert tb.size == batch
    assert tb.x_support.shape == (batch, N * K, 1, 28, 28) and tb.x_support.dtype == torch.float32
    assert tb.y_support.shape == (batch, N * K) and tb.y_support.dtype == torch.int64
    assert tb.x_query.shape == (batch, N * Q, 1, 28, 28) and tb.x_query.dtype == torch.float32
    assert tb.y_query.shape == (batch, N * Q) and tb.y_query.dtype == torch.int64
    assert 0.0 <= float(tb.x_query.min()) and float(tb.x_query.max()) <= 1.0
    stacked = stack_tasks([sampler_for(pool).sample(np.random.default_rng(s)) for s in range(batch)])
    for name in ("x_support", "y_support", "x_query", "y_query"):
        assert getattr(stacked, name).shape == getattr(tb, name).shape


@pytest.mark.omniglot
def test_real_omniglot_finn_tasks(omniglot_arrays, omniglot_dir):
    from engine.data.sources import make_sampler

    data = omniglot_arrays
    where = {(a, c): i for i, (a, c) in enumerate(zip(data.alphabets, data.characters))}
    sampler = make_sampler(
        "omniglot", protocol="finn", split="train", ways=5, shots=5, queries=15, data_dir=omniglot_dir
    )
    rng = np.random.default_rng(0)
    for _ in range(5):
        task = sampler.sample(rng)
        infos = task.support_info + task.query_info
        pairs = [(i.alphabet, i.character, i.drawer) for i in infos]
        assert len(set(pairs)) == len(pairs) == 5 * 20
        labels = torch.cat([task.y_support, task.y_query]).tolist()
        for x, info in zip(torch.cat([task.x_support, task.x_query]), infos):
            c = where[(info.alphabet, info.character)]
            d = int(np.flatnonzero(data.drawers[c] == info.drawer)[0])
            expected = np.rot90(data.images[c, d], k=info.rotation // 90)
            np.testing.assert_array_equal((x[0] * 255).round().to(torch.uint8).numpy(), expected)
        for c in range(5):
            assert len({(infos[i].character, infos[i].rotation) for i, y in enumerate(labels) if y == c}) == 1


def test_bench_sampling_counts_tasks(pool):
    from engine.bench.sampling import bench_sampling

    calls = []

    class Counting:
        def sample_batch(self, batch, rng):
            calls.append(batch)
            return sampler_for(pool).sample_batch(batch, rng)

    rate = bench_sampling(Counting(), batch=3, seconds=0.05)
    assert rate > 0 and set(calls) == {3} and len(calls) >= 2
