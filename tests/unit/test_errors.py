"""Common set-up mistakes give one line that says what to do."""

import socket

import pytest

from powercast.db.connection import libpq_url, redact
from powercast.errors import PowercastError
from powercast.stack.java import java_executable
from powercast.stack.process import require_free_port


def test_port_in_use_names_the_setting():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PowercastError, match="POWERCAST_KAFKA_PORT") as err:
            require_free_port("127.0.0.1", port, "POWERCAST_KAFKA_PORT")
    assert f"127.0.0.1:{port} is already in use" in str(err.value)


def test_missing_java_says_what_to_install(monkeypatch):
    monkeypatch.setenv("JAVA_HOME", "/nonexistent/jdk")
    with pytest.raises(PowercastError, match="install OpenJDK 17"):
        java_executable()


def test_missing_java_on_path(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PowercastError, match="Java not found"):
        java_executable()


def test_redact_hides_passwords():
    assert redact("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"


def test_sqlalchemy_urls_are_accepted():
    assert libpq_url("postgresql+psycopg2://u@h/db") == "postgresql://u@h/db"
