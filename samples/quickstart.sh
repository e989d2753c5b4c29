#!/usr/bin/env bash
# The main job on the local default: back up a folder into a new local repository, list it, restore it, and show that
# the restored copy is identical. Needs only the .NET 10 SDK.
#   bash samples/quickstart.sh [FOLDER]      (default: this repository's src/ folder)
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir="$(realpath "${1:-src}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

dotnet build samples/KubeBackup.Cli -c Release -v quiet -nologo >/dev/null
kubebackup() { samples/KubeBackup.Cli/bin/Release/net10.0/kubebackup "$@"; }

export RESTIC_REPOSITORY="$work/repo"
# A demo password; real use reads it from RESTIC_PASSWORD_FILE, a secret mount, or a prompt.
export RESTIC_PASSWORD="quickstart-demo-password"

kubebackup init
kubebackup backup "$source_dir" --tag quickstart
kubebackup snapshots
kubebackup restore latest --target "$work/restore"
diff -r "$source_dir" "$work/restore$source_dir" && echo "restored copy is identical to $source_dir"
