# pull.ps1: downloads the installer from a URL, checks its SHA-256 and only
# then moves it into place; prints "sha256 <hex>". By hand:
#   powershell -File pull.ps1 -Url https://muster:8080/push/agent.msi -Path C:\Windows\Temp\muster-push\agent.msi -Digest <hex>
# System.Net.WebClient, since Invoke-WebRequest needs PowerShell 3.
param(
    [Parameter(Mandatory = $true)][string]$Url,
    [Parameter(Mandatory = $true)][string]$Path,
    [Parameter(Mandatory = $true)][string]$Digest
)
$ErrorActionPreference = 'Stop'
[IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($Path)) | Out-Null
# TLS 1.2 (3072) where .NET has it: the enum of PowerShell 2.0 lacks the name.
try {
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor 3072
} catch {
}
$part = $Path + '.part'
$client = New-Object Net.WebClient
try {
    $client.DownloadFile($Url, $part)
} finally {
    $client.Dispose()
}
$stream = [IO.File]::OpenRead($part)
try {
    $sum = [Security.Cryptography.SHA256]::Create().ComputeHash($stream)
} finally {
    $stream.Close()
}
$hex = ($sum | ForEach-Object { $_.ToString('x2') }) -join ''
if ($hex -ne $Digest.ToLower()) {
    Remove-Item -LiteralPath $part -Force
    throw "download ${Url}: SHA-256 $hex, want ${Digest}: not kept"
}
if (Test-Path -LiteralPath $Path) {
    Remove-Item -LiteralPath $Path -Force
}
Move-Item -LiteralPath $part -Destination $Path
'sha256 ' + $hex
