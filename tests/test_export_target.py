"""``export`` never writes onto the checkpoint it reads (that would strip the run's optimiser and RNG
state, so it could never resume), whatever the spelling of the target; and an export that fails
leaves no partial file behind."""

import errno
import os
import shutil
from pathlib import Path

import pytest
import torch

from engine.cli import main
from engine.core.config import default_config
from engine.run.checkpoints import load_checkpoint
from engine.run.training import Trainer


@pytest.fixture(scope="module")
def run_bytes(tmp_path_factory):
    """A resumable run folder's checkpoint (with its training state), as bytes."""
    folder = tmp_path_factory.mktemp("export") / "run"
    trainer = Trainer(default_config("sinusoid", iterations=1, val_every=0, meta_batch=2))
    list(trainer.run())
    trainer.save(folder / "checkpoint.pt")
    return (folder / "checkpoint.pt").read_bytes()


@pytest.fixture
def run(tmp_path, run_bytes, monkeypatch):
    folder = tmp_path / "R"
    folder.mkdir()
    (folder / "checkpoint.pt").write_bytes(run_bytes)
    (tmp_path / "alias").symlink_to(folder, target_is_directory=True)
    (tmp_path / "link.pt").symlink_to(folder / "checkpoint.pt")
    os.link(folder / "checkpoint.pt", tmp_path / "hard.pt")
    monkeypatch.chdir(tmp_path)
    return folder


SPELLINGS = {  # source, target; the working directory is the run folder's parent
    "folder and its checkpoint": ("R", "R/checkpoint.pt"),
    "the file twice": ("R/checkpoint.pt", "R/checkpoint.pt"),
    "absolute source, relative target": ("{abs}", "R/checkpoint.pt"),
    "dot segment": ("R", "R/./checkpoint.pt"),
    "dot-dot segment": ("R/checkpoint.pt", "R/../R/checkpoint.pt"),
    "leading ./": ("./R", "./R/checkpoint.pt"),
    "symlinked file": ("R", "link.pt"),
    "symlinked folder": ("R", "alias/checkpoint.pt"),
    "source through the symlink": ("alias", "R/checkpoint.pt"),
    "hard link": ("R", "hard.pt"),
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_export_onto_its_own_checkpoint_is_refused_and_the_run_still_resumes(
    run, run_bytes, capsys, spelling
):
    source, target = SPELLINGS[spelling]
    source = source.format(abs=run / "checkpoint.pt")
    assert main(["export", source, target]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert "resume" in err and target in err, err
    assert (run / "checkpoint.pt").read_bytes() == run_bytes
    assert "optimizer" in load_checkpoint(run)
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt"]


def test_export_to_another_file_still_works(run, capsys):
    assert main(["export", "R", "R/learner.pt"]) == 0
    assert "optimizer" not in load_checkpoint(run / "learner.pt")
    assert "optimizer" in load_checkpoint(run)


def _full_disk_after(nbytes):
    real_save = torch.save

    def save(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)
        f.truncate(nbytes)  # what reached the disk before it filled up
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return save


@pytest.mark.parametrize("existing", [False, True], ids=["new target", "older target"])
def test_a_failed_export_leaves_no_partial_target(run, capsys, monkeypatch, existing):
    target = run.parent / "out" / "learner.pt"
    target.parent.mkdir()
    if existing:
        shutil.copyfile(run / "checkpoint.pt", target)
    before = target.read_bytes() if existing else None
    monkeypatch.setattr(torch, "save", _full_disk_after(100))
    assert main(["export", "R", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "No space left" in err, err
    assert sorted(p.name for p in target.parent.iterdir()) == (["learner.pt"] if existing else [])
    if existing:
        assert target.read_bytes() == before


def test_a_failed_fsync_leaves_no_partial_target(run, capsys, monkeypatch):
    target = run.parent / "learner.pt"

    def fsync(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", fsync)
    assert main(["export", "R", str(target)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not target.exists() and not list(Path(run.parent).glob(".learner.pt.*"))
