#!/usr/bin/env python3
"""The layer check: every #include and every CMake source list in the tree
against the layer drawing in README.md ("## Layers").

The drawing lists folders in rows, the top row first. A file may include
headers of its own folder and of folders in rows BELOW its own; a header of
its own row (sideways) or of a row above is an error. Files named main.cpp or
*_main.cpp are programs: they sit in the top row wherever they live. Files
under a folder's tests/, bench/ or fuzz/ may include what their folder may,
plus any folder's test support (X/tests/*.h); nothing else includes a tests/
header. Every folder with sources must be in the drawing, and no
CMakeLists.txt may compile a source of another folder (link its library, or
its test-support library, instead).

  ci/check_layers.py [--root DIR]     exit 0: clean; 1: the violations, listed
"""
import argparse
import os
import re
import sys

TOP_DIRS = ("probe", "reports", "analysis")
SOURCE_EXT = (".cpp", ".h", ".cc", ".hpp", ".c")
TEST_DIRS = ("tests", "bench", "fuzz")
FOLDER = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+$")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')


def read_drawing(readme):
    """[(row name, [folders])] top row first, from the ```text block after ## Layers."""
    text = open(readme, encoding="utf-8").read()
    m = re.search(r"^## Layers\b.*?^```text\n(.*?)^```", text, re.S | re.M)
    if not m:
        sys.exit(f"{readme}: no '## Layers' section with a ```text drawing")
    rows = []
    for line in m.group(1).splitlines():
        body = line.split("+", 1)[0]  # "+ ..." is a remark
        tokens = body.split()
        if not tokens or tokens == ["|"]:
            continue
        if not line[0].isspace():
            rows.append((tokens[0], []))
            tokens = tokens[1:]
        if not rows:
            sys.exit(f"{readme}: drawing line before any row name: {line!r}")
        for t in tokens:
            if not FOLDER.match(t):
                sys.exit(f"{readme}: drawing: {t!r} is not a folder such as probe/net")
            rows[-1][1].append(t)
    return rows


def folder_of(rel):
    parts = rel.split("/")
    return "/".join(parts[:2]) if len(parts) >= 3 else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    root = os.path.abspath(ap.parse_args().root)
    rows = read_drawing(os.path.join(root, "README.md"))
    level = {}  # folder -> row index, 0 = bottom
    for i, (_, folders) in enumerate(reversed(rows)):
        for f in folders:
            if f in level:
                sys.exit(f"README.md: drawing: {f} is in two rows")
            level[f] = i
    top = len(rows)  # programs (main.cpp) sit above every row
    row_name = {i: name for i, (name, _) in enumerate(reversed(rows))}
    row_name[top] = "programs (main)"

    errors = []
    seen_folders = set()
    for top_dir in TOP_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top_dir)):
            dirnames[:] = [d for d in dirnames if d not in ("node_modules", "build")]
            for name in sorted(filenames):
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                folder = folder_of(rel)
                if folder is None:
                    continue
                if name == "CMakeLists.txt":
                    check_cmake(root, rel, folder, errors)
                    continue
                if not name.endswith(SOURCE_EXT):
                    continue
                seen_folders.add(folder)
                if folder not in level:
                    errors.append(f"{rel}: folder {folder} is not in the README's layer drawing")
                    continue
                inner = rel.split("/")[2:]
                is_test = len(inner) > 1 and inner[0] in TEST_DIRS
                mine = top if (name == "main.cpp" or name.endswith("_main.cpp")) and not is_test else level[folder]
                with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1)
                        tparts = target.split("/")
                        if len(tparts) < 3 or tparts[0] not in TOP_DIRS:
                            continue  # a system header or a file beside this one
                        tfolder = "/".join(tparts[:2])
                        where = f"{rel}:{n}: includes {target}"
                        if tparts[2] in TEST_DIRS:
                            if not is_test:
                                errors.append(f"{where}: only tests include test support")
                            continue
                        if tfolder == folder:
                            continue
                        if tfolder not in level:
                            errors.append(f"{where}: {tfolder} is not in the README's layer drawing")
                        elif level[tfolder] >= mine:
                            how = "sideways (same row)" if level[tfolder] == mine else "up"
                            errors.append(f"{where}: {how}: {folder} ({row_name[mine]}) may not include "
                                          f"{tfolder} ({row_name[level[tfolder]]})")
    for f in sorted(set(level) - seen_folders):
        errors.append(f"README.md: the drawing names {f}, which has no sources")
    for e in errors:
        print(e)
    if errors:
        print(f"check_layers: {len(errors)} violation(s) of the drawing in README.md '## Layers'")
        return 1
    print(f"check_layers: {len(seen_folders)} folders, every include follows the drawing")
    return 0


CMAKE_SOURCE = re.compile(r"(\.\./|\$\{(PROJECT_SOURCE_DIR|CMAKE_SOURCE_DIR)\}/)[^\s\")]*\.(cpp|cc|c)\b")


def check_cmake(root, rel, folder, errors):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            code = line.split("#", 1)[0]
            if CMAKE_SOURCE.search(code):
                errors.append(f"{rel}:{n}: compiles another folder's source; link its library instead")


if __name__ == "__main__":
    sys.exit(main())
