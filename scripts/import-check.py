#!/usr/bin/env python3
"""Every module a target imports is one of its *direct* dependencies in Package.swift.

SwiftPM's `--explicit-target-dependency-import-check error` accepts any module in the transitive closure of a
target's dependencies, so a target importing NIOSSL through postgres-nio, or a plugin through TalosPlugins, passes
it. This check reads the manifest (`swift package dump-package`) and each target's sources.
  scripts/import-check.py            (prints "import-check: N passed, N failed")
"""
import json, os, re, subprocess, sys

# Modules of the toolchain and platform, never declared.
SYSTEM = {"Foundation", "FoundationEssentials", "Testing", "XCTest", "Synchronization", "Dispatch", "Glibc",
          "Darwin", "Musl", "_Concurrency", "os"}
IMPORT = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:public\s+|package\s+|internal\s+|private\s+|fileprivate\s+)?"
                    r"import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?(\w+)", re.M)

manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], capture_output=True, text=True,
                                     check=True).stdout)
passed = failed = 0
for target in manifest["targets"]:
    if target["type"] in ("system", "binary", "plugin"):
        continue
    name = target["name"]
    path = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", name)
    declared = set()
    for dependency in target["dependencies"]:
        kind, value = next(iter(dependency.items()))
        declared.add(value[0])
    imported = set()
    for root, _, files in os.walk(path):
        for file in files:
            if file.endswith(".swift"):
                with open(os.path.join(root, file), encoding="utf-8") as source:
                    imported |= set(IMPORT.findall(source.read()))
    missing = sorted(imported - declared - SYSTEM - {name})
    if missing:
        failed += 1
        print(f"FAIL - {name} imports {', '.join(missing)} without declaring it in Package.swift")
    else:
        passed += 1
        print(f"ok   - {name}: {len(imported)} imports, each declared")
print(f"import-check: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
