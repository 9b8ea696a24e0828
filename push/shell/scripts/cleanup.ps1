# cleanup.ps1: removes the installer (and a stray .part) once it has run;
# the marker stays, so that the run is never repeated by mistake. By hand:
#   powershell -File cleanup.ps1 -Path C:\Windows\Temp\muster-push\agent.msi
param(
    [Parameter(Mandatory = $true)][string]$Path
)
$ErrorActionPreference = 'Stop'
foreach ($p in @($Path, ($Path + '.part'))) {
    if (Test-Path -LiteralPath $p) {
        Remove-Item -LiteralPath $p -Force
    }
}
