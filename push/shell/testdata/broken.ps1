# A deliberately broken script: the grammar test must reject it.
param([string]$Path)
if ($Path -eq '' {
    throw 'no path'
}
