package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
)

const rfcFixtures = "../../rfc/testdata/mirror"

// runEnv runs netkit in-process with the given environment.
func runEnv(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, &IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return env[k] }})
	return out.String(), errb.String(), code
}

func rfcEnv(t *testing.T) (map[string]string, *httptest.Server) {
	srv := httptest.NewServer(http.FileServer(http.Dir(rfcFixtures)))
	t.Cleanup(srv.Close)
	return map[string]string{"NETKIT_RFC_MIRROR": srv.URL, "XDG_CACHE_HOME": t.TempDir()}, srv
}

func TestRFCTextBothClientsSameBytes(t *testing.T) {
	env, srv := rfcEnv(t)
	want, _ := os.ReadFile(rfcFixtures + "/rfc/rfc791.txt")
	out, errOut, code := runEnv(t, env, "rfc", "791")
	if code != 0 || out != string(want) {
		t.Fatalf("net/http: exit %d, %q, stderr %q", code, out, errOut)
	}
	env["XDG_CACHE_HOME"] = t.TempDir() // fetch afresh
	out, errOut, code = runEnv(t, env, "rfc", "--wire", "RFC791")
	if code != 0 || out != string(want) {
		t.Fatalf("--wire: exit %d, %q", code, out)
	}
	if !strings.Contains(errOut, "> GET /rfc/rfc791.txt HTTP/1.1\n> Host: "+strings.TrimPrefix(srv.URL, "http://")) || !strings.Contains(errOut, "< HTTP/1.1 200 OK") {
		t.Errorf("--wire did not show the exchange:\n%s", errOut)
	}
}

func TestRFCObsoleteBannerAndInfo(t *testing.T) {
	env, _ := rfcEnv(t)
	out, errOut, code := runEnv(t, env, "rfc", "793")
	if code != 0 || !strings.HasPrefix(out, "Test fixture for RFC 793") || errOut != "netkit: RFC 793 is obsoleted by RFC 9293.\n\n" {
		t.Errorf("exit %d out %q err %q", code, out, errOut)
	}
	out, _, code = runEnv(t, env, "rfc", "info", "760")
	if code != 0 || !strings.Contains(out, "RFC 760: DoD standard Internet Protocol") || !strings.Contains(out, "obsoleted by  RFC 791") {
		t.Errorf("info 760: exit %d\n%s", code, out)
	}
	out, _, code = runEnv(t, env, "--json", "rfc", "info", "791")
	var e struct {
		Number    int      `json:"number"`
		Obsoletes []string `json:"obsoletes"`
		UpdatedBy []string `json:"updated_by"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil || code != 0 || e.Number != 791 || len(e.UpdatedBy) != 2 || e.Obsoletes[0] != "RFC 760" {
		t.Errorf("info --json: %v %+v", err, e)
	}
	if _, errOut, code := runEnv(t, env, "rfc", "info", "1849"); code != 1 || !strings.Contains(errOut, "never issued") {
		t.Errorf("info 1849: exit %d %q", code, errOut)
	}
}

func TestRFCSearch(t *testing.T) {
	env, _ := rfcEnv(t)
	out, _, code := runEnv(t, env, "rfc", "search", "transmission", "control")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(strings.TrimSpace(lines[1]), "9293") || !strings.Contains(lines[2], "obsoleted by RFC 9293") {
		t.Errorf("exit %d\n%s", code, out)
	}
	out, _, _ = runEnv(t, env, "--json", "rfc", "search", "--exclude-obsolete", "tcp")
	var res rfcSearch
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Total != 1 || res.Results[0].Number != 9293 {
		t.Errorf("--exclude-obsolete: %v %s", err, out)
	}
	if _, errOut, code := runEnv(t, env, "rfc", "search", "zebra"); code != 1 || !strings.Contains(errOut, "no RFC matches") {
		t.Errorf("no match: exit %d %q", code, errOut)
	}
}

func TestRFCErrors(t *testing.T) {
	env, _ := rfcEnv(t)
	closed := testutil.Listen(t, "tcp4")
	down := "http://" + closed.Addr().String()
	closed.Close()
	for _, tc := range []struct {
		env  map[string]string
		args []string
		code int
		want string
	}{
		{env, []string{"rfc", "99999"}, 1, "RFC 99999 does not exist"},
		{env, []string{"rfc", "abc"}, 2, `invalid RFC number "abc": RFC numbers are positive integers`},
		{env, []string{"rfc", "0"}, 2, `invalid RFC number "0"`},
		{env, []string{"rfc", "7.5"}, 2, `invalid RFC number "7.5"`},
		{env, []string{"rfc", "--offline", "791"}, 1, "RFC 791: not in the cache, and offline"},
		{map[string]string{"NETKIT_RFC_MIRROR": down, "XDG_CACHE_HOME": t.TempDir()}, []string{"rfc", "791"}, 1, closed.Addr().String()},
		{env, []string{"rfc", "--mirror", "ftp://x", "791"}, 2, `scheme "ftp" is not http or https`},
		{env, []string{"rfc"}, 2, "one RFC number"},
	} {
		_, errOut, code := runEnv(t, tc.env, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	// The cache serves offline once a text was fetched.
	runEnv(t, env, "rfc", "1149")
	if out, _, code := runEnv(t, env, "rfc", "--offline", "1149"); code != 0 || !strings.Contains(out, "RFC 1149") {
		t.Errorf("offline after a fetch: exit %d %q", code, out)
	}
}
