package mail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"
)

// ServeIMAP serves the Maildir over IMAP (IMAP4rev1, one mailbox: INBOX)
// on ln until ctx ends: the same messages POP3 serves. UIDs are kept in
// the Maildir (netkit-uidlist) so that they last from one session to the
// next; flags live in the file names, as Maildir readers expect (:2,S).
func (s *Server) ServeIMAP(ctx context.Context, ln net.Listener) error {
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{s: s}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		TLSConfig:    s.TLS,
		InsecureAuth: s.TLS == nil,
		Logger:       slogLogger{s.log()},
	})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	srv.Close()
	<-done
	return nil
}

// uidList gives each Maildir message an IMAP UID that lasts.
type uidList struct {
	mu       sync.Mutex
	path     string
	validity uint32
	next     imap.UID
	byID     map[string]imap.UID
}

func (s *Server) uids() (*uidList, error) {
	s.uidOnce.Do(func() {
		u := &uidList{path: filepath.Join(s.Maildir.Dir, "netkit-uidlist"), next: 1, byID: map[string]imap.UID{}}
		s.uidErr = u.load()
		s.uidList = u
	})
	return s.uidList, s.uidErr
}

// load reads "V<validity> N<next>" and then "<uid> <id>" lines.
func (u *uidList) load() error {
	f, err := os.Open(u.path)
	if errors.Is(err, os.ErrNotExist) {
		u.validity = uint32(time.Now().Unix())
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "V%d N%d", &u.validity, &u.next); err != nil {
			return fmt.Errorf("%s: line 1: %v", u.path, err)
		}
	}
	for sc.Scan() {
		num, id, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil {
			continue
		}
		u.byID[id] = imap.UID(n)
	}
	return sc.Err()
}

// assign gives UIDs to the ids that have none, in order, forgets those
// that are gone, and saves the list when it changed.
func (u *uidList) assign(ids []string) (map[string]imap.UID, imap.UID, uint32, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	changed := false
	present := make(map[string]bool, len(ids))
	for _, id := range ids {
		present[id] = true
		if _, ok := u.byID[id]; !ok {
			u.byID[id] = u.next
			u.next++
			changed = true
		}
	}
	for id := range u.byID {
		if !present[id] {
			delete(u.byID, id)
			changed = true
		}
	}
	out := make(map[string]imap.UID, len(u.byID))
	for id, uid := range u.byID {
		out[id] = uid
	}
	if !changed {
		return out, u.next, u.validity, nil
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "V%d N%d\n", u.validity, u.next)
	for id, uid := range u.byID {
		fmt.Fprintf(&b, "%d %s\n", uid, id)
	}
	tmp := u.path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return nil, 0, 0, err
	}
	return out, u.next, u.validity, os.Rename(tmp, u.path)
}

// Maildir flag letters (the "info" after :2,) and IMAP's flags.
var maildirFlags = []struct {
	letter byte
	flag   imap.Flag
}{{'D', imap.FlagDraft}, {'F', imap.FlagFlagged}, {'R', imap.FlagAnswered}, {'S', imap.FlagSeen}, {'T', imap.FlagDeleted}}

func flagsOf(path string) []imap.Flag {
	_, info, _ := strings.Cut(filepath.Base(path), ":2,")
	var out []imap.Flag
	for _, mf := range maildirFlags {
		if strings.IndexByte(info, mf.letter) >= 0 {
			out = append(out, mf.flag)
		}
	}
	return out
}

// imapMsg is one message of a session's view of INBOX.
type imapMsg struct {
	uid   imap.UID
	st    Stored
	flags []imap.Flag
}

func (m *imapMsg) has(f imap.Flag) bool {
	return slices.ContainsFunc(m.flags, func(g imap.Flag) bool { return strings.EqualFold(string(g), string(f)) })
}

// setFlags renames the message's file to carry flags, into cur/.
func (m *imapMsg) setFlags(dir string, flags []imap.Flag) error {
	var letters []byte
	for _, mf := range maildirFlags {
		if slices.ContainsFunc(flags, func(g imap.Flag) bool { return strings.EqualFold(string(g), string(mf.flag)) }) {
			letters = append(letters, mf.letter)
		}
	}
	path := filepath.Join(dir, "cur", m.st.ID+":2,"+string(letters))
	if path != m.st.Path {
		if err := os.Rename(m.st.Path, path); err != nil {
			return err
		}
	}
	m.st.Path, m.st.New = path, false
	m.flags = flagsOf(path)
	return nil
}

// content is the message with CRLF line ends, as IMAP sends it.
func (m *imapMsg) content() ([]byte, error) {
	b, err := os.ReadFile(m.st.Path)
	if err != nil {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent, Text: "the message is gone"}
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")), nil
}

// imapSession is one IMAP connection.
type imapSession struct {
	s        *Server
	user     string
	selected bool
	readOnly bool
	msgs     []*imapMsg
	next     imap.UID
	validity uint32
}

var errOneMailbox = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent, Text: "netkit mail serve has one mailbox, INBOX"}

func (ss *imapSession) Close() error { return nil }

func (ss *imapSession) Login(user, pass string) error {
	if !ss.s.checkUser(user, pass) {
		time.Sleep(200 * time.Millisecond)
		return imapserver.ErrAuthFailed
	}
	ss.user = user
	return nil
}

// snapshot lists the Maildir with UIDs, oldest UID first.
func (ss *imapSession) snapshot() ([]*imapMsg, error) {
	list, err := ss.s.Maildir.List()
	if err != nil {
		return nil, err
	}
	u, err := ss.s.uids()
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(list))
	for i, st := range list {
		ids[i] = st.ID
	}
	byID, next, validity, err := u.assign(ids)
	if err != nil {
		return nil, err
	}
	ss.next, ss.validity = next, validity
	msgs := make([]*imapMsg, len(list))
	for i, st := range list {
		msgs[i] = &imapMsg{uid: byID[st.ID], st: st, flags: flagsOf(st.Path)}
	}
	slices.SortFunc(msgs, func(a, b *imapMsg) int { return int(a.uid) - int(b.uid) })
	return msgs, nil
}

func inbox(name string) bool { return strings.EqualFold(name, "INBOX") }

var systemFlags = []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft}

func (ss *imapSession) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	if !inbox(name) {
		return nil, errOneMailbox
	}
	msgs, err := ss.snapshot()
	if err != nil {
		return nil, err
	}
	ss.msgs, ss.selected, ss.readOnly = msgs, true, options != nil && options.ReadOnly
	return &imap.SelectData{Flags: systemFlags, PermanentFlags: systemFlags, NumMessages: uint32(len(msgs)), UIDNext: ss.next, UIDValidity: ss.validity}, nil
}

func (ss *imapSession) Create(string, *imap.CreateOptions) error         { return errOneMailbox }
func (ss *imapSession) Delete(string) error                              { return errOneMailbox }
func (ss *imapSession) Rename(string, string, *imap.RenameOptions) error { return errOneMailbox }
func (ss *imapSession) Unsubscribe(string) error                         { return errOneMailbox }

func (ss *imapSession) Subscribe(name string) error {
	if !inbox(name) {
		return errOneMailbox
	}
	return nil
}

func (ss *imapSession) List(w *imapserver.ListWriter, ref string, patterns []string, _ *imap.ListOptions) error {
	for _, p := range patterns {
		if p == "" { // the hierarchy delimiter alone
			return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: '/'})
		}
		if imapserver.MatchList("INBOX", '/', ref, p) {
			return w.WriteList(&imap.ListData{Mailbox: "INBOX", Delim: '/'})
		}
	}
	return nil
}

func (ss *imapSession) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	if !inbox(name) {
		return nil, errOneMailbox
	}
	msgs, err := ss.snapshot()
	if err != nil {
		return nil, err
	}
	n, unseen, deleted := uint32(len(msgs)), uint32(0), uint32(0)
	var size int64
	for _, m := range msgs {
		if !m.has(imap.FlagSeen) {
			unseen++
		}
		if m.has(imap.FlagDeleted) {
			deleted++
		}
		size += m.st.Size
	}
	d := &imap.StatusData{Mailbox: "INBOX", UIDNext: ss.next, UIDValidity: ss.validity}
	if options.NumMessages {
		d.NumMessages = &n
	}
	if options.NumUnseen {
		d.NumUnseen = &unseen
	}
	if options.NumDeleted {
		d.NumDeleted = &deleted
	}
	if options.Size {
		d.Size = &size
	}
	return d, nil
}

func (ss *imapSession) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	if !inbox(name) {
		return nil, errOneMailbox
	}
	limit := ss.s.MaxMessageBytes
	if limit <= 0 {
		limit = 25 << 20
	}
	if r.Size() > limit {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTooBig, Text: fmt.Sprintf("the message is over the limit of %d bytes", limit)}
	}
	id, err := ss.s.Maildir.Deliver(&crlfToLF{r: r})
	if err != nil {
		return nil, err
	}
	ss.s.stored.Add(1)
	msgs, err := ss.snapshot()
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if m.st.ID == id {
			if len(options.Flags) > 0 {
				m.setFlags(ss.s.Maildir.Dir, options.Flags)
			}
			return &imap.AppendData{UID: m.uid, UIDValidity: ss.validity}, nil
		}
	}
	return nil, errors.New("the appended message is gone")
}

// Poll tells the client of messages that came (EXISTS) and, when it may,
// of those that went (EXPUNGE), since the session last looked.
func (ss *imapSession) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if !ss.selected {
		return nil
	}
	now, err := ss.snapshot()
	if err != nil {
		return err
	}
	present := map[imap.UID]*imapMsg{}
	for _, m := range now {
		present[m.uid] = m
	}
	if allowExpunge {
		for i := len(ss.msgs) - 1; i >= 0; i-- {
			if present[ss.msgs[i].uid] == nil {
				ss.msgs = slices.Delete(ss.msgs, i, i+1)
				if err := w.WriteExpunge(uint32(i + 1)); err != nil {
					return err
				}
			}
		}
	}
	last := imap.UID(0)
	if len(ss.msgs) > 0 {
		last = ss.msgs[len(ss.msgs)-1].uid
	}
	added := false
	for _, m := range now {
		if m.uid > last {
			ss.msgs = append(ss.msgs, m)
			added = true
		}
	}
	if added {
		return w.WriteNumMessages(uint32(len(ss.msgs)))
	}
	return nil
}

func (ss *imapSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-t.C:
			if err := ss.Poll(w, true); err != nil {
				return err
			}
		}
	}
}

func (ss *imapSession) Unselect() error {
	ss.selected, ss.msgs = false, nil
	return nil
}

func (ss *imapSession) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	if ss.readOnly {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "the mailbox was opened read-only (EXAMINE)"}
	}
	for i := len(ss.msgs) - 1; i >= 0; i-- {
		m := ss.msgs[i]
		if !m.has(imap.FlagDeleted) || uids != nil && !uids.Contains(m.uid) {
			continue
		}
		if err := os.Remove(m.st.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		ss.msgs = slices.Delete(ss.msgs, i, i+1)
		if err := w.WriteExpunge(uint32(i + 1)); err != nil {
			return err
		}
	}
	return nil
}

// forEach runs fn on the messages of numSet ("*" is the last one).
func (ss *imapSession) forEach(numSet imap.NumSet, fn func(seq uint32, m *imapMsg) error) error {
	n := uint32(len(ss.msgs))
	maxUID := imap.UID(0)
	if n > 0 {
		maxUID = ss.msgs[n-1].uid
	}
	for i, m := range ss.msgs {
		seq := uint32(i + 1)
		in := false
		switch set := numSet.(type) {
		case imap.SeqSet:
			in = seqContains(set, seq, n)
		case imap.UIDSet:
			in = uidContains(set, m.uid, maxUID)
		}
		if in {
			if err := fn(seq, m); err != nil {
				return err
			}
		}
	}
	return nil
}

func seqContains(set imap.SeqSet, seq, max uint32) bool {
	return slices.ContainsFunc(set, func(r imap.SeqRange) bool { return inRange(r.Start, r.Stop, seq, max) })
}

func uidContains(set imap.UIDSet, uid, max imap.UID) bool {
	return slices.ContainsFunc(set, func(r imap.UIDRange) bool { return inRange(r.Start, r.Stop, uid, max) })
}

// inRange says whether v is in lo:hi, where 0 stands for "*" (max) and
// the ends may come in either order (RFC 9051 9).
func inRange[T ~uint32](lo, hi, v, max T) bool {
	if lo == 0 {
		lo = max
	}
	if hi == 0 {
		hi = max
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return v >= lo && v <= hi
}

func (ss *imapSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	markSeen := false
	for _, bs := range options.BodySection {
		markSeen = markSeen || !bs.Peek
	}
	return ss.forEach(numSet, func(seq uint32, m *imapMsg) error {
		if markSeen && !ss.readOnly && !m.has(imap.FlagSeen) {
			m.setFlags(ss.s.Maildir.Dir, append(slices.Clone(m.flags), imap.FlagSeen))
		}
		var buf []byte
		if options.RFC822Size || options.Envelope || options.BodyStructure != nil || len(options.BodySection) > 0 {
			var err error
			if buf, err = m.content(); err != nil {
				return err
			}
		}
		rw := w.CreateMessage(seq)
		rw.WriteUID(m.uid)
		if options.Flags {
			rw.WriteFlags(m.flags)
		}
		if options.InternalDate {
			rw.WriteInternalDate(m.st.Received)
		}
		if options.RFC822Size {
			rw.WriteRFC822Size(int64(len(buf)))
		}
		if options.Envelope {
			h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(buf)))
			if err == nil {
				rw.WriteEnvelope(imapserver.ExtractEnvelope(h))
			}
		}
		if options.BodyStructure != nil {
			rw.WriteBodyStructure(imapserver.ExtractBodyStructure(bytes.NewReader(buf)))
		}
		for _, bs := range options.BodySection {
			part := imapserver.ExtractBodySection(bytes.NewReader(buf), bs)
			wc := rw.WriteBodySection(bs, int64(len(part)))
			_, err := wc.Write(part)
			if cerr := wc.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
		return rw.Close()
	})
}

func (ss *imapSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, _ *imap.StoreOptions) error {
	if ss.readOnly {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "the mailbox was opened read-only (EXAMINE)"}
	}
	err := ss.forEach(numSet, func(seq uint32, m *imapMsg) error {
		next := slices.Clone(m.flags)
		switch flags.Op {
		case imap.StoreFlagsSet:
			next = slices.Clone(flags.Flags)
		case imap.StoreFlagsAdd:
			next = append(next, flags.Flags...)
		case imap.StoreFlagsDel:
			next = slices.DeleteFunc(next, func(f imap.Flag) bool {
				return slices.ContainsFunc(flags.Flags, func(g imap.Flag) bool { return strings.EqualFold(string(f), string(g)) })
			})
		}
		return m.setFlags(ss.s.Maildir.Dir, next)
	})
	if err != nil || flags.Silent {
		return err
	}
	return ss.Fetch(w, numSet, &imap.FetchOptions{Flags: true})
}

func (ss *imapSession) Copy(imap.NumSet, string) (*imap.CopyData, error) {
	return nil, errOneMailbox
}

func (ss *imapSession) Search(kind imapserver.NumKind, c *imap.SearchCriteria, _ *imap.SearchOptions) (*imap.SearchData, error) {
	var data imap.SearchData
	var seqs imap.SeqSet
	var uids imap.UIDSet
	n := uint32(len(ss.msgs))
	maxUID := imap.UID(0)
	if n > 0 {
		maxUID = ss.msgs[n-1].uid
	}
	for i, m := range ss.msgs {
		seq := uint32(i + 1)
		lazy := &lazyMsg{m: m}
		if !matches(seq, n, maxUID, m, lazy, c) {
			continue
		}
		num := seq
		if kind == imapserver.NumKindUID {
			num = uint32(m.uid)
		}
		seqs.AddNum(seq)
		uids.AddNum(m.uid)
		if data.Min == 0 || num < data.Min {
			data.Min = num
		}
		data.Max = max(data.Max, num)
		data.Count++
	}
	data.All = seqs
	if kind == imapserver.NumKindUID {
		data.All = uids
	}
	return &data, nil
}

// lazyMsg reads a message and its header once, when a search needs them.
type lazyMsg struct {
	m      *imapMsg
	buf    []byte
	header textproto.Header
	body   []byte
	read   bool
}

func (l *lazyMsg) load() {
	if l.read {
		return
	}
	l.read = true
	l.buf, _ = l.m.content()
	br := bufio.NewReader(bytes.NewReader(l.buf))
	l.header, _ = textproto.ReadHeader(br)
	l.body, _ = io.ReadAll(br)
}

func containsFold(b []byte, s string) bool {
	return bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(s)))
}

// matches says whether a message meets every criterion (RFC 3501 6.4.4).
func matches(seq, n uint32, maxUID imap.UID, m *imapMsg, l *lazyMsg, c *imap.SearchCriteria) bool {
	for _, set := range c.SeqNum {
		if !seqContains(set, seq, n) {
			return false
		}
	}
	for _, set := range c.UID {
		if !uidContains(set, m.uid, maxUID) {
			return false
		}
	}
	day := func(t time.Time) time.Time { y, mo, d := t.Date(); return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC) }
	if !c.Since.IsZero() && day(m.st.Received).Before(day(c.Since)) || !c.Before.IsZero() && !day(m.st.Received).Before(day(c.Before)) {
		return false
	}
	for _, f := range c.Flag {
		if !m.has(f) {
			return false
		}
	}
	for _, f := range c.NotFlag {
		if m.has(f) {
			return false
		}
	}
	if c.Larger > 0 || c.Smaller > 0 || !c.SentSince.IsZero() || !c.SentBefore.IsZero() || len(c.Header) > 0 || len(c.Body) > 0 || len(c.Text) > 0 {
		l.load()
		size := int64(len(l.buf))
		if c.Larger > 0 && size <= c.Larger || c.Smaller > 0 && size >= c.Smaller {
			return false
		}
		if !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
			sent, err := netmail.ParseDate(l.header.Get("Date"))
			if err != nil || !c.SentSince.IsZero() && day(sent).Before(day(c.SentSince)) || !c.SentBefore.IsZero() && !day(sent).Before(day(c.SentBefore)) {
				return false
			}
		}
		for _, hf := range c.Header {
			v := l.header.Get(hf.Key)
			if !l.header.Has(hf.Key) || hf.Value != "" && !containsFold([]byte(v), hf.Value) {
				return false
			}
		}
		for _, s := range c.Body {
			if !containsFold(l.body, s) {
				return false
			}
		}
		for _, s := range c.Text {
			if !containsFold(l.buf, s) {
				return false
			}
		}
	}
	for i := range c.Not {
		if matches(seq, n, maxUID, m, l, &c.Not[i]) {
			return false
		}
	}
	for _, or := range c.Or {
		if !matches(seq, n, maxUID, m, l, &or[0]) && !matches(seq, n, maxUID, m, l, &or[1]) {
			return false
		}
	}
	return true
}
