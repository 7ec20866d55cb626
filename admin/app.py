"""The admin HTTP app (quart-trio, served by hypercorn inside the server process)."""

from __future__ import annotations

import time
from typing import Any

from quart_trio import QuartTrio

from server.config import Settings


def create_admin_app(settings: Settings) -> QuartTrio:
    app = QuartTrio("tablium.admin")
    started_at = time.monotonic()

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """The process is alive and its event loop answers."""
        return {"status": "ok", "uptime_s": round(time.monotonic() - started_at, 3)}

    return app
