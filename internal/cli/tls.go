package cli

import "crypto/tls"

// insecureTLS skips certificate verification, for --insecure.
func insecureTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it
}
