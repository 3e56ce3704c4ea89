// Package httpserve serves HTTP: a static file server that is safe to
// point at a directory ([Files]), a built-in test API in the spirit of
// httpbin.org ([Echo]), an access log ([AccessLog]) and a [Server] that
// runs them until its context ends, over TCP or TLS (with a certificate
// made on the spot by [SelfSigned] when none is given).
//
// [Files] opens its directory as an [os.Root], so no request reaches a
// file outside it: not by "..", not by an encoded slash, not through a
// symbolic link that points out. Dotfiles stay hidden unless asked for.
// Files go out with [http.ServeContent]: Range requests, ETag and
// Last-Modified with their conditional requests, and sendfile(2) for the
// body on a plain TCP connection; text is gzipped when the client accepts
// it. Directories are listed as HTML, or as JSON when the request's Accept
// header asks for application/json. With Upload, PUT stores a file in the
// root; a body cut short leaves nothing under the final name.
//
// [Echo] answers with what it was sent (method, arguments, headers, body,
// form, files, JSON) and serves the cases an API client meets: status
// codes, delays, redirects, cookies, basic and bearer authentication,
// chunked, streamed and gzipped bodies, random bytes, and a paginated
// list with Link headers. It lets HTTP clients be tested offline; netkit's
// own tests and tour use it.
package httpserve
