// Package atomicfile replaces a file so that a crash at any moment leaves
// either the old content or the new, never part of it: the new content goes
// to a temporary file in the same directory, is synced, and is renamed over
// the old one.
package atomicfile
