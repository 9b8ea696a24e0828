package push

import "muster/internal/textsafe"

// Sanitize makes text from a host safe for a terminal or a file (see
// textsafe.Sanitize).
func Sanitize(s string) string { return textsafe.Sanitize(s) }
