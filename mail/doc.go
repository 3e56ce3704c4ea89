// Package mail sends, stores and reads e-mail as the books teach it: three
// text dialogues over TCP. SMTP sends ([Send], on github.com/emersion/go-smtp),
// POP3 reads ([POP3], written by hand on net/textproto, RFC 1939 with CAPA,
// STLS, UIDL, TOP and APOP), and a [Maildir] keeps the messages.
//
// [Server] is a local catch-all mail server for developers: SMTP that takes
// every message (up to its size and recipient limits) and stores it in a
// Maildir, and POP3 over the same Maildir, so that clients can be tried
// offline. It relays nothing anywhere.
//
// A [Wire] shows a dialogue as it happens, each line with its direction,
// with credentials masked.
package mail
