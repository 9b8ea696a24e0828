package inventories

import (
	"errors"
	"fmt"
	"io"
	"os"

	"muster/inventories/ocsxml"
)

// Document is a parsed INVENTORY request: the device it is about and its
// inventory.
type Document struct {
	DeviceID  string
	Inventory *Inventory
	// Encoding is how the body or file was compressed.
	Encoding ocsxml.Encoding
}

// MaxFileSize bounds a .ocs file, compressed or inflated.
const MaxFileSize = 64 << 20

// ErrBadDeviceID is returned for a DEVICEID that is missing or not of the
// form hostname-YYYY-MM-DD-HH-MM-SS.
var ErrBadDeviceID = errors.New("DEVICEID must look like hostname-YYYY-MM-DD-HH-MM-SS")

// ParseDocument decodes an INVENTORY body (zlib, gzip or plain XML).
func ParseDocument(body []byte, max int64, lim ocsxml.Limits) (*Document, error) {
	data, enc, err := ocsxml.DecodeBody(body, max)
	if err != nil {
		return nil, err
	}
	req, err := ocsxml.ParseRequest(data, lim)
	if err != nil {
		return nil, err
	}
	if req.Query != ocsxml.QueryInventory {
		return nil, fmt.Errorf("QUERY is %q, want %s", req.Query, ocsxml.QueryInventory)
	}
	if !ocsxml.ValidDeviceID(req.DeviceID) {
		return nil, fmt.Errorf("DEVICEID %q: %w", req.DeviceID, ErrBadDeviceID)
	}
	inv, err := Decode(req.Content)
	if err != nil {
		return nil, err
	}
	return &Document{DeviceID: req.DeviceID, Inventory: inv, Encoding: enc}, nil
}

// ReadFile reads a .ocs file as written by an OCS agent's local mode: plain
// XML (Unix agent) or zlib (Windows agent). Errors name the file.
func ReadFile(path string) (*Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	doc, err := ParseDocument(body, MaxFileSize, ocsxml.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}

// Marshal renders a full INVENTORY request document for deviceID, as an
// agent would post it (before compression).
func Marshal(deviceID string, inv *Inventory) []byte {
	return ocsxml.Marshal(ocsxml.RequestDecl, ocsxml.NewRequest(deviceID, ocsxml.QueryInventory, Encode(inv)))
}
