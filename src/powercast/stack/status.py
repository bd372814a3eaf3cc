"""What `powercast status` reports for each part of the system: where it answers, whether its health probe
passes, how long it has run, how often the supervisor restarted it, and the last lines of its log when it is
failed or unhealthy."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from powercast.config import Settings
from powercast.db.connection import redact
from powercast.errors import PowercastError
from powercast.stack import process, supervision
from powercast.stack.managed import ManagedService, run_dir
from powercast.stack.postgres import check_reachable
from powercast.stack.system import SUPERVISED, all_services

LOG_LINES = 5

# states
RUNNING, STOPPED, EXTERNAL, FAILED, BACKOFF = "running", "stopped", "external", "failed", "backoff"


@dataclass
class ServiceReport:
    name: str
    url: str
    state: str  # running | stopped | external | failed | backoff (waiting to be restarted)
    healthy: bool  # its probe answers now
    pid: int | None = None
    uptime_s: float | None = None
    restarts: int = 0
    last_exit: str | None = None
    log_file: str | None = None
    last_log_lines: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def postgres_report(settings: Settings) -> ServiceReport:
    url = settings.app_database_url
    try:
        check_reachable(url)
        healthy = True
    except PowercastError:
        healthy = False
    state = EXTERNAL if not settings.embedded_postgres else (RUNNING if healthy else STOPPED)
    log = settings.resolved_data_dir / "postgres" / "server.log"
    return _with_log(ServiceReport("postgres", redact(url), state, healthy, log_file=str(log)))


def service_report(service: ManagedService, supervised: dict | None) -> ServiceReport:
    """`supervised`: the supervisor's state of this service (None when it is not supervised)."""
    healthy = service.healthy()
    if service.external is not None:
        return ServiceReport(service.name, service.url, EXTERNAL, healthy)
    record = service.running()
    report = ServiceReport(
        service.name,
        service.url,
        RUNNING if record else STOPPED,
        healthy,
        pid=record.pid if record else None,
        uptime_s=round(record.uptime_s, 1) if record else None,
        log_file=str(service.log_file),
    )
    if supervised:
        report.restarts = int(supervised.get("restarts", 0))
        report.last_exit = supervised.get("last_exit")
        if supervised.get("state") in (FAILED, BACKOFF) and record is None:
            report.state = supervised["state"]
    return _with_log(report)


def _with_log(report: ServiceReport) -> ServiceReport:
    """The log's last lines where they help: a failed or restarting service, or one that runs and does not answer."""
    troubled = report.state in (FAILED, BACKOFF) or (report.state == RUNNING and not report.healthy)
    if report.log_file and troubled:
        report.last_log_lines = process.log_tail(Path(report.log_file), LOG_LINES)
    return report


def system_report(settings: Settings) -> list[ServiceReport]:
    """Every part of the system, in start order."""
    state = supervision.read_state(run_dir(settings)).get("services", {})
    services = all_services(settings)
    # Probes run side by side, so a service that does not answer costs its probe's timeout once, not once each.
    with ThreadPoolExecutor(max_workers=len(services) + 1) as pool:
        postgres = pool.submit(postgres_report, settings)
        others = [
            pool.submit(service_report, service, state.get(service.name) if service.name in SUPERVISED else None)
            for service in services
        ]
        return [postgres.result(), *(future.result() for future in others)]


def problems(reports: list[ServiceReport]) -> list[str]:
    """Names of the parts that should answer and do not: infrastructure down, or a service failed."""
    infrastructure = {"postgres", "kafka", "mlflow"}
    return [r.name for r in reports if (r.name in infrastructure and not r.healthy) or r.state == FAILED]
