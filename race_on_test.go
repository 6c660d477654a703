//go:build race

package wechatpay_test

// raceEnabled is set when the tests run under the race detector, which
// makes them several times slower: load tests send fewer requests.
const raceEnabled = true
