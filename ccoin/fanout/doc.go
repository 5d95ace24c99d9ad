// Package fanout hands each published event to every subscriber without
// ever waiting for one: a subscriber whose buffer is full misses the event.
// The node publishes its chain events through a Hub (the API's GET /events
// streams subscribe to it), and the API's in-memory test node uses the same
// Hub, so the two cannot come to behave differently.
package fanout
