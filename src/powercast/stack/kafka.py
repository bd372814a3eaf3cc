"""The embedded Kafka broker: jars from Maven Central, KRaft storage formatted once, one broker+controller."""

from __future__ import annotations

import base64
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from powercast.config import Settings
from powercast.errors import PowercastError
from powercast.stack import process
from powercast.stack.disk import GIB, require_free_space
from powercast.stack.java import java_executable, maven_executable
from powercast.stack.managed import ManagedService, Port, log_dir, run_dir

# Kafka 4 with its runtime jars is about 100 MB, in Maven's local repository and again in the cache.
KAFKA_DOWNLOAD_BYTES = GIB // 2

POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>powercast</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{version}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.17</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
"""

LOG4J2 = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Logger:
      - name: kafka
        level: INFO
      - name: org.apache.kafka
        level: WARN
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
"""


@dataclass(frozen=True)
class KafkaPaths:
    root: Path
    cache: Path
    version: str

    @property
    def libs(self) -> Path:
        return self.cache / f"kafka-{self.version}"

    @property
    def logs_dir(self) -> Path:
        return self.root / "kraft"

    @property
    def config(self) -> Path:
        return self.root / "server.properties"

    @property
    def log4j(self) -> Path:
        return self.root / "log4j2.yaml"


class KafkaBroker:
    """The single-node broker under `<data_dir>/kafka`: its jars, configuration, storage and managed process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = KafkaPaths(
            settings.resolved_data_dir / "kafka", settings.resolved_cache_dir, settings.kafka_version
        )

    # provisioning -----------------------------------------------------------------------------------------
    def provision(self) -> Path:
        """Fetch Kafka and its runtime dependencies with Maven (cached in the data directory)."""
        done = self.paths.libs / ".complete"
        if done.exists():
            return self.paths.libs
        mvn = maven_executable()
        for place in (self.paths.cache, Path.home() / ".m2"):
            require_free_space(place, KAFKA_DOWNLOAD_BYTES, f"fetching Apache Kafka {self.settings.kafka_version}")
        self.paths.cache.mkdir(parents=True, exist_ok=True)
        pom = self.paths.cache / f"kafka-{self.settings.kafka_version}-pom.xml"
        pom.write_text(POM.format(version=self.settings.kafka_version))
        result = subprocess.run(  # noqa: S603 - argv list without a shell; Maven from PATH, version from the settings
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={self.paths.libs}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            last = (result.stdout + result.stderr).strip().splitlines()[-3:]
            raise PowercastError(
                f"Maven could not fetch Apache Kafka {self.settings.kafka_version}",
                "check access to Maven Central; " + " | ".join(last),
            )
        done.write_text(self.settings.kafka_version)
        return self.paths.libs

    def write_config(self) -> None:
        s = self.settings
        self.paths.root.mkdir(parents=True, exist_ok=True)
        self.paths.config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@{s.kafka_host}:{s.kafka_controller_port}",
                    f"listeners=PLAINTEXT://{s.kafka_host}:{s.kafka_port},CONTROLLER://{s.kafka_host}:{s.kafka_controller_port}",
                    f"advertised.listeners=PLAINTEXT://{s.kafka_host}:{s.kafka_port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.paths.logs_dir}",
                    "num.partitions=1",
                    "auto.create.topics.enable=false",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    f"log.retention.ms={s.kafka_retention_ms}",
                    "log.retention.bytes=-1",
                    "",
                ]
            )
        )
        self.paths.log4j.write_text(LOG4J2)

    def _java_args(self, main_class: str, *args: str) -> list[str]:
        return [f"-Dlog4j2.configurationFile={self.paths.log4j}", "-cp", f"{self.paths.libs}/*", main_class, *args]

    def format_storage(self, java: str, cluster_id: str | None = None) -> None:
        """Format the KRaft log directory once, under `cluster_id` (a new random id when None)."""
        if (self.paths.logs_dir / "meta.properties").exists():
            return
        if cluster_id is None:
            cluster_id = _kafka_uuid()
        # One argv element: an id that starts with "-" would otherwise be read as an option.
        args = ("format", f"--cluster-id={cluster_id}", "-c", str(self.paths.config))
        result = subprocess.run(  # noqa: S603 - argv list without a shell; Java and jars of the runtime
            [java, *self._java_args("kafka.tools.StorageTool", *args)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise PowercastError(
                "formatting Kafka's KRaft storage failed", (result.stdout + result.stderr).strip()[-300:]
            )

    # lifecycle --------------------------------------------------------------------------------------------
    def service(self) -> ManagedService:
        """The broker as the runtime runs it (external when POWERCAST_KAFKA_BOOTSTRAP_SERVERS is set)."""
        s = self.settings
        return ManagedService(
            name="kafka",
            command=self._server_command,
            run_dir=run_dir(s),
            log_file=log_dir(s) / "kafka.log",
            url=s.bootstrap_servers,
            health=lambda: broker_answers(s.bootstrap_servers),
            ports=(
                Port(s.kafka_host, s.kafka_port, "POWERCAST_KAFKA_PORT"),
                Port(s.kafka_host, s.kafka_controller_port, "POWERCAST_KAFKA_CONTROLLER_PORT"),
            ),
            prepare=self._prepare,
            external=s.kafka_bootstrap_servers,
            start_timeout=90.0,
        )

    def _prepare(self) -> None:
        java = java_executable()
        self.provision()
        self.write_config()
        self.format_storage(java)

    def _server_command(self) -> list[str]:
        heap = self.settings.kafka_heap
        cmd = [java_executable(), f"-Xmx{heap}", f"-Xms{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true"]
        return cmd + self._java_args("kafka.Kafka", str(self.paths.config))

    def pid(self) -> int | None:
        record = self.service().running()
        return record.pid if record else None

    def start(self) -> str:
        """Start the broker (a no-op when it already runs) and return the bootstrap address."""
        if not self.settings.embedded_kafka:
            raise PowercastError(
                "POWERCAST_KAFKA_BOOTSTRAP_SERVERS points at an external cluster",
                "unset it to run the embedded broker",
            )
        self.service().start()
        return self.settings.bootstrap_servers

    def stop(self) -> bool:
        return self.service().stop()


def _kafka_uuid() -> str:
    """A random id made as Kafka's `Uuid.randomUuid()` makes one: URL-safe base64 of a v4 UUID, no padding.

    Like Kafka (4.x), draw again while the text holds a "-", so the id is never taken for a command-line
    option. (Kafka also skips its reserved all-zero and ...01 ids, which a v4 UUID can never be.)
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if "-" not in text:
            return text


def broker_answers(bootstrap: str, timeout: float = 2.0) -> bool:
    """True when the broker answers a metadata request.

    A closed port is refused at once; only a port that accepts is asked for metadata (which would otherwise wait
    out its whole timeout on a broker that is down).
    """
    if not any(_accepts(address) for address in bootstrap.split(",")):
        return False
    from confluent_kafka.admin import AdminClient

    try:
        metadata = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0}).list_topics(timeout=timeout)
    except Exception:
        return False
    return bool(metadata.brokers)


def _accepts(address: str) -> bool:
    host, _, port = address.strip().rpartition(":")
    try:
        return process.port_in_use(host.strip("[]") or "localhost", int(port))
    except (OSError, ValueError):
        return False
