"""Downloading public datasets, with one actionable line when it cannot be done."""

from __future__ import annotations

from pathlib import Path

from ganzoo.errors import DataError


def download_archive(url: str, root: Path, what: str, hint: str) -> None:
    """Download and unpack the archive at ``url`` into ``root`` (torchvision's downloader).

    Offline or on a broken archive it raises one actionable :class:`DataError`: ``hint`` says
    where the user should unpack ``what`` by hand.
    """
    import urllib.error
    import zipfile

    from torchvision.datasets.utils import download_and_extract_archive

    try:
        download_and_extract_archive(url, str(root), remove_finished=True)
    except (urllib.error.URLError, OSError, RuntimeError, zipfile.BadZipFile) as e:
        raise DataError(f"could not download {what} from {url} ({type(e).__name__}; no internet?): fetch it elsewhere and "
                        f"{hint}, or pass --data-dir") from None
