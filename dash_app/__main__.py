"""`python -m dash_app [--host ADDRESS]`: serve the control center at POWERCAST_DASH_PORT (settings from the env),
on loopback unless --host says otherwise."""

from __future__ import annotations

import argparse
import logging

from dash_app.app import create_app
from powercast.config import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dash_app", description="Serve the powercast control center.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    app = create_app(settings)
    app.run(host=args.host, port=settings.dash_port, debug=False)


if __name__ == "__main__":
    main()
