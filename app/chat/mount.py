"""Mount the Chainlit UI at `/` of Preflight's FastAPI app.

Chainlit reads its project directory (``.chainlit/config.toml``, ``chainlit.md``) from ``CHAINLIT_APP_ROOT``
when ``chainlit.config`` is first imported, and its JWT secret from ``CHAINLIT_AUTH_SECRET``: both are set
here, before the import, so the app finds them whatever the working directory.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from fastapi import FastAPI

from app.config import Settings, get_settings

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
CHAT_APP = Path(__file__).resolve().parent / "chainlit_app.py"
_mounted_app: object | None = None


def auth_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept (mode 0600) under the data directory."""
    if settings.auth_secret:
        return settings.auth_secret
    path = settings.data_dir / "auth_secret"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret)
    return secret


def mount_chat(api: FastAPI) -> None:
    global _mounted_app
    settings = get_settings()
    # Chainlit takes these from the environment only; set them before chainlit.config is imported.
    os.environ.setdefault("CHAINLIT_APP_ROOT", str(REPO_ROOT))
    os.environ["CHAINLIT_AUTH_SECRET"] = auth_secret(settings)
    if _mounted_app is not None:
        # A second app in the same process (tests): reuse the mounted Chainlit app; adding middleware
        # again would fail once it has started.
        api.mount("/", _mounted_app)  # type: ignore[arg-type]
        return
    from chainlit.utils import mount_chainlit

    mount_chainlit(api, target=str(CHAT_APP), path="/")
    from chainlit.server import app as chainlit_app

    from app.chat.thread_guard import install_socket_guard

    install_socket_guard()
    _mounted_app = chainlit_app
    logger.info("chat UI mounted at / (Chainlit project root %s)", os.environ["CHAINLIT_APP_ROOT"])
