# Shared by the end-to-end scripts: `. "$(dirname "$0")/lib.sh"`.
#   check NAME COMMAND...   runs COMMAND, counts and prints ok/FAIL
#   free_port               prints a free TCP port on 127.0.0.1
passed=0 failed=0
check() { local name=$1; shift; if "$@"; then passed=$((passed + 1)); echo "ok   - $name"; else failed=$((failed + 1)); echo "FAIL - $name"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
