"""Reflex configuration for the web app in ``webapp/``.

Kept to what this project needs to run offline and reproducibly:

- bun comes from the npm registry into ``.tools/`` (``scripts/install_bun.sh``, run by
  ``make setup``); Reflex's own installer fetches it from GitHub, which is unreachable here.
  ``REFLEX_BUN_PATH`` still overrides it.
- No telemetry, and no look-up of the latest Reflex version on PyPI at each start.
- Reflex persists the frontend lockfiles (``bun.lock``, ``package.json``) in ``reflex.lock/``
  beside this file, which is committed; ``.web/`` is rebuilt from it.
- ``REDIS_URL`` (read through ``core.settings``): state in Redis and several backend workers.
- ``WEB_TRUSTED_PROXY_HOPS``: how many of our own proxies add to X-Forwarded-For, so the
  client address Reflex gives event handlers (``router.session.client_ip``) is the client's.
"""

from __future__ import annotations

from pathlib import Path

import reflex as rx
from reflex_base.environment import environment

from core.settings import Settings

# Where scripts/install_bun.sh puts it (the npm package names the Linux binary bun.exe too).
LOCAL_BUN = Path(__file__).resolve().parent / ".tools/bun/node_modules/bun/bin/bun.exe"

# Read by `reflex run` after this file is loaded, so setting it here covers a bare `reflex run`.
if not environment.REFLEX_CHECK_LATEST_VERSION.is_set():
    environment.REFLEX_CHECK_LATEST_VERSION.set(False)
# Without it Reflex times each registry it knows (one is unreachable here) before installing.
if not environment.NPM_CONFIG_REGISTRY.is_set():
    environment.NPM_CONFIG_REGISTRY.set("https://registry.npmjs.org")

_settings = Settings()
_options: dict[str, object] = {}
if LOCAL_BUN.exists():
    _options["bun_path"] = LOCAL_BUN
if _settings.redis_url:
    _options["redis_url"] = _settings.redis_url

config = rx.Config(
    app_name="webapp",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Plugins Reflex adds by default (the sitemap) have nothing to index behind a sign-in.
    disable_plugins=[rx.plugins.SitemapPlugin],
    # Never "*" (Reflex's default): no other origin gets CORS headers. webapp.origin_guard
    # refuses their requests outright, the socket's handshake included.
    cors_allowed_origins=sorted(_settings.allowed_web_origins()),
    # The client's address for the sign-in throttle: from X-Forwarded-For only through this
    # many proxies of our own (0: the connecting address).
    trusted_proxy_hops=_settings.web_trusted_proxy_hops,
    **_options,  # type: ignore[arg-type]
)
