"""A real Apache Kafka broker (KRaft, broker+controller in one JVM) from the official jars."""

import asyncio
import base64
import hashlib
import shutil
import subprocess
import uuid
from string import Template

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from runtime import procs
from runtime.config import ROOT, RuntimeSettings

DEPLOY = ROOT / "deploy" / "kafka"
NAME = "kafka"


class Kafka:
    def __init__(self, settings: RuntimeSettings):
        self.s = settings
        self.home = settings.state_dir / "kafka"
        self.data_dir = self.home / "data"
        self.config_file = self.home / "server.properties"
        self.log_file = settings.logs_dir / "kafka.log"

    # -- install -------------------------------------------------------------------------
    def _pom_digest(self) -> str:
        return hashlib.sha256((DEPLOY / "pom.xml").read_bytes()).hexdigest()[:16]

    def jars_installed(self) -> bool:
        marker = self.s.jars_dir / ".pom-digest"
        return marker.exists() and marker.read_text() == self._pom_digest()

    def install(self, say=print) -> bool:
        """Resolve the broker jars with Maven (once; reused while deploy/kafka/pom.xml is unchanged)."""
        if self.jars_installed():
            return False
        if shutil.which("mvn") is None or shutil.which("java") is None:
            raise RuntimeError("Kafka needs Java 17+ and Maven on PATH (Debian: apt-get install openjdk-17-jre-headless maven)")
        say("resolving Apache Kafka jars with Maven (first run only)…")
        target = self.s.jars_dir
        if target.exists():
            shutil.rmtree(target)
        subprocess.run(
            ["mvn", "-B", "-q", "--no-transfer-progress", "-Dstyle.color=never", "-f", str(DEPLOY / "pom.xml"), "dependency:copy-dependencies",
             f"-DoutputDirectory={target}", "-DincludeScope=runtime"],
            check=True,
        )
        (target / ".pom-digest").write_text(self._pom_digest())
        return True

    def version(self) -> str | None:
        for jar in self.s.jars_dir.glob("kafka_2.13-*.jar"):
            return jar.stem.removeprefix("kafka_2.13-")
        return None

    # -- lifecycle -----------------------------------------------------------------------
    def _java(self, main: str, *args: str, heap: str | None = None) -> list[str]:
        argv = ["java"]
        if heap:
            argv += [f"-Xms{heap}", f"-Xmx{heap}"]
        argv += [
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={DEPLOY / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.home / 'logs'}",
            "-cp", f"{self.s.jars_dir}/*",
            main, *args,
        ]
        return argv

    def _write_config(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        template = Template((DEPLOY / "server.properties").read_text())
        self.config_file.write_text(
            template.substitute(
                port=self.s.kafka_port, controller_port=self.s.kafka_controller_port, data_dir=self.data_dir
            )
        )

    def _format_storage(self) -> None:
        if (self.data_dir / "meta.properties").exists():
            return  # formatted before: keep the data across restarts
        cluster_id = _cluster_id()
        subprocess.run(
            self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.config_file)),
            check=True,
            capture_output=True,
        )

    def running(self):
        return procs.running(NAME, self.s.run_dir)

    def start(self, timeout: float = 90) -> bool:
        """Start the broker unless it runs already; return once it answers metadata requests."""
        if self.running():
            self.wait_ready(timeout)
            return False
        procs.ensure_ports_free(
            "kafka",
            {"LIMELIGHT_KAFKA_PORT": self.s.kafka_port, "LIMELIGHT_KAFKA_CONTROLLER_PORT": self.s.kafka_controller_port},
        )
        self._write_config()
        self._format_storage()
        procs.start(
            NAME,
            self._java("kafka.Kafka", str(self.config_file), heap=self.s.kafka_heap),
            run_dir=self.s.run_dir,
            log_file=self.log_file,
            env=procs.child_env({}),
            cwd=self.home,
        )
        try:
            self.wait_ready(timeout)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n--- {self.log_file} ---\n{procs.tail(self.log_file)}") from exc
        return True

    def wait_ready(self, timeout: float) -> None:
        procs.wait_until(
            self.answers_metadata, timeout=timeout, interval=0.5, what="kafka", alive=lambda: self.running() is not None
        )

    def answers_metadata(self) -> bool:
        return asyncio.run(_answers_metadata(self.s.kafka_bootstrap))

    def stop(self) -> bool:
        # SIGTERM triggers the broker's controlled shutdown; give it time to flush.
        return procs.stop(NAME, self.s.run_dir, timeout=60)


def _cluster_id() -> str:
    """A Kafka cluster id: base64url of 16 random bytes. Like Kafka's Uuid.randomUuid, draw
    again when it starts with '-', which the storage tool would read as an option."""
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


async def _answers_metadata(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await asyncio.wait_for(admin.start(), 5)
        await asyncio.wait_for(admin.describe_cluster(), 5)
        return True
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()


