// Package apiv2 encodes, signs and verifies WeChat Pay APIv2 messages: flat
// XML documents whose "sign" field is an MD5 or HMAC-SHA256 digest keyed
// with the merchant's APIv2 secret. The Builder uses it for v2/ chains;
// callbacks use it for XML notifications.
package apiv2
