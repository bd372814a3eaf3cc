"""`python -m dash_app`: serve the control center on loopback at POWERCAST_DASH_PORT (settings from the env)."""

from __future__ import annotations

import logging

from dash_app.app import create_app
from powercast.config import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    app = create_app(settings)
    app.run(host="127.0.0.1", port=settings.dash_port, debug=False)


if __name__ == "__main__":
    main()
