// Package memtest measures what a piece of code allocates, for tests that
// bound the cost of large or hostile input. Bytes allocated are steady from
// run to run on inputs of megabytes, unlike time, so a test may assert them.
package memtest

import "runtime"

// Allocated returns the bytes allocated on the heap while fn ran, by every
// goroutine (a test's fake server included, so keep it out of the way).
func Allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
