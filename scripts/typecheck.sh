#!/usr/bin/env bash
# mypy over the package as it imports (`smsplat.domain`, ...) and over the tests.
# The top-level folders are installed as `smsplat` through setuptools' package-dir mapping,
# which mypy cannot follow from an editable install; a symlink named `smsplat` lets it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shim="$(mktemp -d)"
trap 'rm -rf "$shim"' EXIT
ln -s "$root" "$shim/smsplat"
cd "$shim"
MYPYPATH="$shim" "$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" -p smsplat "$@"
MYPYPATH="$shim" "$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" "$root/tests" "$@"
