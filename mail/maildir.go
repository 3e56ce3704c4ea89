package mail

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Maildir is a mail directory as qmail and Dovecot keep one: messages are
// written under tmp/ and renamed into new/ when whole, so a reader never
// sees half a message.
type Maildir struct {
	Dir string
}

// Stored is one message in a Maildir.
type Stored struct {
	ID       string    // the file name up to any ":2," flags: unique, stable
	Path     string    // the file
	Size     int64     // in bytes, as stored (LF line ends)
	Received time.Time // the file's modification time
	New      bool      // still in new/
}

// ErrNoMessage is the error for an ID that is not in the Maildir.
var ErrNoMessage = errors.New("mail: no such message")

// OpenMaildir makes dir a Maildir (creating tmp, new and cur) if it is not
// one already.
func OpenMaildir(dir string) (*Maildir, error) {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	return &Maildir{Dir: dir}, nil
}

var deliveries atomic.Uint64

// hostname is the host part of Maildir names, with / and : escaped as the
// Maildir convention has them.
var hostname = sync.OnceValue(func() string {
	host, _ := os.Hostname()
	return strings.NewReplacer("/", "\\057", ":", "\\072").Replace(host)
})

// uniqueName is a Maildir file name: time, a unique part, the host.
func uniqueName() string {
	var b [6]byte
	rand.Read(b[:])
	host := hostname()
	now := time.Now()
	return fmt.Sprintf("%d.M%dP%dQ%dR%s.%s", now.Unix(), now.Nanosecond()/1000, os.Getpid(), deliveries.Add(1), hex.EncodeToString(b[:]), host)
}

// Deliver stores the message read from r, and returns its ID. A message
// that fails to arrive whole leaves nothing behind.
func (m *Maildir) Deliver(r io.Reader) (string, error) {
	name := uniqueName()
	tmp := filepath.Join(m.Dir, "tmp", name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(m.Dir, "new", name))
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return name, nil
}

// List returns the messages in new/ and cur/, oldest first.
func (m *Maildir) List() ([]Stored, error) {
	var out []Stored
	for _, sub := range []string{"new", "cur"} {
		des, err := os.ReadDir(filepath.Join(m.Dir, sub))
		if err != nil {
			return nil, err
		}
		for _, de := range des {
			if strings.HasPrefix(de.Name(), ".") || !de.Type().IsRegular() {
				continue
			}
			fi, err := de.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // taken by another reader meanwhile
				}
				return nil, err
			}
			id, _, _ := strings.Cut(de.Name(), ":")
			out = append(out, Stored{ID: id, Path: filepath.Join(m.Dir, sub, de.Name()), Size: fi.Size(), Received: fi.ModTime(), New: sub == "new"})
		}
	}
	slices.SortStableFunc(out, func(a, b Stored) int {
		if c := a.Received.Compare(b.Received); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Find returns the message with the ID.
func (m *Maildir) Find(id string) (Stored, error) {
	list, err := m.List()
	if err != nil {
		return Stored{}, err
	}
	for _, s := range list {
		if s.ID == id {
			return s, nil
		}
	}
	return Stored{}, fmt.Errorf("%w: %s", ErrNoMessage, id)
}

// Delete removes the message with the ID.
func (m *Maildir) Delete(id string) error {
	s, err := m.Find(id)
	if err != nil {
		return err
	}
	return os.Remove(s.Path)
}
