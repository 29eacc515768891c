#!/usr/bin/env bash
# The tray tests against a real system tray (tests/tray_real): on an Xvfb display of their own,
# with trayer as the tray host. Everywhere else Qt runs offscreen, where there is no tray.
#
#   build/tray_check.sh [PYTEST ARGS]
#
# Works from a fresh clone on Debian with no display: installs what is missing (as root, or
# through sudo), sets up .venv like build/test.sh, and always stops the X server and the tray.
#
# trayer, because Debian 12 no longer ships stalonetray: it owns the freedesktop tray selection
# (_NET_SYSTEM_TRAY_S0) that Qt's xcb QSystemTrayIcon docks into by XEmbed, and needs no window
# manager. xdotool moves and clicks the X pointer for the tests, as a user would.
set -euo pipefail
cd "$(dirname "$0")/.."
started="$(date +%s)"

# The X server, the tray host, the pointer, and the libraries of PySide6's xcb platform plugin
# (what `ldd` of libqxcb.so, libQt6XcbQpa and the xcb GL integrations names, plus libdbus-1,
# which QtDBus opens at run time).
packages=(
  xvfb trayer xdotool
  libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0
  libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libxkbcommon0 libxkbcommon-x11-0
  libegl1 libgl1 libfontconfig1 libdbus-1-3
)
scratch="$(mktemp -d)"
xvfb_pid=""
tray_pid=""
stop() {
  # The tray host before its display, so that it does not die of a lost X connection.
  [ -z "${tray_pid}" ] || kill "${tray_pid}" 2>/dev/null || true
  [ -z "${xvfb_pid}" ] || kill "${xvfb_pid}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "${scratch}"
}
trap stop EXIT
trap 'exit 130' INT  # a signal ends bash without the EXIT trap unless it exits itself
trap 'exit 143' TERM

missing=()
for package in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "${package}" 2>/dev/null || true)"
  [ "${status}" = installed ] || missing+=("${package}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  if ! { "${sudo[@]}" apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"${scratch}/apt.log" 2>&1
  then
    cat "${scratch}/apt.log" >&2
    echo "FAILED: could not install ${missing[*]}" >&2
    exit 1
  fi
fi

build/bootstrap.sh dev

# Waits by polling until "$@" succeeds, failing after $1 seconds; the 0.1 s is the poll interval.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if [ "${SECONDS}" -ge "${deadline}" ]; then
      return 1
    fi
    sleep 0.1
  done
}

# -displayfd: Xvfb takes the first free display number and writes it once it accepts clients.
Xvfb -displayfd 3 -screen 0 1600x1200x24 -nolisten tcp 3>"${scratch}/display" \
  >"${scratch}/xvfb.log" 2>&1 &
xvfb_pid=$!
alive() {
  kill -0 "$1" 2>/dev/null && return 0
  echo "FAILED: $2 exited" >&2
  cat "$3" >&2
  exit 1
}
display_written() {
  alive "${xvfb_pid}" Xvfb "${scratch}/xvfb.log"
  [ -s "${scratch}/display" ]
}
if ! wait_for 30 display_written; then
  echo "FAILED: Xvfb took no display within 30 s" >&2
  exit 1
fi
DISPLAY=":$(head -n1 "${scratch}/display")"
export DISPLAY

# At the bottom right, below where the window opens (0,0 1360x860), so the window never covers
# the icon: without a window manager nothing keeps the tray on top.
trayer --edge bottom --align right --widthtype request --height 32 >"${scratch}/trayer.log" 2>&1 &
tray_pid=$!

tray_owned() {
  alive "${tray_pid}" trayer "${scratch}/trayer.log"
  .venv/bin/python - <<'EOF'
import ctypes
import sys

x11 = ctypes.CDLL("libX11.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XInternAtom.restype = ctypes.c_ulong
x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
x11.XGetSelectionOwner.restype = ctypes.c_ulong
x11.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
display = x11.XOpenDisplay(None)
if not display:
    sys.exit(1)
tray = x11.XInternAtom(display, b"_NET_SYSTEM_TRAY_S0", 0)
sys.exit(0 if x11.XGetSelectionOwner(display, tray) else 1)
EOF
}
if ! wait_for 30 tray_owned; then
  echo "FAILED: trayer did not take the system tray on ${DISPLAY} within 30 s" >&2
  cat "${scratch}/trayer.log" >&2
  exit 1
fi
echo "== real tray: Xvfb on ${DISPLAY}, trayer owns its system tray"

# Without a session bus Qt docks by XEmbed into trayer, not into some StatusNotifier host of the
# desktop this may be started from.
env -u DBUS_SESSION_BUS_ADDRESS QT_QPA_PLATFORM=xcb \
  .venv/bin/python -m pytest tests/tray_real -p no:cacheprovider -q "$@"
echo "== tray check: $(($(date +%s) - started)) s"
