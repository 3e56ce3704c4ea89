package mail_test

import (
	"context"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/mail"
)

// serveIMAP adds IMAP to a Server that serve already runs.
func serveIMAP(t *testing.T, s *mail.Server) string {
	t.Helper()
	ln := testutil.Listen(t, "tcp4")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeIMAP(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeIMAP: %v", err)
		}
	})
	return ln.Addr().String()
}

// Python's imaplib (the books' example) and netkit's own IMAP client
// against netkit mail serve's IMAP, over the Maildir that SMTP fills.
func TestIMAPServer(t *testing.T) {
	py := testutil.Program(t, "python3")
	srv := &mail.Server{Users: map[string]string{"bob": "pw"}}
	smtpAddr, _ := serve(t, srv)
	imapAddr := serveIMAP(t, srv)
	ctx := context.Background()
	for _, subject := range []string{"one", "two about tea", "three"} {
		msg := &mail.Message{From: "a@example.org", To: []string{"bob@example.org"}, Subject: subject, Body: "body of " + subject + "\n.dot line\n"}
		if _, err := mail.Send(ctx, mail.SendOptions{Server: smtpAddr, Security: mail.NoTLS, Auth: "PLAIN", User: "bob", Password: "pw"}, msg); err != nil {
			t.Fatal(err)
		}
	}
	host, port, _ := net.SplitHostPort(imapAddr)
	script := `
import imaplib, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
try:
    m.login("bob", "wrong")
    print("a wrong password was taken")
except imaplib.IMAP4.error:
    pass
m.login("bob", "pw")
typ, data = m.select("INBOX")
print("exists", data[0].decode())
typ, data = m.search(None, "TEXT", "tea")
print("search", data[0].decode())
typ, data = m.fetch("2", "(RFC822)")
msg = data[0][1]
print("fetched", b"Subject: two about tea" in msg, b"\r\n..dot line" not in msg and b"\r\n.dot line\r\n" in msg)
typ, data = m.fetch("1:*", "(FLAGS)")
print("seen", sum(1 for d in data if b"\\Seen" in d))
m.store("1", "+FLAGS", "\\Deleted")
m.expunge()
typ, data = m.select("INBOX")
print("after", data[0].decode())
typ, data = m.uid("search", None, "ALL")
print("uids", data[0].decode())
m.logout()
`
	out, err := exec.Command(py, "-c", script, host, port).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := "exists 3\nsearch 2\nfetched True True\nseen 1\nafter 2\nuids 2 3\n"
	if string(out) != want {
		t.Errorf("imaplib:\n%s\nwant:\n%s", out, want)
	}
	// netkit's own client: the UIDs last across sessions; a search; a
	// delete that POP3 then sees too.
	mb, _ := mail.ParseMailbox("imap://bob@" + imapAddr)
	box, err := mail.OpenBox(ctx, mb, "pw", mail.BoxOptions{NoTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	sums, err := box.Summarize()
	if err != nil || len(sums) != 2 || sums[0].UID != "2" || sums[0].Subject != "two about tea" || sums[0].From != "<a@example.org>" {
		t.Fatalf("summaries %+v %v", sums, err)
	}
	var got strings.Builder
	if err := box.FetchEach([]int{2}, false, func(_ int, r io.Reader) error { _, err := io.Copy(&got, r); return err }); err != nil || !strings.Contains(got.String(), "body of three\n.dot line\n") {
		t.Errorf("fetch: %v %q", err, got.String())
	}
	if err := box.Delete(2); err != nil {
		t.Fatal(err)
	}
	if err := box.Quit(); err != nil {
		t.Fatal(err)
	}
	left, _ := srv.Maildir.List()
	if len(left) != 1 {
		t.Errorf("%d messages left in the Maildir, want 1", len(left))
	}
	if _, err := mail.OpenBox(ctx, mustMailbox(t, "imap://bob@"+imapAddr+"/Archive"), "pw", mail.BoxOptions{NoTLS: true}); err == nil || !strings.Contains(err.Error(), "one mailbox") {
		t.Errorf("another folder: %v", err)
	}
}

func mustMailbox(t *testing.T, s string) mail.Mailbox {
	m, err := mail.ParseMailbox(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
