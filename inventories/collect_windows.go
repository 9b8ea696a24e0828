//go:build windows

package inventories

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"

	ole "github.com/go-ole/go-ole"
	"github.com/go-ole/go-ole/oleutil"
)

// dispatchGet is how property gets are invoked: DISPATCH_METHOD |
// DISPATCH_PROPERTYGET, as VBScript does. Real Windows accepts it, and
// Wine's WMI accepts nothing else.
const dispatchGet = ole.DISPATCH_METHOD | ole.DISPATCH_PROPERTYGET

// wmiQuery fills dst (a pointer to a slice of records) from the class
// wmiClasses names for them. A property the class lacks (Wine lacks
// several), or whose value is out of its range, stays empty and the rest
// of the record is kept; a record none
// of whose properties could be read is an error, never a silent blank.
func wmiQuery(dst any, where string) error {
	rt, class, props, err := wmiRecord(dst)
	if err != nil {
		return err
	}
	q, _ := WMIQueryText(dst, where)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := ole.CoInitializeEx(0, ole.COINIT_MULTITHREADED); err != nil {
		var oe *ole.OleError
		if !errors.As(err, &oe) || (oe.Code() != ole.S_OK && oe.Code() != 1 /* S_FALSE */) {
			return fmt.Errorf("wmi: CoInitializeEx: %w", err)
		}
	}
	defer ole.CoUninitialize()
	unk, err := oleutil.CreateObject("WbemScripting.SWbemLocator")
	if err != nil {
		return fmt.Errorf("wmi: SWbemLocator: %w", err)
	}
	defer unk.Release()
	loc, err := unk.QueryInterface(ole.IID_IDispatch)
	if err != nil {
		return fmt.Errorf("wmi: SWbemLocator: %w", err)
	}
	defer loc.Release()
	svcV, err := oleutil.CallMethod(loc, "ConnectServer")
	if err != nil {
		return fmt.Errorf("wmi: ConnectServer: %w", err)
	}
	defer svcV.Clear()
	svc := svcV.ToIDispatch()
	set, n, err := wmiExec(svc, q)
	if err != nil {
		// A property the class lacks can fail the whole query; read
		// every column then, and take the ones there are.
		all := "SELECT * FROM " + class
		if where != "" {
			all += " " + where
		}
		var err2 error
		if set, n, err2 = wmiExec(svc, all); err2 != nil {
			return fmt.Errorf("wmi %q: %w", q, err)
		}
	}
	defer set.Release()
	out := reflect.ValueOf(dst).Elem()
	for i := 0; i < n && i < 4096; i++ {
		itemV, err := oleutil.CallMethod(set, "ItemIndex", i)
		if err != nil {
			return fmt.Errorf("wmi %q: item %d: %w", q, i, err)
		}
		item := itemV.ToIDispatch()
		rec := reflect.New(rt).Elem()
		read := 0
		for _, p := range props {
			v, ok := wmiGet(item, p)
			if !ok {
				continue
			}
			if err := wmiAssign(rec.FieldByName(p), v); err != nil {
				// Out of range for its CIM type (Wine's ChassisTypes):
				// absent, and said so.
				slog.Warn("wmi property unreadable; left out", "class", class, "property", p, "err", err)
				continue
			}
			read++
		}
		itemV.Clear()
		if read == 0 {
			return fmt.Errorf("wmi %q: no property of item %d could be read", q, i)
		}
		out.Set(reflect.Append(out, rec))
	}
	return nil
}

// wmiExec runs a query and counts its rows (which is when WMI reports a
// bad query).
func wmiExec(svc *ole.IDispatch, q string) (*ole.IDispatch, int, error) {
	resV, err := oleutil.CallMethod(svc, "ExecQuery", q)
	if err != nil {
		return nil, 0, err
	}
	set := resV.ToIDispatch()
	id, err := set.GetSingleIDOfName("Count")
	if err != nil {
		set.Release()
		return nil, 0, err
	}
	cnt, err := set.Invoke(id, dispatchGet)
	if err != nil {
		set.Release()
		return nil, 0, err
	}
	n, _ := wmiInt(cnt.Value())
	cnt.Clear()
	return set, int(n), nil
}

// wmiGet reads one property: false when the object has no such property.
func wmiGet(obj *ole.IDispatch, name string) (any, bool) {
	id, err := obj.GetSingleIDOfName(name)
	if err != nil {
		return nil, false
	}
	v, err := obj.Invoke(id, dispatchGet)
	if err != nil {
		return nil, false
	}
	defer v.Clear()
	if v.VT&ole.VT_ARRAY != 0 {
		arr := v.ToArray()
		if arr == nil {
			return nil, true
		}
		return arr.ToValueArray(), true
	}
	return v.Value(), true
}
