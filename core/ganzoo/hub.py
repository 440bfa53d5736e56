"""The Hugging Face Hub: ``hf://owner/name[@revision]`` references, downloads and uploads.

Everything goes through ``huggingface_hub`` (installed with timm): its cache
(``$HF_HOME`` / ``$HF_HUB_CACHE``, default ``~/.cache/huggingface/hub``), its token (``hf
auth login``, ``$HF_TOKEN``) and its offline mode (``$HF_HUB_OFFLINE=1``). With no network,
a reference already in the cache loads; one that is not fails in one line.
"""

from __future__ import annotations

from pathlib import Path

from ganzoo.errors import CheckpointError, ConfigError, GanzooError

PREFIX = "hf://"


def is_reference(source: object) -> bool:
    return isinstance(source, str) and source.startswith(PREFIX)


def parse(reference: str) -> tuple[str, str | None]:
    """``hf://owner/name@rev`` -> ("owner/name", "rev"); the revision is None when not given."""
    repo, _, revision = reference[len(PREFIX):].partition("@")
    parts = repo.split("/")
    if len(parts) != 2 or not all(parts) or (revision == "" and reference.endswith("@")):
        raise ConfigError(f"'{reference}' is not a Hub reference: write hf://owner/name or hf://owner/name@revision")
    return repo, revision or None


def download(reference: str, files: list[str]) -> Path:
    """The local folder of ``reference``'s ``files`` (name patterns), through the Hub's cache."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError,
    )

    repo, revision = parse(reference)
    try:
        return Path(snapshot_download(repo, revision=revision, allow_patterns=files))
    except LocalEntryNotFoundError:
        raise CheckpointError(f"{reference} is not in the Hugging Face cache and the Hub cannot be reached (offline, or "
                              "HF_HUB_OFFLINE=1): download it once while online, or export the model to a folder") from None
    except GatedRepoError:
        raise CheckpointError(f"{reference} is gated: accept its terms on the Hub and log in (hf auth login)") from None
    except RevisionNotFoundError:
        raise CheckpointError(f"{repo} has no revision '{revision}'") from None
    except RepositoryNotFoundError:
        raise CheckpointError(f"no model at {reference} (a private one needs a token: hf auth login, or $HF_TOKEN)") from None
    except (HfHubHTTPError, OSError, ValueError) as e:
        raise CheckpointError(f"could not download {reference}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


def upload(folder: Path, repo: str, files: list[str], *, private: bool = False, message: str = "",
           revision: str | None = None) -> str:
    """Upload ``files`` (name patterns) of ``folder`` to model repository ``repo`` (created
    when missing); the URL of the commit."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    parse(PREFIX + repo)
    api = HfApi()
    try:
        api.create_repo(repo, private=private, exist_ok=True, repo_type="model")
        commit = api.upload_folder(folder_path=str(folder), repo_id=repo, repo_type="model", revision=revision,
                                   commit_message=message or f"Upload {folder.name} with ganzoo", allow_patterns=files)
    except (HfHubHTTPError, OSError, ValueError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise GanzooError(f"could not upload to {repo}: {first} (log in with 'hf auth login', or set $HF_TOKEN)") from None
    return str(getattr(commit, "commit_url", commit))
