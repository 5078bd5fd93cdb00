#!/usr/bin/env python3
"""The Umbrel app store's pull-request checks, as this project reads them.

Umbrel's official store lints every new app before review (its
`lint-apps` tool). This encodes those rules for our own app folder so a
submission never fails on them:

    python3 packaging/umbrel/lint.py packaging/umbrel/ledgersys

Exit 0 when there is no error (warnings are printed), 1 otherwise. It reads
only files: whether the pinned image really is public and multi-platform is
checked by scripts/umbrel-release, which asks the registry.
"""

import re
import sys
from pathlib import Path

import yaml

REQUIRED = [
    "manifestVersion", "id", "category", "name", "version", "tagline",
    "description", "developer", "website", "dependencies", "repo", "support",
    "port", "gallery", "path", "submitter", "submission",
]
STRINGS = ["id", "category", "name", "version", "tagline", "description",
           "website", "support", "path", "submission"]
BOOLEANS = ["deterministicPassword", "optimizedForUmbrelHome", "torOnly",
            "requiresHttps", "disabled"]
CATEGORIES = {"ai", "automation", "bitcoin", "crypto", "developer", "files",
              "finance", "media", "networking", "social"}
PERMISSIONS = {"STORAGE_DOWNLOADS", "GPU"}
RESERVED_PORTS = {80, 443, 2000}
# Apps of the official store this package may depend on (and those an
# Electrum server alternative implements).
KNOWN_APPS = {"bitcoin", "electrs", "fulcrum", "electrumx", "lightning",
              "core-lightning", "btcpay-server", "mempool", "bitcoin-knots"}
HOOKS = {f"{when}-{what}" for when in ("pre", "post")
         for what in ("install", "start", "stop", "update")}
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
PULL_REQUEST = re.compile(r"^https://github\.com/[^/\s]+/[^/\s]+/pull/\d+$")
PINNED = re.compile(r"^[^\s@]+:[^\s@:/]+@sha256:[0-9a-f]{64}$")
WARN_KEYS = ["container_name", "privileged", "cap_add", "devices", "security_opt"]


class Report:
    def __init__(self):
        self.errors = []
        self.warnings = []

    def error(self, text):
        self.errors.append(text)

    def warn(self, text):
        self.warnings.append(text)


def load_yaml(path, report):
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        report.error(f"{path.name} is missing")
    except yaml.YAMLError as err:
        report.error(f"{path.name} is not valid YAML: {err}")
    return None


def check_manifest(app_dir, manifest, report, store_ports, new_submission):
    if not isinstance(manifest, dict):
        report.error("umbrel-app.yml is not a mapping")
        return
    for key in REQUIRED:
        if key not in manifest:
            report.error(f"umbrel-app.yml: required field {key} is missing")
    for key in STRINGS:
        if key in manifest and not isinstance(manifest[key], str):
            report.error(f"umbrel-app.yml: {key} must be a string")
    for key in BOOLEANS:
        if key in manifest and not isinstance(manifest[key], bool):
            report.error(f"umbrel-app.yml: {key} must be true or false")
    app_id = manifest.get("id")
    if app_id != app_dir.name:
        report.error(f"umbrel-app.yml: id {app_id!r} is not the folder's name {app_dir.name!r}")
    if isinstance(app_id, str) and not KEBAB.match(app_id):
        report.error(f"umbrel-app.yml: id {app_id!r} is not lowercase kebab-case")
    version = manifest.get("manifestVersion")
    if isinstance(version, bool) or not isinstance(version, (int, float)):
        report.error("umbrel-app.yml: manifestVersion must be a number")
    if "category" in manifest and manifest["category"] not in CATEGORIES:
        report.error(f"umbrel-app.yml: category {manifest['category']!r} is not one of {sorted(CATEGORIES)}")
    for key, may_be_empty in (("website", False), ("repo", True), ("submission", False)):
        value = manifest.get(key)
        if value == "" and may_be_empty:
            continue
        if key in manifest and not (isinstance(value, str) and URL.match(value)):
            report.error(f"umbrel-app.yml: {key} must be a URL")
    submission = manifest.get("submission")
    if isinstance(submission, str) and URL.match(submission) and not PULL_REQUEST.match(submission):
        report.error("umbrel-app.yml: submission must be the pull request's URL")
    path = manifest.get("path")
    if isinstance(path, str) and path and not path.startswith("/"):
        report.error("umbrel-app.yml: path must be empty or start with /")
    port = manifest.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        report.error("umbrel-app.yml: port must be a whole number from 1 to 65535")
    elif port in RESERVED_PORTS:
        report.error(f"umbrel-app.yml: port {port} is reserved by umbrelOS")
    elif store_ports.get(port, app_id) != app_id:
        report.error(f"umbrel-app.yml: port {port} is already used by {store_ports[port]}")
    if new_submission and manifest.get("releaseNotes", "") != "":
        report.error('umbrel-app.yml: releaseNotes must be "" on a new submission')
    if manifest.get("gallery") != []:
        report.error("umbrel-app.yml: gallery must be [] (Umbrel makes the images)")
    if "icon" in manifest:
        report.error("umbrel-app.yml: no icon in the official store (Umbrel makes it)")
    dependencies = manifest.get("dependencies")
    if not isinstance(dependencies, list):
        report.error("umbrel-app.yml: dependencies must be a list")
    else:
        for dependency in dependencies:
            if dependency not in KNOWN_APPS:
                report.error(f"umbrel-app.yml: dependency {dependency!r} is not an app of the store")
    for permission in manifest.get("permissions") or []:
        if permission not in PERMISSIONS:
            report.error(f"umbrel-app.yml: permission {permission!r} is not one of {sorted(PERMISSIONS)}")


def check_compose(app_dir, app_id, port, compose, report):
    if not isinstance(compose, dict) or not isinstance(compose.get("services"), dict):
        report.error("docker-compose.yml has no services")
        return
    services = compose["services"]
    proxy = services.get("app_proxy")
    if not isinstance(proxy, dict):
        report.error("docker-compose.yml: no app_proxy service, so the app cannot be opened")
    else:
        env = proxy.get("environment") or {}
        host = str(env.get("APP_HOST", ""))
        named = [f"{app_id}_{name}_1" for name in services if name != "app_proxy"]
        if host not in named:
            report.error(f"docker-compose.yml: app_proxy APP_HOST {host!r} names no service of this file ({named})")
        if "APP_PORT" not in env:
            report.error("docker-compose.yml: app_proxy has no APP_PORT")
        auth = env.get("PROXY_AUTH_ADD", "true")
        if auth not in ("true", "false"):
            report.error('docker-compose.yml: PROXY_AUTH_ADD must be the string "true" or "false"')
        if "PROXY_AUTH_WHITELIST" in env:
            allowed = [p.strip() for p in str(env["PROXY_AUTH_WHITELIST"]).split(",")]
            if any(p in ("", "/", "/*", "/**") for p in allowed):
                report.error("docker-compose.yml: PROXY_AUTH_WHITELIST must not be empty nor the whole app")
    for key in ("networks", "volumes"):
        if key in compose:
            report.warn(f"docker-compose.yml: top-level {key}: is discouraged")
    for name, service in services.items():
        if name == "app_proxy" or not isinstance(service, dict):
            continue
        check_service(app_dir, name, port, service, services, report)


def check_service(app_dir, name, port, service, services, report):
    where = f"docker-compose.yml: service {name}"
    image = service.get("image")
    if "build" in service:
        report.error(f"{where} builds an image; it must use a published one")
    if not isinstance(image, str) or not PINNED.match(image):
        report.error(f"{where}: image must be pinned as repository:tag@sha256:<digest>")
    if service.get("restart") != "on-failure":
        report.warn(f"{where}: restart: on-failure is expected")
    for key in WARN_KEYS:
        if key in service:
            report.warn(f"{where} sets {key}")
    if service.get("network_mode") == "host":
        report.warn(f"{where} uses the host's network")
    for mount in service.get("volumes") or []:
        source = str(mount).split(":")[0] if isinstance(mount, str) else str(mount.get("source", ""))
        if "docker.sock" in str(mount):
            report.error(f"{where} mounts the Docker socket")
        if source.rstrip("/") in ("${APP_DATA_DIR}", "$APP_DATA_DIR"):
            report.error(f"{where} mounts ${{APP_DATA_DIR}} itself; mount a folder inside it")
        elif source.startswith("${APP_DATA_DIR}/"):
            inside = source[len("${APP_DATA_DIR}/"):]
            if not (app_dir / inside).is_dir():
                report.error(f"{where}: {source} is not a folder committed in the app ({inside}/.gitkeep)")
        elif source.startswith("/"):
            report.warn(f"{where} mounts the host path {source}")
    for mapping in service.get("ports") or []:
        parts = str(mapping).split(":")
        if len(parts) < 2:
            report.error(f"{where}: port {mapping!r} must be host:container")
        elif parts[-2] == str(port):
            report.error(f"{where}: port {mapping!r} takes the manifest's port")
    depends = service.get("depends_on")
    if isinstance(depends, dict):
        for other, condition in depends.items():
            healthy = isinstance(condition, dict) and condition.get("condition") == "service_healthy"
            if healthy and "healthcheck" not in (services.get(other) or {}):
                report.error(f"{where} waits for {other} to be healthy, which has no healthcheck")


def check_scripts(app_dir, report):
    exports = app_dir / "exports.sh"
    if exports.exists():
        for number, line in enumerate(exports.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"(^|[;&|]\s*)\s*(exit|cd)\b", code) or re.search(r"(^|[;&|]\s*)\s*set\s+[-+]", code):
                report.error(f"exports.sh:{number}: it is sourced, so it must not exit, cd or set options")
    hooks = app_dir / "hooks"
    if hooks.is_dir():
        for hook in hooks.iterdir():
            if hook.name not in HOOKS:
                report.error(f"hooks/{hook.name} is not a hook umbrelOS runs")
    for template in app_dir.rglob("*.template"):
        if template.parent != app_dir:
            report.error(f"{template.relative_to(app_dir)}: only top-level templates are rendered")


def lint(app_dir, new_submission=True):
    report = Report()
    app_dir = Path(app_dir)
    manifest = load_yaml(app_dir / "umbrel-app.yml", report)
    compose = load_yaml(app_dir / "docker-compose.yml", report)
    store_ports = {}
    for other in app_dir.parent.glob("*/umbrel-app.yml"):
        if other.parent == app_dir:
            continue
        data = yaml.safe_load(other.read_text()) or {}
        store_ports[data.get("port")] = data.get("id")
    if manifest is not None:
        check_manifest(app_dir, manifest, report, store_ports, new_submission)
    if isinstance(manifest, dict) and compose is not None:
        check_compose(app_dir, manifest.get("id"), manifest.get("port"), compose, report)
    check_scripts(app_dir, report)
    return report


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    report = lint(argv[1])
    for text in report.warnings:
        print(f"warning: {text}")
    for text in report.errors:
        print(f"error: {text}")
    print(f"{len(report.errors)} errors, {len(report.warnings)} warnings")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
