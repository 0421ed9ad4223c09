"""Token counting with tiktoken, falling back to a labelled estimate when no encoding loads.

tiktoken downloads its encodings on first use. Offline machines point TIKTOKEN_CACHE_DIR at a
folder that already holds them; without one we never reach for the network (that could hang a
run) unless GOGRID_TIKTOKEN_DOWNLOAD=1 allows it, and count with an estimate instead.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from gogrid.messages import CountKind, Message, ToolSpec

# Where tiktoken fetches each encoding from; its cache file is named by the sha1 of this address.
_ENCODING_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
_lock = threading.Lock()


def _cache_dir() -> Path:
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if os.environ.get(var):
            return Path(os.environ[var])
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def encoding_name_for(model: str) -> str:
    """The encoding to count a model's text with: the model's own for OpenAI models, o200k_base
    as the closest public approximation for everyone else."""
    return _encoding(model)[0]


@lru_cache(maxsize=256)
def _encoding(model: str) -> tuple[str, bool]:
    """(encoding, whether it is the model's own). Other models' tokenizers are not public, so
    their counts with o200k_base are labelled estimates, not counts."""
    name = model.split("/", 1)[-1]
    try:
        import tiktoken

        return tiktoken.encoding_name_for_model(name), True
    except Exception:
        return "o200k_base", False


@lru_cache(maxsize=8)
def _load(encoding: str) -> Any | None:
    url = _ENCODING_URLS.get(encoding)
    cached = url is not None and (_cache_dir() / hashlib.sha1(url.encode()).hexdigest()).exists()
    if not cached and os.environ.get("GOGRID_TIKTOKEN_DOWNLOAD") != "1":
        return None
    try:
        import tiktoken

        with _lock:
            return tiktoken.get_encoding(encoding)
    except Exception:
        return None


def encoding_available(model: str) -> bool:
    return _load(encoding_name_for(model)) is not None


def estimate_tokens(text: str) -> int:
    """About four characters a token for English text; never zero for non-empty text."""
    return (len(text) + 3) // 4


def count_text(text: str, model: str) -> tuple[int, CountKind]:
    encoding, own = _encoding(model)
    enc = _load(encoding)
    if enc is None:
        return estimate_tokens(text), "estimated"
    return len(enc.encode(text, disallowed_special=())), "counted" if own else "estimated"


# Per-message framing overhead of chat formats (role markers, separators).
_PER_MESSAGE = 4


def count_prompt(
    system: str, messages: list[Message], tools: list[ToolSpec], model: str
) -> tuple[int, CountKind]:
    """Tokens a chat request will take as input, for budget reservations before the call."""
    parts = [system]
    for m in messages:
        parts.append(m.content)
        for call in m.tool_calls:
            parts.append(call.name)
            parts.append(call.raw_arguments or "")
    for t in tools:
        parts.append(t.name)
        parts.append(t.description)
        parts.append(str(t.parameters))
    n, kind = count_text("\n".join(parts), model)
    return n + _PER_MESSAGE * (len(messages) + 1), kind
