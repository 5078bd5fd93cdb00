"""The Umbrel app passes the store's rules, and each rule catches what it
should: every case breaks a copy of the real app in one way.

    python3 -m unittest discover -s packaging/umbrel -p 'test_*.py'
"""

import shutil
import tempfile
import unittest
from pathlib import Path

import yaml

import lint

APP = Path(__file__).parent / "ledgersys"


class TheApp(unittest.TestCase):
    def test_passes_every_rule_without_a_warning(self):
        report = lint.lint(APP)
        self.assertEqual(report.errors, [])
        self.assertEqual(report.warnings, [])

    def test_is_configured_from_its_dependencies_exports(self):
        compose = yaml.safe_load((APP / "docker-compose.yml").read_text())
        env = compose["services"]["web"]["environment"]
        self.assertEqual(env["LEDGERSYS_CHAIN_ELECTRUM"], "${APP_ELECTRS_NODE_IP}:${APP_ELECTRS_NODE_PORT}")
        self.assertEqual(compose["services"]["web"]["user"], "1000:1000")
        proxy = compose["services"]["app_proxy"]["environment"]
        self.assertEqual(proxy["PROXY_AUTH_WHITELIST"], "/api/v1/btcpay/webhook/*")
        manifest = yaml.safe_load((APP / "umbrel-app.yml").read_text())
        self.assertEqual(manifest["dependencies"], ["bitcoin", "electrs"])

    def test_community_store_id_prefixes_the_app_id(self):
        store = yaml.safe_load((APP.parent / "umbrel-app-store.yml").read_text())
        self.assertTrue(lint.KEBAB.match(store["id"]))
        self.assertTrue("ledgersys".startswith(store["id"]))


class EachRule(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.app = Path(self.tmp.name) / "ledgersys"
        shutil.copytree(APP, self.app)

    def tearDown(self):
        self.tmp.cleanup()

    def fresh(self):
        shutil.rmtree(self.app)
        shutil.copytree(APP, self.app)

    def edit(self, name, change):
        path = self.app / name
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(yaml.safe_dump(data))

    def manifest(self, change):
        self.edit("umbrel-app.yml", change)

    def compose(self, change):
        self.edit("docker-compose.yml", change)

    def web(self, change):
        self.compose(lambda c: change(c["services"]["web"]))

    def assert_error(self, fragment):
        errors = lint.lint(self.app).errors
        self.assertTrue(any(fragment in e for e in errors), f"no error with {fragment!r} in {errors}")

    def assert_warning(self, fragment):
        warnings = lint.lint(self.app).warnings
        self.assertTrue(any(fragment in w for w in warnings), f"no warning with {fragment!r} in {warnings}")

    def test_required_fields(self):
        for key in lint.REQUIRED:
            with self.subTest(key=key):
                self.fresh()
                self.manifest(lambda m: m.pop(key))
                self.assert_error(f"required field {key}")

    def test_manifest_values(self):
        cases = [
            (lambda m: m.update(id="Ledger_Sys"), "not the folder's name"),
            (lambda m: m.update(category="money"), "category"),
            (lambda m: m.update(manifestVersion="one"), "manifestVersion"),
            (lambda m: m.update(website="ledgersys"), "website must be a URL"),
            (lambda m: m.update(submission="https://github.com/getumbrel/umbrel-apps"), "pull request"),
            (lambda m: m.update(path="app"), "path must be empty"),
            (lambda m: m.update(port=443), "reserved"),
            (lambda m: m.update(port=70000), "port must be"),
            (lambda m: m.update(releaseNotes="First release"), "releaseNotes"),
            (lambda m: m.update(gallery=["1.jpg"]), "gallery"),
            (lambda m: m.update(icon="https://example.org/icon.svg"), "no icon"),
            (lambda m: m.update(dependencies=["bitcoin", "nosuchapp"]), "nosuchapp"),
            (lambda m: m.update(permissions=["NETWORK"]), "permission"),
            (lambda m: m.update(torOnly="yes"), "torOnly must be true or false"),
            (lambda m: m.update(tagline=5), "tagline must be a string"),
        ]
        for change, fragment in cases:
            with self.subTest(fragment=fragment):
                self.fresh()
                self.manifest(change)
                self.assert_error(fragment)

    def test_a_port_taken_by_another_app_of_the_store(self):
        other = self.app.parent / "someone-else"
        other.mkdir()
        (other / "umbrel-app.yml").write_text("id: someone-else\nport: 3939\n")
        self.assert_error("already used by someone-else")

    def test_compose_rules(self):
        cases = [
            (lambda c: c["services"].pop("app_proxy"), "no app_proxy"),
            (lambda c: c["services"]["app_proxy"]["environment"].update(APP_HOST="web"), "APP_HOST"),
            (lambda c: c["services"]["app_proxy"]["environment"].pop("APP_PORT"), "APP_PORT"),
            (lambda c: c["services"]["app_proxy"]["environment"].update(PROXY_AUTH_ADD=True), "PROXY_AUTH_ADD"),
            (lambda c: c["services"]["app_proxy"]["environment"].update(PROXY_AUTH_WHITELIST="/*"), "WHITELIST"),
            (lambda c: c["services"]["web"].update(image="ghcr.io/ledgersys/ledgersys:0.1.0"), "pinned"),
            (lambda c: c["services"]["web"].update(build="."), "builds an image"),
            (lambda c: c["services"]["web"].update(volumes=["${APP_DATA_DIR}:/data"]), "itself"),
            (lambda c: c["services"]["web"].update(volumes=["${APP_DATA_DIR}/data/db:/data"]), "not a folder committed"),
            (lambda c: c["services"]["web"].update(volumes=["/var/run/docker.sock:/var/run/docker.sock"]), "Docker socket"),
            (lambda c: c["services"]["web"].update(ports=["3939:8420"]), "manifest's port"),
            (lambda c: c["services"]["web"].update(ports=["8420"]), "host:container"),
            (lambda c: c["services"]["web"].update(depends_on={"db": {"condition": "service_healthy"}}), "no healthcheck"),
        ]
        for change, fragment in cases:
            with self.subTest(fragment=fragment):
                self.fresh()
                self.compose(change)
                self.assert_error(fragment)

    def test_compose_warnings(self):
        cases = [
            (lambda s: s.update(container_name="ledgersys"), "container_name"),
            (lambda s: s.update(privileged=True), "privileged"),
            (lambda s: s.update(network_mode="host"), "host's network"),
            (lambda s: s.update(restart="always"), "on-failure"),
            (lambda s: s.update(volumes=["/home/umbrel:/host"]), "host path"),
        ]
        for change, fragment in cases:
            with self.subTest(fragment=fragment):
                self.fresh()
                self.web(change)
                self.assert_warning(fragment)

    def test_exports_and_hooks(self):
        exports = self.app / "exports.sh"
        for line in ("exit 0", "cd /tmp", "set -e", "true && exit 1"):
            with self.subTest(line=line):
                exports.write_text(f"export A=1\n{line}\n")
                self.assert_error("must not exit, cd or set")
        exports.write_text("export A=1\n")
        (self.app / "hooks").mkdir()
        (self.app / "hooks" / "before-start").write_text("#!/bin/sh\n")
        self.assert_error("hooks/before-start")
        (self.app / "hooks" / "before-start").unlink()
        (self.app / "data" / "x.template").write_text("")
        self.assert_error("only top-level templates")


if __name__ == "__main__":
    unittest.main()
