"""Apache Kafka 4.x, one node in KRaft combined mode (broker + controller), run from its jars.

The jars come from Maven Central through ``mvn dependency:copy-dependencies`` on the pom beside
this file, into the cache folder, once per Kafka version. Storage is formatted on first start.
"""

from __future__ import annotations

import base64
import shutil
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from confluent_kafka.admin import AdminClient

from core.errors import StackError
from core.settings import KafkaSettings, PathSettings, StackSettings
from earlylink.stack.process import ManagedProcess, run_checked, wait_until

LOG4J2 = """\
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {log_dir}/server.log
appender.file.filePattern = {log_dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = warn
logger.org.name = org.apache.kafka
logger.org.level = warn
"""


def new_cluster_id(raw: bytes | None = None) -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (may start with -)."""
    return base64.urlsafe_b64encode(raw or uuid.uuid4().bytes).decode().rstrip("=")


def format_args(cluster_id: str, config: Path) -> list[str]:
    """StorageTool arguments; ``--cluster-id=`` keeps an id starting with '-' from being read as
    an option (one id in 64 did, and the first start failed)."""
    return ["format", "--standalone", f"--cluster-id={cluster_id}", f"--config={config}"]


@dataclass(frozen=True)
class KafkaNode:
    """The local broker's files and process."""

    paths: PathSettings
    stack: StackSettings
    kafka: KafkaSettings

    @property
    def libs(self) -> Path:
        return self.paths.cache_dir / f"kafka-{self.stack.kafka_version}" / "libs"

    @property
    def home(self) -> Path:
        return self.paths.state_dir / "kafka"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(
            name="kafka",
            pid_file=self.home / "kafka.pid",
            log_file=self.home / "logs" / "stdout.log",
            marker=str(self.home / "server.properties"),
        )

    def fetch(self) -> None:
        """Resolve the broker's jars from Maven Central into the cache (no-op when cached)."""
        marker = self.libs / ".complete"
        if marker.exists():
            return
        if shutil.which("mvn") is None:
            raise StackError("Maven (mvn) is needed to fetch Kafka's jars; install it first")
        self.libs.mkdir(parents=True, exist_ok=True)
        pom = resources.files("earlylink.stack") / "kafka-pom.xml"
        settings_xml = resources.files("earlylink.stack") / "maven-settings.xml"
        with resources.as_file(pom) as pom_path, resources.as_file(settings_xml) as settings_path:
            run_checked(
                [
                    "mvn",
                    "-B",
                    "-q",
                    "-s",
                    str(settings_path),
                    "-f",
                    str(pom_path),
                    f"-Dkafka.version={self.stack.kafka_version}",
                    "dependency:copy-dependencies",
                    "-DincludeScope=runtime",
                    f"-DoutputDirectory={self.libs}",
                ],
                what=f"fetching Kafka {self.stack.kafka_version} from Maven Central",
            )
        marker.touch()

    def java(self, main: str, *args: str, heap: str = "256m") -> list[str]:
        """The command line to run one of Kafka's main classes."""
        java = shutil.which("java")
        if java is None:
            raise StackError("Java 17+ is needed to run Kafka; install a JDK first")
        return [
            java,
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp",
            f"{self.libs}/*",
            main,
            *args,
        ]

    def configure(self) -> Path:
        """Write server.properties and the log4j2 config (each start, so settings apply)."""
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        (self.home / "log4j2.properties").write_text(LOG4J2.format(log_dir=self.home / "logs"))
        host, port, cport = "127.0.0.1", self.stack.kafka_port, self.stack.kafka_controller_port
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"{host}:{cport}",
            "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{cport}",
            "advertised.listeners": f"PLAINTEXT://{host}:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.home / "data"),
            "num.partitions": str(self.kafka.partitions),
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "8",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": "168",
        }
        path = self.home / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        return path

    def format_storage(self, config: Path) -> None:
        """Format the KRaft log directory once (standalone controller)."""
        if (self.home / "data" / "meta.properties").exists():
            return
        run_checked(
            self.java("kafka.tools.StorageTool", *format_args(new_cluster_id(), config)),
            what="formatting Kafka storage",
            timeout_s=120,
        )

    def healthy(self) -> bool:
        """True when the broker answers a metadata request."""
        try:
            admin = AdminClient({**self.kafka.client_config(), "log_level": 0})
            metadata = admin.list_topics(timeout=2)
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            return False
        return len(metadata.brokers) > 0

    def up(self) -> str:
        """Fetch, configure, format and start the broker; wait until it serves metadata."""
        if self.healthy():  # ours, or another one on our port: never start a second
            return "already running" if self.process.pid() else "running (not started here)"
        self.fetch()
        config = self.configure()
        self.format_storage(config)
        self.process.start(self.java("kafka.Kafka", str(config), heap=self.stack.kafka_heap))
        wait_until(self.healthy, self.stack.start_timeout_s, "Kafka", self.process)
        return "started"

    def purge(self) -> None:
        """Delete the broker's data (only when stopped)."""
        shutil.rmtree(self.home, ignore_errors=True)
