#!/usr/bin/env bash
# CI check of the installable app: build the Linux one-folder bundle and its tar.gz
# (build/linux/build.sh, which also runs `Tracekit --self-test` offscreen), then run the bundle
# checks (`Tracekit --bundle-check`: lazily imported provider libraries, bundled resources,
# migrations as files, the data folder outside the app, the import's worker processes), make
# sure nothing was written inside the app folder, and hold the size budgets.
# Exits non-zero on any failure.
#
#   build/bundle_check.sh
#
# Budgets (MiB; override for experiments): BUNDLE_MAX_MIB=200, TAR_MAX_MIB=90.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE_MAX_MIB="${BUNDLE_MAX_MIB:-200}"
TAR_MAX_MIB="${TAR_MAX_MIB:-90}"

started="$(date +%s)"
build/linux/build.sh
# shellcheck source=/dev/null
source build/out/linux/summary.env

echo "== bundle checks"
dangling="$(find dist/Tracekit -xtype l)"
if [ -n "${dangling}" ]; then
  echo "FAILED: dangling symlinks in the bundle:" >&2
  echo "${dangling}" >&2
  exit 1
fi
scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT
find dist/Tracekit -printf '%P %s\n' | sort > "${scratch}/before.txt"
# A throwaway HOME: the checks see where the bundle would keep a user's data
# (~/.local/share/Tracekit), and no real data folder is touched.
mkdir -p "${scratch}/home"
env -u XDG_DATA_HOME -u XDG_CONFIG_HOME -u TRACEKIT_DB -u DATABASE_URL \
  HOME="${scratch}/home" QT_QPA_PLATFORM=offscreen TRACEKIT_DATA_DIR="${scratch}/data" \
  dist/Tracekit/Tracekit --bundle-check
find dist/Tracekit -printf '%P %s\n' | sort > "${scratch}/after.txt"
if ! diff -u "${scratch}/before.txt" "${scratch}/after.txt"; then
  echo "FAILED: running the bundle wrote inside the app folder (see the diff above)" >&2
  exit 1
fi
echo "ok   nothing written inside dist/Tracekit"

failed=0
if awk -v v="${BUNDLE_MIB}" -v max="${BUNDLE_MAX_MIB}" 'BEGIN { exit !(v > max) }'; then
  echo "FAILED: the bundle is ${BUNDLE_MIB} MiB, over the ${BUNDLE_MAX_MIB} MiB budget" >&2
  failed=1
fi
if awk -v v="${TAR_MIB}" -v max="${TAR_MAX_MIB}" 'BEGIN { exit !(v > max) }'; then
  echo "FAILED: the tar.gz is ${TAR_MIB} MiB, over the ${TAR_MAX_MIB} MiB budget" >&2
  failed=1
fi

echo "== bundle check summary (Tracekit ${VERSION})"
echo "   build time:  ${BUILD_S} s (PyInstaller), ${PACK_S} s (tar.gz); whole check $(( $(date +%s) - started )) s"
echo "   bundle:      ${BUNDLE_MIB} MiB on disk, ${BUNDLE_FILES} files (budget ${BUNDLE_MAX_MIB})"
echo "   tar.gz:      ${TAR_MIB} MiB (budget ${TAR_MAX_MIB}): ${TAR_PATH}"
exit "${failed}"
