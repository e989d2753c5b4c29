#!/usr/bin/env bash
# Runs every test of KubeBackup on a fresh Debian machine: installs what the tests need (the real restic for the
# compatibility tests, rclone and node for the storage-provider tests' servers), installs the npm-packaged test
# servers from their committed lock file, restores packages from the committed lock files, builds and tests the
# whole solution. The tests start and stop the servers themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v restic >/dev/null 2>&1 || missing+=(restic)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)  # CRD/RBAC manifests are checked with kubectl against the fake API server
# The session tests start a throwaway PostgreSQL server and schedule in real time zones.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -e /usr/share/zoneinfo/Europe/Berlin ] || missing+=(tzdata)
command -v rclone >/dev/null 2>&1 || missing+=(rclone)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v clang >/dev/null 2>&1 || missing+=(clang)  # links the console host's native executable
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
restic version

# s3rver, azurite and the firebase storage emulator, pinned in servers/package-lock.json. npm ci wipes and
# reinstalls node_modules (minutes, cold); skip it when the installed tree already matches the lock file.
servers=tests/KubeBackup.Storage.Tests/servers
if [ ! -f "$servers/node_modules/.package-lock.json" ] || [ "$servers/package-lock.json" -nt "$servers/node_modules/.package-lock.json" ]; then
  (cd "$servers" && npm ci --no-audit --no-fund --loglevel=error)
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet restore KubeBackup.sln --locked-mode
dotnet build KubeBackup.sln -c Release --no-restore
dotnet test KubeBackup.sln -c Release --no-build --logger "console;verbosity=minimal" "$@"

# The console host ships as a native executable (no JIT, no reflection): publish it and run every test that drives the
# host once more, against that executable (CliRunner takes KUBEBACKUP_CLI). Skipped when the caller filters tests.
if [ $# -eq 0 ]; then
  native="$PWD/artifacts/native"
  dotnet publish samples/KubeBackup.Cli -c Release -p:PublishNative=true -o "$native" -nologo -v quiet
  export KUBEBACKUP_CLI="$native/kubebackup"
  "$KUBEBACKUP_CLI" --version
  host_tests=$(grep -rl --include='*.cs' 'CliRunner\.' tests/KubeBackup.Tests tests/KubeBackup.Storage.Tests \
    | xargs grep -ho 'class [A-Za-z0-9_]*Tests' | awk '{print "FullyQualifiedName~." $2}' | sort -u | paste -sd'|')
  for project in tests/KubeBackup.Tests tests/KubeBackup.Storage.Tests; do
    dotnet test "$project" -c Release --no-build --logger "console;verbosity=minimal" --filter "$host_tests"
  done
fi
