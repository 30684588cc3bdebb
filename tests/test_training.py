"""The training generator: determinism, controls, live settings, divergence, resume."""

import math
import threading

import pytest

from engine.core.config import TrainConfig
from engine.core.snapshots import AdaptationTrace, RunFinished, TrainingSnapshot
from engine.run.controls import TrainingControls
from engine.run.training import Trainer

TIMING = {"wall_time", "iterations_per_second"}


def sinusoid_config(**changes):
    base = TrainConfig(
        dataset="sinusoid",
        protocol="finn-sinusoid",
        ways=1,
        shots=5,
        queries=5,
        model="mlp",
        inner_lr=0.01,
        meta_batch=4,
        iterations=6,
        val_every=3,
        val_tasks=20,
        test_inner_steps=2,
        checkpoint_every=0,
        device="cpu",
        seed=3,
    )
    return base.with_changes(**changes)


def metric_stream(events):
    return [
        {k: v for k, v in e.to_json().items() if k not in TIMING}
        for e in events
        if isinstance(e, TrainingSnapshot)
    ]


def test_same_seed_same_metric_stream_and_new_seed_differs():
    a = metric_stream(Trainer(sinusoid_config()).run())
    b = metric_stream(Trainer(sinusoid_config()).run())
    c = metric_stream(Trainer(sinusoid_config(seed=4)).run())
    assert len(a) == 6 and a == b
    assert a[0]["meta_loss"] != c[0]["meta_loss"]
    assert a[2]["validation"] is not None and a[1]["validation"] is None


@pytest.mark.slow
def test_run_ends_with_completed_and_meta_loss_falls():
    events = list(
        Trainer(
            sinusoid_config(iterations=300, val_every=0, inner_lr=0.01, meta_lr=0.01, meta_batch=10)
        ).run()
    )
    assert isinstance(events[-1], RunFinished) and events[-1].reason == "completed"
    losses = [e.meta_loss for e in events if isinstance(e, TrainingSnapshot)]
    assert sum(losses[-50:]) / 50 < 0.8 * sum(losses[:50]) / 50


def test_resume_continues_the_same_metric_stream(tmp_path):
    whole = metric_stream(Trainer(sinusoid_config()).run())
    first = Trainer(sinusoid_config(iterations=3), run_dir=tmp_path)
    head = metric_stream(first.run())
    resumed = Trainer.resume(tmp_path / "checkpoint.pt", iterations=6)
    assert resumed.iteration == 3
    tail = metric_stream(resumed.run())
    assert head + tail == whole
    assert resumed.history[:3] == first.history[:3]


def test_step_runs_exactly_one_iteration_and_stop_ends_the_run():
    controls = TrainingControls(paused=True)
    trainer = Trainer(sinusoid_config(iterations=None, minutes=5), controls=controls)
    events = []
    worker = threading.Thread(target=lambda: events.extend(trainer.run()))
    worker.start()
    controls.step()
    controls.step()
    controls.request_trace()
    deadline = threading.Event()
    for _ in range(100):
        if sum(isinstance(e, TrainingSnapshot) for e in events) >= 2 and any(
            isinstance(e, AdaptationTrace) for e in events
        ):
            break
        deadline.wait(0.05)
    controls.stop()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert [e.iteration for e in events if isinstance(e, TrainingSnapshot)] == [1, 2]
    assert isinstance(events[-1], RunFinished) and events[-1].reason == "stopped"
    assert any(isinstance(e, AdaptationTrace) for e in events)


def test_learning_rates_change_live_between_iterations():
    controls = TrainingControls()
    trainer = Trainer(sinusoid_config(iterations=4, val_every=0), controls=controls)
    seen = []
    for event in trainer.run():
        if isinstance(event, TrainingSnapshot):
            seen.append((event.inner_lr, event.meta_lr))
            if event.iteration == 2:
                controls.set_inner_lr(0.05)
                controls.set_meta_lr(0.002)
    assert seen[:2] == [(0.01, 0.001)] * 2 and seen[2:] == [(0.05, 0.002)] * 2
    assert trainer.optimizer.param_groups[0]["lr"] == 0.002
    with pytest.raises(ValueError):
        controls.set_inner_lr(-1)


def test_divergence_stops_without_touching_theta_and_keeps_last_checkpoint(tmp_path):
    trainer = Trainer(sinusoid_config(iterations=50, val_every=0, checkpoint_every=1), run_dir=tmp_path)
    events = []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, TrainingSnapshot) and event.iteration == 2:
            trainer.set_learning_rates(inner_lr=1e30)
    end = events[-1]
    assert isinstance(end, RunFinished) and end.reason == "diverged"
    assert end.iteration == 3 and "iteration 3" in end.message
    assert end.checkpoint and (tmp_path / "checkpoint.pt").exists()
    saved = Trainer.resume(tmp_path / "checkpoint.pt")
    assert saved.iteration == 2
    assert all(math.isfinite(float(p.detach().abs().sum())) for p in saved.learner.module.parameters())


def test_adaptation_trace_of_the_display_task_has_every_step():
    trainer = Trainer(sinusoid_config())
    trace = trainer.trace(steps=4)
    assert trace.kind == "regression" and trace.steps == 4
    assert trace.support_loss.shape == (5,) and trace.y_grid_pred.shape[0] == 5
    assert trace.support_loss[-1] < trace.support_loss[0]
    assert all(v[0] == 0 and v[-1] > 0 for v in trace.param_change.values())


def test_a_checkpoint_requested_just_before_stop_is_still_written(tmp_path):
    controls = TrainingControls(paused=True)
    trainer = Trainer(sinusoid_config(iterations=None, minutes=5), controls=controls)
    controls.request_checkpoint(str(tmp_path / "saved.pt"))
    controls.stop()
    events = list(trainer.run())
    assert events[-1].reason == "stopped"
    assert (tmp_path / "saved.pt").exists()


def test_a_trace_asked_for_serves_even_when_the_run_has_nothing_left_to_do(tmp_path):
    list(Trainer(sinusoid_config(iterations=2, val_every=0), run_dir=tmp_path).run())
    controls = TrainingControls(paused=True)
    controls.request_trace()
    events = list(Trainer.resume(tmp_path / "checkpoint.pt", controls=controls).run())  # already at its end
    assert [type(e).__name__ for e in events] == ["AdaptationTrace", "RunFinished"]
    assert events[0].iteration == 2
