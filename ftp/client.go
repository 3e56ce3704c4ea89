package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Security says how a connection is protected.
type Security int

const (
	// Plain sends everything, the password too, in the clear.
	Plain Security = iota
	// Explicit upgrades the control connection with AUTH TLS and protects
	// every data connection (PROT P): FTPES, port 21.
	Explicit
	// Implicit speaks TLS from the first byte: FTPS, port 990.
	Implicit
)

// Options are the settings of [Dial]. The zero value logs in
// anonymously, in the clear, in passive mode.
type Options struct {
	// User and Password log in; if User is empty, "anonymous" with the
	// password "anonymous@".
	User, Password string
	// Security is Plain, Explicit or Implicit; TLS is its configuration
	// (if nil, the system roots and the host's name).
	Security Security
	TLS      *tls.Config
	// Active makes the server connect back for data (EPRT, then PORT)
	// to the control connection's local address, instead of passive
	// mode (EPSV, then PASV).
	Active bool
	// DisableEPSV skips EPSV and uses PASV from the start.
	DisableEPSV bool
	// Timeout bounds the connect, each reply, and each data
	// connection's set-up. If zero, 30s.
	Timeout time.Duration
	// Wire, if set, sees each line of the dialogue: "C" for the
	// client's, "S" for the server's; the password is masked. Calls do
	// not overlap, even from the several connections of a segmented get.
	Wire func(dir, line string)
	// Dial opens TCP connections. If nil, a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Conn is a logged-in FTP control connection. Its methods are not safe
// for concurrent use: one transfer at a time, as the protocol allows.
type Conn struct {
	o        Options
	conn     net.Conn
	text     *textproto.Conn
	addr     string // as dialled, for more connections
	host     string // the server's name, for TLS on data connections
	features map[string]string
	noEPSV   bool
	protect  bool // PROT P: data connections speak TLS
	tlsConf  *tls.Config
	// Notices are things worth telling the user, such as a PASV address
	// replaced by the control connection's.
	Notices []string
}

// Error is a reply that was not the one expected.
type Error struct {
	Cmd  string // the command, password masked
	Code int
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("ftp: %s: %d %s", e.Cmd, e.Code, e.Msg)
}

// Temporary reports a 4xx reply: the command may succeed later.
func (e *Error) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

// ErrNotFound is matched (errors.Is) by a 550 reply.
var ErrNotFound = errors.New("ftp: no such file or directory")

func (e *Error) Is(target error) bool { return target == ErrNotFound && e.Code == 550 }

// Dial connects to addr (host:port), upgrades to TLS when asked, logs in
// and switches to binary transfers.
func Dial(ctx context.Context, addr string, o Options) (*Conn, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("ftp: address %q: %v", addr, err)
	}
	if w := o.Wire; w != nil {
		var mu sync.Mutex
		o.Wire = func(dir, line string) {
			mu.Lock()
			defer mu.Unlock()
			w(dir, line)
		}
	}
	c := &Conn{o: o, addr: addr, host: host, noEPSV: o.DisableEPSV}
	c.tlsConf = o.TLS.Clone()
	if c.tlsConf == nil {
		c.tlsConf = &tls.Config{}
	}
	if c.tlsConf.ServerName == "" {
		// Also the session cache's key: without it the key is the
		// address, port included, and no data connection would resume
		// the control connection's session.
		c.tlsConf.ServerName = host
	}
	if c.tlsConf.ClientSessionCache == nil {
		// Servers such as vsftpd insist that data connections resume
		// the control connection's TLS session.
		c.tlsConf.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	}
	dctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	conn, err := c.dial(dctx, addr)
	if err != nil {
		return nil, fmt.Errorf("ftp: connect %s: %w", addr, err)
	}
	if o.Security == Implicit {
		tc := tls.Client(conn, c.tlsConf)
		if err := tc.HandshakeContext(dctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("ftp: TLS with %s: %w", addr, err)
		}
		conn, c.protect = tc, true
	}
	c.setConn(conn)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := c.login(dctx); err != nil {
		c.conn.Close()
		return nil, err
	}
	return c, nil
}

func (c *Conn) dial(ctx context.Context, addr string) (net.Conn, error) {
	if c.o.Dial != nil {
		return c.o.Dial(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

func (c *Conn) setConn(conn net.Conn) {
	c.conn = conn
	c.text = textproto.NewConn(conn)
}

func (c *Conn) login(ctx context.Context) error {
	if _, _, err := c.reply("greeting", 220); err != nil {
		return err
	}
	if c.o.Security == Explicit {
		if _, _, err := c.cmd(234, "AUTH TLS"); err != nil {
			return fmt.Errorf("%w (the server does not offer TLS; use plain FTP only where the password may be seen)", err)
		}
		tc := tls.Client(c.conn, c.tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("ftp: TLS with %s: %w", c.conn.RemoteAddr(), err)
		}
		c.setConn(tc)
		c.protect = true
	}
	user, pass := c.o.User, c.o.Password
	if user == "" {
		user, pass = "anonymous", "anonymous@"
	}
	code, _, err := c.cmd(0, "USER %s", user)
	if err != nil {
		return err
	}
	switch code {
	case 230:
	case 331, 332:
		if _, _, err := c.cmd(230, "PASS %s", pass); err != nil {
			return err
		}
	default:
		return &Error{Cmd: "USER " + user, Code: code, Msg: "unexpected reply"}
	}
	if c.protect {
		if _, _, err := c.cmd(200, "PBSZ 0"); err != nil {
			return err
		}
		if _, _, err := c.cmd(200, "PROT P"); err != nil {
			return err
		}
	}
	c.features = map[string]string{}
	if _, msg, err := c.cmd(211, "FEAT"); err == nil {
		for _, l := range strings.Split(msg, "\n")[1:] {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "End") {
				continue
			}
			name, arg, _ := strings.Cut(l, " ")
			c.features[strings.ToUpper(name)] = arg
		}
	}
	if _, ok := c.features["UTF8"]; ok {
		c.cmd(0, "OPTS UTF8 ON")
	}
	_, _, err = c.cmd(200, "TYPE I")
	return err
}

// Features lists what FEAT announced, names in upper case.
func (c *Conn) Features() map[string]string { return c.features }

// cmd sends a command and reads its reply; want 0 accepts any code
// below 400.
func (c *Conn) cmd(want int, format string, args ...any) (int, string, error) {
	line := fmt.Sprintf(format, args...)
	if strings.ContainsAny(line, "\r\n") {
		return 0, "", fmt.Errorf("ftp: %q: a name may not hold a line break", line)
	}
	shown := line
	if strings.HasPrefix(line, "PASS ") {
		shown = "PASS ****"
	}
	if c.o.Wire != nil {
		c.o.Wire("C", shown)
	}
	c.conn.SetDeadline(time.Now().Add(c.o.Timeout))
	if err := c.text.PrintfLine("%s", line); err != nil {
		return 0, "", fmt.Errorf("ftp: %s: %w", shown, err)
	}
	return c.reply(shown, want)
}

// reply reads one reply (multi-line ones whole).
func (c *Conn) reply(what string, want int) (int, string, error) {
	c.conn.SetDeadline(time.Now().Add(c.o.Timeout))
	code, msg, err := c.text.ReadResponse(0)
	if c.o.Wire != nil && (code != 0 || msg != "") {
		for i, l := range strings.Split(msg, "\n") {
			sep := " "
			if i < strings.Count(msg, "\n") {
				sep = "-"
			}
			c.o.Wire("S", strconv.Itoa(code)+sep+l)
		}
	}
	var pe *textproto.Error
	if err != nil && !errors.As(err, &pe) {
		return 0, "", fmt.Errorf("ftp: %s: %w", what, err)
	}
	if (want != 0 && code != want) || (want == 0 && code >= 400) {
		return code, msg, &Error{Cmd: what, Code: code, Msg: msg}
	}
	return code, msg, nil
}

// dataConn is an open data connection with the transfer's final reply
// still to come.
type dataConn struct {
	net.Conn
	c      *Conn
	what   string
	once   sync.Once
	err    error
	cancel func() bool
}

// Close closes the data connection and reads the final reply.
func (d *dataConn) Close() error {
	d.once.Do(func() {
		d.cancel()
		d.Conn.Close()
		_, _, d.err = d.c.reply(d.what, 0)
	})
	return d.err
}

// transfer opens a data connection for the command (after REST offset
// when offset > 0), passive or active.
func (c *Conn) transfer(ctx context.Context, offset int64, format string, args ...any) (*dataConn, error) {
	what := fmt.Sprintf(format, args...)
	var ln net.Listener
	var conn net.Conn
	var err error
	if c.o.Active {
		ln, err = c.activeListen()
	} else {
		conn, err = c.passive(ctx)
	}
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*dataConn, error) {
		if ln != nil {
			ln.Close()
		}
		if conn != nil {
			conn.Close()
		}
		return nil, err
	}
	if offset > 0 {
		if _, _, err := c.cmd(350, "REST %d", offset); err != nil {
			return fail(err)
		}
	}
	code, msg, err := c.cmd(0, "%s", what)
	if err != nil {
		return fail(err)
	}
	if code != 125 && code != 150 {
		return fail(&Error{Cmd: what, Code: code, Msg: msg + " (no data connection was opened)"})
	}
	if ln != nil {
		stop := context.AfterFunc(ctx, func() { ln.Close() })
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(c.o.Timeout))
		conn, err = ln.Accept()
		stop()
		ln.Close()
		if err != nil {
			c.conn.Close() // the reply to come is lost with the transfer
			return nil, fmt.Errorf("ftp: %s: the server did not connect back for active mode: %w", what, err)
		}
		ln = nil
	}
	if c.protect {
		tc := tls.Client(conn, c.tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			c.reply(what, 0)
			return nil, fmt.Errorf("ftp: %s: TLS on the data connection: %w", what, err)
		}
		conn = tc
	}
	conn.SetDeadline(time.Time{})
	d := &dataConn{Conn: conn, c: c, what: what}
	d.cancel = context.AfterFunc(ctx, func() { conn.Close() })
	return d, nil
}

// passive asks for a passive data port and connects to it.
func (c *Conn) passive(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	peer := c.peerAddr()
	if !c.noEPSV {
		_, msg, err := c.cmd(229, "EPSV")
		if err == nil {
			port, perr := ParseEPSV(msg)
			if perr != nil {
				return nil, perr
			}
			return c.dial(ctx, netip.AddrPortFrom(peer, port).String())
		}
		var fe *Error
		if !errors.As(err, &fe) {
			return nil, err
		}
		c.noEPSV = true // refused: PASV from now on
	}
	_, msg, err := c.cmd(227, "PASV")
	if err != nil {
		return nil, err
	}
	ap, err := ParsePASV(msg)
	if err != nil {
		return nil, err
	}
	if use := Routable(ap.Addr(), peer); use != ap.Addr() {
		c.Notices = append(c.Notices, fmt.Sprintf("PASV gave %s, unreachable from here; using the control connection's %s", ap.Addr(), use))
		ap = netip.AddrPortFrom(use, ap.Port())
	}
	return c.dial(ctx, ap.String())
}

func (c *Conn) peerAddr() netip.Addr {
	ap, _ := netip.ParseAddrPort(c.conn.RemoteAddr().String())
	return ap.Addr().Unmap()
}

// activeListen listens on the control connection's local address and
// tells the server with EPRT, or PORT where EPRT is refused.
func (c *Conn) activeListen() (net.Listener, error) {
	local, err := netip.ParseAddrPort(c.conn.LocalAddr().String())
	if err != nil {
		return nil, err
	}
	ip := local.Addr().Unmap()
	ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
	if err != nil {
		return nil, fmt.Errorf("ftp: active mode: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	proto := 1
	if ip.Is6() {
		proto = 2
	}
	_, _, err = c.cmd(200, "EPRT |%d|%s|%d|", proto, ip, port)
	var fe *Error
	if errors.As(err, &fe) && ip.Is4() {
		a := ip.As4()
		_, _, err = c.cmd(200, "PORT %d,%d,%d,%d,%d,%d", a[0], a[1], a[2], a[3], port>>8, port&255)
	}
	if err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// ParseEPSV reads the port from a 229 reply's text, "(|||port|)".
func ParseEPSV(msg string) (uint16, error) {
	i := strings.IndexByte(msg, '(')
	j := strings.LastIndexByte(msg, ')')
	if i < 0 || j < i+5 {
		return 0, fmt.Errorf("ftp: EPSV reply %q: no (|||port|)", msg)
	}
	inner := msg[i+1 : j]
	d := inner[0]
	parts := strings.Split(inner, string(d))
	if len(parts) != 5 || parts[1] != "" || parts[2] != "" || parts[4] != "" {
		return 0, fmt.Errorf("ftp: EPSV reply %q: not (|||port|)", msg)
	}
	p, err := strconv.ParseUint(parts[3], 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("ftp: EPSV reply %q: port %q is not 1-65535", msg, parts[3])
	}
	return uint16(p), nil
}

// ParsePASV reads the address from a 227 reply's text,
// "h1,h2,h3,h4,p1,p2", with or without parentheses.
func ParsePASV(msg string) (netip.AddrPort, error) {
	start := strings.IndexAny(msg, "0123456789")
	if i := strings.IndexByte(msg, '('); i >= 0 {
		start = i + 1
	}
	if start < 0 {
		return netip.AddrPort{}, fmt.Errorf("ftp: PASV reply %q: no address", msg)
	}
	end := start
	for end < len(msg) && (msg[end] == ',' || (msg[end] >= '0' && msg[end] <= '9') || msg[end] == ' ') {
		end++
	}
	f := strings.Split(strings.ReplaceAll(msg[start:end], " ", ""), ",")
	if len(f) != 6 {
		return netip.AddrPort{}, fmt.Errorf("ftp: PASV reply %q: not six numbers h1,h2,h3,h4,p1,p2", msg)
	}
	var b [6]byte
	for i, s := range f {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("ftp: PASV reply %q: %q is not 0-255", msg, s)
		}
		b[i] = byte(n)
	}
	port := uint16(b[4])<<8 | uint16(b[5])
	if port == 0 {
		return netip.AddrPort{}, fmt.Errorf("ftp: PASV reply %q: port 0", msg)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), port), nil
}

// Routable returns the address to use for a PASV reply's: the reply's
// own, unless it cannot be right as seen from the control connection's
// peer (unspecified, multicast, loopback or private where the peer is
// not), in which case the peer's address. This is what lets passive mode
// work through a server behind NAT that announces its inside address.
func Routable(pasv, peer netip.Addr) netip.Addr {
	switch {
	case pasv == peer:
		return pasv
	case pasv.IsUnspecified() || pasv.IsMulticast() || pasv.IsLinkLocalUnicast(),
		pasv.IsLoopback() != peer.IsLoopback(),
		pasv.IsPrivate() != peer.IsPrivate(),
		peer.Is6(): // an IPv4 data address for an IPv6 control connection
		return peer
	}
	return pasv
}

// Quit says goodbye and closes the connection.
func (c *Conn) Quit() error {
	c.cmd(0, "QUIT")
	return c.conn.Close()
}

// Close closes the connection without a goodbye.
func (c *Conn) Close() error { return c.conn.Close() }

// Retr opens the remote file for reading from offset (REST). Close the
// reader to read the server's final reply, which reports whether the
// transfer completed.
func (c *Conn) Retr(ctx context.Context, path string, offset int64) (io.ReadCloser, error) {
	return c.transfer(ctx, offset, "RETR %s", path)
}

// Stor writes r to the remote file, from offset (REST) when offset > 0.
func (c *Conn) Stor(ctx context.Context, path string, r io.Reader, offset int64) (int64, error) {
	d, err := c.transfer(ctx, offset, "STOR %s", path)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(d, r)
	if err != nil {
		d.Close()
		return n, fmt.Errorf("ftp: STOR %s: %w", path, err)
	}
	// End the upload with a half-close and wait for the server's own
	// close: closing with unread bytes waiting (a TLS 1.3 session ticket)
	// would send a reset, and the server could lose the upload's tail.
	if cw, ok := d.Conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		d.Conn.SetReadDeadline(time.Now().Add(c.o.Timeout))
		io.Copy(io.Discard, d.Conn)
	}
	return n, d.Close()
}

// Size asks for a file's size in bytes (SIZE).
func (c *Conn) Size(path string) (int64, error) {
	_, msg, err := c.cmd(213, "SIZE %s", path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(msg), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("ftp: SIZE %s: reply %q is not a size", path, msg)
	}
	return n, nil
}

// ModTime asks for a file's modification time (MDTM), in UTC.
func (c *Conn) ModTime(path string) (time.Time, error) {
	_, msg, err := c.cmd(213, "MDTM %s", path)
	if err != nil {
		return time.Time{}, err
	}
	return parseTime(strings.TrimSpace(msg))
}

// Mkdir makes a directory.
func (c *Conn) Mkdir(path string) error { _, _, err := c.cmd(257, "MKD %s", path); return err }

// Delete removes a file.
func (c *Conn) Delete(path string) error { _, _, err := c.cmd(250, "DELE %s", path); return err }

// RemoveDir removes an empty directory.
func (c *Conn) RemoveDir(path string) error { _, _, err := c.cmd(250, "RMD %s", path); return err }

// Rename renames a file or directory.
func (c *Conn) Rename(from, to string) error {
	if _, _, err := c.cmd(350, "RNFR %s", from); err != nil {
		return err
	}
	_, _, err := c.cmd(250, "RNTO %s", to)
	return err
}

// Pwd returns the working directory.
func (c *Conn) Pwd() (string, error) {
	_, msg, err := c.cmd(257, "PWD")
	if err != nil {
		return "", err
	}
	// 257 "/dir" is current; quotes inside are doubled.
	if i := strings.IndexByte(msg, '"'); i >= 0 {
		var b strings.Builder
		for j := i + 1; j < len(msg); j++ {
			if msg[j] == '"' {
				if j+1 < len(msg) && msg[j+1] == '"' {
					b.WriteByte('"')
					j++
					continue
				}
				return b.String(), nil
			}
			b.WriteByte(msg[j])
		}
	}
	return "", fmt.Errorf("ftp: PWD reply %q: no quoted directory", msg)
}

// Cwd changes the working directory.
func (c *Conn) Cwd(path string) error { _, _, err := c.cmd(250, "CWD %s", path); return err }
