"""docker-compose.yml stays in step with the code it runs.

Docker is not needed: the file is read, never started. Each check is a function returning the
problems it finds, so it is run once on the real file and once on a broken copy to prove that it
can fail. Values are read as compose would with an empty environment (`${VAR:-default}` gives
the default).
"""

import copy
import re
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import ValidationError
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url

from runtime.config import ROOT, SERVICES
from runtime.jobs import BootstrapSettings
from runtime.postgres import role_name
from services.attribution.config import AttributionSettings
from services.audit.config import AuditSettings
from services.discovery.config import DiscoverySettings
from services.gateway.config import GatewaySettings

COMPOSE_FILE = ROOT / "docker-compose.yml"
SETTINGS: dict[str, type[BaseSettings]] = {
    "discovery": DiscoverySettings,
    "audit": AuditSettings,
    "attribution": AttributionSettings,
    "gateway": GatewaySettings,
}
UPSTREAM_URL_FIELDS = [
    name for name in GatewaySettings.model_fields if name.endswith("_url") and name.removesuffix("_url") in SERVICES
]

# Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, and $$.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: object) -> str:
    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("op") in (":?", "?"):
            raise ValueError(f"{match.group('name')} must be set in the environment")
        return match.group("arg") or ""

    return _VARIABLE.sub(substitute, str(value))


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def environment(compose: dict, service: str) -> dict[str, str]:
    """A container's environment, interpolated; compose accepts a mapping or a list of NAME=value."""
    env = compose["services"][service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {name: interpolate(value) for name, value in env.items()}


def env_names(settings_class: type[BaseSettings]) -> dict[str, str]:
    """Environment variable name -> field name, as pydantic-settings reads them (case-insensitive)."""
    prefix = settings_class.model_config.get("env_prefix", "")
    names = {}
    for field_name, field in settings_class.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else prefix + field_name
        names[alias.upper()] = field_name
    return names


def settings_problems(env: dict[str, str], settings_class: type[BaseSettings]) -> list[str]:
    """Variables the class would silently ignore, required fields left unset, values it rejects."""
    names = env_names(settings_class)
    given = {name.upper(): value for name, value in env.items()}
    problems = [f"{name} is not a field of {settings_class.__name__}" for name in sorted(given.keys() - names.keys())]
    problems += [
        f"{name} is required by {settings_class.__name__} but not set"
        for name, field_name in sorted(names.items())
        if settings_class.model_fields[field_name].is_required() and name not in given
    ]
    if not problems:
        # model_validate skips the settings sources, so only the compose values are judged.
        try:
            settings_class.model_validate({names[name]: value for name, value in given.items()})
        except ValidationError as exc:
            problems.append(f"{settings_class.__name__} rejects the values: {exc}")
    return problems


def command(compose: dict, service: str) -> list[str]:
    cmd = compose["services"][service]["command"]
    return cmd.split() if isinstance(cmd, str) else [str(part) for part in cmd]


def listening_port(compose: dict, service: str) -> int:
    cmd = command(compose, service)
    return int(cmd[cmd.index("--port") + 1])


def upstream_problems(compose: dict) -> list[str]:
    """Each gateway *_URL must reach the compose service of that name, on the port it listens on."""
    env = environment(compose, "gateway")
    problems = []
    for field_name in UPSTREAM_URL_FIELDS:
        name, upstream = field_name.upper(), field_name.removesuffix("_url")
        if name not in env:
            problems.append(f"gateway: {name} is not set (its default only works outside containers)")
            continue
        url = urlsplit(env[name])
        if url.hostname != upstream or upstream not in compose["services"]:
            problems.append(f"gateway: {name}={env[name]} does not name the compose service {upstream!r}")
        elif url.port != listening_port(compose, upstream):
            port = listening_port(compose, upstream)
            problems.append(f"gateway: {name}={env[name]} but {upstream} listens on {port}")
    return problems


def depends_on(compose: dict, service: str) -> dict[str, str]:
    """Dependency -> condition; the short list form means service_started."""
    deps = compose["services"][service].get("depends_on") or {}
    if isinstance(deps, list):
        return {dep: "service_started" for dep in deps}
    return {dep: spec.get("condition", "service_started") for dep, spec in deps.items()}


def migrate_job_problems(compose: dict) -> list[str]:
    """A migrate job per service, migrating that service as its role, and gating its start."""
    problems = []
    for service in SERVICES:
        job = f"migrate-{service}"
        if job not in compose["services"]:
            problems.append(f"{service}: no {job} job")
            continue
        if command(compose, job)[-2:] != ["migrate", service]:
            problems.append(f"{job}: command {command(compose, job)} does not migrate {service}")
        if environment(compose, job).get("DATABASE_URL") != environment(compose, service).get("DATABASE_URL"):
            problems.append(f"{job}: DATABASE_URL differs from {service}'s, so it migrates as another login")
        if depends_on(compose, service).get(job) != "service_completed_successfully":
            problems.append(f"{service}: does not wait for {job} to complete successfully")
        if depends_on(compose, job).get("bootstrap") != "service_completed_successfully":
            problems.append(f"{job}: does not wait for bootstrap to complete successfully")
    return problems


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


def test_every_service_has_a_container(compose):
    assert set(SERVICES) <= compose["services"].keys()
    assert SETTINGS.keys() == set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_service_environment_matches_its_settings_class(compose, service):
    assert settings_problems(environment(compose, service), SETTINGS[service]) == []


def test_settings_check_reports_a_variable_the_service_would_ignore(compose):
    env = environment(compose, "discovery") | {"KAFKA_BOOTSTRAP_SERVER": "kafka:9092"}
    assert settings_problems(env, DiscoverySettings) == [
        "KAFKA_BOOTSTRAP_SERVER is not a field of DiscoverySettings"
    ]


def test_settings_check_reports_a_missing_required_setting(compose):
    env = environment(compose, "audit")
    del env["DATABASE_URL"]
    assert settings_problems(env, AuditSettings) == ["DATABASE_URL is required by AuditSettings but not set"]


def test_settings_check_reports_a_value_the_settings_reject(compose):
    env = environment(compose, "gateway") | {"UPSTREAM_MAX_CONNECTIONS": "plenty"}
    [problem] = settings_problems(env, GatewaySettings)
    assert "upstream_max_connections" in problem


@pytest.mark.parametrize("service", SERVICES)
def test_service_logs_in_as_its_own_role_on_the_compose_postgres(compose, service):
    url = make_url(environment(compose, service)["DATABASE_URL"])
    assert (url.drivername, url.username, url.host) == ("postgresql+asyncpg", role_name(service), "postgres")
    assert url.host in compose["services"]


@pytest.mark.parametrize("service", SERVICES)
def test_service_reaches_kafka_by_its_compose_name(compose, service):
    for server in environment(compose, service)["KAFKA_BOOTSTRAP_SERVERS"].split(","):
        assert server.rsplit(":", 1)[0] in compose["services"]


@pytest.mark.parametrize("service", SERVICES)
def test_service_container_runs_its_own_app(compose, service):
    assert f"services.{service}.main:create_app" in command(compose, service)


def test_gateway_upstream_urls_name_compose_services(compose):
    assert UPSTREAM_URL_FIELDS, "GatewaySettings has no upstream URL fields any more"
    assert upstream_problems(compose) == []


def test_upstream_check_reports_a_url_that_only_works_outside_containers(compose):
    broken = copy.deepcopy(compose)
    broken["services"]["gateway"]["environment"]["AUDIT_URL"] = "http://127.0.0.1:8002"
    assert upstream_problems(broken) == [
        "gateway: AUDIT_URL=http://127.0.0.1:8002 does not name the compose service 'audit'"
    ]


def test_upstream_check_reports_an_unset_upstream(compose):
    broken = copy.deepcopy(compose)
    del broken["services"]["gateway"]["environment"]["ATTRIBUTION_URL"]
    assert upstream_problems(broken) == [
        "gateway: ATTRIBUTION_URL is not set (its default only works outside containers)"
    ]


def test_gateway_is_published_on_host_port_8000(compose):
    assert [interpolate(port) for port in compose["services"]["gateway"]["ports"]] == ["8000:8000"]


def test_every_service_waits_for_its_own_migrate_job(compose):
    assert migrate_job_problems(compose) == []


def test_migrate_check_reports_a_service_without_its_job(compose):
    broken = copy.deepcopy(compose)
    del broken["services"]["migrate-attribution"]
    assert migrate_job_problems(broken) == ["attribution: no migrate-attribution job"]


def test_migrate_check_reports_a_job_migrating_as_another_login(compose):
    broken = copy.deepcopy(compose)
    discovery_login = environment(compose, "discovery")["DATABASE_URL"]
    broken["services"]["migrate-audit"]["environment"]["DATABASE_URL"] = discovery_login
    assert migrate_job_problems(broken) == [
        "migrate-audit: DATABASE_URL differs from audit's, so it migrates as another login"
    ]


def test_bootstrap_environment_matches_its_settings_class(compose):
    assert settings_problems(environment(compose, "bootstrap"), BootstrapSettings) == []


@pytest.mark.parametrize("service", SERVICES)
def test_bootstrap_gives_each_role_the_password_its_service_presents(compose, service):
    bootstrap = environment(compose, "bootstrap")
    assert bootstrap[f"{service.upper()}_DATABASE_URL"] == environment(compose, service)["DATABASE_URL"]


def test_bootstrap_waits_for_healthy_postgres_and_kafka(compose):
    assert depends_on(compose, "bootstrap") == {"postgres": "service_healthy", "kafka": "service_healthy"}
    assert "healthcheck" in compose["services"]["postgres"]
    assert "healthcheck" in compose["services"]["kafka"]
