#!/usr/bin/env bash
# Generates Python stubs for every Sky.Mesh contract into OUT (default: ./gen), using Debian's
# python3-grpc-tools. google/api/*.proto come from the Google.Api.CommonProtos NuGet package that
# `dotnet build` restores (or set GOOGLE_API_PROTOS to any googleapis checkout's root).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
protos="$here/../../protos"
out="${1:-$here/gen}"
nuget="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
google="${GOOGLE_API_PROTOS:-$(ls -d "$nuget"/google.api.commonprotos/*/content/protos 2>/dev/null | sort -V | tail -n 1)}"
if [ -z "$google" ] || [ ! -f "$google/google/api/annotations.proto" ]; then
  echo "google/api/annotations.proto not found: run 'dotnet build' once, or set GOOGLE_API_PROTOS" >&2
  exit 1
fi
mkdir -p "$out"
cd "$protos"
/usr/bin/python3 -m grpc_tools.protoc -I . -I "$google" --python_out="$out" --grpc_python_out="$out" \
  $(find sky -name '*.proto' | sort) google/api/annotations.proto google/api/http.proto
echo "stubs written to $out"
