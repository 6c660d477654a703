package middleware

import "context"

// notificationKey marks the context of a notification's verification.
type notificationKey struct{}

// WithNotification marks ctx as the verification of a notification:
// something anyone can POST to a notify_url, unlike an answer that came
// from WeChat Pay over TLS. A key source that downloads on an unknown
// serial (certificates.Manager) gives such lookups a budget of their own,
// so that forged notifications cannot use up the download a real
// certificate rotation needs. Verifier.VerifyNotification sets it.
func WithNotification(ctx context.Context) context.Context {
	return context.WithValue(ctx, notificationKey{}, true)
}

// IsNotification reports whether ctx is marked by WithNotification.
func IsNotification(ctx context.Context) bool {
	v, _ := ctx.Value(notificationKey{}).(bool)
	return v
}
