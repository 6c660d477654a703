package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/catalog"
)

func TestGoName(t *testing.T) {
	for seg, want := range map[string]string{
		"jsapi-pre-entrust-sign": "JsapiPreEntrustSign",
		"out-trade-no":           "OutTradeNo",
		"id":                     "ID",
		"url":                    "URL",
		"sub-api":                "SubAPI",
		"complaints-v2":          "ComplaintsV2",
		"applyment4sub":          "Applyment4sub",
		"pay_bank":               "PayBank",
		"v3":                     "V3",
		"h5":                     "H5",
	} {
		assert.Equal(t, want, GoName(seg), seg)
	}
}

func TestMethodNameCollisions(t *testing.T) {
	eps := []catalog.Endpoint{
		{Path: "v3/a/policy_periods/{id}"},
		{Path: "v3/a/policy-periods"},
		{Path: "v3/b/delete"},
		{Path: "v3/c/value"},
	}
	names, err := methodNames(eps)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"v3": "V3", "a": "A", "b": "B", "c": "C",
		"policy-periods": "PolicyPeriods", "policy_periods": "PolicyPeriodsSeg",
		"delete": "DeleteSeg", "value": "ValueSeg",
	}, names)

	_, err = methodNames([]catalog.Endpoint{{Path: "v3/x-seg/x"}, {Path: "v3/x_/x-"}})
	assert.ErrorContains(t, err, "extend the collision rule")
}

// TestRealCatalogNames pins the collisions the real catalog has today.
func TestRealCatalogNames(t *testing.T) {
	names, err := methodNames(catalog.All())
	require.NoError(t, err)
	for seg, want := range map[string]string{
		"delete": "DeleteSeg", "policy_periods": "PolicyPeriodsSeg", "applyment_id": "ApplymentIDSeg",
		"business_code": "BusinessCodeSeg", "policy-periods": "PolicyPeriods", "applyment-id": "ApplymentID",
	} {
		assert.Equal(t, want, names[seg], seg)
	}
}
