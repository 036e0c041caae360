"""Secrets in the config: a password, key or community written inline, or fetched from the
environment or a file so that it never has to be in a config repository.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, SecretStr, ValidationInfo, WithJsonSchema


def _resolve_secret(value: Any, info: ValidationInfo) -> Any:
    """``{env: NAME}`` or ``{file: PATH}`` instead of the secret itself (kept out of config repos)."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            name = str(value["env"])
            if name not in os.environ:
                raise ValueError(f"environment variable {name} is not set")
            return os.environ[name]
        if set(value) == {"file"}:
            base = Path((info.context or {}).get("config_dir", "."))
            p = Path(str(value["file"])).expanduser()
            p = p if p.is_absolute() else base / p
            try:
                return p.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise ValueError(f"cannot read secret file {p}: {e.strerror}") from None
        raise ValueError("a secret is a string, {env: VARIABLE} or {file: PATH}")
    return value


_SECRET_SCHEMA = {
    "anyOf": [
        {"type": "string", "writeOnly": True},
        {
            "type": "object",
            "properties": {"env": {"type": "string"}},
            "required": ["env"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"file": {"type": "string"}},
            "required": ["file"],
            "additionalProperties": False,
        },
    ]
}

#: a password, key or community: given inline, as ``{env: NAME}`` or as ``{file: PATH}``
Secret = Annotated[SecretStr, BeforeValidator(_resolve_secret), WithJsonSchema(_SECRET_SCHEMA)]
