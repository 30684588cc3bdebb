"""Reading one source: layout, structure checks, unsafe and corrupt input, decoding."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from engine.core.errors import DataError
from engine.data.omniglot import describe_omniglot, load_omniglot
from engine.data.omniglot_archive import decode_png, index_split
from engine.data.omniglot_locate import SplitSource


def _source(path, name="images_background"):
    return SplitSource(name, path, "zip" if path.suffix == ".zip" else "folder")


def test_index_orders_alphabets_characters_and_drawings(tmp_path, fake_omniglot):
    path = fake_omniglot(tmp_path, "images_background", alphabets=3, characters=7)
    ix = index_split(_source(path))
    keys = [(c.alphabet, c.character) for c in ix.characters]
    assert (
        keys == sorted(keys)
        and len(keys) == 7
        and ix.alphabets == ("Alphabet_00", "Alphabet_01", "Alphabet_02")
    )
    assert all(c.drawers == tuple(range(1, 21)) for c in ix.characters)
    assert ix.characters[0].members[0] == "images_background/Alphabet_00/character01/0001_01.png"
    assert ix.num_images == 140


def test_wrong_counts_are_reported_not_guessed(tmp_path, fake_omniglot, fresh_cache):
    fake_omniglot(tmp_path, "images_background", alphabets=2, characters=4)
    fake_omniglot(tmp_path, "images_evaluation", alphabets=20, characters=20)
    with pytest.raises(
        DataError,
        match=r"images_background\.zip is not a complete Omniglot images_background "
        r"set: found 2 alphabets / 4 characters, expected 30 / 964",
    ):
        load_omniglot(tmp_path)
    report = describe_omniglot(tmp_path)
    bg = report["splits"]["background"]
    assert (bg["alphabets"], bg["characters"], bg["ok"]) == (2, 4, False)
    assert bg["expected"] == {"alphabets": 30, "characters": 964, "images": 19280}
    assert not report["usable"] and len(report["problems"]) == 2


def test_every_character_needs_twenty_drawings(tmp_path, tiny_counts, fake_omniglot, fresh_cache):
    fake_omniglot(tmp_path, "images_background", alphabets=2, characters=3, drawings=19)
    fake_omniglot(tmp_path, "images_evaluation", alphabets=2, characters=2)
    with pytest.raises(
        DataError, match=r"3 characters do not have 20 drawings \(Alphabet_00/character01 has 19"
    ):
        load_omniglot(tmp_path)


@pytest.mark.parametrize(
    "evil",
    [
        "../evil.png",
        "images_background/../../evil.png",
        "/etc/evil.png",
        "C:/Windows/evil.png",
        "images_background\\..\\..\\evil.png",
    ],
)
def test_entries_pointing_outside_the_zip_are_corrupt(
    tmp_path, tiny_counts, fake_omniglot, evil, fresh_cache
):
    path = fake_omniglot(tmp_path, "images_background", alphabets=2, characters=3, extra={evil: b"x"})
    fake_omniglot(tmp_path, "images_evaluation", alphabets=2, characters=2)
    assert evil in zipfile.ZipFile(path).namelist()
    with pytest.raises(DataError, match="is corrupt: entry .* points outside the archive"):
        load_omniglot(tmp_path)
    assert not (tmp_path.parent / "evil.png").exists()


def test_a_crc_error_names_the_file(tmp_path, tiny_counts, fake_omniglot, fresh_cache):
    folder = tmp_path / "data"
    path = fake_omniglot(folder, "images_background", alphabets=2, characters=3)
    fake_omniglot(folder, "images_evaluation", alphabets=2, characters=2)
    # Rewrite one stored (uncompressed) member with a flipped byte: the central directory
    # still lists it, reading it fails its CRC.
    with zipfile.ZipFile(path) as zf:
        members = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    raw = bytearray(path.read_bytes())
    victim = members[-1][1]
    at = raw.index(victim) + len(victim) // 2
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"images_background\.zip is corrupt: cannot read .*CRC"):
        load_omniglot(folder)


def test_an_undecodable_png_names_the_file(tmp_path, tiny_counts, fake_omniglot, fresh_cache):
    bad = "Alphabet_00/character01/0001_05.png"
    fake_omniglot(tmp_path, "images_background", alphabets=2, characters=3, as_zip=False)
    (tmp_path / "images_background" / bad).write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    fake_omniglot(tmp_path, "images_evaluation", alphabets=2, characters=2)
    with pytest.raises(DataError, match=r"0001_05\.png is not a readable PNG"):
        load_omniglot(tmp_path)


def test_a_file_that_is_not_a_zip(tmp_path, fresh_cache):
    (tmp_path / "images_evaluation.zip").write_text("<html>404</html>")
    with pytest.raises(DataError, match=r"images_evaluation\.zip is not a readable zip"):
        load_omniglot(tmp_path / "images_evaluation.zip")


def test_archiver_litter_is_ignored(tmp_path, tiny_counts, fake_omniglot, fresh_cache):
    path = fake_omniglot(
        tmp_path,
        "images_background",
        alphabets=2,
        characters=3,
        extra={
            "__MACOSX/images_background/._x.png": b"junk",
            "images_background/.DS_Store": b"junk",
            "images_background/Alphabet_00/README.txt": b"hello",
        },
    )
    assert index_split(_source(path)).problems() == []


def test_decode_inverts_and_downsamples():
    image = Image.new("1", (105, 105), 1)  # white paper
    for x in range(40, 65):
        for y in range(0, 105):
            image.putpixel((x, y), 0)  # a black vertical band in the middle
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    out = decode_png(buf.getvalue())
    assert out.dtype == np.uint8 and out.shape == (28, 28)
    assert out[:, 14].min() == 255  # ink is bright
    assert out[:, :8].max() == 0 and out[:, -8:].max() == 0  # paper is black


def test_drawings_are_decoded_in_file_name_order(tiny_omniglot):
    # The fake drawer d has its bar at column 4d of 105, so the bar moves right with d.
    data = load_omniglot(tiny_omniglot)
    centers = (data.images[0].astype(float) * np.arange(28)).sum(axis=(1, 2)) / data.images[0].sum(
        axis=(1, 2)
    )
    assert (np.diff(centers) > 0).all()
    assert (data.drawers == np.arange(1, 21)).all()


def test_a_dot_slash_prefix_is_accepted(tmp_path, tiny_counts, fake_omniglot):
    plain = fake_omniglot(tmp_path / "plain", "images_background", alphabets=2, characters=3)
    dotted = tmp_path / "images_background.zip"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(dotted, "w") as dst:
        for info in src.infolist():
            dst.writestr("./" + info.filename, src.read(info.filename))
    ix = index_split(_source(dotted))
    assert ix.problems() == [] and ix.characters[0].members[0].startswith("./images_background/")
