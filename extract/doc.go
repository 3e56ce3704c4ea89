// Package extract takes data out of response bodies: jq programs over
// JSON ([JQ], on github.com/itchyny/gojq), CSS selectors over HTML
// ([Selector], on github.com/PuerkitoBio/goquery, with the character set
// found as a browser finds it: the Content-Type header, a byte order mark,
// or a <meta> tag) and XPath over XML ([XPath], on
// github.com/antchfx/xmlquery).
//
// Every reader is bounded: input past [Limits].MaxInput is an error (never
// a silent cut), and a jq program that runs past [Limits].Timeout is
// stopped with an error that says so.
package extract
