// Package jsonpos says where in a JSON file a decoding error is, as a line
// and a column, for the files people edit by hand (genesis.json, ccoin.json).
package jsonpos
