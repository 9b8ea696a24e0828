//go:build windows

package inventories

import (
	"fmt"

	"github.com/yusufpapurcu/wmi"
)

// wmiQuery selects the fields of dst's element type from a WMI class.
func wmiQuery(dst any, where string) error {
	q := wmi.CreateQuery(dst, where)
	if err := wmi.Query(q, dst); err != nil {
		return fmt.Errorf("wmi %q: %w", q, err)
	}
	return nil
}
