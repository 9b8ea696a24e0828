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
		{[]string{"install-service", "/S", "/NOW", "/NO_SERVICE", `/D=C:\muster`, "/SERVER=http://s/ocsinventory"},
			[]string{"install-service", "--now", "--no-service", `--install-dir=C:\muster`, "--server=http://s/ocsinventory"}, false},
		{[]string{"run", "/PROXY_TYPE=3", "/PROXY=s", "/PROXY_PORT=1080", "/PROXY_USER=u", "/PROXY_PWD=p", "/FORCE", "/NOTAG"},
			[]string{"run", "--proxy-type=3", "--proxy=s", "--proxy-port=1080", "--proxy-user=u", "--proxy-pwd=p", "--force", "--notag"}, false},
		{[]string{"run", "/NOW=1"}, nil, true},
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
