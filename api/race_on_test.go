//go:build race

package api_test

// The race detector slows the code several times; timing bounds widen.
const raceEnabled = true
