"""The Omniglot evaluation protocols, which decide which characters train, validate and test.

Numbers from different protocols are not comparable, so every view names the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.errors import ConfigError, DataError, MissingSplitError
from engine.data.class_pool import ClassPool, base_classes
from engine.data.omniglot_arrays import OmniglotArrays

# The character shuffle of the finn/vinyals/cs330 splits is fixed, so every machine and every
# run gets the same characters in each split.
SPLIT_SEED = 1623
ALL_CHARACTERS = 1623
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Protocol:
    name: str
    summary: str
    sizes: tuple[int, int, int] | None  # characters per split after a fixed shuffle; None: by alphabet
    rotation: str  # "none", "per_task" or "as_classes"
    source: str


PROTOCOLS: dict[str, Protocol] = {
    "finn": Protocol(
        "finn",
        "MAML paper: 1100/100/423 characters, a random quarter turn per class per task",
        (1100, 100, 423),
        "per_task",
        "Finn, Abbeel, Levine 2017",
    ),
    "vinyals": Protocol(
        "vinyals",
        "1028/172/423 characters, each quarter turn an extra class",
        (1028, 172, 423),
        "as_classes",
        "Vinyals et al. 2016",
    ),
    "lake": Protocol(
        "lake",
        "background alphabets train (964), evaluation alphabets test (659); no validation",
        None,
        "none",
        "Lake et al. 2015",
    ),
    "cs330": Protocol(
        "cs330",
        "CS330 homework: 1100/100/423 characters, no rotations",
        (1100, 100, 423),
        "none",
        "Stanford CS330",
    ),
}


def get_protocol(name: str) -> Protocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ConfigError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}") from None


def split_characters(protocol: Protocol, data: OmniglotArrays) -> dict[str, np.ndarray]:
    """Character indices of each split."""
    if protocol.sizes is None:
        return {
            "train": data.indices("background"),
            "val": np.array([], dtype=np.int64),
            "test": data.indices("evaluation"),
        }
    if data.num_characters != ALL_CHARACTERS:
        raise DataError(
            f"protocol {protocol.name} needs all {ALL_CHARACTERS} characters, but only "
            f"{data.num_characters} were found ({data.background_source} + evaluation); "
            "use --protocol lake with the minimal splits, or get the full background zip"
        )
    order = np.random.default_rng(SPLIT_SEED).permutation(ALL_CHARACTERS)
    n_train, n_val, _ = protocol.sizes
    return {
        "train": order[:n_train],
        "val": order[n_train : n_train + n_val],
        "test": order[n_train + n_val :],
    }


def class_pool(data: OmniglotArrays, protocol_name: str, split: str) -> ClassPool:
    """The classes of one split of one protocol."""
    protocol = get_protocol(protocol_name)
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    chars = split_characters(protocol, data)[split]
    if len(chars) == 0:
        raise MissingSplitError(f"protocol {protocol.name} has no {split} split")
    class_chars, class_rotation = base_classes(len(chars), protocol.rotation)
    return ClassPool(
        images=data.images[chars],
        alphabets=tuple(data.alphabets[i] for i in chars),
        characters=tuple(data.characters[i] for i in chars),
        class_chars=class_chars,
        class_rotation=class_rotation,
        drawers=data.drawers[chars],
    )
