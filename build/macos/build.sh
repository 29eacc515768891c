#!/usr/bin/env bash
# Build the macOS release of the Tracekit window (run on a Mac; PyInstaller cannot cross-build):
#   dist/Tracekit.app                                 the app (one-folder bundle inside)
#   dist/Tracekit-<version>-macos-<arch>.dmg          the app and an Applications link
#
# Usage: build/macos/build.sh            (sets up .venv and PyInstaller if needed)
#
# Signing and notarisation happen only when their credentials are in the environment;
# without them the app is ad-hoc signed (runs here; other Macs need right-click > Open).
#   MACOS_SIGN_IDENTITY            codesign identity, e.g. "Developer ID Application: Name (TEAMID)"
#   MACOS_CERTIFICATE_P12_BASE64   (CI) that identity's .p12, base64, with
#   MACOS_CERTIFICATE_PASSWORD       its password: imported into a temporary keychain first
#   Notarisation (needs a signing identity), either
#   MACOS_NOTARY_PROFILE           a profile saved with `xcrun notarytool store-credentials`, or
#   MACOS_NOTARY_APPLE_ID, MACOS_NOTARY_TEAM_ID, MACOS_NOTARY_PASSWORD (app-specific password)
#   TRACEKIT_TARGET_ARCH           x86_64 / arm64 / universal2 (default: this Python's arch)
set -euo pipefail
cd "$(dirname "$0")/../.."

PYINSTALLER_REQ="pyinstaller>=6.10,<7"

ensure_tools() {
  # Not build/bootstrap.sh: it needs GNU sha256sum, which macOS lacks.
  local py=""
  if [ -x .venv/bin/python ] && .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    py=.venv/bin/python
  else
    for candidate in python3.14 python3.13 python3.12 python3; do
      if command -v "${candidate}" >/dev/null 2>&1 \
        && "${candidate}" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        rm -rf .venv
        "${candidate}" -m venv .venv
        py=.venv/bin/python
        break
      fi
    done
  fi
  if [ -z "${py}" ]; then
    echo "Tracekit needs Python 3.12 or newer (python.org or 'brew install python@3.12')." >&2
    exit 1
  fi
  "${py}" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "${py}" -m pip install --quiet --disable-pip-version-check -e . "${PYINSTALLER_REQ}"
}

import_certificate() {
  # CI: put the .p12 into a temporary keychain that codesign can use without a prompt.
  local keychain="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/tracekit-signing.keychain-db"
  local password
  password="$(uuidgen)"
  local p12
  p12="$(mktemp)"
  echo "${MACOS_CERTIFICATE_P12_BASE64}" | base64 --decode > "${p12}"
  security create-keychain -p "${password}" "${keychain}"
  security set-keychain-settings -lut 21600 "${keychain}"
  security unlock-keychain -p "${password}" "${keychain}"
  security import "${p12}" -k "${keychain}" -P "${MACOS_CERTIFICATE_PASSWORD:-}" \
    -T /usr/bin/codesign -T /usr/bin/security
  rm -f "${p12}"
  security set-key-partition-list -S apple-tool:,apple:,codesign: -s -k "${password}" "${keychain}" >/dev/null
  # shellcheck disable=SC2046
  security list-keychains -d user -s "${keychain}" $(security list-keychains -d user | tr -d '"')
  if [ -z "${MACOS_SIGN_IDENTITY:-}" ]; then
    MACOS_SIGN_IDENTITY="$(security find-identity -v -p codesigning "${keychain}" \
      | awk -F'"' '/Developer ID Application/ { print $2; exit }')"
    export MACOS_SIGN_IDENTITY
  fi
}

notarise() {
  local file="$1"
  local auth=()
  if [ -n "${MACOS_NOTARY_PROFILE:-}" ]; then
    auth=(--keychain-profile "${MACOS_NOTARY_PROFILE}")
  elif [ -n "${MACOS_NOTARY_APPLE_ID:-}" ] && [ -n "${MACOS_NOTARY_TEAM_ID:-}" ] \
    && [ -n "${MACOS_NOTARY_PASSWORD:-}" ]; then
    auth=(--apple-id "${MACOS_NOTARY_APPLE_ID}" --team-id "${MACOS_NOTARY_TEAM_ID}"
          --password "${MACOS_NOTARY_PASSWORD}")
  else
    echo "== notarisation skipped (no MACOS_NOTARY_PROFILE or MACOS_NOTARY_APPLE_ID/TEAM_ID/PASSWORD)"
    return 0
  fi
  echo "== notarising ${file} (waits for Apple)"
  xcrun notarytool submit "${file}" "${auth[@]}" --wait --timeout 30m
  xcrun stapler staple "${file}"
  spctl --assess --type open --context context:primary-signature --verbose "${file}"
}

ensure_tools
if [ -n "${MACOS_CERTIFICATE_P12_BASE64:-}" ]; then
  import_certificate
fi
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  echo "== signing as: ${MACOS_SIGN_IDENTITY}"
else
  echo "== no MACOS_SIGN_IDENTITY: ad-hoc signature, no notarisation"
fi

version="$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
arch="${TRACEKIT_TARGET_ARCH:-$(uname -m)}"
dmg="dist/Tracekit-${version}-macos-${arch}.dmg"

echo "== pyinstaller tracekit.spec (Tracekit ${version}, ${arch})"
started="$(date +%s)"
# The spec signs every binary and the .app (hardened runtime + build/macos/entitlements.plist)
# when MACOS_SIGN_IDENTITY is set.
.venv/bin/pyinstaller --noconfirm --log-level WARN \
  --workpath build/out/pyinstaller --distpath dist tracekit.spec
echo "   built in $(( $(date +%s) - started )) s"
codesign --verify --deep --strict --verbose=1 dist/Tracekit.app

echo "== self-test of the app"
scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT
QT_QPA_PLATFORM=offscreen TRACEKIT_DATA_DIR="${scratch}/data" \
  dist/Tracekit.app/Contents/MacOS/Tracekit --self-test
QT_QPA_PLATFORM=offscreen TRACEKIT_DATA_DIR="${scratch}/data" \
  dist/Tracekit.app/Contents/MacOS/Tracekit --bundle-check

echo "== ${dmg}"
stage="${scratch}/dmg"
mkdir -p "${stage}"
ditto dist/Tracekit.app "${stage}/Tracekit.app"  # keeps symlinks, extended attributes, signatures
ln -s /Applications "${stage}/Applications"
rm -f "${dmg}"
for attempt in 1 2 3; do  # hdiutil sometimes fails with "Resource busy" on CI runners
  if hdiutil create -volname "Tracekit ${version}" -srcfolder "${stage}" \
    -fs HFS+ -format UDZO -ov "${dmg}"; then
    break
  fi
  [ "${attempt}" = 3 ] && exit 1
  sleep 5
done

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  codesign --sign "${MACOS_SIGN_IDENTITY}" --timestamp "${dmg}"
  notarise "${dmg}"
fi

echo "== done"
echo "   dist/Tracekit.app: $(du -sh dist/Tracekit.app | cut -f1)"
echo "   ${dmg}: $(du -sh "${dmg}" | cut -f1)"
