#!/usr/bin/env bash
# The Python tools the tests use, in a virtual environment on the system Python (Debian's 3.11.2: the pyenv 3.11.7
# on these machines has a CPython bug that crashes hypothesis, and so schemathesis, on deep schemas).
# Prints the environment's bin directory.
#   scripts/python-tools.sh [DIR]     (default /tmp/talos-python-tools)
set -euo pipefail
dir=${1:-/tmp/talos-python-tools}
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)
if [ ! -x "$dir/bin/schemathesis" ] || [ ! -x "$dir/bin/openapi-spec-validator" ] \
  || ! "$dir/bin/python" -c "import opentelemetry.proto, jwt, pymacaroons, ory_client, selenium" 2>/dev/null; then
  "$python" -m venv "$dir" >&2
  "$dir/bin/pip" install --quiet --disable-pip-version-check "schemathesis>=4,<5" "openapi-spec-validator>=0.7" \
    opentelemetry-proto "pyjwt[crypto]" pymacaroons "ory-client==1.22.87" "selenium>=4.20,<5" >&2
fi
echo "$dir/bin"
