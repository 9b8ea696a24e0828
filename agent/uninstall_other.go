//go:build !windows

package agent

import (
	"context"
	"errors"
)

// UninstallProduct: MSI products exist on Windows only.
func UninstallProduct(ctx context.Context, productCode string) (bool, error) {
	return false, errors.New("an MSI product is uninstalled on Windows only")
}
