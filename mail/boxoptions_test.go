package mail

import (
	"strings"
	"testing"
	"time"
)

func TestBoxOptionsCheck(t *testing.T) {
	pop, _ := ParseMailbox("pop3://bob@192.0.2.1")
	pops, _ := ParseMailbox("pop3s://bob@192.0.2.1")
	imap, _ := ParseMailbox("imap://bob@192.0.2.1/Archive")
	for _, tc := range []struct {
		mb   Mailbox
		o    BoxOptions
		want string
	}{
		{pop, BoxOptions{Search: "tea"}, "POP3 cannot search"},
		{pop, BoxOptions{Since: time.Now()}, "POP3 cannot search"},
		{pops, BoxOptions{NoTLS: true}, "not pop3s://"},
		{imap, BoxOptions{APOP: true}, "are POP3's"},
		{pop, BoxOptions{APOP: true, SASLPlain: true}, "exclude each other"},
		{Mailbox{Scheme: "pop3", Folder: "Archive"}, BoxOptions{}, "POP3 has one mailbox"},
		{imap, BoxOptions{Search: "tea", NoTLS: true}, ""},
		{pop, BoxOptions{APOP: true, NoTLS: true}, ""},
	} {
		err := tc.o.Check(tc.mb)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s %+v: %v, want %q", tc.mb.Scheme, tc.o, err, tc.want)
		}
	}
}
