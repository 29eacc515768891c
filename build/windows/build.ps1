<#
.SYNOPSIS
  Build the Windows release of the Tracekit window:
    dist\Tracekit\                       the one-folder bundle (dist\Tracekit\Tracekit.exe)
    dist\Tracekit-Setup-<version>.exe    the installer (Inno Setup 6)

.DESCRIPTION
  Run on Windows (PyInstaller cannot cross-build), from anywhere:
    powershell -ExecutionPolicy Bypass -File build\windows\build.ps1
  Sets up .venv (Python 3.12+) with Tracekit and PyInstaller, builds tracekit.spec, runs the
  bundle's --self-test and --bundle-check offscreen, then compiles build\windows\tracekit.iss
  with ISCC.exe (Inno Setup 6.3 or newer: `winget install JRSoftware.InnoSetup` or
  `choco install innosetup`).

.PARAMETER SkipInstaller
  Build and test the bundle only.
#>
param([switch]$SkipInstaller)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path
Set-Location $Root
$PyInstallerReq = 'pyinstaller>=6.10,<7'

function Invoke-Checked {
  param([string]$Exe, [string[]]$Arguments)
  & $Exe @Arguments
  if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Find-Python {
  # A Python 3.12+ to make the venv with: $env:PYTHON, then the py launcher, then python on PATH.
  $candidates = @()
  if ($env:PYTHON) { $candidates += , @($env:PYTHON) }
  $candidates += , @('py', '-3.12')
  $candidates += , @('py', '-3')
  $candidates += , @('python')
  foreach ($c in $candidates) {
    $exe = $c[0]; $rest = @($c | Select-Object -Skip 1)
    if (-not (Get-Command $exe -ErrorAction SilentlyContinue)) { continue }
    try {
      & $exe @rest -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>$null
      if ($LASTEXITCODE -eq 0) { return , $c }
    } catch { continue }  # e.g. the py launcher without that version
  }
  throw 'Tracekit needs Python 3.12 or newer (python.org or `winget install Python.Python.3.12`).'
}

function Find-Iscc {
  $onPath = Get-Command 'ISCC.exe' -ErrorAction SilentlyContinue
  if ($onPath) { return $onPath.Source }
  $places = @(
    (Join-Path ${env:ProgramFiles(x86)} 'Inno Setup 6\ISCC.exe'),
    (Join-Path $env:ProgramFiles 'Inno Setup 6\ISCC.exe'),
    (Join-Path $env:LOCALAPPDATA 'Programs\Inno Setup 6\ISCC.exe')
  )
  foreach ($p in $places) { if ($p -and (Test-Path $p)) { return $p } }
  throw 'ISCC.exe (Inno Setup 6) not found: winget install JRSoftware.InnoSetup, or choco install innosetup'
}

function Invoke-Bundle {
  # Tracekit.exe is a windowed program: PowerShell would not wait for it, and it has no console,
  # so run it with its output redirected to files and wait (with a time limit).
  param([string]$Argument, [string]$DataDir)
  $out = Join-Path $DataDir "$($Argument.TrimStart('-')).out.txt"
  $err = Join-Path $DataDir "$($Argument.TrimStart('-')).err.txt"
  $env:QT_QPA_PLATFORM = 'offscreen'
  $env:TRACEKIT_DATA_DIR = Join-Path $DataDir 'data'
  try {
    $p = Start-Process -FilePath 'dist\Tracekit\Tracekit.exe' -ArgumentList $Argument -NoNewWindow `
      -PassThru -RedirectStandardOutput $out -RedirectStandardError $err
    $null = $p.Handle  # without this, ExitCode can read as empty after the wait
    if (-not $p.WaitForExit(300000)) { $p.Kill(); throw "Tracekit.exe $Argument timed out" }
    $p.WaitForExit()
  } finally {
    Remove-Item Env:QT_QPA_PLATFORM, Env:TRACEKIT_DATA_DIR -ErrorAction SilentlyContinue
  }
  Get-Content $out, $err -ErrorAction SilentlyContinue | Write-Host
  if ($p.ExitCode -ne 0) { throw "Tracekit.exe $Argument failed with exit code $($p.ExitCode)" }
}

# --- tools ---------------------------------------------------------------------------------------
$py = Join-Path $Root '.venv\Scripts\python.exe'
if (-not (Test-Path $py)) {
  $base = Find-Python
  Write-Host "== creating .venv with $($base -join ' ')"
  $exe = $base[0]; $rest = @($base | Select-Object -Skip 1)
  Invoke-Checked $exe ($rest + @('-m', 'venv', '.venv'))
}
Invoke-Checked $py @('-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--upgrade', 'pip')
Invoke-Checked $py @('-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-e', '.', $PyInstallerReq)

$version = (& $py -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])").Trim()
# Windows version resources want four numbers: 1.2.3rc1 -> 1.2.3.0
$numbers = @([regex]::Matches($version, '\d+') | Select-Object -First 3 | ForEach-Object { $_.Value })
while ($numbers.Count -lt 4) { $numbers += '0' }
$numeric = $numbers -join '.'

# --- bundle --------------------------------------------------------------------------------------
Write-Host "== pyinstaller tracekit.spec (Tracekit $version)"
$timer = [Diagnostics.Stopwatch]::StartNew()
Invoke-Checked (Join-Path $Root '.venv\Scripts\pyinstaller.exe') @(
  '--noconfirm', '--log-level', 'WARN', '--workpath', 'build\out\pyinstaller', '--distpath', 'dist', 'tracekit.spec')
Write-Host ("   built in {0:N1} s" -f $timer.Elapsed.TotalSeconds)

$scratch = Join-Path ([IO.Path]::GetTempPath()) ("tracekit-build-" + [Guid]::NewGuid())
New-Item -ItemType Directory -Path $scratch | Out-Null
try {
  Write-Host '== self-test of the bundle'
  Invoke-Bundle '--self-test' $scratch
  Invoke-Bundle '--bundle-check' $scratch
} finally {
  Remove-Item -Recurse -Force $scratch -ErrorAction SilentlyContinue
}
$size = (Get-ChildItem -Recurse -File 'dist\Tracekit' | Measure-Object -Sum Length).Sum / 1MB
Write-Host ("   dist\Tracekit: {0:N1} MiB" -f $size)

# --- installer -----------------------------------------------------------------------------------
if ($SkipInstaller) { return }
$iscc = Find-Iscc
Write-Host "== $iscc tracekit.iss"
Invoke-Checked $iscc @('/Qp', "/DAppVersion=$version", "/DAppVersionNumeric=$numeric", 'build\windows\tracekit.iss')
$setup = Join-Path $Root "dist\Tracekit-Setup-$version.exe"
if (-not (Test-Path $setup)) { throw "ISCC did not produce $setup" }
Write-Host ("   {0}: {1:N1} MiB" -f $setup, ((Get-Item $setup).Length / 1MB))
