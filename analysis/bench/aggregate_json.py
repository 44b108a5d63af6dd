#!/usr/bin/env python3
"""The benchmark's plain-Python baseline: the daily cells vantage-analyze
computes for Vantage measurements (day, cc, asn, service, feature, verdict,
method -> measurements), with the standard json module, one line at a time.
Prints {"day|cc|asn|service|feature|verdict|method": count} as JSON."""
import json
import sys

cells = {}


def add(key):
    cells[key] = cells.get(key, 0) + 1


with open(sys.argv[1], "rb") as f:
    for line in f:
        if not line.strip():
            continue
        m = json.loads(line)
        v = (m.get("test_keys") or {}).get("x_verdict")
        if not isinstance(v, dict):
            continue
        day = (m.get("measurement_start_time") or "")[:10]
        base = f"{day}|{m.get('probe_cc', '')}|{m.get('probe_asn', '')}|{m.get('test_name', '')}"
        feats = {k: f for k, f in (v.get("features") or {}).items() if isinstance(f, dict) and f.get("status")}
        status = v.get("status") or "" if feats else "unscorable"
        method = "+".join(sorted(v.get("methods") or [])) if status in ("blocked", "partially_blocked") else ""
        add(f"{base}||{status}|{method}")
        for name, fv in feats.items():
            fm = "+".join(sorted(fv.get("methods") or [])) if fv["status"] == "blocked" else ""
            add(f"{base}|{name}|{fv['status']}|{fm}")
json.dump(cells, sys.stdout, sort_keys=True)
