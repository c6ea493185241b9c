#!/usr/bin/env bash
# Reference-model check (issue 9 item 2): the project's scenarios and >= 1,000 generated ones go
# through the engine (`azex run`) and through the reference model written from
# docs/protocol.md; every figure is compared. Exit status != 0 on any mismatch.
#
#   refmodel/ci.sh                       # deterministic default seed, 1,000 scenarios
#   refmodel/ci.sh --seed 7 --count 3000 # another draw
# Extra flags go to refmodel/run.py (--jobs, --engine, --report FILE, --show N).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import mpmath' 2>/dev/null; then
    python3 -m pip install --quiet --user mpmath 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages mpmath
fi
cargo build --release -p azex-cli

status=0
echo "== project scenarios (scenarios/*.jsonl)"
python3 refmodel/run.py --files scenarios/*.jsonl || status=1
echo "== generated scenarios"
python3 refmodel/run.py "$@" || status=1
exit $status
