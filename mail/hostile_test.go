package mail_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/mail"
)

// script serves one connection: for each step, a line to send (if not
// empty), then, if want is set, a line to read that must start with it.
type step struct{ send, want string }

func scripted(t *testing.T, steps []step, afterwards func(r *bufio.Reader, c net.Conn)) string {
	t.Helper()
	ln := testutil.Listen(t, "tcp4")
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		for _, s := range steps {
			if s.send != "" {
				c.Write([]byte(s.send + "\r\n"))
			}
			if s.want != "" {
				line, err := r.ReadString('\n')
				if err != nil || !strings.HasPrefix(strings.ToUpper(line), strings.ToUpper(s.want)) {
					t.Errorf("the client sent %q, want %q", line, s.want)
					return
				}
			}
		}
		if afterwards != nil {
			afterwards(r, c)
		}
	}()
	return ln.Addr().String()
}

var hello = []step{{"220 fake ESMTP", "EHLO"}, {"250-fake\r\n250-AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2\r\n250 SIZE 1000000", ""}}

func TestSendToHostileServers(t *testing.T) {
	ctx := context.Background()
	msg := &mail.Message{From: "a@example.org", To: []string{"b@example.org"}, Body: "hi\n"}
	o := mail.SendOptions{Security: mail.NoTLS, Timeout: 500 * time.Millisecond}

	o.Server = scripted(t, []step{{"HELLO, WORLD", ""}}, nil)
	if _, err := mail.Send(ctx, o, msg); err == nil || !strings.Contains(err.Error(), "ehlo") {
		t.Errorf("a garbage greeting: %v", err)
	}

	// The server takes DATA and then never answers the final dot.
	steps := append(append([]step{}, hello...), step{"", "MAIL FROM"}, step{"250 ok", "RCPT TO"}, step{"250 ok", "DATA"}, step{"354 go", ""})
	o.Server = scripted(t, steps, func(r *bufio.Reader, c net.Conn) { time.Sleep(3 * time.Second) })
	start := time.Now()
	_, err := mail.Send(ctx, o, msg)
	if err == nil || !strings.Contains(err.Error(), "data") || time.Since(start) > 2500*time.Millisecond {
		t.Errorf("a server that hangs after DATA: %v after %s", err, time.Since(start))
	}

	// A 4xx reply says the send may succeed later.
	o.Server = scripted(t, append(append([]step{}, hello...), step{"", "MAIL FROM"}, step{"451 4.3.0 try again", ""}), nil)
	if _, err := mail.Send(ctx, o, msg); err == nil || !strings.Contains(err.Error(), "may succeed later") || !strings.Contains(err.Error(), "451 4.3.0") {
		t.Errorf("a 451: %v", err)
	}
}

func TestAuthMechanisms(t *testing.T) {
	ctx := context.Background()
	msg := &mail.Message{From: "a@example.org", To: []string{"b@example.org"}, Body: "hi\n"}
	b64 := base64.StdEncoding.EncodeToString
	mac := hmac.New(md5.New, []byte("pw"))
	mac.Write([]byte("<1.2@fake>"))
	cram := b64([]byte("ann " + hex.EncodeToString(mac.Sum(nil))))
	rest := []step{{"235 ok", "MAIL FROM"}, {"250 ok", "RCPT TO"}, {"250 ok", "DATA"}, {"354 go", ""}}
	for _, tc := range []struct {
		mech  string
		steps []step
	}{
		{"PLAIN", []step{{"", "AUTH PLAIN " + b64([]byte("\x00ann\x00pw"))}}},
		// go-sasl sends the user name as LOGIN's initial response.
		{"LOGIN", []step{{"", "AUTH LOGIN " + b64([]byte("ann"))}, {"334 " + b64([]byte("Password:")), b64([]byte("pw"))}}},
		{"CRAM-MD5", []step{{"", "AUTH CRAM-MD5"}, {"334 " + b64([]byte("<1.2@fake>")), cram}}},
		{"XOAUTH2", []step{{"", "AUTH XOAUTH2 " + b64([]byte("user=ann\x01auth=Bearer pw\x01\x01"))}}},
	} {
		t.Run(tc.mech, func(t *testing.T) {
			steps := append(append(append([]step{}, hello...), tc.steps...), rest...)
			addr := scripted(t, steps, func(r *bufio.Reader, c net.Conn) {
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == ".\r\n" {
						break
					}
				}
				c.Write([]byte("250 queued\r\n"))
				r.ReadString('\n') // QUIT
				c.Write([]byte("221 bye\r\n"))
			})
			var wire strings.Builder
			res, err := mail.Send(ctx, mail.SendOptions{Server: addr, Security: mail.NoTLS, Auth: tc.mech, User: "ann", Password: "pw", Timeout: 2 * time.Second,
				Wire: &mail.Wire{W: &wire}}, msg)
			if err != nil || res.Auth != tc.mech {
				t.Errorf("%s: %v %+v", tc.mech, err, res)
			}
			// No credential crosses the wire display: not the user's
			// base64, not the password's, not the CRAM digest.
			for _, secret := range []string{b64([]byte("pw")), b64([]byte("ann")), cram, b64([]byte("\x00ann\x00pw"))} {
				if strings.Contains(wire.String(), secret) {
					t.Errorf("the wire shows %q:\n%s", secret, wire.String())
				}
			}
			if !strings.Contains(wire.String(), "C: AUTH "+tc.mech) {
				t.Errorf("the wire:\n%s", wire.String())
			}
		})
	}
}

// An IMAP server that announces a literal of 1 GiB and sends 2 MiB of it
// before it hangs up: the fetch fails, memory stays bounded, and nothing
// is left in the Maildir.
func TestIMAPHugeLiteral(t *testing.T) {
	ln := testutil.Listen(t, "tcp4")
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		c.Write([]byte("* OK [CAPABILITY IMAP4rev1] fake\r\n"))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			if len(f) < 2 {
				return
			}
			tag, cmd := f[0], strings.ToUpper(f[1])
			switch cmd {
			case "LOGIN":
				c.Write([]byte(tag + " OK [CAPABILITY IMAP4rev1] logged in\r\n"))
			case "SELECT", "EXAMINE":
				c.Write([]byte("* 1 EXISTS\r\n* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY 1] x\r\n" + tag + " OK [READ-WRITE] selected\r\n"))
			case "FETCH":
				c.Write([]byte("* 1 FETCH (BODY[] {1073741824}\r\n"))
				chunk := []byte(strings.Repeat("x", 1<<16))
				for range 32 {
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
				return // hang up mid-literal
			default:
				c.Write([]byte(tag + " OK\r\n"))
			}
		}
	}()
	mb, _ := mail.ParseMailbox("imap://ann@" + ln.Addr().String())
	box, err := mail.OpenBox(context.Background(), mb, "pw", mail.BoxOptions{NoTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	md, _ := mail.OpenMaildir(t.TempDir())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err = box.FetchEach([]int{1}, false, func(_ int, r io.Reader) error { _, err := md.Deliver(r); return err })
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatalf("a literal cut short was taken")
	}
	if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > 64<<20 {
		t.Errorf("fetching allocated %d MiB for a 2 MiB stream", grew>>20)
	}
	if list, _ := md.List(); len(list) != 0 {
		t.Errorf("%d messages delivered from a cut stream", len(list))
	}
	tmp, _ := os.ReadDir(filepath.Join(md.Dir, "tmp"))
	if len(tmp) != 0 {
		t.Errorf("%d files left in tmp/", len(tmp))
	}
}

// A POP3 server that hangs up in the middle of RETR: the fetch fails and
// nothing is delivered.
func TestPOP3CutShort(t *testing.T) {
	addr := scripted(t, []step{{"+OK fake", "CAPA"}, {"-ERR no", "USER"}, {"+OK", "PASS"}, {"+OK in", "RETR 1"},
		{"+OK follows\r\nSubject: cut\r\n\r\nhalf a mess", ""}}, nil)
	mb, _ := mail.ParseMailbox("pop3://ann@" + addr)
	box, err := mail.OpenBox(context.Background(), mb, "pw", mail.BoxOptions{NoTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	md, _ := mail.OpenMaildir(t.TempDir())
	err = box.FetchEach([]int{1}, false, func(_ int, r io.Reader) error { _, err := md.Deliver(r); return err })
	if err == nil {
		t.Fatalf("a message cut short was taken")
	}
	if list, _ := md.List(); len(list) != 0 {
		t.Errorf("%d messages delivered from a cut stream", len(list))
	}
}
