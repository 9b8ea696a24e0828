package inventories

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// wmiClasses names the WMI class each record type is read from. The class
// is always named here, never derived from the Go type's name (which
// would query "Win32Processor", a class that does not exist).
var wmiClasses = map[reflect.Type]string{
	reflect.TypeFor[Win32ComputerSystem]():              "Win32_ComputerSystem",
	reflect.TypeFor[Win32OperatingSystem]():             "Win32_OperatingSystem",
	reflect.TypeFor[Win32BIOS]():                        "Win32_BIOS",
	reflect.TypeFor[Win32BaseBoard]():                   "Win32_BaseBoard",
	reflect.TypeFor[Win32SystemEnclosure]():             "Win32_SystemEnclosure",
	reflect.TypeFor[Win32Processor]():                   "Win32_Processor",
	reflect.TypeFor[Win32PhysicalMemory]():              "Win32_PhysicalMemory",
	reflect.TypeFor[Win32DiskDrive]():                   "Win32_DiskDrive",
	reflect.TypeFor[Win32LogicalDisk]():                 "Win32_LogicalDisk",
	reflect.TypeFor[Win32NetworkAdapterConfiguration](): "Win32_NetworkAdapterConfiguration",
}

// wmiRecord returns the record type of dst (a pointer to a slice of
// records), its class and its properties (the exported field names).
func wmiRecord(dst any) (reflect.Type, string, []string, error) {
	t := reflect.TypeOf(dst)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Slice || t.Elem().Elem().Kind() != reflect.Struct {
		return nil, "", nil, fmt.Errorf("wmi: destination %T is not a pointer to a slice of records", dst)
	}
	rt := t.Elem().Elem()
	class, ok := wmiClasses[rt]
	if !ok {
		return nil, "", nil, fmt.Errorf("wmi: no class is named for %s", rt)
	}
	var props []string
	for i := 0; i < rt.NumField(); i++ {
		if f := rt.Field(i); f.IsExported() {
			props = append(props, f.Name)
		}
	}
	return rt, class, props, nil
}

// WMIQueryText is the WQL that reads dst's records: their properties from
// their class, with an optional "WHERE …" clause.
func WMIQueryText(dst any, where string) (string, error) {
	_, class, props, err := wmiRecord(dst)
	if err != nil {
		return "", err
	}
	q := "SELECT " + strings.Join(props, ", ") + " FROM " + class
	if where != "" {
		q += " " + where
	}
	return q, nil
}

// wmiAssign stores one property value, as an automation VARIANT gives it
// (nil for NULL; string, integers, bool, or []any for arrays), into f.
// CIM's 64-bit integers arrive as strings. A nil leaves f as it is.
func wmiAssign(f reflect.Value, v any) error {
	if v == nil {
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		switch x := v.(type) {
		case string:
			f.SetString(x)
		case bool:
			f.SetString(strconv.FormatBool(x))
		default:
			n, ok := wmiInt(v)
			if !ok {
				return fmt.Errorf("%T is not text", v)
			}
			f.SetString(strconv.FormatInt(n, 10))
		}
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%T is not a boolean", v)
		}
		f.SetBool(b)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var u uint64
		if s, ok := v.(string); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a number", s)
			}
			u = n
		} else if n, ok := wmiInt(v); ok && n >= 0 {
			u = uint64(n)
		} else {
			return fmt.Errorf("%v (%T) is not an unsigned number", v, v)
		}
		if f.OverflowUint(u) {
			return fmt.Errorf("%d overflows %s", u, f.Type())
		}
		f.SetUint(u)
	case reflect.Slice:
		xs, ok := v.([]any)
		if !ok {
			xs = []any{v} // a single value where an array was expected
		}
		s := reflect.MakeSlice(f.Type(), 0, len(xs))
		for i, x := range xs {
			e := reflect.New(f.Type().Elem()).Elem()
			if err := wmiAssign(e, x); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
			s = reflect.Append(s, e)
		}
		f.Set(s)
	default:
		return fmt.Errorf("no conversion to %s", f.Type())
	}
	return nil
}

func wmiInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), x <= 1<<63-1
	}
	return 0, false
}
