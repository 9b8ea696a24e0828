package agent

import (
	"reflect"
	"testing"
)

func TestTranslateOCSSwitches(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
		fail     bool
	}{
		{[]string{"install-service", "/S", "/SERVER=http://ocs/ocsinventory", "/SSL=0", "/TAG=paris"},
			[]string{"install-service", "--server=http://ocs/ocsinventory", "--ssl=false", "--tag=paris"}, false},
		{[]string{"run", "/LOCAL=C:\\out", "/CA=C:\\ca.pem"}, []string{"run", "--local=C:\\out", "--ca=C:\\ca.pem"}, false},
		{[]string{"run", "--local", "/tmp/out"}, []string{"run", "--local", "/tmp/out"}, false},
		{[]string{"run", "/PROXY=proxy", "/PROXY_TYPE=1", "/PROXY_PORT=3128"}, []string{"run", "--proxy=proxy", "--proxy-type=1", "--proxy-port=3128"}, false},
		{[]string{"run", "/SSL=2"}, nil, true},
		{[]string{"run", "/SERVER="}, nil, true},
		{[]string{"run", "/FROBNICATE"}, nil, true},
	} {
		got, err := TranslateOCSSwitches(tc.in)
		if (err != nil) != tc.fail || (!tc.fail && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("%q: %q, %v", tc.in, got, err)
		}
	}
}
