# hash.ps1: prints "sha256 <hex>" of a file, the digest muster compares
# with the installer's before anything runs. By hand:
#   powershell -File hash.ps1 -Path C:\Windows\Temp\muster-push\agent.msi
# .NET's SHA256, since Get-FileHash needs PowerShell 4.
param(
    [Parameter(Mandatory = $true)][string]$Path
)
$ErrorActionPreference = 'Stop'
$stream = [IO.File]::OpenRead($Path)
try {
    $sum = [Security.Cryptography.SHA256]::Create().ComputeHash($stream)
} finally {
    $stream.Close()
}
'sha256 ' + (($sum | ForEach-Object { $_.ToString('x2') }) -join '')
