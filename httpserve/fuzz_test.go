package httpserve_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/httpserve"
)

// FuzzFilesPath sends any request target to a file server whose root has
// a dotfile and a symbolic link out, and checks that neither is ever
// served.
func FuzzFilesPath(f *testing.F) {
	for _, s := range []string{"/", "/a.txt", "/../out/secret", "/%2e%2e/out/secret", "/link/secret", "/.env",
		"/sub/..%2f..%2fout", "//link//secret", "/sub/./../.env", "/%2E%2Eenv", "/a.txt%00", `/sub\..\.env`} {
		f.Add(s)
	}
	base := f.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "out")
	os.MkdirAll(filepath.Join(root, "sub"), 0o755)
	os.MkdirAll(outside, 0o755)
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("public"), 0o644)
	os.WriteFile(filepath.Join(root, ".env"), []byte("DOTFILE-SECRET"), 0o644)
	os.WriteFile(filepath.Join(outside, "secret"), []byte("OUTSIDE-SECRET"), 0o644)
	os.Symlink(outside, filepath.Join(root, "link"))
	files, err := httpserve.OpenFiles(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { files.Close() })
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		for _, method := range []string{"GET", "HEAD"} {
			r := &http.Request{Method: method, URL: u, RequestURI: target, Header: http.Header{"Accept": {"application/json"}}}
			w := httptest.NewRecorder()
			files.ServeHTTP(w, r)
			body := w.Body.String()
			if strings.Contains(body, "SECRET") || strings.Contains(body, "secret") && w.Code == 200 || strings.Contains(body, ".env") {
				t.Fatalf("%s %q: %d %q", method, target, w.Code, body)
			}
		}
	})
}
