// Package httpwire is a hand-written HTTP/1.1 client (RFC 9110, RFC 9112)
// over a plain TCP or TLS connection: the tutorials' RFC downloader one step
// down the stack, where every byte of the exchange is ours to write and to
// parse.
//
// It is deliberately small and strict. Requests are written exactly as the
// caller describes them; header values that hold CR, LF or NUL are refused
// rather than sent. Responses are framed by the rules of RFC 9112 section 6:
// no body for HEAD, 1xx, 204 and 304; chunked when Transfer-Encoding ends in
// chunked (and then any Content-Length is ignored and the connection is
// closed after the response); Content-Length otherwise, where conflicting or
// malformed values are an error; and otherwise the body runs until the
// server closes. Obsolete line folding, whitespace before a colon, chunk
// sizes that overflow and header sections past the limits are errors that
// say what was wrong.
//
// A [Client] keeps one idle connection per origin, so several requests in a
// row reuse it; it follows redirects when asked (the method rules of
// 301/302/303 versus 307/308, and credentials dropped when the origin
// changes), decodes gzip when asked, records the time of every phase in the
// [Timing] of each response and reports the bytes on the wire to a [Trace].
// Bodies stream: nothing is buffered beyond one read.
package httpwire
