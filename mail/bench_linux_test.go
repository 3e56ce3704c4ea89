package mail_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/mail"
)

// BenchmarkIMAPFetchDovecot fetches 500 messages of 10 KiB from Dovecot
// into a Maildir: one op is the whole fetch.
func BenchmarkIMAPFetchDovecot(b *testing.B) {
	ns, md, pool := dovecot(b)
	body := strings.Repeat("The quick brown fox jumps over the lazy dog, again and again.\n", 160)
	for i := range 500 {
		md.Deliver(strings.NewReader(fmt.Sprintf("From: a@example.org\nSubject: %d\n\n%s", i, body)))
	}
	os.Chmod(filepath.Dir(filepath.Dir(md.Dir)), 0o755)
	filepath.Walk(filepath.Dir(md.Dir), func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, 65534, 65534) })
	mb, _ := mail.ParseMailbox("imap://ann@127.0.0.1")
	b.ReportAllocs()
	for b.Loop() {
		var box mail.Box
		err := ns.Do(func() (err error) {
			box, err = mail.OpenBox(context.Background(), mb, "pop secret", mail.BoxOptions{TLS: &tls.Config{RootCAs: pool}, NoTLS: true})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		ids, _ := box.IDs()
		dest, _ := mail.OpenDestination(b.TempDir() + "/")
		if err := box.FetchEach(ids, false, func(_ int, r io.Reader) error { return dest.Deliver(r) }); err != nil {
			b.Fatal(err)
		}
		box.Quit()
	}
}
