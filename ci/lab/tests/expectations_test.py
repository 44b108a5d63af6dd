#!/usr/bin/env python3
"""Unit tests of expectations.py: defaults from the catalog, explicit
scenarios unchanged, and errors for names the catalog lacks. Also checks
every scenario file against the repository's catalog."""
import json
import os
import sys
import tempfile
import unittest

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, LAB_DIR)
import expectations  # noqa: E402

REPO_CATALOG = os.path.join(os.path.dirname(os.path.dirname(LAB_DIR)), "tests_catalog")


def write_catalog(d):
    docs = {
        "chat.json": {"service": "chat", "test_name": "chat", "features": {"messaging": {}, "media": {}, "stun": {}},
                      "endpoints": [{"host": "a", "feature": "messaging"}, {"host": "b", "feature": "media"},
                                    {"host": "c", "feature": "stun", "judged": False}]},
        "mail.json": {"service": "mail", "test_name": "mail", "features": {"web": {}},
                      "endpoints": [{"host": "d", "feature": "web"}]},
        "canary.json": {"service": "canary", "test_name": "canary", "kind": "canary", "features": {"network": {}},
                        "endpoints": [{"host": "e", "feature": "network"}]},
        "catalog.schema.json": {"title": "not a service"},
    }
    for fn, doc in docs.items():
        with open(os.path.join(d, fn), "w") as f:
            json.dump(doc, f)


class Expectations(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        write_catalog(self.tmp.name)
        self.services = expectations.load_services(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_services_and_judged_features_come_from_the_catalog(self):
        self.assertEqual(self.services, {"chat": ["messaging", "media"], "mail": ["web"]})

    def test_unnamed_services_and_features_are_expected_accessible(self):
        exp = expectations.expected({"expect": {"chat": {"status": "partially_blocked", "methods": ["tls"],
                                                         "features": {"media": {"status": "blocked", "methods": ["tls"]}}}}},
                                    self.services)
        self.assertEqual(exp["mail"], {"status": "accessible", "methods": [],
                                       "features": {"web": {"status": "accessible", "methods": []}}})
        self.assertEqual(exp["chat"]["features"]["messaging"], {"status": "accessible", "methods": []})
        self.assertEqual(exp["chat"]["features"]["media"], {"status": "blocked", "methods": ["tls"]})

    def test_empty_scenario_expects_everything_accessible(self):
        exp = expectations.expected({"techniques": []}, self.services)
        self.assertEqual(sorted(exp), ["chat", "mail"])
        for e in exp.values():
            self.assertEqual(e["status"], "accessible")
            self.assertTrue(all(f["status"] == "accessible" for f in e["features"].values()))

    def test_wholly_blocked_service_features_inherit_its_status(self):
        exp = expectations.expected({"expect": {"chat": {"status": "blocked", "methods": ["dns"]}}}, self.services)
        self.assertEqual(exp["chat"]["features"], {"messaging": {"status": "blocked"}, "media": {"status": "blocked"}})

    def test_expect_others(self):
        exp = expectations.expected({"expect_others": {"status": "inconclusive"}}, self.services)
        self.assertEqual(exp["mail"]["features"], {"web": {"status": "inconclusive"}})

    def test_unknown_service_or_feature_is_an_error(self):
        with self.assertRaisesRegex(expectations.ScenarioError, "nosuch: not in the catalog"):
            expectations.expected({"expect": {"nosuch": {"status": "accessible"}}}, self.services)
        with self.assertRaisesRegex(expectations.ScenarioError, "stun: not a judged feature"):
            expectations.expected({"expect": {"chat": {"status": "accessible", "features": {"stun": {"status": "accessible"}}}}},
                                  self.services)
        with self.assertRaisesRegex(expectations.ScenarioError, "needs a status"):
            expectations.expected({"expect": {"chat": {"methods": []}}}, self.services)

    def test_families_are_kept_and_checked(self):
        fam = {"ipv4": "blocked", "ipv6": "accessible"}
        exp = expectations.expected({"expect": {"chat": {"status": "partially_blocked", "features": {
            "messaging": {"status": "partially_blocked", "families": fam}}}}}, self.services)
        self.assertEqual(exp["chat"]["features"]["messaging"]["families"], fam)
        for bad in ({"ipv5": "blocked"}, {"ipv4": "ok"}, [], {}):
            with self.assertRaisesRegex(expectations.ScenarioError, "expect.chat.features.messaging.families: must map"):
                expectations.expected({"expect": {"chat": {"status": "accessible", "features": {
                    "messaging": {"status": "accessible", "families": bad}}}}}, self.services)
        with self.assertRaisesRegex(expectations.ScenarioError, "expect.chat.families"):
            expectations.expected({"expect": {"chat": {"status": "accessible", "families": {"ipv6": "nope"}}}},
                                  self.services)

    def test_expect_keys(self):
        doc = {"expect_keys": {"chat": {"chat_status": "ok", "x_gone": None}, "mail": {"k": 1}}}
        rows = dict(expectations.check_keys(doc, [{"test_name": "chat", "test_keys": {"chat_status": "blocked"}}]))
        self.assertEqual(rows["chat"], ['chat_status: expected "ok", got "blocked"', "x_gone: expected null, got no such key"])
        self.assertEqual(rows["mail"], ["no measurement"])
        rows = dict(expectations.check_keys(doc, [{"test_name": "chat", "test_keys": {"chat_status": "ok", "x_gone": None}},
                                                  {"test_name": "mail", "test_keys": {"k": 1}}]))
        self.assertEqual(rows, {"chat": [], "mail": []})

    def test_every_scenario_is_valid_against_the_repository_catalog(self):
        services = expectations.load_services(REPO_CATALOG)
        scen = os.path.join(LAB_DIR, "scenarios")
        for fn in sorted(os.listdir(scen)):
            with open(os.path.join(scen, fn)) as f:
                doc = json.load(f)
            with self.subTest(scenario=fn):
                exp = expectations.expected(doc, services)
                self.assertEqual(sorted(exp), sorted(services))
                for name, e in (doc.get("expect") or {}).items():  # explicit parts are kept as written
                    self.assertEqual(exp[name]["status"], e["status"])
                    for feat, fe in (e.get("features") or {}).items():
                        self.assertEqual(exp[name]["features"][feat], fe)


if __name__ == "__main__":
    unittest.main()
