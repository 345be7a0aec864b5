"""The data layer: explicit folders, the RNN_GALLERY_DATA copy, the cache, and a real
HTTP download (from a server on loopback) with its sha256 check."""
import hashlib
import http.server
import io
import threading
import zipfile
from functools import partial

import pytest

from rnn_core.data import SOURCES, DataError, DataSource, locate
from rnn_core.data.sst2 import load_split
from tests.conftest import write_sst2


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No offline copy and an empty cache, whatever the machine has."""
    monkeypatch.delenv("RNN_GALLERY_DATA", raising=False)
    monkeypatch.setenv("RNN_GALLERY_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def http_dir(tmp_path):
    """Serve a folder over HTTP on 127.0.0.1; yields (folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _sst2_zip() -> bytes:
    """A small archive in GLUE's layout (SST-2/train.tsv, SST-2/dev.tsv)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("SST-2/train.tsv", "sentence\tlabel\na fine film\t1\na dull film\t0\n")
        z.writestr("SST-2/dev.tsv", "sentence\tlabel\nfine\t1\n")
        z.writestr("SST-2/test.tsv", "index\tsentence\n0\tsomething\n")
    return buf.getvalue()


def test_explicit_folder(isolated, sst2_dir):
    texts, labels = load_split("train", sst2_dir)
    assert len(texts) == 600 and set(labels) == {0, 1}
    with pytest.raises(DataError, match="does not look like"):
        locate(SOURCES["sst2"], isolated / "empty")


def test_local_copy_from_env(isolated, monkeypatch):
    write_sst2(isolated / "offline" / "sst2", n_train=10, n_dev=4)
    monkeypatch.setenv("RNN_GALLERY_DATA", str(isolated / "offline"))
    assert locate(SOURCES["sst2"]) == isolated / "offline" / "sst2"
    assert len(load_split("dev")[0]) == 4


def test_offline_without_copy_says_what_to_do(isolated):
    with pytest.raises(DataError, match="RNN_GALLERY_DATA"):
        locate(SOURCES["sst2"], download=False)


def test_download_zip_verifies_and_caches(isolated, http_dir):
    root, url = http_dir
    payload = _sst2_zip()
    (root / "SST-2.zip").write_bytes(payload)
    source = DataSource("sst2", f"{url}/SST-2.zip", hashlib.sha256(payload).hexdigest(),
                        ("train.tsv", "dev.tsv"), archive_root="SST-2")
    folder = locate(source)
    assert folder == isolated / "cache" / "sst2"
    assert (folder / "train.tsv").read_text().startswith("sentence\tlabel")
    (root / "SST-2.zip").unlink()  # a second call uses the cache, not the network
    assert locate(source) == folder


def test_download_refuses_wrong_sha256(isolated, http_dir):
    root, url = http_dir
    (root / "SST-2.zip").write_bytes(_sst2_zip())
    source = DataSource("sst2", f"{url}/SST-2.zip", "0" * 64, ("train.tsv", "dev.tsv"), archive_root="SST-2")
    with pytest.raises(DataError, match="sha256 mismatch"):
        locate(source)
    assert not (isolated / "cache" / "sst2").exists()  # nothing unverified lands in the cache


def test_download_plain_file(isolated, http_dir):
    root, url = http_dir
    (root / "input.txt").write_text("First Citizen:\nBefore we proceed any further, hear me speak.\n")
    digest = hashlib.sha256((root / "input.txt").read_bytes()).hexdigest()
    source = DataSource("tinyshakespeare", f"{url}/input.txt", digest, ("input.txt",))
    assert (locate(source) / "input.txt").read_text().startswith("First Citizen")


def test_download_failure_is_a_clear_error(isolated, http_dir):
    _, url = http_dir
    source = DataSource("sst2", f"{url}/missing.zip", "0" * 64, ("train.tsv",), archive_root="SST-2")
    with pytest.raises(DataError, match="could not download"):
        locate(source)


def test_sources_are_complete():
    for name, s in SOURCES.items():
        assert s.name == name and s.url.startswith("https://")
        # every source is pinned: by the archive's digest, or by digests of files inside
        assert (s.sha256 is not None and len(s.sha256) == 64) or s.spot_checks or s.files
        assert all(len(entry[1]) == 64 for entry in s.spot_checks + s.files)
        # a file with an address of its own: https, and its name in the set's folder
        assert all(entry[2].startswith("https://") for entry in s.files if len(entry) > 2)


def test_download_checks_spot_digests(isolated, http_dir):
    """A GitHub-style archive (no stable digest) is accepted only when the files it
    pins match."""
    root, url = http_dir
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("repo-main/MIDI/a.mid", b"tune")
    (root / "repo.zip").write_bytes(buf.getvalue())
    good = DataSource("nottingham", f"{url}/repo.zip", None, ("MIDI/a.mid",), archive_root="repo-main",
                      spot_checks=(("MIDI/a.mid", hashlib.sha256(b"tune").hexdigest()),))
    assert (locate(good) / "MIDI/a.mid").read_bytes() == b"tune"
    bad = DataSource("nottingham2", f"{url}/repo.zip", None, ("MIDI/a.mid",), archive_root="repo-main",
                     spot_checks=(("MIDI/a.mid", "0" * 64),))
    with pytest.raises(DataError, match="differs from the known file"):
        locate(bad)


def test_download_several_files_each_checked(isolated, http_dir):
    """A set of plain files (the time series): each downloaded from base URL + name and
    checked against its own digest; one bad file and none is kept."""
    root, url = http_dir
    (root / "a.csv").write_text("Date,Temp\n1981-01-01,20.7\n")
    (root / "b.csv").write_text("Month,Sunspots\n1749-01,58.0\n")
    digest = {n: hashlib.sha256((root / n).read_bytes()).hexdigest() for n in ("a.csv", "b.csv")}
    good = DataSource("timeseries", f"{url}/", None, ("a.csv", "b.csv"), files=tuple(digest.items()))
    assert (locate(good) / "b.csv").read_text().startswith("Month")
    bad = DataSource("timeseries2", f"{url}/", None, ("a.csv", "b.csv"),
                     files=(("a.csv", digest["a.csv"]), ("b.csv", "0" * 64)))
    with pytest.raises(DataError, match="sha256 mismatch"):
        locate(bad)
    assert not (isolated / "cache" / "timeseries2").exists()
    # a file that lives elsewhere (the stock series) comes from its own address, saved under its name
    (root / "elsewhere").mkdir()
    (root / "elsewhere" / "Train.csv").write_text("Date,Close\n2018-03-27,50.2\n")
    own = hashlib.sha256((root / "elsewhere" / "Train.csv").read_bytes()).hexdigest()
    mixed = DataSource("timeseries3", f"{url}/", None, ("a.csv", "stock.csv"),
                       files=(("a.csv", digest["a.csv"]), ("stock.csv", own, f"{url}/elsewhere/Train.csv")))
    assert (locate(mixed) / "stock.csv").read_text().startswith("Date,Close")
