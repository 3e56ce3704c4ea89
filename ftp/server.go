package ftp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/internal/accept"
)

// Server serves a directory over FTP: passive (EPSV, PASV) and active
// (EPRT, PORT, to the client's own address only: no bounce) data
// connections, MLSD, LIST, SIZE, MDTM, REST, and, with TLS set, AUTH TLS.
// Paths are resolved inside Root through os.Root, so no name reaches
// outside it.
type Server struct {
	// Root is the served directory.
	Root string
	// Users maps names to passwords. If nil, any name and password log
	// in (anonymous FTP).
	Users map[string]string
	// Writable allows STOR, APPE, MKD, RMD, DELE and renames.
	Writable bool
	// TLS, if set, lets clients upgrade with AUTH TLS; RequireTLS
	// refuses to log in without it.
	TLS        *tls.Config
	RequireTLS bool
	// IdleTimeout closes a control connection idle this long. If zero,
	// 5 minutes.
	IdleTimeout time.Duration
	// Logger logs each session's commands at debug level. If nil,
	// nothing is logged.
	Logger *slog.Logger
}

// Serve accepts connections on ln until ctx ends, and waits for the
// sessions to end.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	root, err := os.OpenRoot(s.Root)
	if err != nil {
		return fmt.Errorf("ftp: serve: %w", err)
	}
	defer root.Close()
	return accept.Serve(ctx, ln, func(c net.Conn) {
		ss := &session{srv: s, root: root, cwd: "/"}
		ss.setConn(c)
		ss.serve()
	})
}

type session struct {
	srv        *Server
	root       *os.Root
	conn       net.Conn
	r          *bufio.Reader
	user       string
	loggedIn   bool
	cwd        string
	rest       int64
	renameFrom string
	pasv       net.Listener
	port       netip.AddrPort
	protect    bool
	isTLS      bool
}

func (s *session) setConn(c net.Conn) {
	s.conn = c
	s.r = bufio.NewReader(c)
}

func (s *session) reply(code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	lines := strings.Split(msg, "\n")
	var b strings.Builder
	for i, l := range lines {
		if i < len(lines)-1 {
			fmt.Fprintf(&b, "%d-%s\r\n", code, l)
		} else {
			fmt.Fprintf(&b, "%d %s\r\n", code, l)
		}
	}
	s.conn.Write([]byte(b.String()))
}

func (s *session) serve() {
	defer s.conn.Close()
	defer s.closePasv()
	idle := s.srv.IdleTimeout
	if idle <= 0 {
		idle = 5 * time.Minute
	}
	s.reply(220, "netkit FTP server ready")
	for {
		s.conn.SetReadDeadline(time.Now().Add(idle))
		line, err := s.r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if s.srv.Logger != nil {
			shown := line
			if verb == "PASS" {
				shown = "PASS ****"
			}
			s.srv.Logger.Debug("ftp", "peer", s.conn.RemoteAddr().String(), "cmd", shown)
		}
		if verb == "QUIT" {
			s.reply(221, "Goodbye.")
			return
		}
		s.command(verb, arg)
	}
}

func (s *session) command(verb, arg string) {
	switch verb {
	case "USER", "PASS", "AUTH", "PBSZ", "PROT", "FEAT", "SYST", "NOOP", "OPTS":
	default:
		if !s.loggedIn {
			s.reply(530, "Log in with USER and PASS first.")
			return
		}
	}
	switch verb {
	case "AUTH":
		if s.srv.TLS == nil || !strings.EqualFold(arg, "TLS") && !strings.EqualFold(arg, "SSL") {
			s.reply(504, "AUTH TLS is not offered here.")
			return
		}
		s.reply(234, "Proceed with the TLS handshake.")
		tc := tls.Server(s.conn, s.srv.TLS)
		if err := tc.Handshake(); err != nil {
			s.conn.Close()
			return
		}
		s.setConn(tc)
		s.isTLS = true
	case "PBSZ":
		s.reply(200, "PBSZ=0")
	case "PROT":
		switch strings.ToUpper(arg) {
		case "P":
			if !s.isTLS {
				s.reply(503, "PROT P needs AUTH TLS first.")
				return
			}
			s.protect = true
		case "C":
			s.protect = false
		default:
			s.reply(504, "PROT C or P.")
			return
		}
		s.reply(200, "PROT %s.", strings.ToUpper(arg))
	case "USER":
		s.user, s.loggedIn = arg, false
		s.reply(331, "Password, please.")
	case "PASS":
		if s.srv.RequireTLS && !s.isTLS {
			s.reply(530, "Use AUTH TLS first: the password would travel in the clear.")
			return
		}
		if want, ok := s.srv.Users[s.user]; s.srv.Users != nil && (!ok || want != arg) {
			time.Sleep(500 * time.Millisecond)
			s.reply(530, "Login incorrect.")
			return
		}
		s.loggedIn = true
		s.reply(230, "Logged in.")
	case "SYST":
		s.reply(215, "UNIX Type: L8")
	case "FEAT":
		feats := "Features:\n EPSV\n EPRT\n PASV\n SIZE\n MDTM\n REST STREAM\n MLST type*;size*;modify*;\n UTF8"
		if s.srv.TLS != nil {
			feats += "\n AUTH TLS\n PBSZ\n PROT"
		}
		s.reply(211, "%s\nEnd", feats)
	case "OPTS":
		s.reply(200, "OK.")
	case "NOOP":
		s.reply(200, "OK.")
	case "TYPE":
		s.reply(200, "Type set to %s (every transfer is binary).", strings.ToUpper(arg))
	case "MODE", "STRU":
		if a := strings.ToUpper(arg); a == "S" || a == "F" {
			s.reply(200, "OK.")
		} else {
			s.reply(504, "Only stream mode and file structure.")
		}
	case "PWD", "XPWD":
		s.reply(257, "\"%s\" is the current directory.", strings.ReplaceAll(s.cwd, "\"", "\"\""))
	case "CWD", "CDUP":
		if verb == "CDUP" {
			arg = ".."
		}
		p := s.abs(arg)
		fi, err := s.root.Stat(rel(p))
		if err != nil || !fi.IsDir() {
			s.reply(550, "%s: no such directory.", arg)
			return
		}
		s.cwd = p
		s.reply(250, "Directory is now %s.", p)
	case "PASV", "EPSV":
		s.passive(verb)
	case "PORT", "EPRT":
		s.active(verb, arg)
	case "REST":
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || n < 0 {
			s.reply(501, "REST %q: not a byte offset.", arg)
			return
		}
		s.rest = n
		s.reply(350, "Restarting at %d.", n)
	case "SIZE", "MDTM":
		fi, err := s.root.Stat(rel(s.abs(arg)))
		if err != nil || !fi.Mode().IsRegular() {
			s.reply(550, "%s: no such file.", arg)
			return
		}
		if verb == "SIZE" {
			s.reply(213, "%d", fi.Size())
		} else {
			s.reply(213, "%s", fi.ModTime().UTC().Format("20060102150405"))
		}
	case "MLST":
		p := s.abs(arg)
		fi, err := s.root.Stat(rel(p))
		if err != nil {
			s.reply(550, "%s: no such file or directory.", arg)
			return
		}
		s.reply(250, "Listing %s\n %s\nEnd", arg, mlsdLine(fi, path.Base(p)))
	case "LIST", "NLST", "MLSD":
		s.list(verb, arg)
	case "RETR":
		s.retr(arg)
	case "STOR", "APPE":
		s.stor(verb, arg)
	case "MKD", "RMD", "DELE", "RNFR", "RNTO":
		s.change(verb, arg)
	case "ABOR":
		s.reply(226, "Nothing to abort.")
	default:
		s.reply(502, "%s is not implemented.", verb)
	}
}

// abs is the virtual absolute path of arg from the working directory.
func (s *session) abs(arg string) string {
	if strings.HasPrefix(arg, "/") {
		return path.Clean(arg)
	}
	return path.Join(s.cwd, arg)
}

// rel is a virtual absolute path as a name inside the root.
func rel(p string) string {
	r := strings.TrimPrefix(path.Clean("/"+p), "/")
	if r == "" {
		return "."
	}
	return r
}

func (s *session) closePasv() {
	if s.pasv != nil {
		s.pasv.Close()
		s.pasv = nil
	}
}

func (s *session) passive(verb string) {
	s.closePasv()
	s.port = netip.AddrPort{}
	local, _ := netip.ParseAddrPort(s.conn.LocalAddr().String())
	ip := local.Addr().Unmap()
	if verb == "PASV" && !ip.Is4() {
		s.reply(425, "PASV works over IPv4 only: use EPSV.")
		return
	}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
	if err != nil {
		s.reply(425, "Cannot listen for data: %v.", err)
		return
	}
	s.pasv = ln
	port := ln.Addr().(*net.TCPAddr).Port
	if verb == "EPSV" {
		s.reply(229, "Entering Extended Passive Mode (|||%d|)", port)
		return
	}
	a := ip.As4()
	s.reply(227, "Entering Passive Mode (%d,%d,%d,%d,%d,%d).", a[0], a[1], a[2], a[3], port>>8, port&255)
}

func (s *session) active(verb, arg string) {
	s.closePasv()
	var ap netip.AddrPort
	var err error
	if verb == "PORT" {
		var f [6]uint64
		parts := strings.Split(arg, ",")
		if len(parts) != 6 {
			err = errors.New("not h1,h2,h3,h4,p1,p2")
		}
		for i := 0; err == nil && i < 6; i++ {
			f[i], err = strconv.ParseUint(strings.TrimSpace(parts[i]), 10, 8)
		}
		if err == nil {
			ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(f[0]), byte(f[1]), byte(f[2]), byte(f[3])}), uint16(f[4]<<8|f[5]))
		}
	} else {
		ap, err = parseEPRT(arg)
	}
	if err != nil {
		s.reply(501, "%s %q: %v.", verb, arg, err)
		return
	}
	peer, _ := netip.ParseAddrPort(s.conn.RemoteAddr().String())
	if ap.Addr().Unmap() != peer.Addr().Unmap() || ap.Port() == 0 {
		s.reply(504, "Data connections go only to your own address, %s.", peer.Addr().Unmap())
		return
	}
	s.port = ap
	s.reply(200, "%s command successful.", verb)
}

func parseEPRT(arg string) (netip.AddrPort, error) {
	if len(arg) < 2 {
		return netip.AddrPort{}, errors.New("not |proto|addr|port|")
	}
	f := strings.Split(arg, arg[:1])
	if len(f) != 5 || f[0] != "" || f[4] != "" || (f[1] != "1" && f[1] != "2") {
		return netip.AddrPort{}, errors.New("not |proto|addr|port|")
	}
	ip, err := netip.ParseAddr(f[2])
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := strconv.ParseUint(f[3], 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ip, uint16(p)), nil
}

// data opens the data connection set up by the last PASV, EPSV, PORT or
// EPRT, after the 150 reply.
func (s *session) data(what string) (net.Conn, error) {
	var c net.Conn
	var err error
	switch {
	case s.pasv != nil:
		s.reply(150, "Opening data connection for %s.", what)
		s.pasv.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
		c, err = s.pasv.Accept()
		s.closePasv()
	case s.port.IsValid():
		s.reply(150, "Connecting to %s for %s.", s.port, what)
		c, err = net.DialTimeout("tcp", s.port.String(), 30*time.Second)
		s.port = netip.AddrPort{}
	default:
		s.reply(425, "Use PASV, EPSV, PORT or EPRT first.")
		return nil, errors.New("no data connection")
	}
	if err != nil {
		s.reply(425, "No data connection: %v.", err)
		return nil, err
	}
	if s.protect {
		tc := tls.Server(c, s.srv.TLS)
		if err := tc.Handshake(); err != nil {
			c.Close()
			s.reply(425, "TLS on the data connection failed: %v.", err)
			return nil, err
		}
		c = tc
	}
	return c, nil
}

func mlsdLine(fi fs.FileInfo, name string) string {
	typ := "file"
	if fi.IsDir() {
		typ = "dir"
	}
	return fmt.Sprintf("type=%s;size=%d;modify=%s; %s", typ, fi.Size(), fi.ModTime().UTC().Format("20060102150405"), name)
}

func (s *session) list(verb, arg string) {
	if strings.HasPrefix(arg, "-") { // LIST -a, -l: options, not names
		_, arg, _ = strings.Cut(arg, " ")
	}
	p := s.abs(arg)
	var lines []string
	fi, err := s.root.Stat(rel(p))
	if err == nil && !fi.IsDir() {
		lines = []string{listLine(verb, fi)}
	} else if err == nil {
		f, ferr := s.root.Open(rel(p))
		if ferr != nil {
			err = ferr
		} else {
			entries, derr := f.ReadDir(-1)
			f.Close()
			err = derr
			for _, e := range entries {
				if info, ierr := e.Info(); ierr == nil {
					lines = append(lines, listLine(verb, info))
				}
			}
		}
	}
	if err != nil {
		s.reply(550, "%s: no such file or directory.", arg)
		return
	}
	c, err := s.data(verb)
	if err != nil {
		return
	}
	w := bufio.NewWriter(c)
	for _, l := range lines {
		w.WriteString(l + "\r\n")
	}
	err = w.Flush()
	c.Close()
	s.finish(err)
}

func listLine(verb string, fi fs.FileInfo) string {
	switch verb {
	case "MLSD":
		return mlsdLine(fi, fi.Name())
	case "NLST":
		return fi.Name()
	}
	return fmt.Sprintf("%s 1 ftp ftp %12d %s %s", fi.Mode().String(), fi.Size(), fi.ModTime().UTC().Format("Jan _2  2006"), fi.Name())
}

func (s *session) finish(err error) {
	if err != nil {
		s.reply(426, "Transfer aborted: %v.", err)
		return
	}
	s.reply(226, "Transfer complete.")
}

func (s *session) retr(arg string) {
	offset := s.rest
	s.rest = 0
	f, err := s.root.Open(rel(s.abs(arg)))
	if err != nil {
		s.reply(550, "%s: no such file.", arg)
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		s.reply(550, "%s: not a plain file.", arg)
		return
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		s.reply(550, "%s: cannot start at %d.", arg, offset)
		return
	}
	c, err := s.data("RETR " + arg)
	if err != nil {
		return
	}
	_, err = io.Copy(c, f) // a plain socket: sendfile(2)
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	s.finish(err)
}

func (s *session) stor(verb, arg string) {
	offset := s.rest
	s.rest = 0
	if !s.srv.Writable {
		s.reply(550, "This server is read-only.")
		return
	}
	flags := os.O_WRONLY | os.O_CREATE
	switch {
	case verb == "APPE":
		flags |= os.O_APPEND
	case offset == 0:
		flags |= os.O_TRUNC
	}
	f, err := s.root.OpenFile(rel(s.abs(arg)), flags, 0o644)
	if err != nil {
		s.reply(553, "%s: %v.", arg, unwrapPath(err))
		return
	}
	defer f.Close()
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			s.reply(550, "%s: cannot start at %d.", arg, offset)
			return
		}
	}
	c, err := s.data(verb + " " + arg)
	if err != nil {
		return
	}
	_, err = io.Copy(f, c) // a plain socket: splice(2)
	c.Close()
	s.finish(err)
}

func (s *session) change(verb, arg string) {
	if !s.srv.Writable {
		s.reply(550, "This server is read-only.")
		return
	}
	p := rel(s.abs(arg))
	if p == "." {
		s.reply(550, "Not the root.")
		return
	}
	var err error
	switch verb {
	case "MKD":
		if err = s.root.Mkdir(p, 0o755); err == nil {
			s.reply(257, "\"%s\" created.", strings.ReplaceAll(s.abs(arg), "\"", "\"\""))
			return
		}
	case "RMD", "DELE":
		fi, serr := s.root.Lstat(p)
		switch {
		case serr != nil:
			err = serr
		case fi.IsDir() != (verb == "RMD"):
			err = errors.New("RMD removes directories, DELE files")
		default:
			err = s.root.Remove(p)
		}
	case "RNFR":
		if _, err = s.root.Lstat(p); err == nil {
			s.renameFrom = p
			s.reply(350, "Ready for RNTO.")
			return
		}
	case "RNTO":
		if s.renameFrom == "" {
			s.reply(503, "RNFR first.")
			return
		}
		err = s.root.Rename(s.renameFrom, p)
		s.renameFrom = ""
	}
	if err != nil {
		s.reply(550, "%s %s: %v.", verb, arg, unwrapPath(err))
		return
	}
	s.reply(250, "%s done.", verb)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
