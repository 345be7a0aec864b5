"""Find a data set on disk, or download it once into a cache, checking its sha256.

Where a data set comes from, in order:
1. an explicit folder (``--data DIR``), in the same layout as ``../shared/data/<set>/``;
2. ``$RNN_GALLERY_DATA/<set>/`` when that variable is set (an offline copy);
3. the cache, ``$RNN_GALLERY_CACHE/<set>/`` (default ``~/.cache/rnn_gallery``);
4. a download from the canonical URL into the cache, verified against its sha256
   before it is unpacked, and against the digests of a few known files after.

GitHub builds repository archives on the fly, so their bytes (and digest) are not
stable; for those sets the check is the spot-check digests of files inside
(``spot_checks``), which pin the content that matters.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

DATA_ENV, CACHE_ENV = "RNN_GALLERY_DATA", "RNN_GALLERY_CACHE"


class DataError(RuntimeError):
    """A data set could not be found, downloaded or verified."""


@dataclass(frozen=True)
class DataSource:
    """Where a public data set lives and how to check and unpack it.

    Attributes:
        name: folder name of the set (``sst2``, ``tinyshakespeare``...).
        url: canonical download address.
        sha256: digest of the downloaded file (archive or plain file), or None
            where the server does not serve stable bytes (GitHub archives).
        required: paths that must exist inside a complete folder.
        archive_root: folder inside the archive that maps onto the set's folder
            ("" for the archive's top level); None for a plain file, saved as
            ``required[0]``.
        spot_checks: (path inside the folder, sha256) pairs checked after unpacking.
        files: for a set of several plain files, (name, sha256) of each: each is
            downloaded from ``url + name`` (or from its own address, a third item,
            when it lives elsewhere) and checked before any is kept (``sha256`` is
            then None and ``archive_root`` unused).
        prepare: for a set whose offline copy is a file made from the download (the
            IMDB reviews as one CSV), a function that makes it inside the unpacked
            folder, after the digest check and before the completeness check.
    """
    name: str
    url: str
    sha256: str | None
    required: tuple[str, ...]
    archive_root: str | None = None
    spot_checks: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, ...], ...] = ()
    prepare: Callable[[Path], None] | None = field(default=None, compare=False)

    def is_complete(self, folder: Path) -> bool:
        """Whether ``folder`` holds every file the set needs."""
        return all((folder / r).exists() for r in self.required)


def cache_dir() -> Path:
    """The download cache folder."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "rnn_gallery")


def sha256_of(path: Path) -> str:
    """The file's SHA-256, hex (read in 1 MB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def locate(source: DataSource, data_dir: str | Path | None = None, download: bool = True) -> Path:
    """Return the folder holding ``source``'s files, downloading it if needed.

    Args:
        data_dir: an explicit folder in the set's layout (``--data``); it must be
            complete, since silently downloading instead would hide a typo.
        download: allow step 4 (a download) when nothing is found locally.
    """
    if data_dir is not None:
        folder = Path(data_dir)
        if not source.is_complete(folder):
            raise DataError(f"{folder} does not look like the {source.name} data set: "
                            f"expected {', '.join(source.required)} inside it")
        return folder
    if os.environ.get(DATA_ENV):
        folder = Path(os.environ[DATA_ENV]) / source.name
        if source.is_complete(folder):
            return folder
    folder = cache_dir() / source.name
    if source.is_complete(folder):
        return folder
    if not download:
        raise DataError(f"{source.name} is not available offline: set {DATA_ENV} to a folder "
                        f"holding {source.name}/ ({', '.join(source.required)}) or pass --data")
    return fetch(source, folder)


def fetch(source: DataSource, folder: Path, timeout: float = 60) -> Path:
    """Download ``source.url`` (or each of ``source.files``), verify its sha256, and
    unpack it into ``folder``."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        tmp = Path(tmp)
        staged = tmp / "unpacked"
        target = tmp / "download"
        if source.files:  # several plain files, each checked against its own digest
            staged.mkdir()
            for name, digest, *url in source.files:
                _download(source, url[0] if url else source.url + name, staged / name, digest, timeout)
        elif source.archive_root is None:
            _download(source, source.url, target, source.sha256, timeout)
            (staged / source.required[0]).parent.mkdir(parents=True, exist_ok=True)
            target.rename(staged / source.required[0])
        else:
            _download(source, source.url, target, source.sha256, timeout)
            _unpack(target, tmp / "archive")
            shutil.move(str(tmp / "archive" / source.archive_root), staged)
        if source.prepare is not None:
            source.prepare(staged)
        if not source.is_complete(staged):
            raise DataError(f"{source.name}: the download lacks {', '.join(source.required)}")
        for rel, expected in source.spot_checks:
            if not (staged / rel).is_file() or sha256_of(staged / rel) != expected:
                raise DataError(f"{source.name}: {rel} in the download is missing or differs from "
                                f"the known file (sha256 {expected[:12]}...); not using it")
        if folder.exists():
            shutil.rmtree(folder)
        shutil.move(str(staged), folder)  # only a verified, complete set lands in the cache
    return folder


def _download(source: DataSource, url: str, target: Path, sha256: str | None, timeout: float) -> None:
    """Save ``url`` as ``target`` and check its digest (when one is known)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r, open(target, "wb") as f:
            shutil.copyfileobj(r, f)
    except OSError as e:
        raise DataError(f"could not download {source.name} from {url}: {e}. "
                        f"Offline? Set {DATA_ENV} to a local copy.") from e
    digest = sha256_of(target)
    if sha256 is not None and digest != sha256:
        raise DataError(f"{source.name}: sha256 mismatch for {url} "
                        f"(got {digest}, expected {sha256}); not using it")


def _unpack(archive: Path, dest: Path) -> None:
    """Unpack a zip or tar archive, refusing members that escape ``dest``."""
    dest.mkdir(parents=True)
    root = dest.resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            names = z.namelist()
            _check_members(root, names)
            z.extractall(dest)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            _check_members(root, t.getnames())
            t.extractall(dest, filter="data")
    else:
        raise DataError(f"{archive} is neither a zip nor a tar archive")


def _check_members(root: Path, names: list[str]) -> None:
    for n in names:
        if not (root / n).resolve().is_relative_to(root):
            raise DataError(f"archive member {n!r} would land outside the cache")
