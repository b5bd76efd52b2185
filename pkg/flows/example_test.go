package flows_test

import (
	"context"
	"fmt"

	"github.com/ssoflow/ssoflow/pkg/flows"
)

func ExampleMock() {
	m := flows.NewMock()
	id := flows.ExecutionIDFor("password-expiry", 1, "evt-1")
	inv, err := m.Invoke(context.Background(), flows.InvokeRequest{
		FlowID:      flows.FlowPasswordExpiry,
		ExecutionID: id,
		Input:       map[string]any{"user_id": "00u1"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(inv.Status, inv.Status.IsTerminal())
	fmt.Println("channel:", inv.Output["channel"])

	_, err = m.Invoke(context.Background(), flows.InvokeRequest{FlowID: "flow_unknown", ExecutionID: id})
	fmt.Println("permanent:", flows.IsPermanent(err))
	// Output:
	// success true
	// channel: email
	// permanent: true
}
