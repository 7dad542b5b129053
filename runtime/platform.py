"""The whole platform on one machine: Kafka, PostgreSQL, topics, migrations, four services.

`limelight up` and the test suite both drive this, so what the tests start is what a newcomer runs.
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from runtime import procs, services, supervisor
from runtime.config import SERVICES, RuntimeSettings
from runtime.kafka import Kafka
from runtime.postgres import Postgres, Server
from runtime.topics import ensure_topics_sync
from shared.migrations import upgrade


@dataclass
class ComponentStatus:
    name: str
    state: str
    where: str
    version: str
    note: str = ""


class Platform:
    def __init__(self, settings: RuntimeSettings, say: Callable[[str], None] = print):
        self.s = settings
        self.say = say
        self.kafka = Kafka(settings)
        self.postgres = Postgres(settings)
        self.server: Server | None = None

    def _step(self, label: str, action: Callable[[], object]):
        started = time.monotonic()
        self.say(f"  {label}…")
        result = action()
        self.say(f"  {label}: done in {time.monotonic() - started:.1f}s")
        return result

    def install(self) -> None:
        self._step("Kafka jars", lambda: self.kafka.install(say=lambda m: self.say(f"    {m}")))

    def start_infrastructure(self) -> Server:
        self.install()
        self._step(f"Kafka {self.kafka.version()} on {self.s.kafka_bootstrap}", self.kafka.start)
        self.server = self._step("PostgreSQL", self.postgres.start)
        self._step("database roles and schemas", lambda: self.postgres.bootstrap(self.server))
        created = self._step("Kafka topics", lambda: ensure_topics_sync(self.s.kafka_bootstrap))
        if created:
            self.say(f"    created {len(created)} topics")
        self._step("migrations", lambda: self.migrate(self.server))
        return self.server

    def migrate(self, server: Server) -> None:
        for service in SERVICES:
            upgrade(service, self.postgres.service_url(server, service))

    def service_env(self, service: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        assert self.server is not None, "start_infrastructure() first"
        return services.service_env(self.s, service, self.postgres.service_url(self.server, service), extra)

    def start_service(self, service: str, extra_env: dict[str, str] | None = None) -> None:
        if procs.running(service, self.s.run_dir):
            services.stop(self.s, service)
        procs.ensure_ports_free(service, services.ports(self.s, service))
        services.start(self.s, service, self.service_env(service, extra_env))

    def start_services(self, extra_env: dict[str, str] | None = None) -> None:
        def run():
            for service in services.START_ORDER:
                self.start_service(service, extra_env)
            with ThreadPoolExecutor(len(SERVICES)) as pool:
                list(pool.map(lambda svc: services.wait_healthy(self.s, svc), services.START_ORDER))

        self._step("services", run)

    def up(self, extra_env: dict[str, str] | None = None) -> None:
        """Start whatever is missing and have the supervisor keep the services running.

        What already runs is left alone (same pids), so `up` on a running platform is harmless.
        """
        self.start_infrastructure()
        self._step("services", lambda: self.supervise(extra_env))

    def supervise(self, extra_env: dict[str, str] | None = None) -> None:
        missing = [s for s in services.START_ORDER if procs.running(s, self.s.run_dir) is None]
        # Check every port before starting anything, so a conflict fails this `up` without
        # a half-started service left behind.
        for service in missing:
            procs.ensure_ports_free(service, services.ports(self.s, service))
        supervisor.write_spec(self.s, {svc: self.service_env(svc, extra_env) for svc in services.START_ORDER})
        if supervisor.running(self.s) is None:
            supervisor.start(self.s)
        if missing:
            self.say(f"    starting {', '.join(missing)}")
        # A service that exits while starting is the supervisor's to start again: keep waiting.
        with ThreadPoolExecutor(len(SERVICES)) as pool:
            list(pool.map(lambda svc: services.wait_healthy(self.s, svc, alive=self._supervised), services.START_ORDER))

    def _supervised(self) -> bool:
        return supervisor.running(self.s) is not None

    def restart(self, service: str, timeout: float = 120) -> None:
        """Stop and start one service through the supervisor; return once it is ready again."""
        if supervisor.running(self.s) is None:
            raise RuntimeError("no supervisor is running here; start the platform with `./limelight up`")
        before = procs.running(service, self.s.run_dir)
        request = supervisor.request_file(self.s, service)
        request.touch()

        def restarted() -> bool:
            now = procs.running(service, self.s.run_dir)
            return not request.exists() and now is not None and (before is None or now.pid != before.pid)

        procs.wait_until(restarted, timeout=timeout, what=f"restart of {service}", alive=self._supervised)
        services.wait_healthy(self.s, service, timeout=timeout, alive=self._supervised)

    def anything_running(self) -> bool:
        if supervisor.running(self.s) or self.kafka.running():
            return True
        if not self.s.database_url and self.postgres.running_info():
            return True
        return any(procs.running(s, self.s.run_dir) for s in services.START_ORDER)

    def down(self) -> None:
        """Stop everything; one component failing to stop does not keep the others running.

        The supervisor goes first, or it would start again what is being stopped.
        """
        steps = [("supervisor", lambda: supervisor.stop(self.s))]
        steps += [(s, lambda s=s: services.stop(self.s, s)) for s in reversed(services.START_ORDER)]
        steps += [("kafka", self.kafka.stop), ("postgresql", self.postgres.stop)]
        failures = []
        for name, stop in steps:
            try:
                if stop():
                    self.say(f"  stopped {name}")
            except Exception as exc:  # report and carry on with the rest
                failures.append(f"{name}: {exc}")
                self.say(f"  could not stop {name}: {exc}")
        if failures:
            raise RuntimeError("some components did not stop: " + "; ".join(failures))

    def status(self) -> list[ComponentStatus]:
        rows = []
        kafka_up = self.kafka.running() is not None and self.kafka.answers_metadata()
        rows.append(ComponentStatus("kafka", "up" if kafka_up else "down", self.s.kafka_bootstrap, self.kafka.version() or "-"))
        if self.s.database_url:
            server = self.postgres.start()
            pg_state, where = "external", f"{server.host}:{server.port}"
        else:
            info = self.postgres.running_info()
            pg_state = "up" if info else "down"
            where = f"unix socket in {info.socket_dir}" if info else str(self.postgres.pgdata)
            server = self.postgres.start() if info else None
        try:
            pg_version = self.postgres.version(server) if server else "-"
        except OSError:
            pg_state, pg_version = "down", "-"
        rows.append(ComponentStatus("postgresql", pg_state, where, pg_version))
        supervised = supervisor.running(self.s) is not None
        restarts = supervisor.read_state(self.s)
        for service in services.START_ORDER:
            health = services.healthy(self.s, service, probe="healthz")
            ready = services.healthy(self.s, service, probe="readyz")
            state = "up" if ready else ("starting/degraded" if health else "down")
            count = restarts.get(service, {}).get("restarts", 0)
            rows.append(
                ComponentStatus(
                    service, state, self.s.url(service), (health or {}).get("version", "-"),
                    f"restarts={count}" if supervised else "unsupervised",
                )
            )
        return rows
