"""The supervisor restarts a crashed service with exponential backoff, logs each exit with its status, and marks
a service that keeps crashing as failed; all with short real child processes."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from powercast.stack import supervision
from powercast.stack.managed import ManagedService
from powercast.stack.supervision import RestartPolicy, Supervisor

CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def _service(tmp_path, command, name="worker") -> ManagedService:
    return ManagedService(
        name=name,
        command=lambda: list(command),
        run_dir=tmp_path / "run",
        log_file=tmp_path / "logs" / f"{name}.log",
        url="-",
        health=lambda: True,
        always_on=True,
        stop_timeout=5.0,
    )


def _supervisor(tmp_path, service, policy) -> Supervisor:
    supervision.want(tmp_path / "run", [service.name], {})
    return Supervisor(tmp_path / "run", lambda options: {service.name: service}, policy)


def _tick_until(sup: Supervisor, name: str, done, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sup.tick()
        if done(sup.states[name]):
            return sup.states[name]
        time.sleep(0.02)
    raise AssertionError(f"{name} never reached the expected state: {sup.states[name]}")


def test_a_service_that_keeps_crashing_is_restarted_with_backoff_then_marked_failed(tmp_path):
    service = _service(tmp_path, CRASHER)
    policy = RestartPolicy(base_delay_s=0.05, max_delay_s=0.3, max_restarts=4, window_s=60)
    sup = _supervisor(tmp_path, service, policy)
    delays = []
    original = sup._on_exit

    def on_exit(name, svc, state, status, what=None):
        original(name, svc, state, status, what)
        if state.state == supervision.BACKOFF:
            delays.append(round(state.next_start_at - state.last_exit_at, 3))

    sup._on_exit = on_exit
    state = _tick_until(sup, "worker", lambda s: s.state == supervision.FAILED)

    assert state.restarts == 4
    assert delays == [0.05, 0.1, 0.2, 0.3]  # doubling, capped at max_delay_s
    assert state.last_exit_status == 3 and state.last_exit.startswith("exited with status 3")
    saved = supervision.read_state(tmp_path / "run")["services"]["worker"]
    assert saved["state"] == "failed" and saved["restarts"] == 4
    log = service.log_file.read_text()
    assert log.count("exited with status 3") == 5
    assert "marked failed" in log

    sup.tick()  # a failed service stays down
    assert service.running() is None and sup.states["worker"].restarts == 4


def test_a_killed_service_is_restarted_and_the_signal_is_logged(tmp_path):
    service = _service(tmp_path, SLEEPER)
    sup = _supervisor(tmp_path, service, RestartPolicy(base_delay_s=0.05))
    try:
        first = _tick_until(sup, "worker", lambda s: s.state == supervision.RUNNING).pid
        os.kill(first, signal.SIGKILL)
        state = _tick_until(sup, "worker", lambda s: s.state == supervision.RUNNING and s.pid != first)
        assert state.restarts == 1
        assert state.last_exit.startswith("killed by SIGKILL")
        assert service.running().pid == state.pid
        assert "killed by SIGKILL" in service.log_file.read_text()
    finally:
        service.stop()


def test_restarts_outside_the_window_do_not_count(tmp_path):
    now = [1000.0]
    service = _service(tmp_path, CRASHER)
    policy = RestartPolicy(base_delay_s=1, max_restarts=2, window_s=10)
    sup = Supervisor(tmp_path / "run", lambda o: {"worker": service}, policy, clock=lambda: now[0])
    supervision.want(tmp_path / "run", ["worker"], {})
    state = sup.states.setdefault("worker", supervision.ServiceState())
    state.recent_restarts = [980.0, 985.0]  # both older than the 10 s window
    state.state, state.started_at = supervision.RUNNING, 999.0
    sup._on_exit("worker", service, state, 3)
    assert state.state == supervision.BACKOFF and state.next_start_at == pytest.approx(1001.0)


def test_a_later_up_tries_a_failed_service_again(tmp_path):
    service = _service(tmp_path, SLEEPER)
    sup = _supervisor(tmp_path, service, RestartPolicy())
    sup.states["worker"] = supervision.ServiceState(state=supervision.FAILED, failed_at=time.time() - 5)
    try:
        supervision.want(tmp_path / "run", ["worker"], {})
        sup.tick()
        assert sup.states["worker"].state == supervision.RUNNING
    finally:
        service.stop()


def test_a_service_already_running_is_adopted_not_started_twice(tmp_path):
    service = _service(tmp_path, SLEEPER)
    record = service.start()
    sup = _supervisor(tmp_path, service, RestartPolicy())
    try:
        sup.tick()
        assert sup.states["worker"].pid == record.pid and sup.states["worker"].restarts == 0
    finally:
        service.stop()
    state = _tick_until(sup, "worker", lambda s: s.last_exit is not None)
    assert "status unknown" in state.last_exit  # not its child: no exit status to report
    service.stop()


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (0, "exited with status 0"),
        (3, "exited with status 3"),
        (-9, "killed by SIGKILL"),
        (None, "exited (status unknown"),
    ],
)
def test_exits_are_described(status, text):
    assert supervision.describe_exit(status, 12.0).startswith(text)
