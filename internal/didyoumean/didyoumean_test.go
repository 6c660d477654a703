package didyoumean

import "testing"

func TestDistanceAndNear(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"abc", "", 3}, {"v3/pay/transaction/native", "v3/pay/transactions/native", 1},
		{"kitten", "sitting", 3}, {"发票", "发", 3},
	} {
		if got := Distance(tc.a, tc.b); got != tc.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
	if !Near("v3/pay/x", 4) || Near("v3/pay/x", 5) {
		t.Error("Near: a third of 8 is 2, plus 2: 4 is near, 5 is not")
	}
}

func TestWording(t *testing.T) {
	t.Parallel()
	for got, want := range map[string]string{
		NotDocumented("", nil): "not a documented endpoint",
		NotDocumented("v3/pay/transactions/native", []string{"POST"}): "not a documented endpoint; did you mean POST v3/pay/transactions/native?",
		WrongMethod("v3/refunds", []string{"GET", "POST"}, "PUT"):     "v3/refunds is documented as GET/POST, not PUT",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}
