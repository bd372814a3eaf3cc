"""The managed-process abstraction: identity by pid and start time, one start under a lock, group stops."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import psutil
import pytest

from powercast.errors import PowercastError
from powercast.stack import locks
from powercast.stack.managed import ManagedService, Port
from powercast.stack.process import free_port
from powercast.stack.records import ProcessRecord, read_record, write_record

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def _service(tmp_path, command=SLEEPER, **kwargs) -> ManagedService:
    defaults = dict(
        name="sleeper",
        command=lambda: list(command),
        run_dir=tmp_path / "run",
        log_file=tmp_path / "logs" / "sleeper.log",
        url="-",
        health=lambda: True,
        stop_timeout=5.0,
    )
    return ManagedService(**{**defaults, **kwargs})


@pytest.fixture
def bystander():
    """An unrelated process: the one a reused pid would name."""
    proc = subprocess.Popen(SLEEPER, start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def test_a_reused_pid_is_not_taken_for_the_service(tmp_path, bystander):
    service = _service(tmp_path)
    real = ProcessRecord.of(bystander.pid)
    # what the record would say if our service had had this pid before the bystander got it
    write_record(service.record_file, ProcessRecord(bystander.pid, real.create_time - 3600, time.time() - 3600))

    assert service.running() is None
    assert not service.record_file.exists()  # the stale record is dropped
    assert service.stop() is False
    assert bystander.poll() is None  # never signalled


def test_a_record_names_its_process_while_it_runs(tmp_path, bystander):
    record = ProcessRecord.of(bystander.pid)
    write_record(tmp_path / "r.json", record)
    assert read_record(tmp_path / "r.json") == record
    bystander.kill()
    bystander.wait()
    assert read_record(tmp_path / "r.json") is None


def test_start_is_idempotent_and_stop_ends_the_whole_group(tmp_path):
    # the service starts a grandchild: the stop must reach it too
    command = [
        sys.executable,
        "-c",
        "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "time.sleep(60)",
    ]
    service = _service(tmp_path, command)
    record = service.start()
    assert service.start() == record
    time.sleep(0.5)
    group = [p for p in psutil.process_iter(["pid"]) if _pgid(p.pid) == record.pid]
    assert len(group) == 2

    assert service.stop() is True
    assert all(not psutil.pid_exists(p.pid) or p.status() == psutil.STATUS_ZOMBIE for p in group)
    assert service.running() is None and service.stop() is False
    assert "starting sleeper" in service.log_file.read_text()


def test_a_start_that_never_gets_ready_stops_what_it_started(tmp_path):
    service = _service(tmp_path, health=lambda: False, start_timeout=1.0)
    with pytest.raises(PowercastError, match="did not become ready"):
        service.start()
    assert service.running() is None


def test_a_process_that_dies_during_start_up_fails_with_its_log(tmp_path):
    command = [sys.executable, "-c", "print('no config here'); raise SystemExit(2)"]
    service = _service(tmp_path, command, health=lambda: False)
    with pytest.raises(PowercastError, match="exited during start-up.*no config here"):
        service.start()


def test_a_taken_port_names_the_setting(tmp_path):
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        service = _service(tmp_path, ports=(Port("127.0.0.1", port, "POWERCAST_DEMO_PORT"),))
        with pytest.raises(PowercastError, match="set POWERCAST_DEMO_PORT to a free port"):
            service.start()
    assert service.running() is None


def test_an_external_service_is_never_started_or_stopped(tmp_path):
    service = _service(tmp_path, external="kafka.example:9092")
    assert service.start() is None
    assert service.stop() is False
    assert not service.record_file.exists()


def test_two_starts_at_once_start_one_process(tmp_path):
    service = _service(tmp_path)
    records, errors = [], []

    def start():
        try:
            records.append(service.start())
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert len({r.pid for r in records}) == 1
    finally:
        service.stop()


def test_the_lock_is_exclusive_across_processes(tmp_path):
    path = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); "
            "print('held', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(PowercastError, match="locked by another process"):
            with locks.exclusive(path, timeout=0.3, what="the demo"):
                pass
        assert locks.try_hold(path) is None
    finally:
        holder.kill()
        holder.wait()
    with locks.exclusive(path, timeout=1, what="the demo"):  # released when its holder died
        pass


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None
