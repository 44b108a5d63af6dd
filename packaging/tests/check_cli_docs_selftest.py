#!/usr/bin/env python3
"""Self-test of check_cli_docs.py: it passes on the committed man pages and
completions, and each kind of drift makes it fail with a line naming it: a
flag missing from the man page, from the bash table, from a zsh function, a
flag whose zsh spec says it takes no value, a subcommand only the bash file
knows, and a command the program gained (a wrapper around the real vantage
that adds `export` to its --help) that no file documents yet. It also reads
CLI11 help lines directly: which flags take a value (boolean flags followed
by "Excludes: ..." or by a description after one space take none).

usage: check_cli_docs_selftest.py VANTAGE COLLECTOR TESTHELPER MAN_DIR COMPLETIONS_DIR
"""
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, "..", "check_cli_docs.py")


def run(binaries, man_dir, comp_dir, zsh_live=False):
    vantage, collector, testhelper = binaries
    out = subprocess.run([sys.executable, CHECKER, "--vantage", vantage, "--vantage-collector", collector,
                          "--vantage-testhelper", testhelper, "--man-dir", man_dir, "--completions-dir", comp_dir,
                          *([] if zsh_live else ["--no-zsh-live"])], capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout


# CLI11 help lines -> the flags taking a value the checker must read.
HELP_SAMPLE = """Options:
  -h,--help                   Print this help message and exit
  -o,--output TEXT            Also write the measurements (JSON Lines) to this file
  --catalog TEXT:DIR=/usr/share/vantage/tests_catalog
                              Directory of service catalogs (*.json)
  --timeout FLOAT:FLOAT in [1 - 3600]=120
                              Deadline for the whole run, seconds
  --every TEXT=6h             Interval dividing the day
  --systemd Excludes: --cron  Use a systemd user timer
  --cron Excludes: --systemd  Use your crontab
  --upload,--no-upload{false} Upload the measurements to --collector
  --no-capture{false}         Don't capture packets
  --json                      Print JSON Lines
"""
HELP_VALUE_FLAGS = {"-o", "--output", "--catalog", "--timeout", "--every"}


def check_parse_help(failures):
    spec = importlib.util.spec_from_file_location("check_cli_docs", CHECKER)
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    flags, value_flags, _ = checker.parse_help(HELP_SAMPLE)
    want_flags = HELP_VALUE_FLAGS | {"-h", "--help", "--systemd", "--cron", "--upload", "--no-upload", "--no-capture",
                                     "--json"}
    if flags != want_flags or value_flags != HELP_VALUE_FLAGS:
        failures.append(f"parse_help: expected flags {sorted(want_flags)} of which take a value "
                        f"{sorted(HELP_VALUE_FLAGS)},\ngot {sorted(flags)} of which take a value {sorted(value_flags)}")


def edit(path, old, new):
    text = open(path, encoding="utf-8").read()
    if old not in text:
        raise SystemExit(f"selftest: {path} no longer contains {old!r}: update the mutation")
    open(path, "w", encoding="utf-8").write(text.replace(old, new, 1))


def main():
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    binaries, man_src, comp_src = sys.argv[1:4], sys.argv[4], sys.argv[5]
    failures = []
    check_parse_help(failures)
    with tempfile.TemporaryDirectory(prefix="vantage-cli-docs-") as tmp:
        def fresh():
            man, comp = os.path.join(tmp, "man"), os.path.join(tmp, "comp")
            shutil.rmtree(man, ignore_errors=True)
            shutil.rmtree(comp, ignore_errors=True)
            shutil.copytree(man_src, man)
            shutil.copytree(comp_src, comp)
            return man, comp

        man, comp = fresh()
        code, out = run(binaries, man, comp, zsh_live=True)
        if code != 0:
            failures.append(f"the committed files do not pass:\n{out}")

        # (description, file, old, new, expected line in the output, run zsh)
        mutations = [
            ("a flag missing from the man page", "man/vantage.1", '.BI \\-\\-pcap " FILE"\n', "",
             "vantage run: in --help, missing from vantage.1 ('.SS vantage ...' block): --pcap"),
            ("a flag missing from the bash table", "comp/vantage.bash", " --list --json\"", " --json\"",
             "vantage upload: in --help, missing from vantage.bash _vantage_cmd_flags: --list"),
            ("a flag missing from a zsh function", "comp/_vantage-testhelper",
             "    '--no-system-store[do not trust the system CA store]' \\\n", "",
             "vantage-testhelper: in --help, missing from _vantage-testhelper (_vantage_testhelper_cmd_* functions): "
             "--no-system-store"),
            ("a zsh spec that takes no value", "comp/_vantage", "'--timeout=[timeout of one request",
             "'--timeout[timeout of one request",
             "vantage upload flags taking a value: in --help, missing from _vantage (_vantage_cmd_* functions) "
             "('--flag=[...]' specs): --timeout"),
            ("a subcommand only bash knows", "comp/vantage.bash", '[vantage catalog]="check"',
             '[vantage catalog]="check frob"',
             "vantage catalog subcommands: in vantage.bash _vantage_subcommands, not in --help: frob"),
            # _arguments passes its own options to a function action: $1 is
            # not the word given, and zsh lists no command at all.
            ("a zsh completion that looks right but lists nothing", "comp/_vantage",
             "'1: :{_vantage_subcommands vantage}'", "'1: :_vantage_subcommands vantage'",
             "vantage subcommands: in --help, missing from what zsh lists after the command: run", True),
            ("a bash completion function that drops the global flags", "comp/vantage.bash",
             "global=$_vantage_global_flags", "global=",
             "vantage run: in _vantage_cmd_flags, missing from what the bash completion function offers after '-' "
             "(with bash-completion): --results-dir"),
        ]
        for what, rel, old, new, expected, *live in mutations:
            man, comp = fresh()
            edit(os.path.join(tmp, rel), old, new)
            code, out = run(binaries, man, comp, zsh_live=bool(live))
            if code != 1 or expected not in out.splitlines():
                failures.append(f"{what}: expected exit 1 and the line\n  {expected}\ngot exit {code}:\n{out}")

        # The program gains a command: every file must be said to lack it.
        man, comp = fresh()
        wrapper = os.path.join(tmp, "vantage")
        with open(wrapper, "w") as f:
            f.write(f"""#!/bin/sh
real='{binaries[0]}'
if [ "$*" = "--help" ]; then
  "$real" --help | sed 's/^Subcommands:$/Subcommands:\\n  export                      Export the saved runs/'
elif [ "$*" = "export --help" ]; then
  printf 'Export the saved runs\\nUsage: vantage export [OPTIONS]\\n\\nOptions:\\n'
  printf '  -h,--help                   Print this help message and exit\\n'
  printf '  --to TEXT                   Where to write them\\n\\n'
else
  exec "$real" "$@"
fi
""")
        os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR)
        code, out = run([wrapper, *binaries[1:]], man, comp)
        for expected in ("vantage: in --help, missing from the commands of vantage.1: vantage export",
                         "vantage: in --help, missing from the commands of vantage.bash _vantage_cmd_flags: "
                         "vantage export",
                         "vantage subcommands: in --help, missing from vantage.bash _vantage_subcommands: export",
                         "vantage: in --help, missing from the commands of _vantage (_vantage_cmd_* functions): "
                         "vantage export",
                         "vantage subcommands: in --help, missing from _vantage _vantage_subcommands 'vantage)': "
                         "export"):
            if code != 1 or expected not in out.splitlines():
                failures.append(f"a new command: expected exit 1 and the line\n  {expected}\ngot exit {code}:\n{out}")
    if failures:
        print("\n\n".join(failures))
        return 1
    print(f"ok: the checker reads CLI11's flags, passes the committed files and catches {len(mutations) + 1} "
          "kinds of drift")
    return 0


if __name__ == "__main__":
    sys.exit(main())
