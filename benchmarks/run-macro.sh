#!/usr/bin/env bash
# run-macro.sh - restic and kubebackup side by side on the same generated dataset.
#
#   benchmarks/run-macro.sh [PROFILE] [RUNS]       PROFILE: small | standard (default) | million; RUNS: default 3
#
# Environment:
#   RESTIC=/usr/bin/restic        the restic binary to compare against
#   WORK=DIR                      scratch folder (default: a new folder under ${TMPDIR:-/tmp}); removed at the end
#                                 unless KEEP=1
#   OPS="init backup ..."         only these operations (names as in the table's first column, see OPERATIONS below)
#   OUT=FILE                      also write the Markdown table to FILE
#   BUILD=native|r2r|jit          which kubebackup to measure: the native executable (default, the deployed form:
#                                 dotnet publish -p:PublishNative=true, needs clang), the framework-dependent
#                                 ReadyToRun publish, or the plain Release build
#
# Needs: bash, GNU time (/usr/bin/time, Debian package "time"), the .NET 10 SDK, restic. Every measured command runs
# under /usr/bin/time -f '%e %M %U %S' (wall seconds, peak RSS in KiB, user and system CPU seconds). Both tools get
# the password from RESTIC_PASSWORD; restic runs with --no-cache so neither tool has a local cache to lean on. The two
# tools alternate run by run (restic 1, ours 1, restic 2, ...) so a slow phase of the machine hits both.
#
# The dataset is mutated once, in place, after the no-change backups: every "backup after mutation" run uses its own
# repository (the one its initial backup wrote), whose latest snapshot is the pre-mutation state, so each run measures
# the first incremental backup after the change. Restore, check and forget then work on those repositories.
# Scratch space: about 12 GB for the standard profile (repositories, six restored copies), 5 GB for million.
set -euo pipefail

PROFILE="${1:-standard}"
RUNS="${2:-3}"
case "$PROFILE" in small|standard|million) ;; *) echo "unknown profile: $PROFILE" >&2; exit 2;; esac
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RESTIC="${RESTIC:-/usr/bin/restic}"
OPERATIONS=(init backup backup-nocompress backup-nochange backup-mutated restore check-read-data forget-prune)
OPS="${OPS:-${OPERATIONS[*]}}"
TIME=/usr/bin/time
[[ -x "$TIME" ]] || { echo "GNU time is needed at $TIME (apt-get install time)" >&2; exit 1; }
[[ -x "$RESTIC" ]] || { echo "restic not found at $RESTIC" >&2; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORK="${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/kubebackup-macro.XXXXXX")}"
mkdir -p "$WORK"
cleanup() { [[ "${KEEP:-0}" == 1 ]] || rm -rf "$WORK"; }
trap cleanup EXIT

echo "== building kubebackup and the data generator (Release)"
BUILD="${BUILD:-native}"
case "$BUILD" in
  native)
    # As a job's container image ships it: one native executable (no JIT, no runtime to map).
    dotnet publish "$ROOT/samples/KubeBackup.Cli" -c Release -p:PublishNative=true -o "$WORK/kubebackup-bin" -v quiet -nologo >/dev/null
    KB="$WORK/kubebackup-bin/kubebackup"
    ;;
  r2r)
    # Framework-dependent and ReadyToRun. A runtime-specific restore of the libraries adds sections to their lock files,
    # so this publish runs on a copy of the sources and the committed lock files stay as they are.
    mkdir -p "$WORK/src"
    tar -C "$ROOT" --exclude=bin --exclude=obj -cf - src samples Directory.Build.props Directory.Packages.props nuget.config \
      global.json .editorconfig | tar -C "$WORK/src" -xf -
    dotnet publish "$WORK/src/samples/KubeBackup.Cli" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
      -p:PublishAot=false -p:RestoreLockedMode=false -o "$WORK/kubebackup-bin" -v quiet -nologo >/dev/null
    KB="$WORK/kubebackup-bin/kubebackup"
    ;;
  jit)
    dotnet build "$ROOT/samples/KubeBackup.Cli" -c Release -v quiet -nologo >/dev/null
    KB="$ROOT/samples/KubeBackup.Cli/bin/Release/net10.0/kubebackup"
    ;;
  *) echo "BUILD must be native, r2r or jit" >&2; exit 2;;
esac
dotnet build "$ROOT/benchmarks/KubeBackup.Benchmarks.Data" -c Release -v quiet -nologo >/dev/null
GEN="$ROOT/benchmarks/KubeBackup.Benchmarks.Data/bin/Release/net10.0/kubebackup-benchdata"
DATA="$WORK/data"
REPOS="$WORK/repos"
LOGS="$WORK/logs"
RESULTS="$WORK/results.tsv"     # op  tool  run  seconds  peak_kib  repo_bytes  cpu_seconds
mkdir -p "$REPOS" "$LOGS"
: > "$RESULTS"

# Neither tool may pick up a repository or password from the caller's environment.
unset RESTIC_REPOSITORY RESTIC_REPOSITORY_FILE RESTIC_PASSWORD_FILE RESTIC_PASSWORD_COMMAND
export RESTIC_PASSWORD="kubebackup-macro-benchmark"

wants() { [[ " $OPS " == *" $1 "* ]]; }

# The command line of a tool: restic with --no-cache, ours as it is.
tool_cmd() {
  case "$1" in
    restic) echo "$RESTIC --no-cache" ;;
    ours) echo "$KB" ;;
  esac
}

# measure OP TOOL RUN REPO ARGS...: runs "TOOL -r REPO ARGS" under GNU time and appends a result line.
measure() {
  local op="$1" tool="$2" run="$3" repo="$4"; shift 4
  local log="$LOGS/$op-$tool-$run.log" tf="$LOGS/$op-$tool-$run.time"
  # No dirty pages left over from the command before (the other tool's restore or backup): their writeback would run
  # inside this command's time, on the same two cores.
  sync
  # shellcheck disable=SC2046
  if ! "$TIME" -f '%e %M %U %S' -o "$tf" $(tool_cmd "$tool") -r "$repo" "$@" >"$log" 2>&1; then
    echo "FAILED: $op $tool run $run (exit code in $log):" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  local secs kib user sys size cpu
  read -r secs kib user sys < <(tail -1 "$tf")
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  size=$(du -sb "$repo" 2>/dev/null | cut -f1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$op" "$tool" "$run" "$secs" "$kib" "$size" "$cpu" >> "$RESULTS"
  printf '   %-18s %-6s run %d: %6.2f s (cpu %6.2f s)  %6d MiB RSS  repo %s MiB\n' "$op" "$tool" "$run" "$secs" "$cpu" $((kib / 1024)) $((size / 1048576))
}

# Whether this build of kubebackup has a command (check, forget and prune came after the first benchmarks); without
# it the table says n/a for ours.
has_command() { "$KB" "$1" --help >/dev/null 2>&1; }

# An unmeasured init (the repositories other operations start from).
init_repo() { $(tool_cmd "$1") -r "$2" init --repository-version 2 >/dev/null 2>&1; }

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
echo "== versions: $($RESTIC version | head -1); kubebackup at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== generating the $PROFILE dataset in $DATA"
"$GEN" generate "$DATA" "$PROFILE"
"$GEN" warm "$DATA" >/dev/null

# Reads every file of a repository once before an operation that reads it, for both tools: kubebackup's local backend
# drops the packs it wrote from the page cache (restic's keeps them), and the runs compare the tools, not the disk.
warm_repo() { "$GEN" warm "$1" >/dev/null; }

# A repository holding a backup of the dataset, for operations run without the backups before them (OPS=...).
ensure_repo() {
  [[ -d "$2" ]] && return 0
  init_repo "$1" "$2"
  $(tool_cmd "$1") -r "$2" backup "$DATA" >/dev/null 2>&1
}

for op in "${OPERATIONS[@]}"; do
  wants "$op" || continue
  echo "== $op"
  if [[ "$op" == backup-mutated ]]; then
    # After the no-change backups, once: each run's repository still has the pre-mutation state as its latest snapshot.
    for run in $(seq 1 "$RUNS"); do for tool in restic ours; do ensure_repo "$tool" "$REPOS/$tool-$run"; done; done
    echo "   mutating the dataset (once, in place): $("$GEN" mutate "$DATA" "$PROFILE")"
    "$GEN" warm "$DATA" >/dev/null
  fi
  if [[ "$op" == restore ]]; then
    # What every restore must reproduce: the dataset as the latest snapshots saw it.
    "$GEN" manifest "$DATA" > "$WORK/manifest-source.txt"
    "$GEN" warm "$DATA" >/dev/null
  fi
  for run in $(seq 1 "$RUNS"); do
    for tool in restic ours; do
      repo="$REPOS/$tool-$run"
      case "$op" in
        init)
          measure init "$tool" "$run" "$REPOS/$tool-init-$run" init --repository-version 2
          rm -rf "$REPOS/$tool-init-$run"
          ;;
        backup)
          # A fresh repository per run; it is kept for the operations that follow.
          rm -rf "$repo"; init_repo "$tool" "$repo"
          measure backup "$tool" "$run" "$repo" backup "$DATA"
          ;;
        backup-nocompress)
          init_repo "$tool" "$REPOS/$tool-off-$run"
          measure backup-nocompress "$tool" "$run" "$REPOS/$tool-off-$run" --compression off backup "$DATA"
          rm -rf "$REPOS/$tool-off-$run"
          ;;
        backup-nochange|backup-mutated)
          ensure_repo "$tool" "$repo"
          warm_repo "$repo"
          measure "$op" "$tool" "$run" "$repo" backup "$DATA"
          ;;
        restore)
          ensure_repo "$tool" "$repo"
          target="$WORK/restore-$tool-$run"
          rm -rf "$target"; mkdir -p "$target"
          warm_repo "$repo"
          measure restore "$tool" "$run" "$repo" restore latest --target "$target"
          # Both tools restore the snapshot's absolute paths under the target.
          "$GEN" manifest "$target$DATA" > "$WORK/manifest-$tool-$run.txt"
          if cmp -s "$WORK/manifest-source.txt" "$WORK/manifest-$tool-$run.txt"; then
            echo "   restore $tool run $run: tree verified ($(wc -l < "$WORK/manifest-source.txt") entries equal)"
          else
            echo "   restore $tool run $run: RESTORED TREE DIFFERS from the source:" >&2
            diff "$WORK/manifest-source.txt" "$WORK/manifest-$tool-$run.txt" | head -20 >&2 || true
            echo "restore-mismatch $tool run $run" >> "$WORK/failures"
          fi
          # Targets are removed only after the last restore: ext4 slows down creating files while many inodes were
          # freed in the last minutes (its allocator skips recently deleted ones), so removing one tool's restore
          # right before the other tool's would tax the second tool.
          ;;
        check-read-data)
          ensure_repo "$tool" "$repo"
          if [[ "$tool" == restic ]] || has_command check; then
            warm_repo "$repo"
            measure check-read-data "$tool" "$run" "$repo" check --read-data
          fi
          if [[ "$tool" == ours && "$run" == 1 ]]; then
            # Independent of our own check: restic verifies (untimed) that kubebackup's repository is sound.
            if $(tool_cmd restic) -r "$repo" check --read-data > "$LOGS/restic-checks-ours.log" 2>&1; then
              echo "   restic check --read-data of kubebackup's repository: no errors"
            else
              echo "   restic check --read-data of kubebackup's repository FAILED (see $LOGS/restic-checks-ours.log)" >&2
              echo "check-ours" >> "$WORK/failures"
            fi
          fi
          ;;
        forget-prune)
          if [[ "$tool" == restic ]] || has_command forget; then
            ensure_repo "$tool" "$repo"
            warm_repo "$repo"
            measure forget-prune "$tool" "$run" "$repo" forget --keep-last 1 --prune
          fi
          ;;
      esac
    done
  done
  if [[ "$op" == restore ]]; then rm -rf "$WORK"/restore-*; fi
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the table: medians of wall time, the largest peak RSS of any run, the median repository size after the op,
# and the median CPU time (user+sys; above the wall time means both cores were busy, far below means waiting).
table() {
  local label
  echo "| operation | restic median s | ours median s | ratio ours/restic | restic peak RSS MiB | ours peak RSS MiB | repo size MiB (restic / ours) | CPU s, user+sys (restic / ours) |"
  echo "|---|---:|---:|---:|---:|---:|---|---|"
  for op in "${OPERATIONS[@]}"; do
    wants "$op" || continue
    case "$op" in
      init) label="init" ;;
      backup) label="initial backup (compression auto)" ;;
      backup-nocompress) label="initial backup (--compression off)" ;;
      backup-nochange) label="backup, no change" ;;
      backup-mutated) label="backup after mutation" ;;
      restore) label="full restore (verified)" ;;
      check-read-data) label="check --read-data" ;;
      forget-prune) label="forget --keep-last 1 --prune" ;;
    esac
    awk -F'\t' -v op="$op" -v label="$label" '
      function median(a, n,    i, j, t) {
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n == 0 ? -1 : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
      }
      $1 == op { n[$2]++; s[$2, n[$2]] = $4; if ($5 > m[$2]) m[$2] = $5; z[$2, n[$2]] = $6; c[$2, n[$2]] = $7 }
      END {
        for (t in n) { delete a; for (i = 1; i <= n[t]; i++) a[i] = s[t, i]; med[t] = median(a, n[t])
                       delete a; for (i = 1; i <= n[t]; i++) a[i] = z[t, i]; size[t] = median(a, n[t])
                       delete a; for (i = 1; i <= n[t]; i++) a[i] = c[t, i]; cpu[t] = median(a, n[t]) }
        r = ("restic" in n) ? sprintf("%.2f", med["restic"]) : "n/a"
        o = ("ours" in n) ? sprintf("%.2f", med["ours"]) : "n/a"
        ratio = (("restic" in n) && ("ours" in n) && med["restic"] > 0) ? sprintf("%.2f", med["ours"] / med["restic"]) : "n/a"
        rm = ("restic" in n) ? sprintf("%d", m["restic"] / 1024) : "n/a"
        om = ("ours" in n) ? sprintf("%d", m["ours"] / 1024) : "n/a"
        if (op == "init" || op == "restore" || op == "check-read-data") sz = "-"
        else sz = sprintf("%s / %s", ("restic" in n) ? sprintf("%.1f", size["restic"] / 1048576) : "n/a",
                                     ("ours" in n) ? sprintf("%.1f", size["ours"] / 1048576) : "n/a")
        cp = sprintf("%s / %s", ("restic" in n) ? sprintf("%.1f", cpu["restic"]) : "n/a", ("ours" in n) ? sprintf("%.1f", cpu["ours"]) : "n/a")
        printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", label, r, o, ratio, rm, om, sz, cp
      }' "$RESULTS"
  done
}

echo
echo "## $PROFILE profile, $RUNS runs each, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
table | tee "${OUT:-/dev/null}"
if [[ -s "$WORK/failures" ]]; then
  echo; echo "FAILURES:"; cat "$WORK/failures"; exit 1
fi
