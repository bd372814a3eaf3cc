"""Common set-up mistakes give one line that says what to do."""

import socket

import pytest

from powercast.db.connection import libpq_url, redact
from powercast.errors import PowercastError
from powercast.stack.java import java_executable, maven_executable
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


def test_missing_java_and_maven_name_the_debian_packages(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PowercastError, match="apt-get install openjdk-17-jre-headless"):
        java_executable()
    with pytest.raises(PowercastError, match="Maven not found.*apt-get install maven"):
        maven_executable()


def test_a_taken_kafka_port_is_found_before_anything_is_fetched(make_settings, monkeypatch):
    from powercast.stack.kafka import KafkaBroker

    monkeypatch.setenv("PATH", "/nonexistent")  # no Java, no Maven: the port check must come first
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        settings = make_settings(kafka_port=sock.getsockname()[1])
        with pytest.raises(PowercastError, match="set POWERCAST_KAFKA_PORT to a free port"):
            KafkaBroker(settings).start()
    assert KafkaBroker(settings).pid() is None


def test_redact_hides_passwords():
    assert redact("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"


def test_sqlalchemy_urls_are_accepted():
    assert libpq_url("postgresql+psycopg2://u@h/db") == "postgresql://u@h/db"
