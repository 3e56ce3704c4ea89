package mail_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"

	"github.com/netkit-dev/netkit/mail"
)

// A message sent to the local server over SMTP and read back over POP3.
func Example() {
	dir, _ := os.MkdirTemp("", "maildir")
	defer os.RemoveAll(dir)
	md, _ := mail.OpenMaildir(dir)
	srv := &mail.Server{Maildir: md}
	smtpLn, _ := net.Listen("tcp", "127.0.0.1:0")
	pop3Ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go srv.ServeSMTP(ctx, smtpLn)
	go srv.ServePOP3(ctx, pop3Ln)

	msg := &mail.Message{From: "ann@example.org", To: []string{"bob@example.org"}, Subject: "tea?", Body: "Tea at four?\n"}
	res, err := mail.Send(ctx, mail.SendOptions{Server: smtpLn.Addr().String(), Security: mail.NoTLS}, msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sent", res.Messages)

	p, err := mail.DialPOP3(ctx, pop3Ln.Addr().String(), mail.POP3Options{Security: mail.NoTLS})
	if err != nil {
		fmt.Println(err)
		return
	}
	p.Login("bob", "any password will do", false)
	sums, _ := p.Summarize()
	fmt.Println(sums[0].From, "|", sums[0].Subject)
	var body bytes.Buffer
	p.Retr(1, -1, &body)
	fmt.Println(bytes.Contains(body.Bytes(), []byte("\n\nTea at four?\n")))
	p.Quit()
	// Output:
	// sent 1
	// <ann@example.org> | tea?
	// true
}

func ExampleParseMailbox() {
	m, err := mail.ParseMailbox("pop3s://ann@mail.example.org")
	fmt.Println(m.User, m.Addr, m.Security == mail.ImplicitTLS, err)
	_, err = mail.ParseMailbox("pop3://ann:secret@mail.example.org")
	fmt.Println(err)
	// Output:
	// ann mail.example.org:995 true <nil>
	// invalid mailbox "pop3://ann:secret@mail.example.org": a password in the URL would show in the process list; give it in NETKIT_MAIL_PASSWORD, --password-file or at the prompt
}
