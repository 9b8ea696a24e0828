// Package console holds the web console's files (HTML, one ES module, one
// style sheet), embedded so that muster server needs nothing else at run
// time and works on an isolated network: no CDN, no external fonts.
package console

import "embed"

// Files are the console's pages and assets, under files/.
//
//go:embed files
var Files embed.FS
