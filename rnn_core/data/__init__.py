"""Data sets: where each one lives (`SOURCES`) and one small loader per set."""
from .download import DATA_ENV, CACHE_ENV, DataError, DataSource, locate, fetch, cache_dir

# Canonical sources. Digests are of the file served at `url`.
SOURCES: dict[str, DataSource] = {
    # GLUE's SST-2 archive (7,439,277 bytes); its top folder SST-2/ maps onto sst2/.
    "sst2": DataSource(
        name="sst2", url="https://dl.fbaipublicfiles.com/glue/data/SST-2.zip",
        sha256="d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa",
        required=("train.tsv", "dev.tsv"), archive_root="SST-2"),
    # karpathy/char-rnn's copy, 1,115,394 characters.
    "tinyshakespeare": DataSource(
        name="tinyshakespeare",
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        required=("input.txt",)),
}

__all__ = ["SOURCES", "DATA_ENV", "CACHE_ENV", "DataError", "DataSource", "locate", "fetch", "cache_dir"]
