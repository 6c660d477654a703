// Package notify reads the notifications WeChat Pay sends to a merchant's
// notify_url and builds the replies it expects.
package notify
