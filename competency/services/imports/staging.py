"""Uploaded files kept between the dry-run preview and the confirmed import."""
import json
import secrets
from pathlib import Path


def _folder(instance_path: str) -> Path:
    folder = Path(instance_path) / "staged"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stage(instance_path: str, data: bytes, meta: dict) -> str:
    """Keep an upload on disk; return the token that finds it again."""
    token = secrets.token_hex(16)
    folder = _folder(instance_path)
    (folder / f"{token}.bin").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps(meta))
    return token


def load(instance_path: str, token: str) -> tuple[bytes, dict] | None:
    """The staged upload and its metadata, or None for an unknown token."""
    if not token or not token.isalnum():
        return None
    folder = _folder(instance_path)
    data, meta = folder / f"{token}.bin", folder / f"{token}.json"
    if not data.exists() or not meta.exists():
        return None
    return data.read_bytes(), json.loads(meta.read_text())


def discard(instance_path: str, token: str) -> None:
    """Remove a staged upload."""
    folder = _folder(instance_path)
    for suffix in (".bin", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)
