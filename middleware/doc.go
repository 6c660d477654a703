// Package middleware holds the steps every WeChat Pay APIv3 request and response
// passes through: the headers WeChat requires, the request signature and the
// response verification. Each step is named, so a caller can replace the signer
// (a remote HSM or KMS key), drop the verifier for one download, or add a step
// of its own (logging, metrics) at a known place.
//
// The steps work on standard library types only, so they can be tested, and
// used, without the Builder:
//
//   - a step's Request func sees the *http.Request exactly as it goes on the
//     wire (final URL, body readable through GetBody), once per attempt;
//   - a step's Response func sees the *http.Response with its raw body bytes.
//
// The default order is [HeadersStep], [SignerStep], [VerifierStep]. Request
// funcs run in stack order, then the request is sent, then Response funcs run
// in stack order. The first error stops the request: nothing is sent after a
// request step failed.
package middleware
