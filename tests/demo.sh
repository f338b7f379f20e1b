#!/usr/bin/env bash
# Boot the test kernel and show the dmabuf controller at work (make demo).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# kunit.enable=0: the KUnit suites leave a test pool registered.
exec "$top/tests/vm/run" --append kunit.enable=0 --log "$top/build/vm/demo-console.log" --out "$top/build/vm/demo" \
	-- "$top/tests/guest/demo.sh"
