#!/usr/bin/env bash
# Property-based tests of the node's API against its OpenAPI document (schemathesis).
# Installs schemathesis with pip if missing, builds and starts a node on 127.0.0.1 (any free
# port, a temporary data directory), runs schemathesis with a bounded number of examples per
# operation, stops the node. Exit code: schemathesis's.
#
#   bash crates/azex-node/tests/api_contract.sh            # from the workspace root
#   AZEX_CONTRACT_EXAMPLES=200 bash crates/azex-node/tests/api_contract.sh   # longer
set -euo pipefail
cd "$(dirname "$0")/../../.."
EXAMPLES="${AZEX_CONTRACT_EXAMPLES:-25}"
if ! command -v schemathesis >/dev/null 2>&1; then
  python3 -m pip install --quiet schemathesis
fi
cargo build --quiet -p azex-node --bin azex-node
BIN="${CARGO_TARGET_DIR:-target}/debug/azex-node"
DATA="$(mktemp -d)"
"$BIN" run --data "$DATA" --port 0 --block-time-ms 100 --no-rate-limits >"$DATA/node.out" 2>&1 &
PID=$!
cleanup() { kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 1 300); do
  [ -s "$DATA/node.addr" ] && break
  sleep 0.1
done
ADDR="$(cat "$DATA/node.addr")"
URL="http://$ADDR"
curl -sf "$URL/health" >/dev/null
# not_a_server_error: no 5xx on any input; status_code_conformance / content_type_conformance /
# response_schema_conformance: answers match the document. GET /v1/blocks long-polls up to
# 30 s (the document's maximum for wait_ms), so the client's timeout is above that: schemathesis's
# default of 10 s turned a legitimate long poll into a "Network Error".
schemathesis run "$URL/v1/openapi.json" --url "$URL" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path /v1/ws \
  --max-examples "$EXAMPLES" \
  --max-response-time 35 \
  --request-timeout 40 \
  --generation-deterministic
