package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/mail"
)

// dovecot starts Dovecot's POP3 and IMAP servers in a namespace of its
// own, on ports 110, 995, 143 and 993, for the user ann (password "pop
// secret") whose Maildir is returned.
func dovecot(t testing.TB) (*testutil.Netns, *mail.Maildir, *x509.CertPool) {
	t.Helper()
	bin := testutil.Program(t, "dovecot")
	for _, p := range []string{"pop3", "imap"} {
		if _, err := os.Stat("/usr/lib/dovecot/" + p); err != nil {
			testutil.Program(t, "dovecot-"+p+"d (/usr/lib/dovecot/"+p+")")
		}
	}
	ns := testutil.NewNetns(t)
	// Dovecot's auth process runs as the dovecot user: the directory must
	// be reachable by it, which t.TempDir's parent is not.
	dir, err := os.MkdirTemp("", "nkdovecot")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	cert, pool := testutil.SelfSigned(t)
	key, _ := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	os.WriteFile(filepath.Join(dir, "passwd"), []byte("ann:{PLAIN}pop secret::::::\n"), 0o644)
	home := filepath.Join(dir, "home", "ann")
	md, err := mail.OpenMaildir(filepath.Join(home, "Maildir"))
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`protocols = pop3 imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain apop
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=%[1]s/home/%%u
}
mail_location = maildir:~/Maildir
pop3_uidl_format = %%f
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
`, dir)
	os.WriteFile(filepath.Join(dir, "dovecot.conf"), []byte(conf), 0o644)
	cmd := ns.Command(bin, "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Logf("dovecot said:\n%s%s", out.String(), log)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var c net.Conn
		err := ns.Do(func() (err error) { c, err = net.Dial("tcp", "127.0.0.1:110"); return })
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot does not listen: %v\n%s\n%s", err, out.String(), log)
		}
	}
	return ns, md, pool
}

func TestPOP3AgainstDovecot(t *testing.T) {
	ns, md, pool := dovecot(t)
	for i, body := range []string{"first\n", "second\n.dot line\n", "third\n"} {
		if _, err := md.Deliver(strings.NewReader(fmt.Sprintf("From: a@example.org\nSubject: message %d\n\n%s", i+1, body))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // distinct delivery times, so the order is known
	}
	// The mail process runs as nobody (Dovecot refuses root).
	os.Chmod(filepath.Dir(filepath.Dir(md.Dir)), 0o755)
	filepath.Walk(filepath.Dir(md.Dir), func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, 65534, 65534) })
	ctx := context.Background()
	dial := func(sec mail.Security, port string, w *mail.Wire) *mail.POP3 {
		t.Helper()
		var p *mail.POP3
		err := ns.Do(func() (err error) {
			p, err = mail.DialPOP3(ctx, "127.0.0.1:"+port, mail.POP3Options{Security: sec, TLS: &tls.Config{RootCAs: pool}, Wire: w})
			return err
		})
		if err != nil {
			t.Fatalf("dial %s: %v", port, err)
		}
		return p
	}

	var wire bytes.Buffer
	p := dial(mail.StartTLS, "110", &mail.Wire{W: &wire})
	if err := p.Login("ann", "wrong", false); err == nil {
		t.Errorf("dovecot took a wrong password")
	}
	if err := p.Login("ann", "pop secret", false); err != nil {
		t.Fatalf("login: %v\n%s", err, wire.String())
	}
	if strings.Contains(wire.String(), "pop secret") || !strings.Contains(wire.String(), "C: PASS ****") || !strings.Contains(wire.String(), "C: STLS") {
		t.Errorf("the wire:\n%s", wire.String())
	}
	n, size, err := p.Stat()
	if err != nil || n != 3 || size == 0 {
		t.Fatalf("STAT %d %d %v", n, size, err)
	}
	list, err := p.List()
	if err != nil || len(list) != 3 || list[1].UID == "" {
		t.Fatalf("LIST %+v %v", list, err)
	}
	var b bytes.Buffer
	if _, err := p.Retr(2, -1, &b); err != nil || !strings.Contains(b.String(), "Subject: message 2\n\nsecond\n.dot line\n") {
		t.Errorf("RETR 2: %v %q", err, b.String())
	}
	b.Reset()
	if _, err := p.Retr(3, 0, &b); err != nil || !strings.Contains(b.String(), "Subject: message 3") || strings.Contains(b.String(), "third") {
		t.Errorf("TOP 3 0: %v %q", err, b.String())
	}
	if err := p.Dele(1); err != nil {
		t.Fatal(err)
	}
	if err := p.Quit(); err != nil {
		t.Fatal(err)
	}
	// POP3S, with APOP.
	p = dial(mail.ImplicitTLS, "995", nil)
	if err := p.Login("ann", "pop secret", true); err != nil {
		t.Fatalf("APOP: %v", err)
	}
	if n, _, err := p.Stat(); err != nil || n != 2 {
		t.Errorf("after DELE and QUIT: %d messages, %v", n, err)
	}
	p.Quit()
	// SASL PLAIN (RFC 5034) instead of USER and PASS.
	p = dial(mail.StartTLS, "110", nil)
	if err := p.LoginPlain("ann", "pop secret"); err != nil {
		t.Errorf("AUTH PLAIN: %v", err)
	}
	p.Quit()
	// In the clear, a client that asks for STLS by default is refused
	// nothing: dovecot offers it; --no-tls reads in the clear.
	p = dial(mail.NoTLS, "110", nil)
	if err := p.Login("ann", "pop secret", false); err != nil {
		t.Errorf("in the clear: %v", err)
	}
	p.Quit()
}

func TestIMAPAgainstDovecot(t *testing.T) {
	ns, md, pool := dovecot(t)
	for i, subject := range []string{"first", "second about tea", "third"} {
		if _, err := md.Deliver(strings.NewReader(fmt.Sprintf("From: Ann <a@example.org>\nTo: b@example.org\nSubject: %s\nDate: Wed, 02 Dec 2026 10:0%d:00 +0000\n\nbody %d\n.dot line\n", subject, i, i+1))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	os.Chmod(filepath.Dir(filepath.Dir(md.Dir)), 0o755)
	filepath.Walk(filepath.Dir(md.Dir), func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, 65534, 65534) })
	ctx := context.Background()
	open := func(url string, o mail.BoxOptions) mail.Box {
		t.Helper()
		mb, err := mail.ParseMailbox(url)
		if err != nil {
			t.Fatal(err)
		}
		o.TLS = &tls.Config{RootCAs: pool}
		var b mail.Box
		if err := ns.Do(func() (err error) { b, err = mail.OpenBox(ctx, mb, "pop secret", o); return }); err != nil {
			t.Fatalf("open %s: %v", url, err)
		}
		return b
	}
	var wire bytes.Buffer
	b := open("imap://ann@127.0.0.1", mail.BoxOptions{Wire: &mail.Wire{W: &wire}})
	if w := wire.String(); strings.Contains(w, "pop secret") || !strings.Contains(w, "STARTTLS") || !strings.Contains(w, " LOGIN ") {
		t.Errorf("the wire:\n%s", w)
	}
	n, size, err := b.Count()
	if err != nil || n != 3 || size == 0 {
		t.Fatalf("count %d %d %v", n, size, err)
	}
	sums, err := b.Summarize()
	if err != nil || len(sums) != 3 || sums[1].Subject != "second about tea" || sums[0].From != `"Ann" <a@example.org>` || sums[2].UID == "" {
		t.Fatalf("summaries %+v %v", sums, err)
	}
	var body bytes.Buffer
	if _, err := b.Fetch(2, false, &body); err != nil || !strings.Contains(body.String(), "\n\nbody 2\n.dot line\n") || strings.Contains(body.String(), "\r") {
		t.Errorf("fetch 2: %v %q", err, body.String())
	}
	body.Reset()
	if _, err := b.Fetch(3, true, &body); err != nil || !strings.Contains(body.String(), "Subject: third") || strings.Contains(body.String(), "body 3") {
		t.Errorf("fetch 3 headers: %v %q", err, body.String())
	}
	// Fetching peeks: nothing is marked \Seen.
	if sums, _ := b.Summarize(); slices.Contains(sums[1].Flags, `\Seen`) {
		t.Errorf("flags after a fetch: %v", sums[1].Flags)
	}
	// One FETCH for several messages, each streamed in turn.
	var got []string
	err = b.FetchEach([]int{1, 3}, false, func(id int, r io.Reader) error {
		all, err := io.ReadAll(r)
		got = append(got, fmt.Sprint(id, strings.Contains(string(all), fmt.Sprintf("body %d", id))))
		return err
	})
	if err != nil || strings.Join(got, ",") != "1 true,3 true" {
		t.Errorf("FetchEach: %v %v", got, err)
	}
	if err := b.FetchEach([]int{9}, false, func(int, io.Reader) error { return nil }); err == nil {
		t.Errorf("FetchEach of a message that is not there")
	}
	if err := b.Delete(1); err != nil {
		t.Fatal(err)
	}
	if err := b.Quit(); err != nil {
		t.Fatal(err)
	}
	// IMAPS, with a server-side search.
	b = open("imaps://ann@127.0.0.1/INBOX", mail.BoxOptions{Search: "tea"})
	ids, err := b.IDs()
	if err != nil || len(ids) != 1 || ids[0] != 1 {
		t.Errorf("search tea: %v %v (after the delete, the second message is number 1)", ids, err)
	}
	if n, _, _ := b.Count(); n != 1 {
		t.Errorf("count with search: %d", n)
	}
	b.Quit()
	b = open("imaps://ann@127.0.0.1", mail.BoxOptions{})
	if n, _, err := b.Count(); err != nil || n != 2 {
		t.Errorf("after delete and quit: %d messages, %v", n, err)
	}
	b.Quit()
}
