package client_test

import (
	"context"
	"testing"

	"ccoin/api"
)

func TestClientFinalityAndValidators(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	j, err := c.Finality(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := api.CertificateFromJSON(&j.CertificateJSON)
	if err != nil || cert.Header.ID().String() != j.ID || len(cert.Votes) != 2 {
		t.Fatalf("certificate %+v: %v", j, err)
	}
	for _, v := range cert.Votes {
		if err := v.VerifySignature(nil); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := c.Validators(ctx)
	if err != nil || len(vs.Validators) != 2 || vs.Validators[0].Address != f.Keys.Node.Address().String() {
		t.Fatalf("validators %+v: %v", vs, err)
	}
}
