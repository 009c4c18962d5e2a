# Build the Windows installer: PyInstaller bundle -> Inno Setup -> build\windows\Afterimage-<version>-setup.exe
#
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1 [-SkipBundle] [-Python .venv\Scripts\python.exe]
#
# Needs: Python 3.11 venv with afterimage[packaging] (pip install -c requirements.lock -e ".[packaging]"),
# Inno Setup 6 (ISCC.exe on PATH or in its default folder). Optional: $env:SIGNTOOL_CERT, $env:SIGNTOOL_PASSWORD and
# $env:SIGNTOOL_TIMESTAMP_URL to sign the installer.
[CmdletBinding()]
param(
    [string]$Python = ".venv\Scripts\python.exe",
    [switch]$SkipBundle
)
$ErrorActionPreference = "Stop"
$Root = Resolve-Path (Join-Path $PSScriptRoot "..\..")
Set-Location $Root
$env:PYTHONPATH = "$Root"

if (-not (Test-Path $Python)) { throw "No Python at $Python; create the venv first (docs/packaging.md)." }

# 1. metadata.iss (version, ids) from pyproject.toml
& $Python packaging\metadata.py render iss-defines --out installer\windows\metadata.iss
if ($LASTEXITCODE -ne 0) { throw "metadata.py failed" }

# 2. the one-folder bundle (afterimage.exe + afterimage-gui.exe + _internal\)
$Bundle = Join-Path $Root "build\pyinstaller\dist\afterimage"
if (-not $SkipBundle) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    & $Python -m PyInstaller --noconfirm --clean --log-level WARN `
        --distpath build\pyinstaller\dist --workpath build\pyinstaller\work packaging\afterimage.spec
    if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
    & $Python packaging\check_bundle.py $Bundle --build-seconds $sw.Elapsed.TotalSeconds `
        --report build\windows-build-report.json
    if ($LASTEXITCODE -ne 0) { throw "bundle check failed (CUDA/torch files or a model missing)" }
}
foreach ($exe in @("afterimage.exe", "afterimage-gui.exe")) {
    if (-not (Test-Path (Join-Path $Bundle $exe))) { throw "$exe missing from $Bundle" }
}
& (Join-Path $Bundle "afterimage.exe") --version
if ($LASTEXITCODE -ne 0) { throw "the bundled afterimage.exe does not start" }

# 3. Inno Setup
$Iscc = (Get-Command ISCC.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) {
    foreach ($candidate in @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
                             "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe")) {
        if (Test-Path $candidate) { $Iscc = $candidate; break }
    }
}
if (-not $Iscc) { throw "Inno Setup 6 is not installed (ISCC.exe not found)." }
& $Iscc "/DBundleDir=$Bundle" "/DOutputDir=$Root\build\windows" installer\windows\afterimage.iss
if ($LASTEXITCODE -ne 0) { throw "ISCC failed" }

$Setup = Get-ChildItem build\windows\*-setup.exe | Sort-Object LastWriteTime | Select-Object -Last 1
if ($env:SIGNTOOL_CERT) {
    signtool sign /f $env:SIGNTOOL_CERT /p $env:SIGNTOOL_PASSWORD /tr $env:SIGNTOOL_TIMESTAMP_URL /td sha256 /fd sha256 $Setup.FullName
    if ($LASTEXITCODE -ne 0) { throw "signing failed" }
}
Write-Host ("installer: {0} ({1:N0} MiB)" -f $Setup.FullName, ($Setup.Length / 1MB))
