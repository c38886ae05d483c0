#!/usr/bin/env bash
# bench/run.sh [NAME [--seconds N]]: builds the benchmarks in Release and runs NAME, printing its
# figures as `name: value` lines and writing them to bench/results/NAME.json. No NAME lists them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log=$(mktemp); trap 'rm -f "$log"' EXIT
dotnet build bench/Sky.Bench/Sky.Bench.csproj -c Release -v q -nologo >"$log" 2>&1 || { cat "$log"; exit 1; }
SKY_BENCH_RESULTS="$root/bench/results" dotnet bench/Sky.Bench/bin/Release/net10.0/Sky.Bench.dll "$@"
