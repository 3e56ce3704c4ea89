package snmp

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ReadUsers reads SNMPv3 users, one a line, in the form of net-snmp's
// createUser: NAME [AUTH AUTHPASS [PRIV PRIVPASS]], as
//
//	netkit SHA-256 "auth pass phrase" AES "priv pass phrase"
//
// A passphrase with spaces goes in double quotes; # starts a comment.
// Each user is checked as Dial and TrapReceiver check them.
func ReadUsers(r io.Reader) ([]User, error) {
	var users []User
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f, err := fields(line)
		if err != nil {
			return nil, fmt.Errorf("snmp: users line %d: %w", n, err)
		}
		if f[0] == "createUser" {
			f = f[1:]
		}
		if len(f) != 1 && len(f) != 3 && len(f) != 5 {
			return nil, &InputError{Input: fmt.Sprintf("users line %d", n), Rule: "a user is NAME [AUTH AUTHPASS [PRIV PRIVPASS]]"}
		}
		u := User{Name: f[0]}
		if len(f) >= 3 {
			u.Auth, u.AuthPass = f[1], f[2]
		}
		if len(f) == 5 {
			u.Priv, u.PrivPass = f[3], f[4]
		}
		if _, _, err := u.security(); err != nil {
			return nil, fmt.Errorf("snmp: users line %d: %w", n, err)
		}
		users = append(users, u)
	}
	return users, sc.Err()
}

// fields splits a line at spaces, keeping "quoted strings" whole.
func fields(line string) ([]string, error) {
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '"' {
			end := strings.IndexByte(line[1:], '"')
			if end < 0 {
				return nil, &InputError{Input: line, Rule: "a quoted passphrase needs its closing quote"}
			}
			out = append(out, line[1:1+end])
			line = line[2+end:]
			continue
		}
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			i = len(line)
		}
		out = append(out, line[:i])
		line = line[i:]
	}
	return out, nil
}
