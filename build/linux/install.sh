#!/usr/bin/env bash
# Install Tracekit for the current user, from the unpacked Linux download - no root needed.
#
#   ./install.sh                 install (or update) into ~/.local
#   ./install.sh --prefix DIR    install under DIR instead (DIR/opt/tracekit, DIR/bin, DIR/share)
#   ./install.sh --uninstall     remove the program, its menu entry and icons
#
# The program goes to ~/.local/opt/tracekit, a launcher to ~/.local/bin/tracekit-app, the menu
# entry to ~/.local/share/applications/tracekit.desktop and the icon into the hicolor theme.
# Your data (database, archive of original files, settings) lives in ~/.local/share/Tracekit
# and is never touched by installing, updating or uninstalling.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix="${HOME}/.local"
action=install

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --uninstall) action=uninstall; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

app_dir="${prefix}/opt/tracekit"
bin_link="${prefix}/bin/tracekit-app"
desktop_file="${prefix}/share/applications/tracekit.desktop"
icon_root="${prefix}/share/icons/hicolor"
data_dir="${XDG_DATA_HOME:-${HOME}/.local/share}/Tracekit"

refresh_caches() {  # best effort: desktops also notice the new files by themselves
  if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "${prefix}/share/applications" 2>/dev/null || true
  fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t -f "${icon_root}" 2>/dev/null || true
  fi
}

if [ "$action" = uninstall ]; then
  rm -rf "${app_dir}"
  rm -f "${bin_link}" "${desktop_file}"
  rm -f "${icon_root}"/*/apps/tracekit.png
  refresh_caches
  echo "Tracekit was removed. Your data was kept in ${data_dir}"
  echo "(delete that folder yourself if you no longer want it)."
  exit 0
fi

if [ ! -x "${here}/Tracekit/Tracekit" ]; then
  echo "install.sh: ${here}/Tracekit/Tracekit not found - run me from the unpacked download." >&2
  exit 1
fi

# Copy next to the old version, then swap, so a failed copy never leaves half an app.
mkdir -p "${prefix}/opt" "${prefix}/bin" "${prefix}/share/applications"
staging="$(mktemp -d "${prefix}/opt/.tracekit-install.XXXXXX")"
trap 'rm -rf "${staging}"' EXIT
cp -a "${here}/Tracekit/." "${staging}/"
rm -rf "${app_dir}.old"
[ -e "${app_dir}" ] && mv "${app_dir}" "${app_dir}.old"
mv "${staging}" "${app_dir}"
rm -rf "${app_dir}.old"
trap - EXIT

ln -sfn "${app_dir}/Tracekit" "${bin_link}"

for png in "${here}"/icons/tracekit-*.png; do
  size="$(basename "$png" .png)"
  size="${size#tracekit-}"
  mkdir -p "${icon_root}/${size}x${size}/apps"
  cp "$png" "${icon_root}/${size}x${size}/apps/tracekit.png"
done

# The menu entry runs the installed program by its absolute path (~/.local/bin is not always on
# the desktop session's PATH).
sed -e "s|^Exec=.*|Exec=\"${app_dir}/Tracekit\"|" \
    -e "s|^TryExec=.*|TryExec=${app_dir}/Tracekit|" \
    "${here}/tracekit.desktop" > "${desktop_file}"
chmod 644 "${desktop_file}"
refresh_caches

echo "Tracekit is installed: find it in your applications menu, or run ${bin_link}"
echo "Your data lives in ${data_dir}"
