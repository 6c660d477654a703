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
//     wire (final URL, body readable through GetBody), once per attempt: the
//     stack runs in the HTTP client's transport ([Stack.Transport]), beneath
//     retries and failover, so every attempt on every host is signed anew;
//   - a step's Response func sees an *http.Response with its raw body bytes;
//     its Stream func sees one whose body is streamed (a download), byte by
//     byte as it arrives.
//
// The default order is [HeadersStep], [SignerStep], [VerifierStep]. Request
// funcs run in stack order, then the request is sent, then Response (or
// Stream) funcs run in stack order. The first error stops the request:
// nothing is sent after a request step failed. [Stack.Replace] and
// [Stack.Remove] return the step they took out, so that a new step can wrap
// it (call the old Request func, then add to it).
package middleware
