#!/usr/bin/env bash
# The console's Chinese catalogue brought up to date with its templates and modules:
# new messages are added untranslated (listed at the end), vanished ones dropped, the
# header kept as written. Fill each listed msgstr, then run tests/unit/test_console_catalogue.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PO=api/console/i18n/zh_CN/LC_MESSAGES/console.po
POT=$(mktemp)
HEADER=$(mktemp)
trap 'rm -f "$POT" "$HEADER"' EXIT
awk '/^#: /{exit} {print}' "$PO" > "$HEADER"
.venv/bin/pybabel extract -F api/console/babel.cfg --add-location=file -o "$POT" api/console >/dev/null 2>&1
.venv/bin/pybabel update -i "$POT" -D console -d api/console/i18n -w 100 \
  --no-fuzzy-matching --omit-header --ignore-obsolete >/dev/null
cat "$HEADER" "$PO" > "$POT" && cp "$POT" "$PO"
echo "untranslated:"
awk '/^msgid /{id=$0} /^msgstr ""$/{if (id != "msgid \"\"") print "  " id}' "$PO"
