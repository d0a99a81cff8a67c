"""docker-compose.yml as far as this machine can check it (no Docker registry is reachable):
valid against the compose specification's schema, every image pinned to a full version, every
secret from the environment, the same services as the local cluster; and both Caddyfiles as
Caddy itself reads them.

`compose-spec.json` beside this file is the compose specification's schema
(github.com/compose-spec/compose-spec, schema/compose-spec.json; Apache License 2.0, see
`LICENSE.compose-spec`), as vendored by the check-jsonschema 0.39.0 wheel on PyPI (sha256
d549057e…10e64). Replace both files from a newer check-jsonschema wheel to follow the spec.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.support.services import service_missing

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# A full version: major.minor at least (postgres:16.6, caddy:2.6.2-alpine), never `latest`
# or a bare major (postgres:16) that moves under the deployment on the next pull.
PINNED_TAG = re.compile(r"^\d+\.\d+(\.\d+)*([-.][A-Za-z0-9_.-]+)?$")
# What the environment must provide: required (`:?`), so a missing secret stops `compose up`.
SECRET_NAME = re.compile(r"SECRET|PASSWORD|_KEY$|API_KEY")
REQUIRED_VARIABLE = re.compile(r"\$\{[A-Z0-9_]+:\?[^}]*\}")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = json.loads((HERE / "compose-spec.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []


def test_the_schema_finds_a_mistake() -> None:
    """The check above would pass anything if the schema were not applied."""
    schema = json.loads((HERE / "compose-spec.json").read_text())
    broken = compose()
    broken["services"]["caddy"]["healthcheck"]["tset"] = ["CMD", "true"]
    broken["services"]["redis"]["restart_policy"] = "always"
    errors = " ".join(
        e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(broken)
    )
    assert "'tset'" in errors
    assert "'restart_policy'" in errors


def _tag(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    assert ":" in name and "@" not in name, f"{image} names no version"
    return name.split(":", 1)[1]


def test_every_image_is_pinned_to_a_full_version() -> None:
    for name, service in compose()["services"].items():
        image = service["image"]
        if "build" in service:
            # Built here from this repository: tagged with the release being deployed.
            assert REQUIRED_VARIABLE.fullmatch(_tag(image)) or PINNED_TAG.match(_tag(image)), name
        else:
            assert PINNED_TAG.match(_tag(image)), f"{name}: {image} is not a full version"
    for dockerfile in (ROOT / "Dockerfile", ROOT / "deploy" / "janus" / "Dockerfile"):
        for line in dockerfile.read_text().splitlines():
            if line.startswith("FROM "):
                assert PINNED_TAG.match(_tag(line.split()[1])), f"{dockerfile}: {line}"


def test_the_pin_check_refuses_moving_tags() -> None:
    for image in ("postgres:16", "redis:latest", "caddy", "caddy:2-alpine"):
        assert not (":" in image and PINNED_TAG.match(image.split(":", 1)[1])), image


def test_every_secret_comes_from_the_environment() -> None:
    checked = 0
    for name, service in compose()["services"].items():
        environment = service.get("environment", {})
        for key, value in environment.items():
            if SECRET_NAME.search(key):
                assert REQUIRED_VARIABLE.search(str(value)), f"{name}: {key} is not from .env"
                checked += 1
        for argument in service.get("command", []):
            if "secret=" in str(argument):
                assert REQUIRED_VARIABLE.search(str(argument)), f"{name}: {argument}"
                checked += 1
    assert checked >= 10


def test_the_compose_file_mirrors_the_local_cluster() -> None:
    services = compose()["services"]
    assert set(services) == {
        "caddy",
        "twinspace-1",
        "twinspace-2",
        "migrate",
        "postgres",
        "redis",
        "seaweedfs",
        "coturn",
        "janus",
    }
    # Media needs the host's own addresses and UDP ports.
    assert services["coturn"]["network_mode"] == "host"
    assert services["janus"]["network_mode"] == "host"
    for node in ("twinspace-1", "twinspace-2"):
        assert services[node]["healthcheck"]["test"][-1].endswith("/readyz')")
        assert services[node]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    volumes = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    named = set(compose()["volumes"])
    assert {"postgres-data", "s3-data", "caddy-data"} <= named
    assert named <= volumes


def _adapted(caddyfile: Path, env: dict[str, str]) -> dict[str, Any]:
    caddy = shutil.which("caddy")
    if caddy is None:
        service_missing("Caddy", "`caddy` is not installed (make proxy)")
        raise AssertionError("unreachable")
    done = subprocess.run(
        [caddy, "adapt", "--config", str(caddyfile), "--adapter", "caddyfile"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    adapted: dict[str, Any] = json.loads(done.stdout)
    return adapted


def _handlers(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every handler of every route, however deeply Caddy nested them."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "handler" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config["apps"]["http"])
    return found


@pytest.mark.parametrize(
    ("caddyfile", "env"),
    [
        (
            ROOT / "deploy" / "compose" / "Caddyfile",
            {"TWINSPACE_DOMAIN": "twinspace.example.org", "TWINSPACE_ACME_EMAIL": "it@example.org"},
        ),
        (
            ROOT / "deploy" / "cluster" / "Caddyfile",
            {
                f"CLUSTER_{name}": str(18400 + i)
                for i, name in enumerate(
                    ("HTTPS_PORT", "NODE1_ENTRY", "NODE2_ENTRY", "CADDY_ADMIN", "HTTP_PORT")
                    + ("NODE1_PORT", "NODE2_PORT")
                )
            },
        ),
    ],
    ids=["compose", "cluster"],
)
def test_each_caddyfile_limits_bodies_and_checks_health(
    caddyfile: Path, env: dict[str, str]
) -> None:
    handlers = _handlers(_adapted(caddyfile, env))
    bodies = [h for h in handlers if h["handler"] == "request_body"]
    proxies = [h for h in handlers if h["handler"] == "reverse_proxy"]
    assert bodies and all(h["max_size"] == 100_000_000 for h in bodies)
    assert proxies
    for proxy in proxies:
        assert proxy["health_checks"]["active"]["uri"] == "/readyz"
        assert proxy["load_balancing"]["selection_policy"] == {"policy": "least_conn"}
        assert proxy["load_balancing"]["try_duration"] > 0
