# upload.ps1: writes the base64 lines of its input to a file.
# muster runs it over WinRM with the installer on standard input; by hand:
#   Get-Content agent.b64 | powershell -File upload.ps1 -Path C:\Windows\Temp\muster-push\agent.msi -Size 123456
# The bytes go to a .part file beside the target, which is checked for size
# and only then moved into place: a broken transfer never leaves a runnable
# installer. PowerShell 2.0 and later (.NET only, no newer cmdlets).
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [Parameter(Mandatory = $true)][long]$Size
)
begin {
    $ErrorActionPreference = 'Stop'
    [IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($Path)) | Out-Null
    $part = $Path + '.part'
    $out = [IO.File]::Create($part)
}
process {
    if ($_ -ne $null -and $_.Length -gt 0) {
        $bytes = [Convert]::FromBase64String($_)
        $out.Write($bytes, 0, $bytes.Length)
    }
}
end {
    $out.Close()
    $got = (Get-Item -LiteralPath $part).Length
    if ($got -ne $Size) {
        Remove-Item -LiteralPath $part -Force
        throw "upload ${Path}: $got bytes arrived, want $Size"
    }
    if (Test-Path -LiteralPath $Path) {
        Remove-Item -LiteralPath $Path -Force
    }
    Move-Item -LiteralPath $part -Destination $Path
}
