"""The packaging files, checked without building anything (the real build and its self-test run
in build/bundle_check.sh): tracekit.spec, the icons, tracekit.resources, the Linux desktop entry
and installer, the Windows installer script and the release workflow."""

import configparser
import importlib.metadata
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import tomllib
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracekit import resources

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "tracekit.spec"
ICONS = ROOT / "resources" / "icons"
DESKTOP = ROOT / "build" / "linux" / "tracekit.desktop"
INSTALL_SH = ROOT / "build" / "linux" / "install.sh"
ISS = ROOT / "build" / "windows" / "tracekit.iss"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell scripts")


# ---------------------------------------------------------------------------------------------
# tracekit.spec, executed with PyInstaller's build steps replaced by recorders


class SpecRun:
    def __init__(self) -> None:
        self.calls: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}
        self.namespace: dict[str, Any] = {}


FAKE_IMPORTS = {  # what each fake binary links to (name -> needed names)
    "/qt/plugins/platformthemes/libqgtk3.so": ["libgtk-3.so.0", "libQt6Gui.so.6"],
    "/sys/libgtk-3.so.0": ["libcairo.so.2", "libfontconfig.so.1"],
    "/sys/libcairo.so.2": ["libfontconfig.so.1"],
    "/qt/plugins/platforms/libqxcb.so": ["libQt6Gui.so.6", "libxcb-cursor.so.0"],
    "/qt/lib/libQt6Gui.so.6": ["libfontconfig.so.1"],
    "/qt/pdf.so": ["libQt6Pdf.so.6", "libQt6Gui.so.6"],
}
FAKE_BINARIES = [
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/qt/plugins/platformthemes/libqgtk3.so"),
    ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", "/qt/portal.so"),
    ("PySide6/Qt/plugins/platforms/libqxcb.so", "/qt/plugins/platforms/libqxcb.so"),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", "/qt/offscreen.so"),
    ("PySide6/Qt/plugins/platforms/libqwayland.so", "/qt/wayland.so"),
    ("PySide6/Qt/plugins/platforms/libqvnc.so", "/qt/vnc.so"),
    ("PySide6/Qt/plugins/imageformats/libqpdf.so", "/qt/pdf.so"),
    ("PySide6/Qt/plugins/imageformats/libqico.so", "/qt/ico.so"),
    ("PySide6/Qt/lib/libQt6Gui.so.6", "/qt/lib/libQt6Gui.so.6"),
    ("libgtk-3.so.0", "/sys/libgtk-3.so.0"),
    ("libcairo.so.2", "/sys/libcairo.so.2"),
    ("libfontconfig.so.1", "/sys/libfontconfig.so.1"),
    ("libxcb-cursor.so.0", "/sys/libxcb-cursor.so.0"),
    ("PySide6/Qt/lib/libQt6Pdf.so.6", "/qt/lib/libQt6Pdf.so.6"),
]
FAKE_DATAS = [
    ("PySide6/Qt/translations/qtbase_de.qm", "/qt/translations/qtbase_de.qm", "DATA"),
    ("tracekit/store/migrations/env.py", "/src/env.py", "DATA"),
    # PyInstaller links top-level library names into PySide6/Qt/lib
    ("libQt6Pdf.so.6", "PySide6/Qt/lib/libQt6Pdf.so.6", "SYMLINK"),
    ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
]


def _fake_pyinstaller(monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda package, **_: [  # type: ignore[attr-defined]
        f"{package}.app",
        "tracekit.cli.main",
        "tracekit.store.migrations.env",
    ]
    hooks.copy_metadata = lambda name, **_: [(f"/site/{name}.dist-info", f"{name}.dist-info")]  # type: ignore[attr-defined]
    bindepend = types.ModuleType("PyInstaller.depend.bindepend")
    bindepend.get_imports = lambda src, search_paths=None: {  # type: ignore[attr-defined]
        (name, None) for name in FAKE_IMPORTS.get(src, [])
    }
    for name in ("PyInstaller", "PyInstaller.utils", "PyInstaller.depend"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    monkeypatch.setitem(sys.modules, "PyInstaller.depend.bindepend", bindepend)


def run_spec(monkeypatch: pytest.MonkeyPatch, platform: str | None = None) -> SpecRun:
    _fake_pyinstaller(monkeypatch)
    if platform:
        monkeypatch.setattr(sys, "platform", platform)
    run = SpecRun()

    def recorder(name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> types.SimpleNamespace:
            run.calls[name] = (args, kwargs)
            if name == "Analysis":
                return types.SimpleNamespace(
                    binaries=[(d, s, "BINARY") for d, s in FAKE_BINARIES],
                    datas=list(FAKE_DATAS),
                    pure=[],
                    scripts=[],
                )
            return types.SimpleNamespace()

        return record

    run.namespace = {
        "__name__": "__main__",
        "SPECPATH": str(ROOT),
        **{n: recorder(n) for n in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")},
    }
    code = compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec")
    exec(code, run.namespace)
    return run


@pytest.fixture
def spec(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> SpecRun:
    result = run_spec(monkeypatch, "linux")
    capsys.readouterr()
    return result


def test_spec_excludes_the_heavy_qt_modules_and_dev_tools(spec: SpecRun) -> None:
    excludes = set(spec.calls["Analysis"][1]["excludes"])
    for module in (
        "QtWebEngineCore",
        "QtWebEngineWidgets",
        "QtWebEngineQuick",
        "QtQml",
        "QtQuick",
        "QtQuick3D",
        "Qt3DCore",
        "QtMultimedia",
        "QtCharts",
        "QtPdf",
        "QtDesigner",
    ):
        assert f"PySide6.{module}" in excludes
    for used in ("QtCore", "QtGui", "QtWidgets", "QtNetwork"):
        assert f"PySide6.{used}" not in excludes
    assert {"tkinter", "numpy", "pytest", "pytestqt", "PyInstaller", "mypy"} <= excludes


def test_spec_ships_every_migration_as_a_real_file(spec: SpecRun) -> None:
    datas = spec.calls["Analysis"][1]["datas"]
    shipped = {
        Path(src).resolve().relative_to(ROOT).as_posix(): dest
        for src, dest in datas
        if Path(src).resolve().is_relative_to(ROOT)
    }
    migrations = ROOT / "tracekit" / "store" / "migrations"
    expected = [
        p
        for p in migrations.rglob("*")
        if p.suffix in {".py", ".mako"} and "__pycache__" not in p.parts
    ]
    assert (migrations / "env.py") in expected and (migrations / "script.py.mako") in expected
    assert len([p for p in expected if p.parent.name == "versions"]) >= 2
    for path in expected:
        rel = path.relative_to(ROOT).as_posix()
        assert shipped.get(rel) == path.parent.relative_to(ROOT).as_posix(), rel
    # The scripts are data, never compiled into the archive as modules.
    assert not any(
        m.startswith("tracekit.store.migrations")
        for m in spec.calls["Analysis"][1]["hiddenimports"]
    )


def test_spec_ships_the_icons_metadata_and_no_cli(spec: SpecRun) -> None:
    kwargs = spec.calls["Analysis"][1]
    dests = {dest for _src, dest in kwargs["datas"]}
    assert "resources/icons" in dests
    assert "tracekit.dist-info" in dests  # tracekit.__version__ in the bundle
    assert "pyside6-essentials.dist-info" in dests  # LGPL license texts
    assert "tracekit.cli" in kwargs["excludes"]
    assert not any(m.startswith("tracekit.cli") for m in kwargs["hiddenimports"])
    entry = Path(spec.calls["Analysis"][0][0][0])
    assert entry == ROOT / "build" / "entry.py" and entry.is_file()


def test_spec_builds_a_windowed_one_folder_app_named_tracekit(spec: SpecRun) -> None:
    exe = spec.calls["EXE"][1]
    assert exe["name"] == "Tracekit"
    assert exe["console"] is False
    assert exe["exclude_binaries"] is True  # one-folder: the libraries sit beside the exe
    assert spec.calls["COLLECT"][1]["name"] == "Tracekit"
    assert "BUNDLE" not in spec.calls  # only on macOS


def test_spec_drops_unused_qt_plugins_gtk_and_what_only_gtk_needed(spec: SpecRun) -> None:
    kept = {dest for dest, _src, _kind in spec.calls["COLLECT"][0][1]}
    gone_names = ("libqgtk3.so", "libqvnc.so", "libqpdf.so", "libgtk-3.so.0", "libcairo.so.2")
    for gone in (*gone_names, "libQt6Pdf.so.6"):
        assert not any(d.endswith(gone) for d in kept), gone
    for needed in (
        "libqxcb.so",
        "libqoffscreen.so",
        "libqwayland.so",
        "libqxdgdesktopportal.so",
        "libqico.so",
        "libQt6Gui.so.6",
        "libfontconfig.so.1",
        "libxcb-cursor.so.0",
    ):
        assert any(d.endswith(needed) for d in kept), needed
    datas = {dest for dest, _src, _kind in spec.calls["COLLECT"][0][2]}
    # Qt translations dropped, and the link to the dropped QtPdf library with them
    assert datas == {"tracekit/store/migrations/env.py", "libQt6Gui.so.6"}


def test_spec_on_windows_has_the_icon_and_a_version_resource(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    versioninfo = types.ModuleType("PyInstaller.utils.win32.versioninfo")
    made: dict[str, Any] = {}
    for cls in (
        "FixedFileInfo",
        "StringFileInfo",
        "StringStruct",
        "StringTable",
        "VarFileInfo",
        "VarStruct",
        "VSVersionInfo",
    ):

        def factory(*args: Any, _cls: str = cls, **kwargs: Any) -> tuple[str, Any, Any]:
            made.setdefault(_cls, []).append((args, kwargs))
            return (_cls, args, kwargs)

        setattr(versioninfo, cls, factory)
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.win32", types.ModuleType("w"))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.win32.versioninfo", versioninfo)
    run = run_spec(monkeypatch, "win32")
    capsys.readouterr()
    exe = run.calls["EXE"][1]
    assert Path(exe["icon"]) == ICONS / "tracekit.ico"
    assert exe["version"][0] == "VSVersionInfo"
    fixed = made["FixedFileInfo"][0][1]
    assert fixed["filevers"][:3] == tuple(int(p) for p in VERSION.split(".")[:3])
    strings = {args[0]: args[1] for args, _ in made["StringStruct"]}
    assert strings["ProductVersion"] == VERSION
    assert strings["OriginalFilename"] == "Tracekit.exe"


def test_spec_on_macos_makes_an_app_with_the_icns_and_version(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MACOS_SIGN_IDENTITY", raising=False)
    run = run_spec(monkeypatch, "darwin")
    capsys.readouterr()
    bundle = run.calls["BUNDLE"][1]
    assert bundle["name"] == "Tracekit.app"
    assert Path(bundle["icon"]) == ICONS / "tracekit.icns"
    assert bundle["version"] == VERSION
    assert bundle["info_plist"]["CFBundleShortVersionString"] == VERSION
    assert run.calls["EXE"][1]["codesign_identity"] is None  # ad-hoc without the identity
    assert run.calls["EXE"][1]["strip"] is False


def test_spec_refuses_a_stale_installed_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.0-stale")
    with pytest.raises(SystemExit, match="bootstrap"):
        run_spec(monkeypatch, "linux")


# ---------------------------------------------------------------------------------------------
# icons


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("size", resources.ICON_PNG_SIZES)
def test_png_icons_have_their_size(size: int) -> None:
    assert png_size((ICONS / f"tracekit-{size}.png").read_bytes()) == (size, size)


def test_ico_holds_the_windows_sizes() -> None:
    data = (ICONS / "tracekit.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = set()
    for i in range(count):
        width, height = data[6 + 16 * i], data[7 + 16 * i]
        sizes.add((width or 256, height or 256))
    assert {(s, s) for s in (16, 24, 32, 48, 64, 128, 256)} <= sizes


def test_icns_holds_the_macos_sizes_up_to_1024() -> None:
    data = (ICONS / "tracekit.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    chunks: dict[str, bytes] = {}
    offset = 8
    while offset < len(data):
        kind, length = (
            data[offset : offset + 4].decode(),
            struct.unpack(">I", data[offset + 4 : offset + 8])[0],
        )
        chunks[kind] = data[offset + 8 : offset + length]
        offset += length
    expected = {
        "ic11": 32,
        "ic12": 64,
        "ic07": 128,
        "ic13": 256,
        "ic08": 256,
        "ic14": 512,
        "ic09": 512,
        "ic10": 1024,
    }
    for kind, pixels in expected.items():
        assert kind in chunks, kind
        assert png_size(chunks[kind]) == (pixels, pixels), kind


def test_the_committed_icons_are_what_make_icons_draws(tmp_path: Path) -> None:
    """Changed the drawing? Run build/make_icons.py and commit resources/icons."""
    image = pytest.importorskip("PIL.Image", reason="Pillow comes with the build extra")
    stat = pytest.importorskip("PIL.ImageStat")
    chops = pytest.importorskip("PIL.ImageChops")
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "build" / "make_icons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.write_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in ICONS.iterdir())
    for fresh in (p for p in written if p.suffix == ".png"):
        with image.open(fresh) as new, image.open(ICONS / fresh.name) as old:
            diff = chops.difference(new.convert("RGBA"), old.convert("RGBA"))
            # tolerant of Pillow versions resampling a little differently
            assert max(stat.Stat(diff).mean) < 2.0, fresh.name


# ---------------------------------------------------------------------------------------------
# tracekit.resources


def test_resources_are_found_from_the_source_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACEKIT_RESOURCES_DIR", raising=False)
    assert not resources.is_frozen()
    assert resources.resources_dir() == ROOT / "resources"
    assert resources.app_icon_png(20) == ICONS / "tracekit-24.png"
    assert resources.app_icon_png(4096) == ICONS / "tracekit-512.png"
    assert resources.app_icon_file().is_file()
    assert all(p.is_file() for p in resources.app_icon_pngs().values())
    assert resources.resource_path("icons", "tracekit.ico") == ICONS / "tracekit.ico"
    with pytest.raises(FileNotFoundError, match=r"nope\.png"):
        resources.resource_path("icons", "nope.png")


@pytest.fixture
def frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fake PyInstaller bundle: sys.frozen and sys._MEIPASS pointing at tmp_path/_internal."""
    internal = tmp_path / "_internal"
    (internal / "resources" / "icons").mkdir(parents=True)
    (internal / "resources" / "icons" / "tracekit-256.png").write_bytes(b"png")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    monkeypatch.delenv("TRACEKIT_RESOURCES_DIR", raising=False)
    yield internal


def test_resources_are_found_in_a_frozen_bundle(frozen: Path) -> None:
    assert resources.is_frozen()
    assert resources.bundle_dir() == frozen
    assert resources.resources_dir() == frozen / "resources"
    assert resources.app_icon_png() == frozen / "resources" / "icons" / "tracekit-256.png"


def test_a_resources_folder_without_our_icon_is_passed_over(frozen: Path) -> None:
    (frozen / "resources" / "icons" / "tracekit-256.png").unlink()
    assert resources.resources_dir() == ROOT / "resources"  # the next candidate


def test_the_resources_folder_can_be_overridden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEKIT_RESOURCES_DIR", str(tmp_path))
    assert resources.resources_dir() == tmp_path


def test_resources_module_stays_qt_free() -> None:
    source = (ROOT / "tracekit" / "resources.py").read_text(encoding="utf-8")
    assert "PySide6" not in source and "import ui" not in source


# ---------------------------------------------------------------------------------------------
# Linux: desktop entry and per-user installer


def desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    assert parser.sections() == ["Desktop Entry"]
    return parser["Desktop Entry"]


def assert_valid_desktop_file(path: Path) -> None:
    entry = desktop_entry(path)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Tracekit"
    assert entry["Icon"] == "tracekit"  # the hicolor name install.sh uses
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and "Utility" in entry["Categories"]
    assert entry["StartupWMClass"] == "Tracekit"
    assert entry["Exec"] and "%" not in entry["Exec"]  # the app takes no file arguments
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "error:" not in result.stdout + result.stderr


def test_the_desktop_file_is_valid() -> None:
    # Named tracekit.desktop: Qt reports app id "tracekit" (ui.app sets setDesktopFileName).
    assert DESKTOP.name == "tracekit.desktop"
    assert_valid_desktop_file(DESKTOP)


@posix_only
def test_install_sh_installs_for_the_user_and_uninstalls(tmp_path: Path) -> None:
    unpacked = tmp_path / "Tracekit-x-linux"
    (unpacked / "Tracekit" / "_internal").mkdir(parents=True)
    exe = unpacked / "Tracekit" / "Tracekit"
    exe.write_text("#!/bin/sh\necho tracekit-ran\n")
    exe.chmod(0o755)
    (unpacked / "icons").mkdir()
    for size in (16, 256):
        shutil.copy(ICONS / f"tracekit-{size}.png", unpacked / "icons")
    shutil.copy(DESKTOP, unpacked)
    shutil.copy(INSTALL_SH, unpacked)
    prefix = tmp_path / "home" / ".local"
    env = {**os.environ, "HOME": str(tmp_path / "home")}

    def install(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(unpacked / "install.sh"), "--prefix", str(prefix), *args],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )

    install()
    install()  # again: an update replaces the program in place
    app = prefix / "opt" / "tracekit" / "Tracekit"
    assert app.is_file()
    launcher = prefix / "bin" / "tracekit-app"
    assert (
        subprocess.run([str(launcher)], capture_output=True, text=True, check=True).stdout.strip()
        == "tracekit-ran"
    )
    assert (prefix / "share/icons/hicolor/256x256/apps/tracekit.png").is_file()
    desktop = prefix / "share" / "applications" / "tracekit.desktop"
    assert desktop_entry(desktop)["Exec"] == f'"{app}"'
    assert desktop_entry(desktop)["TryExec"] == str(app)
    assert_valid_desktop_file(desktop)
    assert not list((prefix / "opt").glob(".tracekit-install.*"))

    data = tmp_path / "home" / ".local" / "share" / "Tracekit"
    data.mkdir(parents=True)
    (data / "tracekit.sqlite3").write_text("keep me")
    result = install("--uninstall")
    assert not app.exists() and not launcher.exists() and not desktop.exists()
    assert not (prefix / "share/icons/hicolor/256x256/apps/tracekit.png").exists()
    assert (data / "tracekit.sqlite3").read_text() == "keep me"
    assert "data was kept" in result.stdout


def test_build_scripts_are_executable() -> None:
    if sys.platform == "win32":
        pytest.skip("no executable bit on Windows")
    for script in (
        "build/bundle_check.sh",
        "build/linux/build.sh",
        "build/linux/install.sh",
        "build/macos/build.sh",
    ):
        assert os.access(ROOT / script, os.X_OK), script


# ---------------------------------------------------------------------------------------------
# Windows: the Inno Setup script


def iss_setup() -> dict[str, str]:
    setup: dict[str, str] = {}
    section = ""
    for line in ISS.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "Setup" and "=" in line and not line.startswith(";"):
            key, _, value = line.partition("=")
            setup[key.strip()] = value.strip()
    return setup


def test_the_installer_is_named_with_the_version() -> None:
    setup = iss_setup()
    assert setup["OutputBaseFilename"] == "Tracekit-Setup-{#AppVersion}"
    assert setup["AppVersion"] == "{#AppVersion}"
    assert setup["OutputDir"] == r"{#Root}\dist"
    text = ISS.read_text(encoding="utf-8")
    assert "#ifndef AppVersion\n  #error" in text  # never a silently unversioned installer
    build_ps1 = (ROOT / "build" / "windows" / "build.ps1").read_text(encoding="utf-8")
    assert '"/DAppVersion=$version"' in build_ps1
    assert r'"dist\Tracekit-Setup-$version.exe"' in build_ps1


def test_the_installer_has_menu_entry_optional_shortcut_and_keeps_data() -> None:
    text = ISS.read_text(encoding="utf-8")
    setup = iss_setup()
    assert setup["AppId"].startswith("{{") and len(setup["AppId"]) == 39  # {{ + GUID + }
    assert setup["PrivilegesRequired"] == "lowest"
    icon = setup["SetupIconFile"].replace("{#Root}", str(ROOT)).replace("\\", "/")
    assert Path(icon).is_file()
    assert r'Source: "{#Root}\dist\Tracekit\*"' in text
    assert r'Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"' in text
    assert 'Name: "desktopicon"' in text and "Flags: unchecked" in text
    assert "Tasks: desktopicon" in text
    # Uninstall: the data folder goes only on a yes (default No) or /DELETEDATA when silent.
    assert r"ExpandConstant('{localappdata}\Tracekit')" in text
    assert "MB_YESNO or MB_DEFBUTTON2" in text
    assert "CommandLineHas('/DELETEDATA')" in text
    assert "usPostUninstall" in text


# ---------------------------------------------------------------------------------------------
# the release workflow and the entry script


def test_release_workflow_builds_all_three_with_the_build_scripts() -> None:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    assert workflow[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads "on" as True
    jobs = workflow["jobs"]
    commands = {
        name: "\n".join(step.get("run", "") for step in job["steps"]) for name, job in jobs.items()
    }
    assert "build/bundle_check.sh" in commands["linux"]
    assert "build/macos/build.sh" in commands["macos"]
    assert r"build\windows\build.ps1" in commands["windows"]
    for name in ("linux", "macos", "windows"):
        uploads = [s for s in jobs[name]["steps"] if "upload-artifact" in s.get("uses", "")]
        assert uploads and uploads[0]["with"]["if-no-files-found"] == "error"
    assert set(jobs["release"]["needs"]) == {"linux", "macos", "windows"}
    assert "gh release create" in commands["release"]


def test_entry_script_passes_the_arguments_to_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.app

    monkeypatch.setenv("QT_LOGGING_RULES", "")  # main() sets a default: keep it to this test
    seen: list[list[str]] = []
    monkeypatch.setattr(ui.app, "main", lambda argv: seen.append(list(argv)) or 7)
    spec = importlib.util.spec_from_file_location("tracekit_entry", ROOT / "build" / "entry.py")
    assert spec and spec.loader
    entry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry)
    assert entry.main(["--self-test"]) == 7
    assert entry.main(["--demo"]) == 7
    assert seen == [["--self-test"], ["--demo"]]
    assert "--self-test" in ui.app.build_parser().format_help()
