package mail_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/mail"
)

// postfix starts Postfix in a namespace of its own, on port 25, taking
// mail for example.org into one Maildir (returned), with STARTTLS, a
// message size limit of 20,000 bytes, and relaying to other domains
// refused (loopback is not in mynetworks).
func postfix(t *testing.T) (*testutil.Netns, string, *x509.CertPool) {
	t.Helper()
	bin := testutil.Program(t, "postfix")
	ns := testutil.NewNetns(t)
	// Postfix's daemons run as postfix and nobody: the directory must be
	// reachable by them.
	dir, err := os.MkdirTemp("", "nkpostfix")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	for _, sub := range []string{"etc", "spool", "data", "vmail"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
	}
	exec.Command("chown", "postfix", filepath.Join(dir, "data")).Run()
	os.Chown(filepath.Join(dir, "vmail"), 65534, 65534)
	master, err := os.ReadFile("/etc/postfix/master.cf")
	if err != nil {
		testutil.Program(t, "postfix's /etc/postfix/master.cf")
	}
	os.WriteFile(filepath.Join(dir, "etc", "master.cf"), master, 0o644)
	cert, pool := testutil.SelfSigned(t)
	key, _ := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	os.WriteFile(filepath.Join(dir, "etc", "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644)
	os.WriteFile(filepath.Join(dir, "etc", "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	conf := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/spool
data_directory = %[1]s/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.example.org
mydestination =
mynetworks = 192.0.2.0/24
virtual_mailbox_domains = example.org
virtual_mailbox_base = %[1]s/vmail
virtual_mailbox_maps = static:ann/Maildir/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
maillog_file_prefixes = %[1]s
maillog_file = %[1]s/maillog
alias_maps =
alias_database =
message_size_limit = 20000
smtpd_tls_cert_file = %[1]s/etc/cert.pem
smtpd_tls_key_file = %[1]s/etc/key.pem
smtpd_tls_security_level = may
`, dir)
	os.WriteFile(filepath.Join(dir, "etc", "main.cf"), []byte(conf), 0o644)
	etc := filepath.Join(dir, "etc")
	if out, err := ns.Command(bin, "-c", etc, "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
		t.Fatalf("postfix start: %v\n%s%s", err, out, log)
	}
	t.Cleanup(func() {
		ns.Command(bin, "-c", etc, "stop").Run()
		// The master waits for its children; give it a moment before the
		// namespace goes.
		for i := 0; i < 50 && ns.Command(bin, "-c", etc, "status").Run() == nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
			t.Logf("postfix said:\n%s", log)
		}
	})
	return ns, filepath.Join(dir, "vmail", "ann", "Maildir"), pool
}

func TestSendToPostfix(t *testing.T) {
	ns, maildir, pool := postfix(t)
	ctx := context.Background()
	send := func(o mail.SendOptions, msgs ...*mail.Message) (*mail.Result, error) {
		o.Server, o.TLS = "127.0.0.1:25", &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
		var res *mail.Result
		var err error
		// Retry while Postfix's smtpd starts.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			ns.Do(func() error { res, err = mail.Send(ctx, o, msgs...); return nil })
			if err == nil || !strings.Contains(err.Error(), "connect") || time.Now().After(deadline) {
				return res, err
			}
		}
	}
	msg := &mail.Message{From: "a@example.net", To: []string{"ann@example.org"}, Subject: "via postfix", Body: "Tea at four?\n.a dot line\n"}
	res, err := send(mail.SendOptions{}, msg, msg, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.TLS || res.Messages != 3 || len(res.Replies) != 3 || !strings.Contains(res.Replies[0], "queued as") {
		t.Errorf("result %+v", res)
	}
	// Relaying to another domain is refused in RCPT: with 454 by Postfix's
	// defaults (defer_unauth_destination), which says it may succeed later.
	_, err = send(mail.SendOptions{}, &mail.Message{From: "a@example.net", To: []string{"bob@example.com"}, Body: "x"})
	var re *mail.ReplyError
	if !errors.As(err, &re) || re.Phase != mail.PhaseRcpt || re.Code != 454 || !re.Temporary || !strings.Contains(err.Error(), "Relay access denied") || !strings.Contains(err.Error(), "may succeed later") {
		t.Errorf("relay: %v", err)
	}
	// Over message_size_limit: refused at MAIL (SIZE) or DATA, with 552.
	_, err = send(mail.SendOptions{}, &mail.Message{From: "a@example.net", To: []string{"ann@example.org"}, Body: strings.Repeat("too long a message\n", 2000)})
	if !errors.As(err, &re) || re.Code != 552 {
		t.Errorf("size: %v", err)
	}
	// Delivery is asynchronous: wait for the three messages.
	var files []string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		files, _ = filepath.Glob(filepath.Join(maildir, "new", "*"))
		if len(files) >= 3 {
			break
		}
	}
	if len(files) != 3 {
		t.Fatalf("%d messages delivered, want 3", len(files))
	}
	b, _ := os.ReadFile(files[0])
	if !strings.Contains(string(b), "Subject: via postfix") || !strings.Contains(string(b), "\n\nTea at four?\n.a dot line\n") {
		t.Errorf("delivered:\n%s", b)
	}
}
