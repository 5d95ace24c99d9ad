// Package clock is the time source every ccoin subsystem takes instead of
// calling package time: Real in production, Fake in tests, where the test
// moves time and fires timers itself, so a schedule that depends on time
// runs the same way every time and takes no wall-clock time.
package clock
