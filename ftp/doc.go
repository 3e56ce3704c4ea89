// Package ftp is an FTP client written from RFC 959 and its extensions
// (RFC 2228 and 4217 for TLS, RFC 2428 for EPSV and EPRT, RFC 3659 for
// SIZE, MDTM, REST and MLSD), and a small FTP server.
//
// [Dial] logs in, in the clear, with explicit TLS (AUTH TLS, FTPES) or
// with implicit TLS (FTPS). Data connections are passive by default (EPSV,
// falling back to PASV once the server refuses it; a PASV address that
// cannot be right from here, such as a NAT'd server's inside address, is
// replaced by the control connection's) or active (EPRT, falling back to
// PORT). [Conn.List] reads MLSD where the server offers it and parses
// Unix and DOS LIST output where not. [Conn.Get] reads a file over
// several connections at once, each its own range, as lftp's pget does;
// [Conn.Mirror] copies a tree either way, with a dry run. Files are
// written under a .netkit-part name and renamed when whole.
//
// [Server] serves a directory to FTP clients, for tests and for moving a
// file between machines that have nothing else.
package ftp
