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
