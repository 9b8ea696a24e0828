# install.ps1: runs an installer once, elevated, and exits with its code.
# By hand:
#   powershell -File install.ps1 -File C:\Windows\Temp\muster-push\agent.msi -Arguments 'ACTIVATION=ABCDEFGHIJ' -Marker C:\Windows\Temp\muster-push\agent.msi.run-1.state -Log C:\Windows\Temp\muster-push\agent.msi.log
# - An .msi runs as msiexec /i FILE /qn /norestart /l*v LOG: no reboot in
#   the middle, and a verbose log whose tail is printed when it fails.
# - The marker is written before the installer starts and gets its exit code
#   after. If the marker is there already, nothing runs: the script prints
#   "marker <its content>" and exits 259, so a retry never installs twice.
#   1618 (another installation in progress) removes it: nothing happened,
#   and muster tries again later.
# - -AsSystem runs the installer as SYSTEM through a one-shot scheduled task,
#   as psexec -s does; SYSTEM reaches \\server\NETLOGON as the machine account.
param(
    [Parameter(Mandatory = $true)][string]$File,
    [string]$Arguments = '',
    [Parameter(Mandatory = $true)][string]$Marker,
    [string]$Log = '',
    [switch]$AsSystem
)
$ErrorActionPreference = 'Stop'
function Invoke-AsSystem {
    param([string]$Program, [string]$Line)
    $service = New-Object -ComObject Schedule.Service
    $service.Connect()
    $folder = $service.GetFolder('\')
    $name = 'muster-push-' + [Guid]::NewGuid().ToString('N')
    $definition = $service.NewTask(0)
    $definition.Settings.ExecutionTimeLimit = 'PT2H'
    $action = $definition.Actions.Create(0)
    $action.Path = $Program
    $action.Arguments = $Line
    # 6: create or update; 5: run as the service account named (SYSTEM).
    $task = $folder.RegisterTaskDefinition($name, $definition, 6, 'SYSTEM', $null, 5)
    try {
        $task.Run($null) | Out-Null
        while ($task.GetInstances(0).Count -gt 0 -or $task.LastRunTime.Year -lt 2000) {
            Start-Sleep -Milliseconds 500
        }
        return [int]$task.LastTaskResult
    } finally {
        $folder.DeleteTask($name, 0)
    }
}
if (Test-Path -LiteralPath $Marker) {
    'marker ' + ([IO.File]::ReadAllText($Marker)).Trim()
    exit 259
}
[IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($Marker)) | Out-Null
[IO.File]::WriteAllText($Marker, 'started ' + [DateTime]::UtcNow.ToString('o'))
if ($File -like '*.msi') {
    $program = Join-Path $env:SystemRoot 'System32\msiexec.exe'
    $line = '/i "' + $File + '" /qn /norestart'
    if ($Log -ne '') {
        $line += ' /l*v "' + $Log + '"'
    }
    if ($Arguments -ne '') {
        $line += ' ' + $Arguments
    }
} else {
    $program = $File
    $line = $Arguments
}
if ($AsSystem) {
    $code = Invoke-AsSystem -Program $program -Line $line
} else {
    $start = New-Object Diagnostics.ProcessStartInfo
    $start.FileName = $program
    $start.Arguments = $line
    $start.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($start)
    $process.WaitForExit()
    $code = $process.ExitCode
}
[IO.File]::WriteAllText($Marker, 'done ' + $code)
if ($code -eq 1618) {
    Remove-Item -LiteralPath $Marker -Force
}
if ($code -ne 0 -and $code -ne 3010 -and $code -ne 1641 -and $Log -ne '' -and (Test-Path -LiteralPath $Log)) {
    $all = [IO.File]::ReadAllLines($Log)
    $first = [Math]::Max(0, $all.Length - 40)
    for ($i = $first; $i -lt $all.Length; $i++) {
        [Console]::Error.WriteLine('log: ' + $all[$i])
    }
}
exit $code
