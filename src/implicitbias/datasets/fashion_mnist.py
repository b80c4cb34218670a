"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) from Debian's ``dataset-fashion-mnist`` package.

The package installs the four gzipped IDX files under ``/usr/share/datasets/fashion-mnist``::

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   (60000 examples)
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    (10000 examples)

This module only reads files; it never downloads. When they are missing the error says
how to install them (``sudo apt-get install dataset-fashion-mnist``) or to pass ``root=``.

IDX format (LeCun et al.): a big-endian header -- two zero bytes, a type code (``0x08`` =
unsigned byte), the number of dimensions ``D`` -- then ``D`` big-endian ``uint32`` sizes,
then the data in C order. :func:`write_idx` writes the same format (tests build small
fixtures with it).
"""

from __future__ import annotations

import functools
import gzip
import struct
from pathlib import Path

import numpy as np

from implicitbias.errors import ImplicitBiasError

DEFAULT_ROOT = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DatasetMissingError(ImplicitBiasError, FileNotFoundError):
    """A data file is not installed."""


class IDXFormatError(ImplicitBiasError, ValueError):
    """A file is not in the IDX format (or is truncated)."""


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (gzipped when its name ends in ``.gz``) as a NumPy array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise IDXFormatError(f"{path}: not an IDX file (header bytes {raw[:4]!r})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{path}: truncated header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_DTYPES[raw[2]])
    count = int(np.prod(shape))
    if len(raw) - header != count * dtype.itemsize:
        raise IDXFormatError(
            f"{path}: header says {shape} ({count * dtype.itemsize} bytes) "
            f"but the file holds {len(raw) - header} bytes of data"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` (``uint8``) as an IDX file, gzipped when the name ends in ``.gz``."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def _missing(root: Path, names: list[str]) -> DatasetMissingError:
    where = ", ".join(names)
    if root == DEFAULT_ROOT:
        advice = (
            "Install Debian's package: `sudo apt-get install dataset-fashion-mnist` "
            "(it puts the IDX files in /usr/share/datasets/fashion-mnist), or pass "
            "`root=` a folder holding them. implicitbias never downloads data."
        )
    else:
        advice = (
            "Pass `root=` a folder holding the four *-ubyte.gz files, or install "
            "Debian's package: `sudo apt-get install dataset-fashion-mnist`."
        )
    return DatasetMissingError(f"Fashion-MNIST not found: {where} missing in {root}. {advice}")


def load(split: str = "train", *, root: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)``: ``uint8`` arrays ``(n, 28, 28)`` and ``(n,)`` of one split.

    Args:
        split: ``"train"`` (60000) or ``"test"`` (10000).
        root: folder with the IDX files (default :data:`DEFAULT_ROOT`).

    Raises:
        DatasetMissingError: a file is missing (the message gives the install command).
        IDXFormatError: a file is not IDX, or images and labels disagree in number.
    """
    if split not in FILES:
        raise ValueError(f"`split`: expected 'train' or 'test', got {split!r}.")
    root = DEFAULT_ROOT if root is None else Path(root)
    paths = [root / name for name in FILES[split]]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise _missing(root, missing)
    images, labels = (_read_cached(str(p), p.stat().st_mtime_ns) for p in paths)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise IDXFormatError(
            f"{root}: images {images.shape} and labels {labels.shape} do "
            "not match (expected (n, rows, cols) and (n,))"
        )
    return images, labels


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, mtime_ns: int) -> np.ndarray:
    array = read_idx(path)
    array.setflags(write=False)
    return array


def subset(
    n: int,
    *,
    seed: int = 0,
    split: str = "train",
    root: str | Path | None = None,
    classes: tuple[int, ...] | None = None,
    center: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` examples drawn without replacement (``RandomState(seed)``), as a float64 design
    matrix ``(n, 784)`` and integer labels ``(n,)``.

    Pixels are scaled to ``[0, 1]``; with ``center`` the subset's mean image is subtracted
    (Cohen et al. 2021 centre their inputs too). ``classes`` keeps only those labels
    (relabelled ``0..len(classes)-1`` in the order given) before drawing.
    """
    images, labels = load(split, root=root)
    idx = np.arange(labels.shape[0])
    mapping = None
    if classes is not None:
        idx = idx[np.isin(labels, classes)]
        mapping = {c: i for i, c in enumerate(classes)}
    if not 1 <= n <= idx.size:
        raise ValueError(f"`n`: expected an integer in [1, {idx.size}], got {n!r}.")
    pick = np.sort(np.random.RandomState(seed).choice(idx, n, replace=False))
    X = images[pick].reshape(n, -1).astype(np.float64) / 255.0
    if center:
        X = X - X.mean(axis=0)
    y = labels[pick].astype(np.int64)
    if mapping is not None:
        y = np.array([mapping[int(c)] for c in y], dtype=np.int64)
    return X, y
