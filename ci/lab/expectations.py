#!/usr/bin/env python3
"""expectations.py: a scenario's complete ground truth, from the catalog.

A scenario (ci/lab/scenarios/<name>.json) states only what its censor
changes. The services measured, and the features the verdict judges for
each, come from the catalog files the lab measures; everything the scenario
does not name is expected as follows, and is still checked:

  - a service not named in `expect`: the scenario's `expect_others`
    (default {"status": "accessible", "methods": []}), and each of its
    judged features likewise;
  - a feature not named under a named service: `accessible` with no
    method, unless the service itself is expected `blocked`, `down` or
    `inconclusive` — the verdict gives those only when every feature is so
    (or, for inconclusive, when the probe's own network failed), so the
    feature inherits the service's status (its methods are not checked).

A service's or feature's expectation may give `families` ({"ipv4": status,
"ipv6": status}): the verdict's per-family statuses, compared exactly.

`expect_keys` ({service: {test_key: value}}) names service keys (OONI's
and ours) whose values must be exactly as given; keys not named are not
checked.

A judged feature is one with at least one endpoint whose `judged` is not
false (the verdict leaves unjudged features out). Naming a service the
catalog does not have, or a feature the service does not judge, is an error.

  expectations.py CATALOG_DIR SCENARIO.json   prints the complete expectation
"""
import json
import os
import sys

ACCESSIBLE = {"status": "accessible", "methods": []}
INHERITED = ("blocked", "down", "inconclusive")
FAMILIES = ("ipv4", "ipv6")
STATUSES = ("accessible", "blocked", "partially_blocked", "down", "inconclusive")


class ScenarioError(Exception):
    pass


def load_services(catalog_dir):
    """{service: [judged feature, ...]} of every non-canary catalog file."""
    services = {}
    try:
        files = sorted(os.listdir(catalog_dir))
    except OSError as e:
        raise ScenarioError(f"catalog {catalog_dir}: {e}")
    for fn in files:
        if not fn.endswith(".json") or fn.endswith(".schema.json"):
            continue
        path = os.path.join(catalog_dir, fn)
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise ScenarioError(f"{path}: {e}")
        if "endpoints" not in doc or doc.get("kind") == "canary":
            continue
        name = doc.get("test_name") or doc.get("service")
        judged = {ep.get("feature") for ep in doc["endpoints"] if ep.get("judged", True) is not False}
        services[name] = [f for f in doc.get("features", {}) if f in judged]
    if not services:
        raise ScenarioError(f"catalog {catalog_dir}: no service files")
    return services


def check_families(where, exp):
    fam = exp.get("families")
    if fam is None:
        return
    if not isinstance(fam, dict) or not fam or set(fam) - set(FAMILIES) or \
            any(v not in STATUSES for v in fam.values()):
        raise ScenarioError(f"{where}.families: must map {' and/or '.join(FAMILIES)} to a status "
                            f"({', '.join(STATUSES)}), not {json.dumps(fam)}")


def expected(doc, services):
    """{service: {"status", "methods"?, "features": {...}}} for every catalog service."""
    named = doc.get("expect") or {}
    if not isinstance(named, dict):
        raise ScenarioError("expect: not an object")
    unknown = sorted(set(named) - set(services))
    if unknown:
        raise ScenarioError(f"expect names {', '.join(unknown)}: not in the catalog "
                            f"(services: {', '.join(sorted(services))})")
    others = doc.get("expect_others", ACCESSIBLE)
    if not isinstance(others, dict) or "status" not in others:
        raise ScenarioError("expect_others: needs a status")
    out = {}
    for service, features in services.items():
        exp = named.get(service)
        base = dict(exp) if exp is not None else dict(others)
        if "status" not in base:
            raise ScenarioError(f"expect.{service}: needs a status")
        given = base.get("features") or {}
        bad = sorted(set(given) - set(features))
        if bad:
            raise ScenarioError(f"expect.{service}.features names {', '.join(bad)}: not a judged feature "
                                f"of {service} ({', '.join(features)})")
        check_families(f"expect.{service}", base)
        for f, fe in given.items():
            check_families(f"expect.{service}.features.{f}", fe)
        default = ({"status": base["status"]} if base["status"] in INHERITED else ACCESSIBLE)
        base["features"] = {f: given.get(f, dict(default)) for f in features}
        out[service] = base
    return out


def check_keys(doc, measurements):
    """[(service, differences)] for the scenario's expect_keys against the
    measurements (parsed JSON lines)."""
    by_name = {m.get("test_name"): m.get("test_keys") or {} for m in measurements}
    rows = []
    for service, want in (doc.get("expect_keys") or {}).items():
        got = by_name.get(service)
        if got is None:
            rows.append((service, ["no measurement"]))
            continue
        diffs = [f"{k}: expected {json.dumps(v)}, got {json.dumps(got[k]) if k in got else 'no such key'}"
                 for k, v in sorted(want.items()) if k not in got or got[k] != v]
        rows.append((service, diffs))
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: expectations.py CATALOG_DIR SCENARIO.json")
    try:
        with open(sys.argv[2]) as f:
            doc = json.load(f)
        print(json.dumps(expected(doc, load_services(sys.argv[1])), indent=2))
    except (OSError, ValueError, ScenarioError) as e:
        sys.exit(f"expectations.py: {e}")


if __name__ == "__main__":
    main()
