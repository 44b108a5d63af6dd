#!/usr/bin/env python3
"""Checks that the man pages and the bash and zsh completions list exactly the
commands and flags the programs have.

The truth is each program's --help (CLI11), read recursively over its
subcommands. For every program P and every command path ("vantage",
"vantage run", "vantage catalog check", ...) it compares:

  man page   packaging/man: a ".SS vantage COMMAND ..." block per command with
             ".TP" items for its flags; the program's own flags under
             ".SH GLOBAL OPTIONS" (vantage) or ".SH OPTIONS" (the servers)
  bash       completions/P.bash: _P_cmd_flags[PATH]="flags",
             _P_subcommands[PATH]="names", and the flags taking a value in
             _P_file_flags / _P_dir_flags / _P_value_flags; the completion
             function is also run for every path and must offer the flags
  zsh        completions/_P: a function _P_cmd (the program) or _P_cmd_SUB
             (a command) per path with its _arguments specs ("--flag=[...]"
             takes a value), the subcommand names in _P_subcommands; and
             what a real interactive zsh lists for "PATH -" and "PATH "
             (tests/zsh_complete.zsh) must be the flags and the subcommands

-h/--help is compared for the program itself only (CLI11 gives it to every
command). Fails with one line per difference, saying where to add what.
"""
import argparse
import os
import re
import subprocess
import sys

HELP_FLAGS = {"-h", "--help"}


# --- the programs' --help -------------------------------------------------

def help_sections(text):
    """{section title: [lines]} of a CLI11 help text."""
    sections, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^(\w[\w ]*):$", line)
        if m:
            current = sections.setdefault(m.group(1), [])
        elif not line.strip():
            current = None
        elif current is not None:
            current.append(line)
    return sections


def parse_help(text):
    """(flags, value_flags, subcommands) of one CLI11 help text."""
    flags, value_flags, subs = set(), set(), []
    sections = help_sections(text)
    for line in sections.get("Options", []):
        # "  --name TYPE[:CHECK][=DEFAULT]  description": CLI11's type names
        # (TEXT, INT, FLOAT, TEXT:FILE, ...) are upper-case words. A boolean
        # flag has none, but what follows its name after one space can be
        # "Excludes: --other" or a long name's description ("Upload ..."):
        # not a type, so the word must be all capitals, ending the token.
        m = re.match(r"^  (-\S+)( [A-Z][A-Z0-9_]+(?::\S*)?(?=[ =]|$))?", line)
        if not m:
            continue  # a continuation (description on its own line)
        names = re.sub(r"\{.*?\}", "", m.group(1)).split(",")
        names = [n for n in names if n.startswith("-")]
        flags.update(names)
        if m.group(2):
            value_flags.update(names)
    for line in sections.get("Subcommands", []):
        m = re.match(r"^  (\S+)", line)
        if m:
            subs.append(m.group(1))
    return flags, value_flags, subs


def program_tree(binary, program):
    """{path: {"flags", "value_flags", "subs"}} over every command of `binary`."""
    tree = {}

    def walk(path_words):
        out = subprocess.run([binary, *path_words, "--help"], capture_output=True, text=True, timeout=20)
        if out.returncode != 0:
            raise SystemExit(f"{binary} {' '.join(path_words)} --help exited {out.returncode}: {out.stderr}")
        flags, value_flags, subs = parse_help(out.stdout)
        path = " ".join([program, *path_words])
        tree[path] = {"flags": flags, "value_flags": value_flags, "subs": set(subs)}
        for sub in subs:
            walk([*path_words, sub])

    walk([])
    return tree


# --- the man pages --------------------------------------------------------

def unroff(line):
    line = re.sub(r"\\f[BIRP]", "", line)
    return line.replace("\\-", "-").replace('"', " ")


def man_tree(path, program):
    """{path: flags} documented by the man page, and its command paths."""
    tree, current, section = {program: set()}, None, None
    lines = open(path, encoding="utf-8").read().splitlines()
    for i, raw in enumerate(lines):
        if raw.startswith('.\\"'):
            continue
        if raw.startswith(".SH"):
            section = unroff(raw[3:]).strip()
            current = program if section in ("GLOBAL OPTIONS", "OPTIONS") else None
        elif raw.startswith(".SS") and section == "COMMANDS":
            words = unroff(raw[3:]).split()
            if not words or words[0] != program:
                raise SystemExit(f"{path}:{i + 1}: a command block must start with '{program} COMMAND': {raw}")
            names = []
            for w in words[1:]:
                if not re.fullmatch(r"[a-z][a-z0-9-]*", w):
                    break
                names.append(w)
            for n in range(1, len(names) + 1):  # `catalog check` documents `catalog` too
                tree.setdefault(" ".join([program, *names[:n]]), set())
            current = " ".join([program, *names])
        elif raw.startswith(".TP") and current and i + 1 < len(lines):
            tag = unroff(lines[i + 1])
            tree[current].update(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", tag))
    return tree


# --- bash -----------------------------------------------------------------

def bash_assoc(text, name):
    m = re.search(r"declare -gA " + re.escape(name) + r"=\((.*?)\n\)", text, re.S)
    if not m:
        return None
    return {k: v.split() for k, v in re.findall(r'^\s*\[([^\]]+)\]="([^"]*)"', m.group(1), re.M)}


def bash_list(text, name):
    m = re.search(r"^" + re.escape(name) + r'="([^"]*)"', text, re.M)
    return m.group(1).split() if m else []


BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def bash_offered(path, function, words, with_library):
    """What the completion function offers after `words` and a '-', alone or
    (as on most Debian systems) with the bash-completion library loaded."""
    line = " ".join(words) + " -"
    script = ((f'source {BASH_COMPLETION}; ' if with_library else "") +
              f'source "{path}"; COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}; '
              f'COMP_WORDS=({" ".join(words)} -); COMP_CWORD={len(words)}; '
              f'{function}; printf "%s\\n" "${{COMPREPLY[@]}}"')
    out = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True, timeout=20)
    if out.returncode != 0 or out.stderr:
        return None, out.stderr
    return set(out.stdout.split()), ""


# --- zsh ------------------------------------------------------------------

def zsh_tree(text, prefix):
    """{suffix: (flags, value_flags)} of each _PREFIX_cmd[_SUFFIX]() function."""
    tree = {}
    for m in re.finditer(r"^" + re.escape(prefix) + r"_cmd(_[\w-]+)?\(\) \{\n(.*?)^\}", text, re.M | re.S):
        body = re.sub(r"\[[^\]]*\]", "[]", m.group(2))  # descriptions may name flags
        flags, value_flags = set(), set()
        for name, kind in re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)([=+]?)(?=[\[,}])", body):
            flags.add(name)
            if kind:
                value_flags.add(name)
        tree[(m.group(1) or "")[1:]] = (flags, value_flags)
    return tree


def zsh_subcommands(text, prefix):
    m = re.search(r"^" + re.escape(prefix) + r"_subcommands\(\) \{\n(.*?)^\}", text, re.M | re.S)
    if not m:
        return {}
    return {key: set(re.findall(r"'([\w-]+):", names))
            for key, names in re.findall(r"(\w[\w-]*)\) cmds=\((.*?)\) ;;", m.group(1), re.S)}


ZSH_DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests", "zsh_complete.zsh")
SENTINEL = 'echo __DO""NE__'


def zsh_offered(completions_dir, lines):
    """{line: the words a real zsh lists for it} (tests/zsh_complete.zsh)."""
    out = subprocess.run(["zsh", "-f", ZSH_DRIVER, completions_dir, *lines], capture_output=True, text=True,
                         timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"zsh_complete.zsh exited {out.returncode}: {out.stderr.strip()}")
    offered, current = {}, None
    for raw in out.stdout.splitlines():
        if raw.startswith("### "):
            current = None if raw == "### end" else raw[4:]
            if current is not None:
                offered[current] = set()
            continue
        text = raw.strip()
        if (current is None or not text or text.startswith("-- ") or "__DONE__" in text
                or current.startswith(text) or SENTINEL.startswith(text)):
            continue  # the echoed line, a description, the sentinel
        offered[current].update(text.split(" -- ")[0].split())
    return offered


# --- comparing ------------------------------------------------------------

def compare(problems, what, where, truth, listed, truth_name="--help"):
    for flag in sorted(truth - listed):
        problems.append(f"{what}: in {truth_name}, missing from {where}: {flag}")
    for flag in sorted(listed - truth):
        problems.append(f"{what}: in {where}, not in {truth_name}: {flag}")


def check_program(program, binary, man_dir, completions_dir, problems, zsh_live=True):
    truth = program_tree(binary, program)
    top_value_flags = set().union(*(t["value_flags"] for t in truth.values()))
    prefix = "_" + program.replace("-", "_")

    def own(path, flags):
        return set(flags) if path == program else set(flags) - HELP_FLAGS

    # man page
    man_files = [f for f in os.listdir(man_dir) if re.fullmatch(re.escape(program) + r"\.[1-8]", f)]
    if len(man_files) != 1:
        problems.append(f"{program}: expected one man page {program}.N in {man_dir}, found {man_files}")
    else:
        man_path = os.path.join(man_dir, man_files[0])
        documented = man_tree(man_path, program)
        where = f"{man_files[0]} ('.SS {program} ...' block)"
        compare(problems, program, f"the commands of {man_files[0]}", set(truth), set(documented))
        for path in sorted(set(truth) & set(documented)):
            compare(problems, path, where, own(path, truth[path]["flags"]), own(path, documented[path]))

    # bash
    bash_path = os.path.join(completions_dir, program + ".bash")
    text = text_bash = open(bash_path, encoding="utf-8").read()
    cmd_flags = bash_assoc(text, prefix + "_cmd_flags")
    if cmd_flags is None:
        problems.append(f"{bash_path}: no 'declare -gA {prefix}_cmd_flags=(' table")
        cmd_flags = {}
    subcommands = bash_assoc(text, prefix + "_subcommands") or {}
    where = f"{program}.bash {prefix}_cmd_flags"
    compare(problems, program, f"the commands of {where}", set(truth), set(cmd_flags))
    for path in sorted(set(truth) & set(cmd_flags)):
        compare(problems, path, where, own(path, truth[path]["flags"]), own(path, cmd_flags[path]))
        compare(problems, path + " subcommands", f"{program}.bash {prefix}_subcommands",
                truth[path]["subs"], set(subcommands.get(path, [])))
    value_lists = set()
    for kind in ("file", "dir", "value"):
        value_lists.update(bash_list(text, f"{prefix}_{kind}_flags"))
    compare(problems, program + " flags taking a value", f"{program}.bash {prefix}_{{file,dir,value}}_flags",
            top_value_flags, value_lists)
    function = re.search(r"^complete -F (\S+) " + re.escape(program) + r"$", text, re.M)
    if not function:
        problems.append(f"{bash_path}: no 'complete -F FUNCTION {program}' line")
    else:
        global_flags = set(bash_list(text, f"{prefix}_global_flags"))
        if not os.path.exists(BASH_COMPLETION):
            problems.append(f"{BASH_COMPLETION} is missing: cannot check {bash_path} with it "
                            "(ci/install-deps.sh --test installs bash-completion)")
        for with_library in (False, True):
            if with_library and not os.path.exists(BASH_COMPLETION):
                continue
            how = "with bash-completion" if with_library else "alone"
            for path in sorted(set(truth) & set(cmd_flags)):
                offered, error = bash_offered(bash_path, function.group(1), path.split(), with_library)
                if offered is None:
                    problems.append(f"{path}: the bash completion failed ({how}): {error.strip()}")
                    continue
                expected = set(cmd_flags[path]) | (global_flags if path != program else set())
                compare(problems, path, f"what the bash completion function offers after '-' ({how})", expected,
                        offered, truth_name=f"{prefix}_cmd_flags")

    # zsh
    zsh_path = os.path.join(completions_dir, "_" + program)
    text = open(zsh_path, encoding="utf-8").read()
    if not text.startswith("#compdef " + program + "\n"):
        problems.append(f"{zsh_path}: must start with '#compdef {program}'")
    functions = zsh_tree(text, prefix)
    zsh_paths = {(program + " " + suffix.replace("_", " ")).strip(): v for suffix, v in functions.items()}
    where = f"_{program} ({prefix}_cmd_* functions)"
    compare(problems, program, f"the commands of {where}", set(truth), set(zsh_paths))
    zsh_subs = zsh_subcommands(text, prefix)
    # The program's flags that may follow a command are listed once, in
    # _P_global, which every function passes to _arguments.
    zsh_value_flags, glob_flags = set(), set()
    glob = re.search(r"^" + re.escape(prefix) + r"_global=\((.*?)^\)", text, re.M | re.S)
    if glob:
        for name, kind in re.findall(r"(--?[A-Za-z][\w-]*)([=+]?)\[", glob.group(1)):
            glob_flags.add(name)
            if kind:
                zsh_value_flags.add(name)
    if program in zsh_paths:
        zsh_paths[program] = (zsh_paths[program][0] | glob_flags, zsh_paths[program][1])
    for path in sorted(set(truth) & set(zsh_paths)):
        flags, value_flags = zsh_paths[path]
        if path == program:
            value_flags = value_flags | zsh_value_flags
        compare(problems, path, where, own(path, truth[path]["flags"]), own(path, flags))
        compare(problems, path + " flags taking a value", f"{where} ('--flag=[...]' specs)",
                truth[path]["value_flags"], value_flags)
        if truth[path]["subs"] or path.split()[-1] in zsh_subs or (path == program and zsh_subs):
            key = program if path == program else "_".join(path.split()[1:])
            compare(problems, path + " subcommands", f"_{program} {prefix}_subcommands '{key})'",
                    truth[path]["subs"], zsh_subs.get(key, set()))

    # What zsh really lists: "PATH -" for the flags, "PATH " for the commands.
    zsh_lines = {path: path + " -" for path in truth}
    sub_lines = {path: path + " " for path in truth if truth[path]["subs"]}
    try:
        offered = zsh_offered(completions_dir, [*zsh_lines.values(), *sub_lines.values()]) if zsh_live else None
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        problems.append(f"{program}: cannot run zsh's completion (ci/install-deps.sh --test installs zsh): {e}")
        offered = None
    if offered is not None:
        global_flags = set(bash_list(text_bash, f"{prefix}_global_flags"))
        for path in sorted(truth):
            expected = set(truth[path]["flags"]) | (global_flags if path != program else set())
            compare(problems, path, "what zsh lists after '-'", expected, offered.get(zsh_lines[path], set()))
        for path, line in sorted(sub_lines.items()):
            compare(problems, path + " subcommands", "what zsh lists after the command", truth[path]["subs"],
                    offered.get(line, set()))

    # syntax
    for shell, path in (("bash", bash_path), ("zsh", zsh_path)):
        try:
            out = subprocess.run([shell, "-n", path], capture_output=True, text=True, timeout=20)
        except FileNotFoundError:
            problems.append(f"{shell} is not installed: cannot check {path} (ci/install-deps.sh --test installs it)")
            continue
        if out.returncode != 0:
            problems.append(f"{path}: {shell} -n: {out.stderr.strip()}")
    return len(truth)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for program in ("vantage", "vantage-collector", "vantage-testhelper"):
        ap.add_argument("--" + program, required=True, metavar="BINARY")
    ap.add_argument("--man-dir", required=True, help="the configured man pages (build/packaging/man)")
    ap.add_argument("--completions-dir", required=True)
    ap.add_argument("--no-zsh-live", action="store_true", help="skip what a real zsh lists (the self-test's speed)")
    args = ap.parse_args()
    problems, paths = [], 0
    for program in ("vantage", "vantage-collector", "vantage-testhelper"):
        paths += check_program(program, getattr(args, program.replace("-", "_")), args.man_dir,
                               args.completions_dir, problems, zsh_live=not args.no_zsh_live)
    if problems:
        print("\n".join(problems))
        print(f"\n{len(problems)} differences between --help and the man pages/completions "
              "(packaging/man/*.in, packaging/completions/)", file=sys.stderr)
        return 1
    print(f"ok: {paths} command paths of 3 programs agree with their man pages and bash/zsh completions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
