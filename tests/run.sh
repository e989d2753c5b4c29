#!/usr/bin/env bash
# Runs every test of KubeBackup on a fresh Debian machine: installs what the tests need (the real restic for the
# compatibility tests), restores packages from the committed lock files, builds and tests the whole solution.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v restic >/dev/null 2>&1 || missing+=(restic)
# The session tests start a throwaway PostgreSQL server and schedule in real time zones.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -e /usr/share/zoneinfo/Europe/Berlin ] || missing+=(tzdata)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
restic version

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet restore KubeBackup.sln --locked-mode
dotnet build KubeBackup.sln -c Release --no-restore
dotnet test KubeBackup.sln -c Release --no-build --logger "console;verbosity=minimal" "$@"
