"""The registered model: a fitted forecaster and its feature spec behind MLflow's pyfunc interface.

Input is raw recent readings in long format (`machine_id`, `sensor`, `ts` as ISO 8601 text with a zone, `value`;
optional per-row machine attributes `machine_type`, `rated_power_w`), the same shape the `readings` table and meter
exports have. The wrapper turns them into the minute frame with the features package's own aggregation (one code
path for training and scoring), checks that every machine has enough recent history, and returns the forecast frame
(`powercast.models.frame.FORECAST_COLUMNS`) for the minute after each machine's last reading. `score_machine` is the
same for one machine's readings given as arrays (the service's single-machine requests): the same steps on numpy
arrays instead of frames, equal to `score` bit for bit. A machine cannot draw negative power: both paths clip the
point forecast and its band at 0 W (which keeps yhat_lo <= yhat <= yhat_hi)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types.schema import ColSpec, Schema

from powercast.errors import InsufficientHistory, PowercastError
from powercast.features.frame import ATTRIBUTES, to_utc
from powercast.features.machine import MachineMinutes, MachineReadings, machine_minutes
from powercast.models.frame import FORECAST_COLUMNS, ordered_band

READING_COLUMNS = ["machine_id", "sensor", "ts", "value"]
WATT_COLUMNS = ("yhat", "yhat_lo", "yhat_hi")
MIN_COVERAGE = 0.8  # share of the needed minutes that must hold a power reading


class BadReadings(PowercastError):
    """The readings cannot be read as long-format sensor readings."""


@dataclass(frozen=True)
class ScoringResult:
    forecast: pd.DataFrame
    skipped: dict[str, str]


@dataclass(frozen=True)
class MachineScore:
    """One machine's forecast (`ForecasterModel.score_machine`): issue time, then per step 1..horizon the point
    forecast and the band in W (the rows `score` gives for that machine, in step order)."""

    machine_id: str
    issue_ts: pd.Timestamp
    yhat: np.ndarray
    yhat_lo: np.ndarray
    yhat_hi: np.ndarray


def input_schema() -> Schema:
    return Schema(
        [
            # ts as ISO 8601 text with a zone, as in the reading events: MLflow's datetime type is zone-naive only
            ColSpec("string", "machine_id"),
            ColSpec("string", "sensor"),
            ColSpec("string", "ts"),
            ColSpec("double", "value"),
            ColSpec("string", "machine_type", required=False),
            ColSpec("double", "rated_power_w", required=False),
        ]
    )


def output_schema() -> Schema:
    return Schema(
        [
            ColSpec("string", "machine_id"),
            ColSpec("string", "issue_ts"),
            ColSpec("long", "step"),
            ColSpec("string", "ts"),
            ColSpec("double", "yhat"),
            ColSpec("double", "yhat_lo"),
            ColSpec("double", "yhat_hi"),
        ]
    )


def signature() -> ModelSignature:
    return ModelSignature(inputs=input_schema(), outputs=output_schema())


def normalize_readings(readings: pd.DataFrame) -> pd.DataFrame:
    """Typed long readings (UTC timestamps, float values); BadReadings on missing columns or bad values."""
    missing = [c for c in READING_COLUMNS if c not in readings.columns]
    if missing:
        raise BadReadings(
            f"readings lack column(s) {', '.join(missing)}", "send long-format rows with machine_id, sensor, ts, value"
        )
    out = readings.copy()
    try:
        out["ts"] = to_utc(out["ts"])
        out["value"] = pd.to_numeric(out["value"]).astype(float)
    except (ValueError, TypeError) as exc:
        raise BadReadings(
            f"readings hold an unreadable ts or value ({exc})",
            "send ISO 8601 timestamps with a zone and numeric values",
        ) from exc
    out["machine_id"] = out["machine_id"].astype(str)
    out["sensor"] = out["sensor"].astype(str)
    out = out[np.isfinite(out["value"])]
    if out.empty or not (out["sensor"] == "power").any():
        raise BadReadings("readings hold no power values", "include rows with sensor 'power'")
    return out


def machine_attributes(frame: pd.DataFrame) -> pd.DataFrame | None:
    """One row per machine with the attribute columns present in `frame` (None when it has none)."""
    present = [c for c in ATTRIBUTES if c in frame.columns]
    if not present:
        return None
    codes, machines = pd.factorize(frame["machine_id"], sort=True)
    attrs = {"machine_id": np.asarray(machines.astype(str), dtype=object)}
    for column in present:  # each machine's first non-missing value, as groupby().first() gives it
        values = frame[column]
        valid = np.flatnonzero(values.notna().to_numpy() & (codes >= 0))
        found, first = np.unique(codes[valid], return_index=True)
        firsts = pd.Series(values.to_numpy()[valid[first]], index=found).reindex(range(len(machines))).to_numpy()
        attrs[column] = np.where(pd.isna(firsts), None, firsts) if firsts.dtype == object else firsts
    return pd.DataFrame(attrs)


def minute_frame(readings: pd.DataFrame, known: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long readings -> minute frame, with machine attributes from the readings, else from `known`."""
    from powercast.features.aggregate import minute_frame_from_readings

    machines = with_known_attributes(machine_attributes(readings), known)
    return minute_frame_from_readings(readings[READING_COLUMNS], machines=machines)


def with_known_attributes(sent: pd.DataFrame | None, known: pd.DataFrame | None) -> pd.DataFrame | None:
    """Machine attributes as sent (one row per machine), completed by `known` (those seen in training)."""
    if known is not None and sent is not None:
        sent = sent.set_index("machine_id").combine_first(known.set_index("machine_id")).reset_index()
    return sent if sent is not None else known


def at_least_zero(watts: np.ndarray) -> np.ndarray:
    """Power forecasts clipped at 0 W (missing ones stay missing); clipping every column alike keeps the band's
    order."""
    return np.maximum(np.asarray(watts, dtype=float), 0.0)


def history_shortfalls(frame: pd.DataFrame, needed_minutes: int) -> dict[str, str]:
    """Machines whose last `needed_minutes` buckets hold too few power values, with the reason."""
    required = math.ceil(needed_minutes * MIN_COVERAGE)
    codes, machines = pd.factorize(frame["machine_id"], sort=True)
    known = codes >= 0
    codes = codes[known]
    ns = frame["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)[known]  # NaT: the smallest int64
    last = np.full(len(machines), np.iinfo(np.int64).min)
    np.maximum.at(last, codes, ns)
    window = pd.Timedelta(minutes=needed_minutes).value
    counted = (ns > last[codes] - window) & frame["power"].notna().to_numpy()[known]
    have = np.bincount(codes, weights=counted, minlength=len(machines)).astype(int)
    return {
        str(machines[i]): f"{have[i]} of the last {needed_minutes} one-minute power buckets present, {required} needed"
        for i in np.flatnonzero(have < required)
    }


def machine_shortfall(minutes: MachineMinutes, needed_minutes: int) -> str | None:
    """`history_shortfalls` of one machine's minutes: the reason when its last `needed_minutes` buckets hold
    too few power values, else None."""
    required = math.ceil(needed_minutes * MIN_COVERAGE)
    power = minutes.columns.get("power", np.full(len(minutes), np.nan))
    have = int(np.count_nonzero(~np.isnan(power[-needed_minutes:]))) if needed_minutes > 0 else 0
    if have >= required:
        return None
    return f"{have} of the last {needed_minutes} one-minute power buckets present, {required} needed"


class ForecasterModel(mlflow.pyfunc.PythonModel):
    """pyfunc wrapper: raw recent readings in, forecast frame out."""

    def __init__(self, forecaster, spec: dict, min_history: int, model_name: str, machines: pd.DataFrame | None = None):
        self.forecaster = forecaster
        self.spec = spec
        self.min_history = int(min_history)
        self.model_name = model_name
        self.machines = machines  # attributes of the machines seen in training, used when a request lacks them

    def score(self, readings: pd.DataFrame, *, skip_insufficient: bool = False) -> ScoringResult:
        """Forecast every machine in `readings`; machines short of history raise, or are skipped and named."""
        frame = minute_frame(normalize_readings(readings), self.machines)
        return self.score_minutes(frame, skip_insufficient=skip_insufficient)

    def score_minutes(self, frame: pd.DataFrame, *, skip_insufficient: bool = False) -> ScoringResult:
        """`score` of the readings' minute frame (`minute_frame` of them, with this model's known attributes)."""
        shortfalls = history_shortfalls(frame, self.min_history)
        if shortfalls and not skip_insufficient:
            raise InsufficientHistory(shortfalls)
        if shortfalls:
            frame = frame[~frame["machine_id"].isin(shortfalls)]
        if frame.empty:
            return ScoringResult(pd.DataFrame(columns=FORECAST_COLUMNS), shortfalls)
        try:
            forecast = self.forecaster.predict(frame)
        except KeyError as exc:  # a feature the model was trained with cannot be built from this input
            raise BadReadings(
                f"the model needs inputs these readings do not provide ({exc})",
                "send machine_type and rated_power_w for machines the model has not seen",
            ) from exc
        forecast = forecast[FORECAST_COLUMNS].reset_index(drop=True)
        for column in WATT_COLUMNS:
            forecast[column] = at_least_zero(forecast[column].to_numpy(float))
        return ScoringResult(forecast, shortfalls)

    def score_machine(self, readings: MachineReadings) -> MachineScore:
        """`score` of one machine's readings on arrays: the same checks, inputs and forecast, without the frames
        (a forecaster with `predict_machine` is scored on the machine's arrays, any other on its minute frame)."""
        value = np.asarray(readings.value, dtype=float)
        finite = np.isfinite(value)
        if not (finite & (np.asarray(readings.sensor, dtype=object) == "power")).any():
            raise BadReadings("readings hold no power values", "include rows with sensor 'power'")
        attributes = self._machine_attributes(readings, finite)
        minutes = machine_minutes(
            readings, attributes.get("machine_type"), attributes.get("rated_power_w", float("nan"))
        )
        shortfall = machine_shortfall(minutes, self.min_history)
        if shortfall:
            raise InsufficientHistory({readings.machine_id: shortfall})
        try:
            if hasattr(self.forecaster, "predict_machine"):
                issue_ts, watts = self.forecaster.predict_machine(minutes)
                lo, yhat, hi = ordered_band(watts[:, 1], watts[:, 0], watts[:, 2])
                return MachineScore(readings.machine_id, issue_ts, *(at_least_zero(w) for w in (yhat, lo, hi)))
            forecast = self.forecaster.predict(minutes.to_frame(tuple(attributes))).sort_values("step")
        except KeyError as exc:  # a feature the model was trained with cannot be built from this input
            raise BadReadings(
                f"the model needs inputs these readings do not provide ({exc})",
                "send machine_type and rated_power_w for machines the model has not seen",
            ) from exc
        return MachineScore(
            readings.machine_id,
            forecast["issue_ts"].iloc[0],
            *(at_least_zero(forecast[c].to_numpy(float)) for c in WATT_COLUMNS),
        )

    def _machine_attributes(self, readings: MachineReadings, finite: np.ndarray) -> dict[str, object]:
        """The attributes `minute_frame` gives the machine: the first value sent with a finite reading, else the
        value known from training; only the attributes that were sent or are known."""
        out: dict[str, object] = {}
        if self.machines is not None:
            known = self.machines[self.machines["machine_id"] == readings.machine_id]
            for column in [c for c in ATTRIBUTES if c in self.machines.columns]:
                out[column] = known[column].iloc[0] if len(known) else None
        for column in ATTRIBUTES:
            sent = getattr(readings, column)
            if sent is None:
                continue
            values = np.asarray(sent, dtype=object)[finite]
            present = values[pd.notna(values)]
            if len(present):
                out[column] = present[0]
            else:
                out.setdefault(column, None)
        if "rated_power_w" in out:
            out["rated_power_w"] = float("nan") if pd.isna(out["rated_power_w"]) else float(out["rated_power_w"])
        return out

    def predict(self, context, model_input, params=None):  # noqa: D401 - MLflow's signature
        """MLflow entry point: long readings -> forecast frame with ISO 8601 times (InsufficientHistory when short)."""
        forecast = self.score(pd.DataFrame(model_input)).forecast
        return forecast.assign(
            issue_ts=forecast["issue_ts"].map(pd.Timestamp.isoformat), ts=forecast["ts"].map(pd.Timestamp.isoformat)
        )


def required_minutes(spec) -> int:
    """Minutes of history a machine needs: the spec's own figure when it has one."""
    return int(getattr(spec, "min_history", None) or getattr(spec, "history", 60))
