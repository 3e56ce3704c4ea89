package httpwire_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/httpwire"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// startNginx runs nginx with TLS and HTTP/2 on a loopback port it is
// handed (the listening socket passes as nginx passes its own across a
// binary upgrade, in $NGINX), serving root. It returns the base URL.
func startNginx(t *testing.T, root string, cert tls.Certificate) string {
	t.Helper()
	bin := testutil.Program(t, "nginx")
	dir := t.TempDir()
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	ln := testutil.Listen(t, "tcp4")
	lf, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	conf := fmt.Sprintf(`daemon off;
user root;
master_process on;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
    types { text/plain txt; }
    gzip on; gzip_types text/plain; gzip_min_length 10;
    server {
        listen %[2]s ssl http2;
        ssl_certificate %[1]s/cert.pem;
        ssl_certificate_key %[1]s/key.pem;
        root %[3]s;
        location = /moved { return 301 /hello.txt; }
        location = /set { add_header Set-Cookie "flavour=oat; Path=/"; return 204; }
        location = /echo-cookie { return 200 "cookie=$http_cookie\n"; }
    }
}
`, dir, ln.Addr(), root)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o600)
	cmd := exec.Command(bin, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"))
	cmd.ExtraFiles = []*os.File{lf}
	cmd.Env = append(os.Environ(), "NGINX=3;")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	base := "https://" + ln.Addr().String()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			c.Close()
			return base
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx does not answer: %v\n%s%s", err, out.String(), log)
		}
	}
}

func TestHTTP2AgainstNginx(t *testing.T) {
	root := t.TempDir()
	text := strings.Repeat("a line of text for gzip\n", 500)
	os.WriteFile(filepath.Join(root, "hello.txt"), []byte(text), 0o644)
	cert, pool := testutil.SelfSigned(t)
	base := startNginx(t, root, cert)
	ctx := context.Background()

	for _, h2 := range []bool{true, false} {
		t.Run(fmt.Sprintf("HTTP2=%v", h2), func(t *testing.T) {
			c := &httpwire.Client{HTTP2: h2, TLSConfig: &tls.Config{RootCAs: pool}, DecodeGzip: true,
				FollowRedirects: true, Jar: &httpwire.Jar{}}
			defer c.CloseIdle()
			wantProto := map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[h2]
			resp, err := c.Get(ctx, base+"/hello.txt")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			tm := resp.Timing
			if !(tm.Connect <= tm.TLS && tm.TLS <= tm.Sent && tm.Sent <= tm.FirstByte && tm.FirstByte <= tm.Total) || tm.TLS == 0 || resp.Reused {
				t.Errorf("timing of a new connection out of order: %+v", tm)
			}
			resp, err = c.Get(ctx, base+"/moved")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.Proto != wantProto || string(body) != text || !resp.Uncompressed || len(resp.Redirects) != 1 {
				t.Errorf("proto %s, %d bytes (equal %v), gzip decoded %v, redirects %v", resp.Proto, len(body), string(body) == text, resp.Uncompressed, resp.Redirects)
			}
			// Cookies set by nginx come back on the next request.
			for _, path := range []string{"/set", "/echo-cookie"} {
				resp, err = c.Get(ctx, base+path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if string(body) != "cookie=flavour=oat\n" {
				t.Errorf("nginx saw %q", body)
			}
			if !resp.Reused {
				t.Errorf("the connection was not reused")
			}
		})
	}
}
