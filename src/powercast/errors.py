"""Errors that reach the user as one line: what went wrong and what to do about it."""

from __future__ import annotations


class PowercastError(Exception):
    """A failure the user can act on. `hint` says what to do."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}: {self.hint}" if self.hint else self.message


class SettingsError(PowercastError):
    """A setting (environment variable or `.env` line) that does not have the expected form. Exit code 2."""


class InsufficientHistory(PowercastError):
    """Machines with less history than a feature, a model or a forecast needs.

    `shortfalls` maps each such machine to what it lacks. Raised for one machine (`of_machine`), `machine_id`,
    `have` and `need` say by how many minutes it falls short.
    """

    def __init__(
        self,
        shortfalls: dict[str, str],
        *,
        have: int | None = None,
        need: int | None = None,
        message: str | None = None,
        hint: str | None = None,
    ):
        listed = "; ".join(f"{m}: {why}" for m, why in sorted(shortfalls.items()))
        super().__init__(
            message or f"too little recent data to forecast ({listed})",
            hint or "send at least the last minutes of power readings the model needs",
        )
        self.shortfalls = dict(shortfalls)
        self.machine_id = next(iter(self.shortfalls)) if len(self.shortfalls) == 1 else None
        self.have = have
        self.need = need

    @classmethod
    def of_machine(cls, machine_id: str, have: int, need: int, what: str = "history") -> InsufficientHistory:
        why = f"has {have} minute(s) of {what}, {need} are needed"
        return cls(
            {machine_id: why},
            have=have,
            need=need,
            message=f"machine {machine_id} {why}",
            hint=f"supply at least {need} minutes of readings for {machine_id}, or leave the machine out",
        )
