"""The champion model the service scores with, swapped in place when the registry alias moves.

A request takes one reference to the current `LoadedModel` and uses it to the end, so a swap (a single
attribute assignment, done only after the new version has loaded) never fails or mixes a request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from powercast.errors import PowercastError
from powercast.names import CHAMPION_ALIAS, REGISTERED_MODEL

log = logging.getLogger(__name__)


class NoModel(PowercastError):
    """No champion can be served yet (nothing registered, or the registry cannot be reached)."""


@dataclass(frozen=True)
class LoadedModel:
    version: str
    model: object  # powercast.scoring.model.ForecasterModel
    loaded_at: pd.Timestamp

    @property
    def name(self) -> str:
        return getattr(self.model, "model_name", "unknown")


class ChampionHolder:
    """Holds the loaded champion; `refresh()` loads a new version when the alias points elsewhere.

    `resolve` returns the version the alias points at (None when there is none); `load` loads a version.
    Both are injectable so the swap logic is testable without a registry.
    """

    def __init__(self, resolve: Callable[[], str | None], load: Callable[[str], object]):
        self._resolve = resolve
        self._load = load
        self._current: LoadedModel | None = None
        self._reason = "no model loaded yet"
        self._registry_error: str | None = None
        self.checked_at: pd.Timestamp | None = None  # the last time the registry answered
        self._lock = threading.Lock()  # one refresh at a time; readers never take it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> LoadedModel:
        model = self._current
        if model is None:
            raise NoModel(self._reason)
        return model

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def registry_error(self) -> str | None:
        """Why the last refresh could not read the alias or load its version; None when it could."""
        return self._registry_error

    def refresh(self) -> bool:
        """Load the aliased version if it differs from the loaded one; True when a swap happened."""
        with self._lock:
            try:
                version = self._resolve()
            except Exception as exc:  # registry down: keep serving what is loaded
                first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
                self._reason = self._registry_error = f"the model registry cannot be reached ({first_line[:200]})"
                log.warning("champion refresh failed: %s", self._reason)
                return False
            self.checked_at, self._registry_error = pd.Timestamp.now(tz="UTC"), None
            if version is None:
                self._reason = (
                    f"no version of {REGISTERED_MODEL} holds the alias '{CHAMPION_ALIAS}' "
                    "(train and promote a model first)"
                )
                return False
            if self._current is not None and self._current.version == version:
                return False
            try:
                model = self._load(version)
            except Exception as exc:
                self._reason = self._registry_error = (
                    f"loading {REGISTERED_MODEL} version {version} failed ({str(exc)[:200]})"
                )
                log.error("%s", self._reason)
                return False
            previous = self._current.version if self._current else None
            self._current = LoadedModel(version, model, pd.Timestamp.now(tz="UTC"))
            log.info("serving %s version %s (was %s)", REGISTERED_MODEL, version, previous)
            return True

    def start_polling(self, interval_s: float) -> None:
        """Refresh every `interval_s` seconds in a daemon thread until `stop()`."""

        def loop() -> None:
            while not self._stop.wait(interval_s):
                self.refresh()

        self._thread = threading.Thread(target=loop, name="champion-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def registry_holder(settings) -> ChampionHolder:
    """A holder that follows `models:/powercast-forecaster@champion` on the configured MLflow server."""
    from powercast import registry

    state: dict = {}

    def client():
        if "client" not in state:
            state["client"] = registry.connect(settings)
        return state["client"]

    def resolve() -> str | None:
        ref = registry.version_by_alias(client(), CHAMPION_ALIAS)
        return ref.version if ref else None

    def load(version: str):
        client()
        return registry.load_forecaster_model(settings, version)

    return ChampionHolder(resolve, load)
