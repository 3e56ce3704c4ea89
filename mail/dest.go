package mail

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Destination is where fetched messages go: a Maildir, an mbox file, or
// a writer.
type Destination interface {
	Deliver(r io.Reader) error
	Close() error
}

// OpenDestination opens path as a Maildir when it is a directory or ends
// in a slash (made if missing), and as an mbox file to append to
// otherwise.
func OpenDestination(path string) (Destination, error) {
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() || os.IsNotExist(err) && strings.HasSuffix(path, "/") {
		md, err := OpenMaildir(path)
		if err != nil {
			return nil, err
		}
		return maildirDest{md}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return mboxDest{f}, nil
}

// WriterDestination writes messages one after another to w.
func WriterDestination(w io.Writer) Destination { return writerDest{w} }

type maildirDest struct{ md *Maildir }

func (d maildirDest) Deliver(r io.Reader) error { _, err := d.md.Deliver(r); return err }
func (d maildirDest) Close() error              { return nil }

type mboxDest struct{ f *os.File }

func (d mboxDest) Deliver(r io.Reader) error { return WriteMbox(d.f, "", time.Now(), r) }
func (d mboxDest) Close() error              { return d.f.Close() }

type writerDest struct{ w io.Writer }

func (d writerDest) Deliver(r io.Reader) error { _, err := io.Copy(d.w, r); return err }
func (d writerDest) Close() error              { return nil }

// ReadUsers reads accounts for [Server].Users: one user:password a line;
// blank lines and # comments are skipped. A line without a colon is an
// error naming it.
func ReadUsers(r io.Reader) (map[string]string, error) {
	users := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, pass, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("line %d: want user:password", n)
		}
		users[user] = pass
	}
	return users, sc.Err()
}
