"""What a server instance is configured with, resolved by `mloop server` from flags and settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Settings of one server process; every replica of a deployment gets the same.

    Attributes:
        backend_uri: the metadata store (`sqlite:///...` or `postgresql://...`).
        artifact_uri: the artifact root (a local folder or `s3://...`).
        auth: require credentials (API tokens, basic auth) on every route but health.
        max_body_bytes: largest request body accepted (artifact uploads stream and are exempt).
        max_page_size: largest page a search may ask for.
    """

    backend_uri: str
    artifact_uri: str
    auth: bool = False
    max_body_bytes: int = 16 * 1024 * 1024
    max_page_size: int = 10_000
