// Package client is a Go client of the node's HTTP API. It decodes the API's
// JSON into ccoin's types (transactions and blocks are checked against their
// ids), and surfaces API errors as *APIError with the stable code.
package client
