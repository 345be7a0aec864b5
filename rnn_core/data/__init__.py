"""Data sets: where each one lives (`SOURCES`) and one small loader per set."""
from . import prepare
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
    # jukedeck/nottingham-dataset's MIDI/ folder (GitHub archive: digest-checked by file).
    "nottingham": DataSource(
        name="nottingham", url="https://github.com/jukedeck/nottingham-dataset/archive/refs/heads/master.zip",
        sha256=None, required=("MIDI/melody", "MIDI/ashover10.mid"), archive_root="nottingham-dataset-master",
        spot_checks=(("MIDI/melody/ashover10.mid", "c90e995e8c546e26e41d1b8de6d1d9ead41bf02c2892408033e98625e0d8a0e7"),
                     ("MIDI/melody/jigs100.mid", "a4bfd0d94580cbcf0f7526e0a7d2da22c1b0a5f4f7f9fa3ea032afb789526c8d"),
                     ("MIDI/ashover10.mid", "105066b13c97db91eae06f076b31a0ab3a397be7841d15e3b0b1d0e7d9eb4414"))),
    # Jakobovski/free-spoken-digit-dataset at tag v1.0.10 (GitHub archive: digest-checked by file).
    "fsdd": DataSource(
        name="fsdd", url="https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.zip",
        sha256=None, required=("recordings/0_jackson_0.wav",), archive_root="free-spoken-digit-dataset-1.0.10",
        spot_checks=(("recordings/0_jackson_0.wav",
                      "eea86018ce1730baaf7f5dd6ec88c1f727dd90203521a9115b489310a248ea05"),)),
    # Three classic forecasting series from jbrownlee/Datasets (plain CSVs, each checked
    # by its own digest); pollution.csv is the UCI "Beijing PM2.5 Data" set (CC BY 4.0).
    # google-stock.csv: Google (GOOG) daily prices 2018-03-27 to 2023-03-24, 1,258 trading
    # days, split-adjusted (a Yahoo Finance export; public market data), as redistributed in
    # Leangonplu/RNN_LSTM_Google-Stock-Prediction, the seeds' stock example.
    "timeseries": DataSource(
        name="timeseries", url="https://raw.githubusercontent.com/jbrownlee/Datasets/master/",
        sha256=None, required=("daily-min-temperatures.csv", "monthly-sunspots.csv", "pollution.csv",
                               "google-stock.csv"),
        files=(("daily-min-temperatures.csv", "8b9de63ed6789492bf497625e7f9beb96a63d367b4b0a21754006f749fa5e5da"),
               ("monthly-sunspots.csv", "c4ec8cc57d9f6fb6ecdb3e1f37f25b6f4badd5124c55931052b0cd2fc3bc71f3"),
               ("pollution.csv", "892e9559205d16d32623135c127a3951c12e46ea1e0b3093e107ce89a9fd60e2"),
               ("google-stock.csv", "191451032621131167f2775b5962c3e35f178f1d93de4b9040aa48183f30ef1c",
                "https://raw.githubusercontent.com/Leangonplu/RNN_LSTM_Google-Stock-Prediction/main/"
                "Google_Stock_Price_Train.csv"))),
    # The Large Movie Review Dataset v1.0 (Maas et al. 2011; 84,125,825 bytes): its 50,000
    # labelled reviews become one imdb.csv (`prepare.imdb_csv`). For pretraining and extra
    # training data for sentiment; research use, cite the paper.
    "imdb": DataSource(
        name="imdb", url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
        required=("imdb.csv",), archive_root="aclImdb", prepare=prepare.imdb_csv),
    # The VADER paper's human-rated sentences (Hutto & Gilbert 2014, MIT licence): product
    # review snippets and tweets, the sentiment task's off-domain dev sets (never trained
    # on). The archive's sha256 is that of the copy in the vaderSentiment 3.3.2 sdist.
    "offdomain": DataSource(
        name="offdomain",
        url="https://raw.githubusercontent.com/cjhutto/vaderSentiment/master/additional_resources/"
            "hutto_ICWSM_2014.tar.gz",
        sha256="d5bb07d87474b3eb8d30b4deccbc23f19d742a6c5718fbacc65485b70b95c5fa",
        required=("amazon-snippets.tsv", "tweets.tsv"), archive_root="hutto_ICWSM_2014",
        prepare=prepare.vader_tsvs),
    # Tatoeba English-French pairs as manythings.org publishes them (its 2019-04 release):
    # the archive's fra.txt becomes eng-fra.txt (`prepare.tatoeba_pairs`). The archive is
    # rebuilt with each Tatoeba export, so its bytes are not stable: the copy is checked by
    # the digest of eng-fra.txt. CC BY 2.0 FR: credit Tatoeba (tatoeba.org) and its contributors.
    "tatoeba": DataSource(
        name="tatoeba", url="https://www.manythings.org/anki/fra-eng.zip", sha256=None,
        required=("eng-fra.txt",), archive_root="", prepare=prepare.tatoeba_pairs,
        spot_checks=(("eng-fra.txt", "9be17ca1cd95b5cd6c21a71fd33044f1a39e41df5e2a737112f6b91d7e5c0fd3"),)),
}

__all__ = ["SOURCES", "DATA_ENV", "CACHE_ENV", "DataError", "DataSource", "locate", "fetch", "cache_dir"]
