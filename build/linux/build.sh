#!/usr/bin/env bash
# Build the Linux release of the Tracekit window:
#   dist/Tracekit/                                   the one-folder bundle (run dist/Tracekit/Tracekit)
#   dist/Tracekit-<version>-linux-<arch>.tar.gz      the bundle + tracekit.desktop + icons + install.sh
#
# Usage: build/linux/build.sh            (from anywhere; sets up .venv and PyInstaller if needed)
#
# Runs the bundle's --self-test offscreen before packing it. Writes the figures (build time,
# sizes) to build/out/linux/summary.env for build/bundle_check.sh.
#
# AppImage: not built. It needs appimagetool (and its runtime), which are downloaded binaries,
# not packages from a registry; the tar.gz + install.sh gives the same per-user install. To add
# one later: lay out an AppDir (AppRun -> Tracekit/Tracekit, tracekit.desktop, tracekit.png) from
# the same dist/Tracekit and run `appimagetool AppDir` where the tool is available.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"

PYINSTALLER_REQ="pyinstaller>=6.10,<7"

ensure_tools() {
  # Tracekit itself must be installed in .venv (its metadata goes into the bundle). Re-run the
  # bootstrap with the extras it was last run with, so a CI venv set up with `dev` stays so.
  local extras=""
  if [ -f .venv/.tracekit-installed ]; then
    extras="$(cut -s -d' ' -f2- .venv/.tracekit-installed)"
  fi
  build/bootstrap.sh ${extras:+"$extras"}
  if ! .venv/bin/python - <<'EOF' 2>/dev/null
import sys
import PyInstaller
major, minor = (int(p) for p in PyInstaller.__version__.split(".")[:2])
sys.exit(not ((6, 10) <= (major, minor) < (7, 0)))
EOF
  then
    echo "== installing ${PYINSTALLER_REQ} into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "${PYINSTALLER_REQ}"
  fi
}

now() { date +%s.%N; }
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
mib() { du -sk "$1" | awk '{ printf "%.1f", $1 / 1024 }'; }

ensure_tools
version="$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
arch="$(uname -m)"
name="Tracekit-${version}-linux-${arch}"

echo "== pyinstaller tracekit.spec (Tracekit ${version}, ${arch})"
started="$(now)"
.venv/bin/pyinstaller --noconfirm --log-level WARN \
  --workpath build/out/pyinstaller --distpath dist tracekit.spec
build_s="$(seconds_since "$started")"

echo "== self-test of the bundle"
scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT
QT_QPA_PLATFORM=offscreen TRACEKIT_DATA_DIR="${scratch}/data" dist/Tracekit/Tracekit --self-test

echo "== packing ${name}.tar.gz"
started="$(now)"
stage="build/out/linux/${name}"
rm -rf build/out/linux
mkdir -p "${stage}/icons"
cp -al dist/Tracekit "${stage}/Tracekit"  # hard links: no copy of 170 MB
cp build/linux/tracekit.desktop build/linux/install.sh "${stage}/"
cp resources/icons/tracekit-*.png "${stage}/icons/"
cat > "${stage}/README.txt" <<EOF
Tracekit ${version} for Linux (${arch})

Run it from here:        ./Tracekit/Tracekit
Install it for yourself: ./install.sh            (menu entry + icon, into ~/.local; no root)
Remove it:               ./install.sh --uninstall   (your data is kept)
Check the installation:  ./Tracekit/Tracekit --self-test

Your data lives in ~/.local/share/Tracekit, never in this folder.
EOF
tar --sort=name --owner=0 --group=0 --numeric-owner \
  -C build/out/linux -czf "dist/${name}.tar.gz" "${name}"
pack_s="$(seconds_since "$started")"

bundle_mib="$(mib dist/Tracekit)"
tar_mib="$(mib "dist/${name}.tar.gz")"
files="$(find dist/Tracekit -type f | wc -l)"
cat > build/out/linux/summary.env <<EOF
VERSION=${version}
BUILD_S=${build_s}
PACK_S=${pack_s}
BUNDLE_MIB=${bundle_mib}
BUNDLE_FILES=${files}
TAR_MIB=${tar_mib}
TAR_PATH=${root}/dist/${name}.tar.gz
EOF
echo "== built in ${build_s} s (packed in ${pack_s} s)"
echo "   dist/Tracekit: ${bundle_mib} MiB on disk, ${files} files"
echo "   dist/${name}.tar.gz: ${tar_mib} MiB"
