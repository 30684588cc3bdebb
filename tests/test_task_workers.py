"""Task threads: each part runs once, on its own copy of the network; errors come back to the caller."""

import threading

import pytest
import torch
from torch import nn

from engine.core.tasks import TaskBatch
from engine.learners.common.task_workers import TaskWorkers, replica_for, split_tasks


def _batch(tasks: int) -> TaskBatch:
    x = torch.arange(tasks, dtype=torch.float32).view(tasks, 1, 1).expand(tasks, 3, 1).contiguous()
    return TaskBatch(x, x[..., 0].long(), x, x[..., 0].long())


def test_parts_are_contiguous_cover_every_task_once_and_differ_in_size_by_at_most_one():
    for tasks, parts in ((32, 2), (7, 3), (3, 5), (1, 2)):
        split = split_tasks(_batch(tasks), parts)
        firsts = torch.cat([p.x_support[:, 0, 0] for p in split])
        assert firsts.tolist() == list(range(tasks))
        sizes = [p.size for p in split]
        assert len(split) == min(tasks, parts) and max(sizes) - min(sizes) <= 1


def test_each_thread_runs_its_own_copy_and_the_caller_keeps_the_original():
    net = nn.Linear(2, 2)
    seen = []

    def part(batch):
        seen.append((threading.get_ident(), replica_for(net), int(batch.x_support[0, 0, 0])))
        return batch.size

    threads = torch.get_num_threads()
    assert TaskWorkers().run(net, part, split_tasks(_batch(6), 3)) == [2, 2, 2]
    assert torch.get_num_threads() == threads
    assert sorted(s[2] for s in seen) == [0, 2, 4]
    caller = [s for s in seen if s[0] == threading.get_ident()]
    assert len(caller) == 1 and caller[0][1] is net and caller[0][2] == 0
    copies = [s[1] for s in seen if s[0] != threading.get_ident()]
    assert len({id(c) for c in copies}) == 2 and all(c is not net for c in copies)
    assert all(torch.equal(c.weight, net.weight) for c in copies)
    assert replica_for(net) is net  # outside a run


def test_an_error_in_any_part_reaches_the_caller_after_every_thread_has_stopped():
    net = nn.Linear(2, 2)
    finished = []

    def part(batch):
        if int(batch.x_support[0, 0, 0]) == 3:
            raise ValueError("bad task")
        finished.append(batch.size)
        return batch.size

    with pytest.raises(ValueError, match="bad task"):
        TaskWorkers().run(net, part, split_tasks(_batch(6), 2))
    assert finished == [3]


@pytest.mark.parametrize("threads", [1, 2])
def test_large_tasks_are_scored_one_at_a_time_on_task_threads_with_the_numbers_vmap_gives(
    monkeypatch, threads
):
    from tiny_maml import make_batch, tiny_maml

    from engine.core.config import default_config
    from engine.learners.maml.learner import MamlLearner

    learner = MamlLearner(default_config("glyphs", ways=3, shots=1, queries=2, test_inner_steps=3))
    learner.maml = learner.module = tiny_maml()
    batch = make_batch(tasks=5, queries=4)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        scores = {}
        for vectorised in (True, False):
            monkeypatch.setattr(learner.maml, "prefers_vectorised", lambda _b, _w=1, v=vectorised: v)
            with torch.no_grad():  # as evaluate() calls it
                scores[vectorised] = learner.score(batch)
    finally:
        torch.set_num_threads(before)
    assert scores[False].loss.shape == (5, 4) and scores[False].stages == scores[True].stages
    torch.testing.assert_close(scores[False].loss, scores[True].loss, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(scores[False].accuracy, scores[True].accuracy)
    assert not (scores[False].loss[:, -1] == scores[False].loss[:, 0]).all()  # the steps did adapt
