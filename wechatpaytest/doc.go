// Package wechatpaytest runs a fake WeChat Pay (APIv3 and APIv2) on loopback, for
// this library's tests and for the tests of code that uses it:
//
//	srv := wechatpaytest.NewServer()
//	defer srv.Close()
//	b, _ := wechatpay.NewBuilder(srv.Config())
//
// A Builder made from Config never reaches the network: its HTTP client
// dials the fake whatever host a request names (api.mch, api2, apihk, an
// Options.BaseURL, a full-URL chain), and each recorded Request has the
// Host it was sent to.
//
// NewTLSServer starts one over HTTPS, with the mutual TLS that WeChat Pay
// asks for on secapi and the other certificate endpoints, and a verified
// certificate for every host name.
//
// Like WeChat Pay, it checks the signature, serial, timestamp and nonce of
// every request (answering 401 SIGN_ERROR otherwise), the sign of every
// APIv2 request, and signs every response but the few WeChat Pay leaves
// unsigned. Its checks and its tables (APIv2 sign and XML, mutual-TLS
// endpoints, unsigned answers, the documented operations its 404 names)
// are written independently of the client's
// packages (middleware, apiv2, catalog), so a test against it proves the
// bytes on the wire; its tests compare the tables with the client's. It can
// misbehave on demand (SetFault) and serve under a base path such as /hk/
// (WithBasePath).
//
// NewSimulator is a Server that remembers, for testing an integration
// rather than one request: orders placed through it are paid or declined
// by a simulated payer (Pay, Decline), queried, closed and expire; refunds
// settle; papay contracts are signed and terminated; every change WeChat
// Pay notifies goes to the notify_url given, encrypted and signed, retried
// on WeChat Pay's schedule (RetrySchedule) and recorded; the day's bills
// hold what happened; APIv2 micropay, orderquery, refund and downloadbill
// work on the same state. With WithVirtualClock, Advance moves time, so a
// day of retries runs in milliseconds. Its Dashboard is what the wechatpay
// command's sandbox serves in the browser.
package wechatpaytest
