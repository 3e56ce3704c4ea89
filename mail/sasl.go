package mail

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"

	"github.com/emersion/go-sasl"
)

// cramMD5 is the CRAM-MD5 client of RFC 2195: the password never crosses
// the wire, an HMAC of the server's challenge does.
type cramMD5 struct{ user, pass string }

func newCRAMMD5(user, pass string) sasl.Client { return &cramMD5{user, pass} }

func (c *cramMD5) Start() (string, []byte, error) { return "CRAM-MD5", nil, nil }

func (c *cramMD5) Next(challenge []byte) ([]byte, error) {
	m := hmac.New(md5.New, []byte(c.pass))
	m.Write(challenge)
	return []byte(c.user + " " + hex.EncodeToString(m.Sum(nil))), nil
}

// xoauth2 is Google's and Microsoft's XOAUTH2: the user and an OAuth 2.0
// bearer token in one initial response. A refusal comes as a 334
// challenge holding a JSON error, answered with an empty line.
type xoauth2 struct{ user, token string }

func newXOAUTH2(user, token string) sasl.Client { return &xoauth2{user, token} }

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }
