# state.ps1: prints "marker <content>" when an install marker exists (the
# installer started, or ran, in this run), and nothing otherwise. muster
# reads it before it copies an installer again on a retry. By hand:
#   powershell -File state.ps1 -Marker C:\Windows\Temp\muster-push\agent.msi.run-0123abcd.state
param(
    [Parameter(Mandatory = $true)][string]$Marker
)
$ErrorActionPreference = 'Stop'
if (Test-Path -LiteralPath $Marker) {
    'marker ' + ([IO.File]::ReadAllText($Marker)).Trim()
}
