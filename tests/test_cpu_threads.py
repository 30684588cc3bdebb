"""The thread governor: torch's threads follow the cores other processes leave free."""

import os

import pytest
import torch

from engine.runtime import cpu_threads
from engine.runtime.cpu_threads import ThreadGovernor, governor_for


class FakeMachine:
    """/proc/stat and this process's CPU time, advanced by hand: seconds of busy CPU per wall second."""

    def __init__(self, cores):
        self.cores, self.busy, self.total, self.own = cores, 0.0, 0.0, 0.0

    def run(self, seconds, *, others, mine):
        self.busy += seconds * min(self.cores, others + mine)
        self.total += seconds * self.cores
        self.own += seconds * mine


@pytest.fixture
def machine(monkeypatch):
    fake = FakeMachine(2)
    monkeypatch.setattr(cpu_threads, "usable_cores", lambda: fake.cores)
    monkeypatch.setattr(cpu_threads, "_machine_busy_seconds", lambda: (fake.busy, fake.total))
    monkeypatch.setattr(cpu_threads, "_own_seconds", lambda: fake.own)
    monkeypatch.setattr(cpu_threads.time, "sleep", lambda s: fake.run(s, others=fake.others, mine=0))
    threads = torch.get_num_threads()
    yield fake
    torch.set_num_threads(threads)


def test_one_thread_when_another_process_holds_a_core_and_two_when_it_stops(machine):
    machine.others = 1.0
    governor = ThreadGovernor(interval_s=0)
    assert governor.choose().threads == 1
    assert "1.0 busy" in governor.choice.describe()
    machine.run(10, others=1.0, mine=1.0)
    assert governor.maybe_rechoose() is None  # unchanged: still one core taken
    machine.run(10, others=0.0, mine=1.0)  # the other process ended
    assert governor.maybe_rechoose().threads == 2 and torch.get_num_threads() == 2
    machine.run(10, others=2.0, mine=1.0)  # oversubscribed: the machine is full, we got a third
    assert governor.maybe_rechoose().threads == 1


def test_a_quiet_machine_gets_every_core_and_a_reserve_is_kept(machine):
    machine.others = 0.0
    assert ThreadGovernor().choose().threads == 2
    assert ThreadGovernor(reserve=1).choose().threads == 1


def test_asked_threads_and_omp_num_threads_win(machine, monkeypatch):
    machine.others = 2.0
    assert ThreadGovernor(2).choose().threads == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert governor_for(None).choose().reason == "asked for"
    monkeypatch.setenv("OMP_NUM_THREADS", "")
    assert governor_for(None).requested is None


def test_unreadable_counters_leave_torch_default(machine, monkeypatch):
    monkeypatch.setattr(cpu_threads, "_machine_busy_seconds", lambda: None)
    torch.set_num_threads(2)
    choice = ThreadGovernor().choose()
    assert choice.threads == 2 and "unknown" in choice.reason


def test_the_real_counters_give_a_sane_choice():
    choice = ThreadGovernor().choose(wait_s=0.05)
    assert 1 <= choice.threads <= cpu_threads.usable_cores()


@pytest.fixture
def torch_threads(monkeypatch):
    """torch's thread count, held here: a broken cap must not start 100000 threads in a test."""
    held = [torch.get_num_threads()]
    monkeypatch.setattr(torch, "set_num_threads", lambda n: held.append(n))
    monkeypatch.setattr(torch, "get_num_threads", lambda: held[-1])
    return held


@pytest.mark.parametrize("how", ["--threads", "OMP_NUM_THREADS"])
def test_a_thread_count_past_the_usable_cores_is_capped_and_said_once(
    machine, torch_threads, monkeypatch, capsys, how
):
    """``--threads 100000`` (or OMP_NUM_THREADS=100000) crashed torch; it gets the usable cores, and a
    sentence."""
    machine.others = 0.0
    monkeypatch.setattr(cpu_threads, "_said", set(), raising=False)  # a fresh process
    if how == "--threads":
        governor = governor_for(100000)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", "100000")
        governor = governor_for(None)
    choice = governor.choose()
    assert choice.threads == 2 and max(torch_threads) <= 2
    assert "100000" in choice.describe() and "capped at the 2 usable cores" in choice.describe()
    governor.choose()
    governor_for(100000 if how == "--threads" else None).choose()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and how in err[0] and "100000" in err[0] and "2 usable cores" in err[0], err


def test_the_cap_follows_the_real_usable_cores(torch_threads):
    choice = ThreadGovernor(100000).choose()
    assert choice.threads == cpu_threads.usable_cores() == len(os.sched_getaffinity(0))
    assert torch_threads[-1] == choice.threads and "capped" in choice.reason


def test_a_thread_count_within_the_cores_is_kept_and_not_remarked(machine, monkeypatch, capsys):
    monkeypatch.setattr(cpu_threads, "_said", set(), raising=False)
    assert governor_for(2).choose().reason == "asked for"
    assert capsys.readouterr().err == ""


def test_niced_neighbours_leave_their_cores_to_a_normal_priority_run():
    """/proc/stat's cpu line: user nice system idle iowait irq softirq steal. Two nice-19 jobs kept both
    cores busy (all their time in the nice column); our run at priority 0 takes the cores from them."""
    fields = ["0", "200", "0", "0", "0", "0", "0", "0"]  # 2 s of niced work on 2 cores over 1 s (100 Hz)
    busy, total = cpu_threads.busy_and_total(fields, count_nice=False)
    assert (busy, total) == (0.0, 200 / cpu_threads._TICKS)
    busy, total = cpu_threads.busy_and_total(fields, count_nice=True)  # a niced run of our own competes
    assert busy == total == 200 / cpu_threads._TICKS
    mixed = ["100", "100", "0", "0", "0", "0", "0", "0"]  # one ordinary job, one niced
    assert cpu_threads.busy_and_total(mixed, count_nice=False)[0] == 100 / cpu_threads._TICKS


def test_the_governor_reads_its_own_priority(monkeypatch):
    monkeypatch.setattr(
        cpu_threads._PROC_STAT.__class__, "read_text", lambda self: "cpu  0 200 0 0 0 0 0 0 0 0\n"
    )
    monkeypatch.setattr(cpu_threads, "_own_niceness", lambda: 0)
    assert cpu_threads._machine_busy_seconds()[0] == 0.0
    monkeypatch.setattr(cpu_threads, "_own_niceness", lambda: 19)
    assert cpu_threads._machine_busy_seconds()[0] == 200 / cpu_threads._TICKS
