#!/usr/bin/env bash
# Fuzzes a live `keyward serve` (embedded PGlite, a throwaway data dir) against openapi.yaml with
# schemathesis, authenticated with the bootstrap admin token. Passes only with 0 server errors and 0
# responses that break the spec (status codes, content types, headers, bodies).
#
#   scripts/fuzz-api.sh [--max-time SECONDS] [extra schemathesis options...]
#
# FUZZ_VENV: the Python venv holding schemathesis 4.x (default .test-tmp/venv; installed there if missing).
# The last line is "fuzz: N passed, N failed" (N = schemathesis checks), for .ci/run.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
max_time=120
if [ "${1:-}" = "--max-time" ]; then max_time=$2; shift 2; fi
venv=${FUZZ_VENV:-$root/.test-tmp/venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import schemathesis' 2>/dev/null || "$venv/bin/pip" install -q 'schemathesis>=4,<5' || {
  echo "fuzz: could not install schemathesis"; echo "fuzz: 0 passed, 1 failed"; exit 1; }

node scripts/build-if-stale.mjs >/dev/null || { echo "fuzz: build failed"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
work=$(mktemp -d)
token="fuzz-bootstrap-admin-token-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Budgets off: the fuzzer sends far more from one address than a workload would (429s are documented,
# but they would hide every other answer).
KEYWARD_DATA_DIR=$work/data KEYWARD_PORT=0 KEYWARD_BOOTSTRAP_TOKEN=$token KEYWARD_RATE_LIMIT=0 \
  KEYWARD_FAILED_ATTEMPT_LIMIT=0 KEYWARD_LOG_LEVEL=info node bin/keyward.js serve > "$work/serve.log" 2>&1 &
server_pid=$!
url=
for _ in $(seq 1 120); do
  url=$(grep -o '"address":"http://[^"]*".*keyward listening' "$work/serve.log" | head -1 | sed -E 's/"address":"([^"]*)".*/\1/')
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$url" ]; then
  echo "fuzz: keyward serve did not start"; tail -20 "$work/serve.log"; echo "fuzz: 0 passed, 1 failed"; exit 1
fi
echo "fuzz: keyward at $url, schemathesis for up to ${max_time}s"

report=$work/junit.xml
# From the throwaway dir: schemathesis keeps a cache of past failures in its working directory.
# One worker: schemathesis runs workers as threads, and CPython 3.11's AST constructor keeps its recursion
# counter per interpreter, so Hypothesis parsing lambdas in two threads at once can fail with "AST
# constructor recursion depth mismatch" (cpython#106905), an error of the fuzzer, not of keyward.
(cd "$work" && "$venv/bin/schemathesis" run "$root/openapi.yaml" --url "$url" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-time "$max_time" --request-timeout 30 --workers 1 \
  --suppress-health-check all --no-color \
  --report junit --report-junit-path "$report" "$@")
rc=$?
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "fuzz: keyward serve died during the run"; tail -20 "$work/serve.log"; rc=1
fi
internal=$(grep -c '"code":"ERR_INTERNAL"' "$work/serve.log")
[ "$internal" -eq 0 ] || { echo "fuzz: $internal ERR_INTERNAL answers in the server log"; grep -m5 '"unexpected error"' "$work/serve.log"; rc=1; }
tests=0; failures=0
if [ -f "$report" ]; then
  tests=$(grep -o '<testsuite [^>]*' "$report" | grep -o 'tests="[0-9]*"' | grep -o '[0-9]*' | awk '{s+=$1} END {print s+0}')
  failures=$(grep -o '<testsuite [^>]*' "$report" | grep -oE '(failures|errors)="[0-9]*"' | grep -o '[0-9]*' | awk '{s+=$1} END {print s+0}')
fi
[ "$rc" -eq 0 ] || [ "$failures" -gt 0 ] || failures=1
echo "fuzz: $((tests - failures < 0 ? 0 : tests - failures)) passed, $failures failed"
exit $rc
